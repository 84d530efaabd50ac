#!/usr/bin/env bash
# End to end in serve mode (one process, no Kafka): the hosted guide's validation step
# (inserted 1, then skipped 1) and the fixtures give exact totals by feature on the same
# port, a conflict and an unpriced model are said in the answer; then a client sends 300 events, retrying each
# until it gets a 202, while serve is SIGKILLed mid-stream and restarted: afterwards
# exactly 300 requests and 300 x 4,500 nano-USD are counted, nothing lost, nothing twice.
# Usage: serve_e2e.sh <tokenmeter binary> <example serve.yaml>
TM=$1
EXAMPLE=$2
source "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*" >&2; tail -20 "$work/serve.log" >&2 || true; exit 1; }

sed -e 's/127.0.0.1:8080/127.0.0.1:0/' -e "s#data_dir: tokenmeter-data#data_dir: $work/data#" "$EXAMPLE" > "$work/serve.yaml"
ingest_key=$(awk '/#   ingest:/ {print $3}' "$EXAMPLE")
read_key=$(awk '/#   read:/ {print $3}' "$EXAMPLE")

start_serve() {
  rm -f "$work/port"
  "$TM" serve --config "$work/serve.yaml" --port-file "$work/port.tmp" 2>> "$work/serve.log" &
  serve_pid=$!
  pids+=($serve_pid)
  wait_for "[ -s '$work/port.tmp' ]" 100 || fail "serve did not start"
  mv "$work/port.tmp" "$work/port"
  wait_for "curl -sf http://127.0.0.1:\$(cat $work/port)/readyz > /dev/null" 100 || fail "serve not ready"
}
base() { echo "http://127.0.0.1:$(cat "$work/port" 2>/dev/null)"; }
post() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$(base)/v1/ingest" -H "X-API-Key: $ingest_key" \
    -H 'Content-Type: application/json' --data-binary "$1" || true
}
query() { curl -s -H "X-API-Key: $read_key" "$(base)$1"; }

start_serve
# A second serve on the same data_dir is refused before it touches the logs; the first
# serves on.
second_rc=0
timeout 20 "$TM" serve --config "$work/serve.yaml" 2> "$work/second.log" || second_rc=$?
[ "$second_rc" = 1 ] || fail "a second serve on the data_dir exited $second_rc"
grep -q '"event":"startup_failed".*in use by another process' "$work/second.log" ||
  fail "the second serve did not say why: $(tail -2 "$work/second.log")"
curl -sf "$(base)/readyz" > /dev/null || fail "the first serve stopped answering"
# The CostLynx-style guide's validation step, its curl verbatim: inserted 1, then the same
# event again is skipped 1 (serve answers once the processor has applied the events).
got=$(guide_curl "$(base)" "$ingest_key")
[ "$got" = "$(ingest_answer 1 0 0)" ] || fail "the guide's first send: $got"
lynx='{"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","environment":"staging","feature":"ticket-classifier"}'
[ "$(post '{"events":[{"provider":"openai","model":"gpt-4.1","inputTokens":1200,"outputTokens":450,"requestId":"chatcmpl-abc123","project":"document-processing","feature":"contract-analysis"},{"provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"requestId":"msg_xyz456","project":"document-processing","feature":"classification"}]}')" = 202 ] || fail "batch"
# The guide's payload has no timestamp: a retry a second later is still the same call.
sleep 1.2
got=$(guide_curl "$(base)" "$ingest_key")
[ "$got" = "$(ingest_answer 0 1 0)" ] || fail "the guide's second send: $got"
# By feature: 850*150 + 320*600 = 319,500; 1200*2000 + 450*8000 = 6,000,000; 600*800 + 180*4000 = 1,200,000.
wait_for "query '/v1/dashboard/overview?range=1h' | grep -q '\"requests\":3,'" 100 || fail "not applied: $(query '/v1/dashboard/overview?range=1h')"
top=$(query '/v1/dashboard/top-endpoints?range=1h')
echo "$top" | grep -q '{"value":"contract-analysis","requests":1,[^}]*"costUsd":"0.006000000"' || fail "by feature: $top"
echo "$top" | grep -q '{"value":"classification","requests":1,[^}]*"costUsd":"0.001200000"' || fail "by feature: $top"
echo "$top" | grep -q '{"value":"ticket-classifier","requests":1,"successes":1,"errors":0,"duplicates":1,[^}]*"costUsd":"0.000319500"' || fail "by feature: $top"
# Every route of the query and alerts APIs is mounted on serve's one port, and a path under
# their prefixes that is no endpoint is a 404 from them.
for path in /v1/budgets /v1/diagnostics/workspace-status '/v1/alerts?range=1h' '/v1/dashboard/models?range=1h'; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $read_key" "$(base)$path")" = 200 ] || fail "GET $path"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$(base)/v1/diagnostics/nothing")" = 404 ] || fail "an unknown path under /v1/diagnostics/"
ev=$(query '/v1/events/test-integration-001')
echo "$ev" | grep -q '"attempts":2,' || fail "attempts: $ev"
echo "$ev" | grep -q '"occurred_at_defaulted":true' || fail "defaulted time: $ev"
metrics=$(curl -s "$(base)/metrics")
echo "$metrics" | grep -q '^tokenmeter_processor_dedup_conflicts_total 0$' || fail "a retry counted as a conflict: $(echo "$metrics" | grep conflict)"
echo "$metrics" | grep -q '^tokenmeter_processor_dead_lettered_total{reason="conflict"} 0$' || fail "a retry dead-lettered"
# The id with other content is answered as a conflict, not counted; a model without a
# price is counted and warned about.
got=$(curl -s -X POST "$(base)/v1/ingest" -H "X-API-Key: $ingest_key" -H 'Content-Type: application/json' \
  --data-binary "${lynx/850/851}")
[ "$got" = "$(ingest_answer 0 0 0 '{"index":0,"message":"this requestId was first recorded with other content; this event is not counted"}')" ] ||
  fail "conflict: $got"
got=$(curl -s -X POST "$(base)/v1/ingest" -H "X-API-Key: $ingest_key" -H 'Content-Type: application/json' \
  --data-binary '{"provider":"anthropic","model":"claude-9-opus","inputTokens":10,"outputTokens":5,"requestId":"unpriced-1","feature":"new-model"}')
[ "$got" = "$(ingest_answer 1 0 0 '' '{"index":0,"code":"unpriced_model","message":"model \"claude-9-opus\" has no price in the catalog; counted without a cost (send estimatedCostUsd, or add a price or alias)"}')" ] ||
  fail "unpriced: $got"

# Demo data: 48 calls and 2 retries, through the same path, as dataMode demo; every model
# is priced (claude-3-7-sonnet by its dated entry); the real-only default does not change.
totals() { query "/v1/dashboard/overview?range=24h$1" | grep -o '"totals":{.*}'; }
real_before=$(totals "")
got=$(curl -s -X POST "$(base)/v1/ingest/demo" -H "X-API-Key: $ingest_key")
echo "$got" | grep -q '^{"ok":true,"inserted":48,"skipped":2,"conflicts":\[\],"pending":0,"accepted":50,"rejected":0,"errors":\[\],"warnings":\[\],' ||
  fail "demo: $got"
demo=$(totals "&dataMode=demo&environment=dev")
echo "$demo" | grep -q '"requests":48,"successes":45,"errors":3,"duplicates":2,' || fail "demo totals: $demo"
echo "$demo" | grep -q '"unpricedRequests":0,' || fail "demo unpriced: $demo"
[ "$(query '/v1/dashboard/top-endpoints?range=24h&dataMode=demo' | grep -o '"value":"[a-z._]*"' | sort | tr '\n' ' ')" = \
  '"value":"checkout.ai_summary" "value":"docs.qa" "value":"search.rerank" "value":"support.chat" ' ] || fail "demo features"
[ "$(totals "")" = "$real_before" ] || fail "demo rows changed the real-only default: $(totals "")"

# A client with a ledger: each event is retried with the same id until it gets a 202.
client() {
  for i in $(seq 1 300); do
    for attempt in $(seq 1 100); do
      code=$(post "{\"requestId\":\"load-$i\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":10,\"outputTokens\":5,\"feature\":\"load\"}")
      [ "$code" = 202 ] && break
      sleep 0.1
    done
    [ "$code" = 202 ] || { echo "load-$i never accepted" > "$work/client.err"; return 1; }
    echo "$i" > "$work/progress"
  done
}
client &
client_pid=$!
wait_for "[ -s '$work/progress' ] && [ \$(cat '$work/progress') -ge 100 ]" 300 || fail "client too slow"
kill -KILL "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
start_serve
wait "$client_pid" || fail "client: $(cat "$work/client.err" 2>/dev/null)"
# 300 * (10*150 + 5*600) = 1,350,000 nano-USD.
wait_for "query '/v1/dashboard/top-endpoints?range=1h' | grep -q '{\"value\":\"load\",\"requests\":300,'" 200 \
  || fail "after the kill: $(query '/v1/dashboard/top-endpoints?range=1h')"
query '/v1/dashboard/top-endpoints?range=1h' | grep -q '{"value":"load","requests":300,[^}]*"costNanoUsd":1350000,' || fail "load cost"
sleep 0.5
query '/v1/dashboard/overview?range=1h' | grep -q '"requests":304,' || fail "overview: $(query '/v1/dashboard/overview?range=1h')"

kill -TERM "$serve_pid"
status=0
wait "$serve_pid" || status=$?
[ $status = 0 ] || fail "serve exited $status after SIGTERM"
echo "e2e serve: ok"
