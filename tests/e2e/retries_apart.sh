#!/usr/bin/env bash
# A retry without a timestamp is a retry however far apart its copies arrive: the
# CostLynx-style guide's payload (no timestamp) sent now, 7 minutes later and 3 days later,
# each time by a process restarted with its clock moved on (libfaketime: serve, or the
# edge of the distributed form): counted once, attempts 3, retry multiplier 3.000, and the
# dead-letter log holds only the one copy that really differs.
# Usage: retries_apart.sh <tokenmeter binary> <tokenmeter-mock-broker binary> <example serve.yaml>
TM=$1
MOCK=$2
EXAMPLE=$3
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  for f in serve edge processor; do [ -f "$work/$f.log" ] && { echo "--- $f log" >&2; tail -20 "$work/$f.log" >&2; }; done
  exit 1
}
faketime_lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1 || true)
[ -n "$faketime_lib" ] || { echo "SKIP: libfaketime is not installed (deploy/install-deps.sh installs it)"; exit 77; }
# later <offset> <command...>: runs the command with its wall clock moved on by <offset>
# ("+7m", "+72h"); its steady clock is left alone. It replaces the (background) shell it
# runs in, so $! is the process itself. ASan's link-order check would refuse
# the preloaded library in the sanitizer build.
later() {
  local offset=$1
  shift
  exec env LD_PRELOAD="$faketime_lib" FAKETIME="$offset" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1 \
    ${FAKE_AFTER_S:+FAKETIME_START_AFTER_SECONDS=$FAKE_AFTER_S} \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}
lynx='{"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","environment":"staging","feature":"ticket-classifier"}'
# The same id with other content: the one true conflict.
other=${lynx/850/851}
conflict='{"index":0,"message":"this requestId was first recorded with other content; this event is not counted"}'

# --- serve --------------------------------------------------------------------------------
serve_config "$EXAMPLE"
start_serve_later() {  # [offset]
  serve_prefix=()
  [ -n "${1:-}" ] && serve_prefix=(later "$1")
  start_serve
  serve_ready
}
query() { curl -s -H "X-API-Key: $read_key" "$base$1"; }
send() { curl -s -X POST "$base/api/v1/usage/ingest" -H "X-API-Key: $ingest_key" -H 'Content-Type: application/json' --data-binary "$1"; }

start_serve_later
got=$(guide_curl "$base" "$ingest_key")
[ "$got" = "$(ingest_answer 1 0 0)" ] || fail "serve, first copy: $got"
kill -KILL "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
start_serve_later +7m
got=$(guide_curl "$base" "$ingest_key")
[ "$got" = "$(ingest_answer 0 1 0)" ] || fail "serve, the copy 7 minutes later (after a SIGKILL): $got"
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
start_serve_later +72h
got=$(guide_curl "$base" "$ingest_key")
[ "$got" = "$(ingest_answer 0 1 0)" ] || fail "serve, the copy 3 days later: $got"
got=$(send "$other")
[ "$got" = "$(ingest_answer 0 0 0 "$conflict")" ] || fail "serve, the copy with other content: $got"
ev=$(query /v1/events/test-integration-001)
echo "$ev" | grep -q '"attempts":3,' || fail "serve attempts: $ev"
totals=$(query '/v1/dashboard/overview?range=7d')
echo "$totals" | grep -q '"requests":1,"successes":1,"errors":0,"duplicates":2,.*"costUsd":"0.000319500".*"retryMultiplier":"3.000"' ||
  fail "serve totals: $totals"
# The dead-letter log holds one record (binary framing around a JSON line): the conflict.
[ "$(grep -ao '"reason":' "$work"/data/log/dlq.*.log | wc -l)" = 1 ] &&
  grep -aq '"reason":"request_id \\"test-integration-001\\" was first recorded with other content' "$work"/data/log/dlq.*.log ||
  fail "serve DLQ: $(grep -ao '"reason":"[^,]*' "$work"/data/log/dlq.*.log)"
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
echo "serve: copies now, +7 min (after SIGKILL) and +3 days: 1 request, attempts 3, 1 true conflict"

# --- distributed: edge and processor restarted, the edge with its clock moved on ----------
start_mock_broker "$MOCK"
"$TM" keys create --workspace acme --role ingest > "$work/key.txt"
ingest_key=$(head -n 1 "$work/key.txt")
"$TM" keys create --workspace acme --role member > "$work/read.txt"
read_key=$(head -n 1 "$work/read.txt")
cat > "$work/tokenmeter.yaml" <<YAML
edge:
  listen: 127.0.0.1:0
$(kafka_bus_yaml)
processor:
  listen: 127.0.0.1:0
  state_dir: $work/state
keys:
$(tail -n +3 "$work/key.txt")
$(tail -n +3 "$work/read.txt")
YAML
# The edge gives each copy its receive time, so its clock is the one moved on. The
# processor keeps the real clock: under libfaketime librdkafka's consumer fetches nothing
# (its timed waits misbehave). So the edge's clock moves only 5 s after it starts, once it
# has read the settings topic (it serves nothing before).
start_both() {  # [offset seconds]
  rm -f "$work/eport" "$work/pport"
  local started=$SECONDS
  if [ -n "${1:-}" ]; then
    FAKE_AFTER_S=5 later "$1" "$TM" edge --config "$work/tokenmeter.yaml" --port-file "$work/eport" 2>> "$work/edge.log" &
  else
    "$TM" edge --config "$work/tokenmeter.yaml" --port-file "$work/eport" 2>> "$work/edge.log" &
  fi
  edge_pid=$!
  "$TM" processor --config "$work/tokenmeter.yaml" --port-file "$work/pport" 2>> "$work/processor.log" &
  processor_pid=$!
  pids+=($edge_pid $processor_pid)
  wait_for "[ -s '$work/eport' ] && [ -s '$work/pport' ]" 150 || fail "edge or processor did not start"
  base="http://127.0.0.1:$(cat "$work/eport")"
  pbase="http://127.0.0.1:$(cat "$work/pport")"
  wait_for "curl -sf $base/readyz > /dev/null && curl -sf $pbase/readyz > /dev/null" 300 || fail "not ready"
  if [ -n "${1:-}" ]; then
    sleep $((started + 6 - SECONDS > 0 ? started + 6 - SECONDS : 0))
    moved_on "$2" || fail "the edge's clock did not move on by $1"
  fi
}
# moved_on <seconds>: the edge refuses an event dated 7 days (the past-skew bound) minus
# half of <seconds> ago, so its clock is at least that far ahead of this one's.
moved_on() {
  local at
  at=$(date -u -d "@$(($(date +%s) - 604800 + $1 / 2))" +%Y-%m-%dT%H:%M:%SZ)
  send "{\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":1,\"outputTokens\":1,\"requestId\":\"clock-probe\",\"timestamp\":\"$at\"}" |
    grep -q '"accepted":0,"rejected":1'
}
metric() { curl -s "$pbase/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
pquery() { curl -s -H "X-API-Key: $read_key" "$pbase$1"; }
# The edge is always SIGKILLed (what it acknowledged is on the bus already): a faked
# clock also breaks librdkafka's timed waits, so its flush at a graceful stop never ends.
stop_both() {  # <signal for the processor>
  kill -KILL "$edge_pid"
  kill "-$1" "$processor_pid"
  wait "$edge_pid" "$processor_pid" 2>/dev/null || true
}

start_both
got=$(guide_curl "$base" "$ingest_key")
[ "$got" = "$(ingest_answer 0 0 1)" ] || fail "distributed, first copy: $got"
wait_for '[ "$(metric tokenmeter_processor_events_counted_total)" = 1 ]' 300 || fail "first copy not counted"
stop_both KILL
start_both +7m 420
got=$(guide_curl "$base" "$ingest_key")
[ "$got" = "$(ingest_answer 0 0 1)" ] || fail "distributed, the copy 7 minutes later: $got"
wait_for '[ "$(metric tokenmeter_processor_duplicates_total)" = 1 ]' 300 || fail "the copy 7 minutes later is no duplicate"
stop_both TERM
start_both +72h 259200
[ "$(guide_curl "$base" "$ingest_key")" = "$(ingest_answer 0 0 1)" ] || fail "distributed, the copy 3 days later"
[ "$(send "$other")" = "$(ingest_answer 0 0 1)" ] || fail "distributed, the copy with other content"
wait_for '[ "$(metric tokenmeter_processor_events_consumed_total)" = 2 ]' 300 || fail "consumed: $(metric tokenmeter_processor_events_consumed_total)"
[ "$(metric tokenmeter_processor_duplicates_total)" = 1 ] || fail "the copy 3 days later is no duplicate"
[ "$(metric tokenmeter_processor_dedup_conflicts_total)" = 1 ] || fail "conflicts: $(metric tokenmeter_processor_dedup_conflicts_total)"
ev=$(pquery /v1/events/test-integration-001)
echo "$ev" | grep -q '"attempts":3,' || fail "distributed attempts: $ev"
totals=$(pquery '/v1/dashboard/overview?range=7d')
echo "$totals" | grep -q '"requests":1,"successes":1,"errors":0,"duplicates":2,.*"costUsd":"0.000319500".*"retryMultiplier":"3.000"' ||
  fail "distributed totals: $totals"
# One dead letter: the conflict (its offsets listed, the records are binary).
kcat -C -b "$bootstrap" -t tokenmeter.events.dlq -e -q -f '%o\n' > "$work/dlq.txt" 2>/dev/null || true
[ "$(grep -c . "$work/dlq.txt")" = 1 ] || fail "distributed DLQ offsets: $(cat "$work/dlq.txt")"
echo "distributed: copies now, +7 min (after SIGKILLs) and +3 days: 1 request, attempts 3, 1 true conflict"
echo "PASS"
