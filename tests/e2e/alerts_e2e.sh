#!/usr/bin/env bash
# Budgets and alerts end to end in serve mode, delivered to a real webhook receiver on
# loopback whose signature checks are done by the `standardwebhooks` npm package:
#  1. 10 events cross a $0.000045 budget: their own answer says exceeded, and exactly one
#     warning and one exceeded alert are decided.
#     The receiver fails the first four attempts (500, 503 + Retry-After, hang after
#     accept, close after processing): each retry has the same webhook-id and a valid
#     fresh signature; both alerts end delivered, each processed once.
#  2. serve is SIGKILLed right before an alert is sent, and (another alert) right after
#     it was sent but before the outcome was recorded: after restart each alert is
#     delivered with the same id and processed exactly once.
#  3. The plan limit (14 requests a month) decides an alert; the receiver always fails,
#     so it ends dead (API and metrics) after the 6 s horizon, and a replay delivers it. The edge answers 402
#     with the documented body.
# Usage: alerts_e2e.sh <tokenmeter binary> <receivers dir (with node_modules)>
TM=$1
RX=$2
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  tail -30 "$work/serve.log" | cut -c1-300 >&2 || true
  echo "receiver: $(curl -s "http://127.0.0.1:$(cat "$work/rx.port")/state")" >&2 || true
  exit 1
}

start_webhook_receiver "$RX"
rx_state() { curl -sf "$rx/state"; }
jq_rx() { rx_state | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"; }

ingest_key=tm_test_HQD6lOQ9RQuD_OW2ChXNFZSEFev5Wp2fTPxPJNM7dPbgodSbShb22u5h1BJUjb
read_key=tm_test_KkoDYj7V8vR7_ygbLhsSQlXoy0trYHfyF3UeipC68zeoFqMNoidmLoDJ0dYsMX
admin_key=tm_live_rOkHA0SY3qhV_IGIuN1lQP6F0Dh3GjmifKjRHjOkLsjZeP6ZLkEehnzg4JiQnw
cat > "$work/serve.yaml" <<YAML
serve:
  listen: 127.0.0.1:0
  data_dir: $work/data
workspaces:
  - id: demo
    plan:
      requests_per_month: 14
    budgets:
      - id: monthly
        amount_usd: "0.000045"
        endpoint_tag: load
      - id: kill-a
        amount_usd: "0.000009"
        endpoint_tag: kill-a
      - id: kill-b
        amount_usd: "0.000009"
        endpoint_tag: kill-b
    alert_routes:
      - sink: ops-hook
sinks:
  - id: ops-hook
    type: webhook
    url: $rx/hook
    secrets: ["$secret"]
alerts:
  status_refresh_ms: 500
  retry:
    initial_backoff_ms: 200
    max_backoff_ms: 1000
    horizon_s: 6
    attempt_timeout_ms: 1000
    poll_interval_ms: 50
keys:
  - id: HQD6lOQ9RQuD
    sha256: a8d748747dea9fe3e57b69900b757d94f3dd4731563ff7690982a5fd65909aa5
    workspace: demo
    role: ingest
  - id: KkoDYj7V8vR7
    sha256: 963a6980f5b44c4aa1def6859fc923dcf24523e2ad4140f35a4a207449aa09dc
    workspace: demo
    role: member
  - id: rOkHA0SY3qhV
    sha256: cd632cb44aed0f2cbe68e65a4515404155a17a1f2ead01893828482edad8a13c
    workspace: demo
    role: admin
YAML

start_serve() {  # [crash point] [nowait: it may die before it is ready]
  rm -f "$work/port" "$work/port.tmp"
  TOKENMETER_CRASH_AT="${1:-}" "$TM" serve --config "$work/serve.yaml" --port-file "$work/port.tmp" 2>> "$work/serve.log" &
  serve_pid=$!
  pids+=($serve_pid)
  [ -n "${2:-}" ] && return 0
  wait_for "[ -s '$work/port.tmp' ]" 100 || fail "serve did not start"
  mv "$work/port.tmp" "$work/port"
  wait_for "curl -sf http://127.0.0.1:\$(cat $work/port)/readyz > /dev/null" 100 || fail "serve not ready"
}
base() { echo "http://127.0.0.1:$(cat "$work/port")"; }
post() {
  curl -s -w '\n%{http_code}' --max-time 5 -X POST "$(base)/v1/ingest" -H "X-API-Key: $ingest_key" \
    -H 'Content-Type: application/json' --data-binary "$1" || true
}
event() { echo "{\"requestId\":\"$1\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":10,\"outputTokens\":5,\"feature\":\"$2\"}"; }
query() { curl -s -H "X-API-Key: $read_key" "$(base)$1"; }
# has_metric <regex>: reads the whole exposition first (grep -q on a pipe could cut curl
# off with SIGPIPE, which pipefail reports as a failure).
has_metric() { curl -s "$(base)/metrics" > "$work/metrics.txt"; grep -q "$1" "$work/metrics.txt"; }
# delivery_state <alert type> <budget or ""> : the ops-hook delivery state of that alert
delivery_state() {
  query '/v1/alerts' | /usr/bin/python3 -c "
import json,sys
for a in json.load(sys.stdin)['alerts']:
    if a['alert']['type']=='$1' and a['alert']['scope'].get('budget','')=='$2':
        print(a['deliveries'][0]['state'], a['deliveries'][0]['attempts'], a['alert']['id']); break"
}

# 1. Retry modes. 10 events of 4,500 nano: warning at 36,000 (event 8), exceeded at 45,000.
start_serve
control '{"script":["500","503","hang","close"],"default":"ok"}'
batch="{\"events\":[$(for i in $(seq 1 10); do event "load-$i" load; done | paste -sd, -)]}"
# serve answers once the batch is applied: its own answer says the budget it crossed.
got=$(post "$batch")
[ "$(echo "$got" | tail -1)" = 202 ] || fail "batch: $got"
echo "$got" | head -1 | grep -q '"inserted":10,.*"budgetWarning":false,"budgetExceeded":true}$' || fail "the crossing batch's answer: $got"
wait_for "delivery_state budget_exceeded monthly | grep -q '^delivered'" 150 || fail "exceeded not delivered: $(query /v1/alerts)"
wait_for "delivery_state budget_warning monthly | grep -q '^delivered'" 150 || fail "warning not delivered: $(query /v1/alerts)"
read -r _ warn_attempts warn_id <<< "$(delivery_state budget_warning monthly)"
read -r _ exc_attempts exc_id <<< "$(delivery_state budget_exceeded monthly)"
# The worker does not stall on a failing alert: the four failures and two successes are
# shared between the two alerts in whatever order their retries fall due.
[ $((warn_attempts + exc_attempts)) = 6 ] || fail "attempts $warn_attempts + $exc_attempts, want 6"
[ "$(query /v1/alerts | grep -o '"type":"budget_' | wc -l)" = 2 ] || fail "want exactly 2 budget alerts: $(query /v1/alerts)"
[ "$(jq_rx "sum(1 for a in s['attempts'] if a['id']=='$warn_id')")" = "$warn_attempts" ] || fail "receiver attempts for warning"
[ "$(jq_rx "all(a['verified'] for a in s['attempts'])")" = True ] || fail "a signature did not verify"
[ "$(jq_rx "sorted(a['step'] for a in s['attempts'])")" = "['500', '503', 'close', 'hang', 'ok', 'ok']" ] || fail "steps"
# Each alert was processed once, the one whose acknowledgement was lost included.
[ "$(jq_rx "sorted(s['processed'])")" = "$(/usr/bin/python3 -c "print(sorted(['$warn_id','$exc_id']))")" ] || fail "processed"
[ "$(jq_rx "s['bodies']['$warn_id']['type']")" = "budget_warning" ] || fail "warning body"
[ "$(jq_rx "s['bodies']['$exc_id']['observed']")" = "0.000045000" ] || fail "exceeded body"
# The next 202 carries the budget flags.
body=$(post "$(event load-11 other)")
echo "$body" | head -1 | grep -q '"budgetWarning":false,"budgetExceeded":true' || fail "202 flags: $body"
echo "$body" | tail -1 | grep -q 202 || fail "202: $body"

# 2. SIGKILL right before a send, then right after a send before its outcome is recorded.
kill -TERM "$serve_pid"; wait "$serve_pid" || fail "serve did not exit 0 on SIGTERM"
processed_before=$(jq_rx "len(s['processed'])")
start_serve before_alert_send
post "{\"events\":[$(event ka-1 kill-a),$(event ka-2 kill-a)]}" > /dev/null
wait_for "! kill -0 $serve_pid 2>/dev/null" 100 || fail "crash point before_alert_send not reached"
[ "$(jq_rx "len(s['processed'])")" = "$processed_before" ] || fail "sent despite the crash"
start_serve after_alert_send_before_record nowait
wait_for "! kill -0 $serve_pid 2>/dev/null" 100 || fail "crash point after_alert_send_before_record not reached"
start_serve
wait_for "delivery_state budget_exceeded kill-a | grep -q '^delivered'" 100 || fail "kill-a not delivered"
read -r _ _ ka_id <<< "$(delivery_state budget_exceeded kill-a)"
[ "$(jq_rx "sum(1 for a in s['attempts'] if a['id']=='$ka_id')")" = 2 ] || fail "kill-a: want 2 attempts (one lost ack)"
[ "$(jq_rx "s['processed'].count('$ka_id')")" = 1 ] || fail "kill-a processed more than once"

# 3. Plan limit 14: 11 counted so far; kill-b adds 2 (its exceeded alert and the plan
# alert both end dead: the receiver now always fails), one more reaches the limit.
control '{"script":[],"default":"500"}'
post "{\"events\":[$(event kb-1 kill-b),$(event kb-2 kill-b),$(event load-12 other)]}" | tail -1 | grep -q 202 || fail "kill-b"
wait_for "query /v1/diagnostics/workspace-status | grep -q '\"telemetryPaused\":true'" 100 || fail "not paused: $(query /v1/diagnostics/workspace-status)"
refused=$(post "$(event load-13 other)")
[ "$(echo "$refused" | tail -1)" = 402 ] || fail "want 402: $refused"
[ "$(echo "$refused" | head -1 | sed 's/"retryAfterSeconds":[0-9]*/"retryAfterSeconds":S/')" = '{"ok":false,"reason":"plan_limit_reached","message":"the workspace'"'"'s plan limit is reached: events are refused until the next UTC month (your model calls are not affected)","retryAfterSeconds":S,"telemetryPaused":true,"providerCallsContinue":true,"isPlanLimitReached":true,"budgetWarning":false,"budgetExceeded":true}' ] || fail "402 body: $refused"
wait_for "delivery_state plan_limit_reached '' | grep -q '^dead'" 150 || fail "plan alert not dead: $(query /v1/alerts)"
read -r _ _ plan_id <<< "$(delivery_state plan_limit_reached '')"
wait_for "has_metric '^tokenmeter_alerts_dead 2'" 50 || fail "dead gauge: $(grep -E 'alerts_dead|outbox|deliveries' "$work/metrics.txt")"
has_metric '^tokenmeter_alert_deliveries_total{outcome="dead",sink="ops-hook"} 2' || fail "dead counter: $(grep deliveries "$work/metrics.txt")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-API-Key: $read_key" "$(base)/v1/alerts/$plan_id/replay")" = 403 ] || fail "member may not replay"
control '{"script":[],"default":"ok"}'
replay=$(curl -s -X POST -H "X-API-Key: $admin_key" "$(base)/v1/alerts/$plan_id/replay")
[ "$replay" = "{\"ok\":true,\"id\":\"$plan_id\",\"queued\":[\"ops-hook\"]}" ] || fail "replay: $replay"
wait_for "delivery_state plan_limit_reached '' | grep -q '^delivered'" 100 || fail "replay not delivered"
[ "$(jq_rx "s['processed'].count('$plan_id')")" = 1 ] || fail "plan alert processed"
wait_for "has_metric '^tokenmeter_alerts_dead 1'" 50 || fail "dead gauge after replay"
[ "$(jq_rx "all(a['verified'] for a in s['attempts'])")" = True ] || fail "a signature did not verify"
[ "$(query /v1/budgets | grep -o '"state":"exceeded"' | wc -l)" = 3 ] || fail "budgets: $(query /v1/budgets)"
echo "alerts e2e: ok ($(jq_rx "len(s['attempts'])") attempts in all, $(jq_rx "len(s['processed'])") processed once each)"
