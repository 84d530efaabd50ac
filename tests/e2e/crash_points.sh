#!/usr/bin/env bash
# Crash points (RELIABILITY.md T-P2, T-E8) in serve mode: for each named point, serve is
# killed there (TOKENMETER_CRASH_AT=point:3, or :1 for the rollup journal's fold, which
# runs once a second) while a client sends 40 events, retrying
# each with the same id until it gets a 202; serve is restarted without the crash point.
# Afterwards exactly 40 events and 40 x 4,500 nano-USD are counted at every point; when
# the kill falls between "durable" and "202", the client's retry shows as a duplicate.
# Usage: crash_points.sh <tokenmeter binary> <example serve.yaml>
TM=$1
EXAMPLE=$2
source "$(dirname "$0")/lib.sh"
fail() { echo "FAIL ($point): $*" >&2; tail -15 "$work/serve.log" >&2 || true; exit 1; }
ingest_key=$(awk '/#   ingest:/ {print $3}' "$EXAMPLE")
read_key=$(awk '/#   read:/ {print $3}' "$EXAMPLE")

start_serve() {  # start_serve [crash spec]
  rm -f "$work/port"
  TOKENMETER_CRASH_AT=${1:-} "$TM" serve --config "$work/serve.yaml" --port-file "$work/port.tmp" 2>> "$work/serve.log" &
  serve_pid=$!
  pids+=($serve_pid)
  wait_for "[ -s '$work/port.tmp' ]" 100 || fail "serve did not start"
  mv "$work/port.tmp" "$work/port"
}
base() { echo "http://127.0.0.1:$(cat "$work/port" 2>/dev/null)"; }
post() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$(base)/v1/ingest" -H "X-API-Key: $ingest_key" \
    -H 'Content-Type: application/json' --data-binary "$1" || true
}
query() { curl -s -H "X-API-Key: $read_key" "$(base)$1"; }
client() {
  for i in $(seq 1 40); do
    for attempt in $(seq 1 150); do
      code=$(post "{\"requestId\":\"cp-$i\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":10,\"outputTokens\":5}")
      [ "$code" = 202 ] && break
      sleep 0.1
    done
    [ "$code" = 202 ] || { echo "cp-$i never accepted" > "$work/client.err"; return 1; }
  done
}

for spec in after_batch_built:3 after_dead_letters_before_commit:3 after_commit:3 after_durable_before_response:3 \
  before_rollup_fold:1 after_rollup_fold:1; do
  point=${spec%:*}
  rm -rf "$work/data" "$work/client.err"
  : > "$work/serve.log"
  sed -e 's/127.0.0.1:8080/127.0.0.1:0/' -e "s#data_dir: tokenmeter-data#data_dir: $work/data#" "$EXAMPLE" > "$work/serve.yaml"
  start_serve "$spec"
  client &
  client_pid=$!
  # The armed process must die at its crash point.
  for _ in $(seq 200); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$serve_pid" 2>/dev/null && fail "the crash point was never reached"
  wait "$serve_pid" 2>/dev/null || true
  grep -q "\"point\":\"$point\"" "$work/serve.log" || fail "died, but not at the crash point"
  start_serve
  wait "$client_pid" || fail "client: $(cat "$work/client.err" 2>/dev/null)"
  wait_for "query '/v1/dashboard/overview?range=1h' | grep -q '\"requests\":40,'" 100 \
    || fail "requests: $(query '/v1/dashboard/overview?range=1h')"
  sleep 0.3
  overview=$(query '/v1/dashboard/overview?range=1h')
  echo "$overview" | grep -q '"requests":40,' || fail "counted twice: $overview"
  echo "$overview" | grep -q '"costNanoUsd":180000,' || fail "cost: $overview"
  if [ "$point" = after_durable_before_response ]; then
    echo "$overview" | grep -q '"duplicates":0,' && fail "the unanswered durable event was retried: expected a duplicate"
  fi
  kill -TERM "$serve_pid"
  wait "$serve_pid" || fail "serve exit status"
  echo "crash point $point: 40 counted once"
done
echo "e2e crash points: ok"
