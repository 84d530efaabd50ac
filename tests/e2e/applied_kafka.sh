#!/usr/bin/env bash
# End to end, distributed form, edge.answer_after: applied: the processor publishes what it
# applied to the outcomes topic and the edge answers once its events are applied. The
# CostLynx-style guide's validation curl, verbatim, answers inserted 1 and then skipped 1;
# a reused id with other content is a conflict in the answer; with the processor down the
# answer says pending, and the event is counted once the processor is back.
# Usage: applied_kafka.sh <tokenmeter binary> <tokenmeter-mock-broker binary>
TM=$1
MOCK=$2
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  for f in edge processor; do echo "--- $f log" >&2; tail -20 "$work/$f.log" >&2 || true; done
  exit 1
}
metric() { curl -s "http://127.0.0.1:$pport/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

start_mock_broker "$MOCK"
"$TM" keys create --workspace acme --role ingest > "$work/key.txt"
key=$(head -n 1 "$work/key.txt")
cat > "$work/tokenmeter.yaml" <<YAML
edge:
  listen: 127.0.0.1:0
  answer_after: applied
  applied_wait_ms: 5000
$(kafka_bus_yaml)
    outcomes_topic: tokenmeter.outcomes
processor:
  listen: 127.0.0.1:0
  state_dir: $work/state
keys:
$(tail -n +3 "$work/key.txt")
YAML

start_processor "$work/tokenmeter.yaml" "$work/processor.log"
"$TM" edge --config "$work/tokenmeter.yaml" --port-file "$work/eport" 2> "$work/edge.log" &
pids+=($!)
wait_for "[ -s '$work/eport' ]" 100 || fail "edge did not start"
eport=$(cat "$work/eport")
# Ready once it follows the outcomes topic (and the processor owns the events' partitions).
wait_for "curl -sf http://127.0.0.1:$eport/readyz > /dev/null" 200 || fail "edge never ready: $(curl -s http://127.0.0.1:$eport/readyz)"
wait_for '[ "$(curl -s http://127.0.0.1:$pport/readyz | grep -o "\"assignedPartitions\":[0-9]*")" = "\"assignedPartitions\":4" ]' 200 \
  || fail "processor owns no partitions: $(curl -s http://127.0.0.1:$pport/readyz)"

got=$(guide_curl "http://127.0.0.1:$eport" "$key")
[ "$got" = "$(ingest_answer 1 0 0)" ] || fail "the guide's first send: $got"
got=$(guide_curl "http://127.0.0.1:$eport" "$key")
[ "$got" = "$(ingest_answer 0 1 0)" ] || fail "the guide's second send: $got"
got=$(curl -s -X POST "http://127.0.0.1:$eport/v1/ingest" -H "X-API-Key: $key" -H 'Content-Type: application/json' \
  --data-binary '{"provider":"openai","model":"gpt-4o-mini","inputTokens":851,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","environment":"staging","feature":"ticket-classifier"}')
[ "$got" = "$(ingest_answer 0 0 0 '{"index":0,"message":"this requestId was first recorded with other content; this event is not counted"}')" ] ||
  fail "conflict: $got"

# The processor down: the answer comes at edge.applied_wait_ms and says pending; the event
# is durable and counted once the processor is back.
kill -KILL "$processor_pid"
wait "$processor_pid" 2>/dev/null || true
got=$(curl -s -X POST "http://127.0.0.1:$eport/v1/ingest" -H "X-API-Key: $key" -H 'Content-Type: application/json' \
  --data-binary '{"provider":"openai","model":"gpt-4o-mini","inputTokens":10,"outputTokens":5,"requestId":"while-down"}')
[ "$got" = "$(ingest_answer 0 0 1)" ] || fail "while the processor is down: $got"
[ "$(curl -s "http://127.0.0.1:$eport/metrics" | awk '$1 == "tokenmeter_edge_events_answered_pending_total" {print $2}')" = 1 ] ||
  fail "pending metric"
start_processor "$work/tokenmeter.yaml" "$work/processor.log"
wait_for '[ "$(metric tokenmeter_processor_events_counted_total)" = 1 ]' 300 \
  || fail "the event sent while down: counted $(metric tokenmeter_processor_events_counted_total)"
echo "e2e applied (distributed): ok"
