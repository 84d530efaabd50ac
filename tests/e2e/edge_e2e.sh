#!/usr/bin/env bash
# End to end with processes, as a user runs them: the mock broker daemon and
# `tokenmeter edge` as separate processes; curl sends the fixtures; kcat reads the topic;
# a broker outage gives 503 and recovery; SIGTERM drains and exits 0.
# Usage: edge_e2e.sh <tokenmeter binary> <tokenmeter-mock-broker binary>
TM=$1
MOCK=$2
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; echo "--- edge log" >&2; cat "$work/edge.log" >&2 || true; exit 1; }


# 1. The broker, controlled through a FIFO.
start_mock_broker "$MOCK"

# 2. A key and a config, as the README tells a user to make them.
"$TM" keys create --workspace acme --role ingest --environment prod > "$work/key.txt"
key=$(head -n 1 "$work/key.txt")
{
  echo "edge:"
  echo "  listen: 127.0.0.1:0"
  echo "  drain_timeout_ms: 5000"
  echo "bus:"
  echo "  kafka:"
  echo "    bootstrap_servers: $bootstrap"
  echo "    delivery_timeout_ms: 1500"
  echo "keys:"
  tail -n +3 "$work/key.txt"
} > "$work/tokenmeter.yaml"
"$TM" edge --config "$work/tokenmeter.yaml" --port-file "$work/port" 2> "$work/edge.log" &
edge_pid=$!
pids+=($edge_pid)
wait_for "[ -s '$work/port' ]" 100 || fail "edge did not start"
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
wait_for "curl -sf '$base/readyz' > /dev/null" 100 || fail "edge never ready"

post() {  # post <path> <body> -> prints "<status> <body>"
  curl -s -o "$work/resp" -w '%{http_code}' -X POST "$base$1" -H "X-API-Key: $key" \
    -H 'Content-Type: application/json' --data-binary "$2"
  echo " $(cat "$work/resp")"
}
expect_status() {  # expect_status <want> <path> <body>
  local got
  got=$(post "$2" "$3")
  [ "${got%% *}" = "$1" ] || fail "POST $2 wanted $1, got: $got"
}

# 3. The fixtures, over every ingest path, plus one client retry (same request id).
ops='{"externalRequestId":"req_2026_02_07_001","provider":"openai","model":"gpt-4o-mini","promptVersion":"summarizer_v3","endpointTag":"checkout.ai_summary","inputTokens":120,"outputTokens":45,"totalTokens":165,"latencyMs":820,"status":"success","dataMode":"real","environment":"prod"}'
lynx='{"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","environment":"staging","feature":"ticket-classifier"}'
batch='{"events":[{"provider":"openai","model":"gpt-4.1","inputTokens":1200,"outputTokens":450,"requestId":"chatcmpl-abc123","project":"document-processing","environment":"prod","feature":"contract-analysis"},{"provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"requestId":"msg_xyz456","project":"document-processing","environment":"prod","feature":"classification"}]}'
gemini='{"provider":"gemini","model":"gemini-2.0-flash","inputTokens":900,"outputTokens":200,"requestId":"6f1c2d3e-0000-4000-8000-000000000001","feature":"search.summarize"}'
got=$(post /v1/ingest "$ops")
[ "$got" = '202 {"ok":true,"inserted":0,"skipped":0,"conflicts":[],"pending":1,"accepted":1,"rejected":0,"errors":[],"warnings":[],"reason":"ok","telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false}' ] || fail "opsmeter fixture: $got"
expect_status 202 /api/v1/usage/ingest "$lynx"
got=$(post /v1/ingest/llm-request "$batch")
[ "$got" = '202 {"ok":true,"inserted":0,"skipped":0,"conflicts":[],"pending":2,"accepted":2,"rejected":0,"errors":[],"warnings":[],"reason":"ok","telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false}' ] || fail "batch fixture: $got"
expect_status 202 /v1/ingest "$gemini"
expect_status 202 /v1/ingest "$lynx"   # the client's retry
expect_status 400 /v1/ingest '{"requestId":"bad","provider":"openai","model":"m","inputTokens":-1}'

# 4. kcat reads what landed: exactly the accepted events, as binary bus records (decoded
# here by the documented layout), keyed by workspace.
kcat -C -b "$bootstrap" -t tokenmeter.events -e -q -f '%K:%k%S:%s' > "$work/topic.bin" 2> "$work/kcat.err" \
  || fail "kcat: $(cat "$work/kcat.err")"
PYTHONPATH="$(dirname "$0")" "$PY" - "$work/topic.bin" <<'PYEOF' || fail "topic contents"
import sys
import bus_record
rows = bus_record.read_kcat(sys.argv[1])
assert all(k == "acme" for k, _ in rows), [k for k, _ in rows]
events = [bus_record.decode(v) for _, v in rows]
ids = sorted(e["request_id"] for e in events)
want = sorted(["req_2026_02_07_001", "test-integration-001", "chatcmpl-abc123", "msg_xyz456",
               "6f1c2d3e-0000-4000-8000-000000000001", "test-integration-001"])
assert ids == want, ids
by_id = {e["request_id"]: e for e in events}
ops = by_id["req_2026_02_07_001"]
assert (ops["provider"], ops["model"], ops["endpoint_tag"], ops["prompt_version"]) == \
    ("openai", "gpt-4o-mini", "checkout.ai_summary", "summarizer_v3"), ops
assert (ops["input_tokens"], ops["output_tokens"], ops["total_tokens"], ops["latency_ms"]) == (120, 45, 165, 820)
assert by_id["6f1c2d3e-0000-4000-8000-000000000001"]["provider"] == "google"
lynx = by_id["test-integration-001"]
assert (lynx["project"], lynx["environment"], lynx["endpoint_tag"]) == ("customer-support", "staging", "ticket-classifier"), lynx
assert all(e["workspace"] == "acme" and e["data_mode"] == "real" for e in events)
assert all(e["api_key_id"] and e["occurred_at_ms"] == e["received_at_ms"] > 0 for e in events)
print("topic ok:", len(events), "records")
PYEOF

# 5. All brokers down: 503 with Retry-After, never 202; back up: 202 again.
echo "down -1" >&3
for i in 1 2 3; do
  code=$(curl -s -o /dev/null -D "$work/headers" -w '%{http_code}' --max-time 8 -X POST "$base/v1/ingest" \
    -H "X-API-Key: $key" -H 'Content-Type: application/json' \
    --data-binary "{\"requestId\":\"outage-$i\",\"provider\":\"openai\",\"model\":\"m\"}")
  [ "$code" = 503 ] || fail "during the outage: $code"
  grep -qi '^retry-after: 1' "$work/headers" || fail "503 without Retry-After"
done
wait_for "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$base/readyz')\" = 503 ]" 50 || fail "readyz stayed ready while brokers were down"
echo "up -1" >&3
recovered=no
for i in $(seq 1 60); do
  got=$(post /v1/ingest '{"requestId":"after-outage","provider":"openai","model":"m"}')
  if [ "${got%% *}" = 202 ]; then recovered=yes; break; fi
  sleep 0.25
done
[ $recovered = yes ] || fail "no recovery after the brokers came back"

# 6. Metrics are scrapeable and count what happened.
curl -s "$base/metrics" > "$work/metrics"
grep -q '^tokenmeter_edge_events_accepted_total 7$' "$work/metrics" || fail "accepted counter: $(grep accepted_total "$work/metrics")"
grep -q '^tokenmeter_edge_events_rejected_total{reason="invalid_event"} 1$' "$work/metrics" || fail "rejected counter"

# 7. SIGTERM: drain, flush, exit 0.
kill -TERM "$edge_pid"
status=0
wait "$edge_pid" || status=$?
[ $status = 0 ] || fail "edge exited $status after SIGTERM"
grep -q '"event":"stopped"' "$work/edge.log" || fail "no clean stop logged"
echo "e2e edge: ok"
