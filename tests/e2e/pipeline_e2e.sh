#!/usr/bin/env bash
# End to end, distributed form: the mock broker daemon, `tokenmeter edge` and
# `tokenmeter processor` as separate processes. curl sends the fixtures and a client
# retry without a timestamp a second later (and again after the restart); kcat produces a canonical event and a poison record directly to the topic; the
# processor counts each (workspace, request_id) once and dead-letters the poison; after a
# SIGKILL and restart it re-counts nothing.
# Usage: pipeline_e2e.sh <tokenmeter binary> <tokenmeter-mock-broker binary>
TM=$1
MOCK=$2
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  for f in edge processor; do echo "--- $f log" >&2; tail -20 "$work/$f.log" >&2 || true; done
  exit 1
}
query() { curl -s -H "X-API-Key: $read_key" "http://127.0.0.1:$pport$1"; }
metric() { curl -s "http://127.0.0.1:$pport/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

start_mock_broker "$MOCK"

# A processor whose brokers cannot be reached is alive but not ready, and says why.
cat > "$work/unreachable.yaml" <<YAML
bus:
  kafka:
    bootstrap_servers: 127.0.0.1:1
processor:
  listen: 127.0.0.1:0
  state_dir: $work/state-unreachable
YAML
"$TM" processor --config "$work/unreachable.yaml" --port-file "$work/uport" 2> "$work/unreachable.log" &
unreachable_pid=$!
pids+=($unreachable_pid)
wait_for "[ -s '$work/uport' ]" 100 || fail "the unreachable processor did not start: $(cat "$work/unreachable.log")"
uport=$(cat "$work/uport")
ready=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$uport/readyz")
echo "$ready" | grep -q '"reason":"bus_unavailable",.* 503$' || fail "readyz with unreachable brokers: $ready"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$uport/healthz")" = 200 ] || fail "healthz"
kill -TERM "$unreachable_pid"; wait "$unreachable_pid" 2>/dev/null || true

"$TM" keys create --workspace acme --role ingest > "$work/key.txt"
key=$(head -n 1 "$work/key.txt")
"$TM" keys create --workspace acme --role member > "$work/read.txt"
read_key=$(head -n 1 "$work/read.txt")
"$TM" keys create --workspace mirror --role member > "$work/mirror.txt"
mirror_key=$(head -n 1 "$work/mirror.txt")
"$TM" keys create --workspace acme --role admin > "$work/admin.txt"
admin_key=$(head -n 1 "$work/admin.txt")
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
$(tail -n +3 "$work/mirror.txt")
$(tail -n +3 "$work/admin.txt")
YAML

"$TM" edge --config "$work/tokenmeter.yaml" --port-file "$work/eport" 2> "$work/edge.log" &
pids+=($!)
start_processor "$work/tokenmeter.yaml" "$work/processor.log"
wait_for "[ -s '$work/eport' ]" 100 || fail "edge did not start"
eport=$(cat "$work/eport")
wait_for "curl -sf http://127.0.0.1:$eport/readyz > /dev/null" 100 || fail "edge never ready"

post() {
  curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$eport$1" -H "X-API-Key: $key" \
    -H 'Content-Type: application/json' --data-binary "$2"
}
lynx='{"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","environment":"staging","feature":"ticket-classifier"}'
[ "$(post /v1/ingest '{"externalRequestId":"req_2026_02_07_001","provider":"openai","model":"gpt-4o-mini","promptVersion":"summarizer_v3","endpointTag":"checkout.ai_summary","inputTokens":120,"outputTokens":45,"totalTokens":165,"latencyMs":820,"status":"success","dataMode":"real","environment":"prod"}')" = 202 ] || fail "opsmeter"
[ "$(post /api/v1/usage/ingest "$lynx")" = 202 ] || fail "costlynx"
[ "$(post /v1/ingest '{"events":[{"provider":"openai","model":"gpt-4.1","inputTokens":1200,"outputTokens":450,"requestId":"chatcmpl-abc123"},{"provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"requestId":"msg_xyz456"}]}')" = 202 ] || fail "batch"
# The guide's payload has no timestamp: a retry a second later is still the same call.
sleep 1.2
[ "$(post /v1/ingest "$lynx")" = 202 ] || fail "retry"

# Producers may write canonical events straight to the topic; a poison record is dead-lettered.
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
# Workspace "mirror" gets the canonical form of the same calls (and the same retry) from
# kcat; its answers must equal acme's.
{
  for ws in acme mirror; do
    printf '%s|{"v":1,"workspace":"%s","request_id":"direct-1","provider":"openai","model":"gpt-4o-mini","environment":"prod","data_mode":"real","input_tokens":10,"output_tokens":5,"occurred_at":"%s","received_at":"%s"}\n' "$ws" "$ws" "$now" "$now"
  done
  m='"occurred_at":"'$now'","received_at":"'$now'"}'
  echo 'mirror|{"v":1,"workspace":"mirror","request_id":"req_2026_02_07_001","provider":"openai","model":"gpt-4o-mini","endpoint_tag":"checkout.ai_summary","prompt_version":"summarizer_v3","environment":"prod","data_mode":"real","input_tokens":120,"output_tokens":45,"total_tokens":165,"latency_ms":820,"status":"success",'"$m"
  echo 'mirror|{"v":1,"workspace":"mirror","request_id":"test-integration-001","provider":"openai","model":"gpt-4o-mini","endpoint_tag":"ticket-classifier","project":"customer-support","environment":"staging","data_mode":"real","input_tokens":850,"output_tokens":320,'"$m"
  echo 'mirror|{"v":1,"workspace":"mirror","request_id":"chatcmpl-abc123","provider":"openai","model":"gpt-4.1","environment":"prod","data_mode":"real","input_tokens":1200,"output_tokens":450,'"$m"
  echo 'mirror|{"v":1,"workspace":"mirror","request_id":"msg_xyz456","provider":"anthropic","model":"claude-3-5-haiku","environment":"prod","data_mode":"real","input_tokens":600,"output_tokens":180,'"$m"
  echo 'mirror|{"v":1,"workspace":"mirror","request_id":"test-integration-001","provider":"openai","model":"gpt-4o-mini","endpoint_tag":"ticket-classifier","project":"customer-support","environment":"staging","data_mode":"real","input_tokens":850,"output_tokens":320,'"$m"
} > "$work/direct.txt"
kcat -P -b "$bootstrap" -t tokenmeter.events -K '|' -z lz4 -l "$work/direct.txt" 2> "$work/kcat.err" || fail "kcat produce: $(cat "$work/kcat.err")"
printf 'acme|{"v":1,"workspace":"acme"\n' | kcat -P -b "$bootstrap" -t tokenmeter.events -K '|' 2>> "$work/kcat.err"

wait_for '[ "$(metric tokenmeter_processor_events_consumed_total)" = 13 ]' 200 \
  || fail "consumed: $(metric tokenmeter_processor_events_consumed_total)"
[ "$(metric tokenmeter_processor_events_counted_total)" = 10 ] || fail "counted: $(metric tokenmeter_processor_events_counted_total)"
[ "$(metric tokenmeter_processor_duplicates_total)" = 2 ] || fail "duplicates"
[ "$(metric 'tokenmeter_processor_dead_lettered_total{reason="malformed"}')" = 1 ] || fail "dead lettered"
[ "$(metric tokenmeter_processor_unpriced_total)" = 0 ] || fail "unpriced"
# Caught up: every owned partition's lag gauge reads 0 (sampled once a second).
lag_sum() { curl -s "http://127.0.0.1:$pport/metrics" | awk '$1 ~ /^tokenmeter_processor_consumer_lag_records/ {s += $2; n++} END {print n "/" s}'; }
wait_for '[ "$(lag_sum)" = "4/0" ]' 100 || fail "lag gauges: $(lag_sum)"
# Ten distinct ids counted: ten entries in the dedup index (sampled with the lag).
wait_for '[ "$(metric tokenmeter_processor_dedup_index_entries)" = 10 ]' 30 \
  || fail "dedup index: $(metric tokenmeter_processor_dedup_index_entries)"
kcat -C -b "$bootstrap" -t tokenmeter.events.dlq -e -q > "$work/dlq.txt" 2>/dev/null
grep -q '"reason":"malformed JSON' "$work/dlq.txt" || fail "DLQ record: $(cat "$work/dlq.txt")"
[ "$(wc -l < "$work/dlq.txt")" = 1 ] || fail "only the poison record is dead-lettered: $(cat "$work/dlq.txt")"
[ "$(metric tokenmeter_processor_dedup_conflicts_total)" = 0 ] || fail "a retry counted as a conflict"

# The query API: 120*150 + 45*600 + 850*150 + 320*600 + 1200*2000 + 450*8000 + 600*800 +
# 180*4000 + 10*150 + 5*600 = 7,569,000 nano-USD over 5 events, one retry.
overview=$(query "/v1/dashboard/overview?range=24h")
echo "$overview" | grep -q '"requests":5,"successes":5,"errors":0,"duplicates":1,' || fail "overview: $overview"
echo "$overview" | grep -q '"costUsd":"0.007569000","costNanoUsd":7569000' || fail "overview cost: $overview"
echo "$overview" | grep -q '"retryMultiplier":"1.200"' || fail "retry multiplier: $overview"
query "/v1/events/test-integration-001" | grep -q '"attempts":2' || fail "event view"
# The processor serves the dashboard's page beside its query API.
curl -s "http://127.0.0.1:$pport/" | grep -q '<title>tokenmeter</title>' || fail "the dashboard on the processor"
query "/v1/dashboard/models?range=24h" | grep -q '{"value":"gpt-4.1","requests":1,' || fail "models"
# By feature and prompt version: 120*150 + 45*600 = 45,000; 850*150 + 320*600 = 319,500.
top=$(query "/v1/dashboard/top-endpoints?range=24h")
echo "$top" | grep -q '{"value":"checkout.ai_summary","requests":1,[^}]*"costNanoUsd":45000,' || fail "features: $top"
echo "$top" | grep -q '{"value":"ticket-classifier","requests":1,"successes":1,"errors":0,"duplicates":1,[^}]*"costNanoUsd":319500,' || fail "features: $top"
query "/v1/dashboard/prompt-versions?range=24h" | grep -q '{"value":"summarizer_v3","requests":1,[^}]*"costNanoUsd":45000,"unpricedRequests":0,"avgLatencyMs":820,' \
  || fail "prompt versions: $(query '/v1/dashboard/prompt-versions?range=24h')"
# kcat's canonical events give the same answers as curl's ingest.
for view in overview top-endpoints models prompt-versions; do
  a=$(query "/v1/dashboard/$view?range=24h")
  b=$(curl -s -H "X-API-Key: $mirror_key" "http://127.0.0.1:$pport/v1/dashboard/$view?range=24h")
  /usr/bin/python3 -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
key = "totals" if "totals" in a else "items"
sys.exit(0 if a[key] == b[key] and a["workspace"] == "acme" and b["workspace"] == "mirror" else 1)' "$a" "$b" \
    || fail "$view differs between curl and kcat: $a vs $b"
done

# SIGKILL and restart: the stored offsets make the redelivered records harmless.
kill -KILL "$processor_pid"
wait "$processor_pid" 2>/dev/null || true
start_processor "$work/tokenmeter.yaml" "$work/processor.log"
[ "$(post /v1/ingest '{"requestId":"after-restart","provider":"openai","model":"gpt-4o-mini","inputTokens":1,"outputTokens":1}')" = 202 ] || fail "post after restart"
[ "$(post /v1/ingest "$lynx")" = 202 ] || fail "retry after restart"
wait_for '[ "$(metric tokenmeter_processor_events_counted_total)" = 1 ]' 300 \
  || fail "after restart counted: $(metric tokenmeter_processor_events_counted_total)"
wait_for '[ "$(metric tokenmeter_processor_duplicates_total)" = 1 ]' 100 || fail "the retry after restart"
sleep 1
[ "$(metric tokenmeter_processor_events_counted_total)" = 1 ] || fail "re-counted after restart"
[ "$(metric tokenmeter_processor_duplicates_total)" = 1 ] || fail "duplicates after restart: only the new retry"
[ "$(metric tokenmeter_processor_dedup_conflicts_total)" = 0 ] || fail "the retry after restart counted as a conflict"
query "/v1/events/test-integration-001" | grep -q '"attempts":3' || fail "event view after restart"
# The index was rebuilt from the store (the ten ids' rows, said at start) and holds the
# new one too.
opened=$(grep '"event":"state_opened"' "$work/processor.log" | tail -1)
echo "$opened" | grep -q '"dedup_rows":"10"' || fail "state_opened after restart: $opened"
wait_for '[ "$(metric tokenmeter_processor_dedup_index_entries)" = 11 ]' 30 \
  || fail "dedup index after restart: $(metric tokenmeter_processor_dedup_index_entries)"
overview=$(query "/v1/dashboard/overview?range=24h")
echo "$overview" | grep -q '"requests":6,"successes":6,"errors":0,"duplicates":2,' || fail "overview after restart: $overview"
echo "$overview" | grep -q '"costNanoUsd":7569750,' || fail "cost after restart (+1*150 + 1*600): $overview"

# Test rows removed by a cleanup command through Kafka: the processor that owns acme's
# partition applies it once, after the rows it removes; real totals do not move.
test_rows='{"events":[{"requestId":"t1","provider":"openai","model":"gpt-4o-mini","inputTokens":100,"outputTokens":10,"dataMode":"test"},{"requestId":"t2","provider":"openai","model":"gpt-4o-mini","inputTokens":200,"outputTokens":20,"dataMode":"test"}]}'
[ "$(post /v1/ingest "$test_rows")" = 202 ] || fail "test rows"
answer=$(curl -s -X DELETE "http://127.0.0.1:$eport/v1/ingest/test-data?scope=workspace" -H "X-API-Key: $admin_key")
id=$(echo "$answer" | grep -o 'cl_[0-9a-f]*' | head -1)
[ -n "$id" ] || fail "cleanup: $answer"
wait_for "query /v1/cleanups/$id | grep -q '\"done\":true'" 300 || fail "cleanup not applied: $(query /v1/cleanups/$id)"
query "/v1/cleanups/$id" | grep -q '"removedEvents":2,"removedRetries":0}' || fail "cleanup result: $(query /v1/cleanups/$id)"
query "/v1/dashboard/overview?range=24h&dataMode=test" | grep -q '"totals":{"requests":0,' || fail "test rows left"
query "/v1/dashboard/overview?range=24h" | grep -q '"costNanoUsd":7569750,' || fail "real totals moved"

kill -TERM "$processor_pid"
status=0
wait "$processor_pid" || status=$?
[ $status = 0 ] || fail "processor exited $status after SIGTERM"
echo "e2e pipeline: ok"
