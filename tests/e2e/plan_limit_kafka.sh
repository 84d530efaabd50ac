#!/usr/bin/env bash
# The plan limit in the distributed form: the mock broker daemon, `tokenmeter edge` and
# `tokenmeter processor` as processes. The processor counts the workspace's requests,
# decides the plan_limit_reached alert when the 6th arrives, and publishes the status on
# the compacted status topic; the edge follows the topic and answers 402 with the
# documented body.
# Usage: plan_limit_kafka.sh <tokenmeter binary> <tokenmeter-mock-broker binary>
TM=$1
MOCK=$2
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  for f in edge processor; do echo "--- $f log" >&2; tail -20 "$work/$f.log" | cut -c1-300 >&2 || true; done
  exit 1
}
start_mock_broker "$MOCK"
"$TM" keys create --workspace acme --role ingest > "$work/key.txt"
key=$(head -n 1 "$work/key.txt")
"$TM" keys create --workspace acme --role member > "$work/read.txt"
read_key=$(head -n 1 "$work/read.txt")
cat > "$work/tokenmeter.yaml" <<YAML
edge:
  listen: 127.0.0.1:0
$(kafka_bus_yaml)
processor:
  listen: 127.0.0.1:0
  state_dir: $work/state
  poll_timeout_ms: 50
alerts:
  status_refresh_ms: 200
workspaces:
  - id: acme
    plan:
      requests_per_month: 6
    budgets:
      - id: tiny
        amount_usd: "0.000009"
keys:
$(tail -n +3 "$work/key.txt")
$(tail -n +3 "$work/read.txt")
YAML
"$TM" edge --config "$work/tokenmeter.yaml" --port-file "$work/eport" 2> "$work/edge.log" &
pids+=($!)
"$TM" processor --config "$work/tokenmeter.yaml" --port-file "$work/pport" 2> "$work/processor.log" &
pids+=($!)
wait_for "[ -s '$work/eport' ] && [ -s '$work/pport' ]" 100 || fail "edge or processor did not start"
edge="http://127.0.0.1:$(cat "$work/eport")"
proc="http://127.0.0.1:$(cat "$work/pport")"
wait_for "curl -sf $edge/readyz > /dev/null" 150 || fail "edge not ready"
post() {
  curl -s -w '\n%{http_code}' --max-time 5 -X POST "$edge/v1/ingest" -H "X-API-Key: $key" \
    -H 'Content-Type: application/json' --data-binary \
    "{\"requestId\":\"$1\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":10,\"outputTokens\":5}"
}
query() { curl -s -H "X-API-Key: $read_key" "$proc$1"; }

# Six requests of 4,500 nano: the tiny budget (9,000) is exceeded at the 2nd, the plan
# limit reached at the 6th.
for i in 1 2 3 4 5 6; do
  [ "$(post "r$i" | tail -1)" = 202 ] || fail "r$i not accepted"
done
wait_for "query /v1/diagnostics/workspace-status | grep -q '\"telemetryPaused\":true'" 150 ||
  fail "processor did not reach the limit: $(query /v1/diagnostics/workspace-status)"
status=$(query /v1/diagnostics/workspace-status)
echo "$status" | grep -q '"plan":{"requestsPerMonth":6,"requests":6,' || fail "plan usage: $status"
echo "$status" | grep -q '"budgetExceeded":true' || fail "budget flag: $status"
# The edge learns it from the topic. The probe reuses one request id, so a 202 while the
# status is on its way adds no request.
wait_for "[ \"\$(post probe | tail -1)\" = 402 ]" 150 || fail "edge never answered 402"
refused=$(post probe)
[ "$(echo "$refused" | head -1 | sed 's/"retryAfterSeconds":[0-9]*/"retryAfterSeconds":S/')" = '{"ok":false,"reason":"plan_limit_reached","message":"the workspace'"'"'s plan limit is reached: events are refused until the next UTC month (your model calls are not affected)","retryAfterSeconds":S,"telemetryPaused":true,"providerCallsContinue":true,"isPlanLimitReached":true,"budgetWarning":false,"budgetExceeded":true}' ] ||
  fail "402 body: $refused"
alerts=$(query /v1/alerts)
[ "$(echo "$alerts" | grep -o '"type":"plan_limit_reached"' | wc -l)" = 1 ] || fail "plan alert: $alerts"
[ "$(echo "$alerts" | grep -o '"type":"budget_exceeded"' | wc -l)" = 1 ] || fail "budget alert: $alerts"
echo "plan limit over Kafka: ok"
