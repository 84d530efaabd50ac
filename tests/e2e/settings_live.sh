#!/usr/bin/env bash
# Settings without restarts (README "Admin API"), as a user runs them:
#  serve: every role x endpoint cell of the permission table (allowed, or 403 with its
#    message); a key made through the API ingests at once, a revoked one gets 401 at once,
#    a rotated one's old secret stops at the end of its overlap; no secret or hash in any
#    answer but the one that makes it, in the log or in /metrics; a SIGKILL once a change
#    is durable leaves the whole change after the restart.
#    A budget made through the API counts at once; lowered under its spend it is exceeded
#    (and alerts) with no new event, raised it resolves. A price or model alias set through
#    the API prices the next call exactly.
#  distributed (mock broker, two edges, a processor, a third edge started late): a change
#    made on one edge (keys, projects, pricing) works on the other and on the processor within 2 s; a budget
#    lowered on an edge fires its alert at the processor, delivered to a real webhook
#    receiver (signatures checked by the standardwebhooks package); the late edge starts
#    with every change.
# Usage: settings_live.sh <tokenmeter binary> <tokenmeter-mock-broker binary> <example serve.yaml> <receivers dir>
TM=$1
MOCK=$2
RX=$4
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  for f in serve edge_a edge_b edge_c processor; do
    [ -f "$work/$f.log" ] && { echo "--- $f log" >&2; tail -15 "$work/$f.log" | cut -c1-300 >&2; }
  done
  exit 1
}
event() { echo "{\"events\":[{\"requestId\":\"$1\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":10,\"outputTokens\":5}]}"; }
# call <base> <method> <path> <key> [body]: "<status> <body>"
call() {
  local out
  out=$(curl -s --max-time 10 -w '\n%{http_code}' -X "$2" "$1$3" -H "X-API-Key: $4" -H 'Content-Type: application/json' \
    ${5:+--data-binary "$5"})
  echo "$(echo "$out" | tail -1) $(echo "$out" | sed '$d')"
}
code() { call "$@" | cut -d' ' -f1; }
member() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1]); print(eval("d"+sys.argv[1]))' "$1"; }
# make_key <base> <by key> <role> [more json members]: "<id> <secret>" of a new key
make_key() {
  local r
  r=$(call "$1" POST /v1/admin/keys "$2" "{\"role\":\"$3\"${4:+,$4}}")
  [ "${r%% *}" = 201 ] || fail "creating a $3 key: $r"
  echo "$(echo "$r" | member '["key"]["id"]') $(echo "$r" | member '["secret"]')"
}
secrets=()  # every secret made, with its sha256: none may show where it should not

# ---------------------------------------------------------------- serve
serve_config "$3"
start_serve
serve_ready
read -r admin_id admin_key <<< "$(make_key "$base" "$owner_key" admin '"name":"ops"')"
read -r member_id member_key <<< "$(make_key "$base" "$owner_key" member)"
read -r ingest_id ingest_api_key <<< "$(make_key "$base" "$admin_key" ingest '"project":"customer-support"')"
secrets+=("$admin_key" "$member_key" "$ingest_api_key")

# The permission table, endpoint by endpoint. Roles in the order owner admin member ingest.
declare -A key_of=([owner]=$owner_key [admin]=$admin_key [member]=$member_key [ingest]=$ingest_api_key)
article() { [ "$1" = member ] && echo a || echo an; }
# expect <role> <allowed status> <denied message or "-" when allowed> <method> <path> [body]
expect() {
  local got
  got=$(call "$base" "$4" "$5" "${key_of[$1]}" "${6:-}")
  if [ "$3" = - ]; then
    [ "${got%% *}" = "$2" ] || fail "$1 $4 $5: want $2, got $got"
  else
    [ "$got" = "403 {\"ok\":false,\"reason\":\"forbidden\",\"message\":\"$(article "$1") $1 key cannot $3\"$7" ] ||
      fail "$1 $4 $5: want 403 \"$3\", got $got"
  fi
}
status_fields=',"telemetryPaused":false,"providerCallsContinue":true,"isPlanLimitReached":false,"budgetWarning":false,"budgetExceeded":false}'
cells=0
for role in owner admin member ingest; do
  # Ingest (the edge's refusals carry the status fields).
  if [ $role = ingest ]; then expect $role 202 - POST /v1/ingest "$(event "perm-$role")"
  else expect $role 202 "ingest; use an ingest key" POST /v1/ingest "$(event "perm-$role")" "$status_fields"; fi
  expect $role 202 - DELETE '/v1/ingest/test-data?scope=mine'
  case $role in owner|admin) expect $role 202 - DELETE '/v1/ingest/test-data?scope=workspace' ;;
    *) expect $role 0 "remove the workspace's rows; use scope=mine (scope=workspace needs an owner or admin key)" \
         DELETE '/v1/ingest/test-data?scope=workspace' "" "$status_fields" ;; esac
  # Reading: dashboards, export, budgets, alerts, status, unpriced models, cleanups.
  for path in /v1/dashboard/overview /v1/dashboard/top-endpoints /v1/export /v1/budgets /v1/alerts \
              /v1/diagnostics/workspace-status /v1/models/unpriced; do
    if [ $role = ingest ]; then expect $role 0 "read; use an owner, admin or member key" GET $path "" "}"
    else expect $role 200 - GET $path; fi
  done
  case $role in
    owner|admin) expect $role 404 - POST /v1/alerts/none/replay ;;
    member) expect $role 0 "replay an alert; replaying an alert needs an owner or admin key" POST /v1/alerts/none/replay "" "}" ;;
    ingest) expect $role 0 "read; use an owner, admin or member key" POST /v1/alerts/none/replay "" "}" ;;
  esac
  # The admin API.
  manage="manage keys; managing keys needs an owner or admin key"
  owner_keys="manage owner keys; only an owner key creates, rotates or revokes owner keys"
  if [ $role = ingest ]; then expect $role 0 "list keys; use an owner, admin or member key" GET /v1/admin/keys "" "}"
  else expect $role 200 - GET /v1/admin/keys; fi
  if [ $role = ingest ]; then expect $role 0 "read; use an owner, admin or member key" GET /v1/admin/projects "" "}"
  else expect $role 200 - GET /v1/admin/projects; fi
  case $role in owner|admin) expect $role 201 - POST /v1/admin/projects "{\"slug\":\"p-$role\"}"
                             expect $role 200 - PATCH "/v1/admin/projects/p-$role" '{"name":"renamed"}' ;;
    *) expect $role 0 "manage projects; managing projects needs an owner or admin key" POST /v1/admin/projects \
         "{\"slug\":\"p-$role\"}" "}"
       expect $role 0 "manage projects; managing projects needs an owner or admin key" PATCH /v1/admin/projects/p-owner \
         '{"name":"x"}' "}" ;; esac
  if [ $role = ingest ]; then expect $role 0 "read; use an owner, admin or member key" GET /v1/admin/plan "" "}"
  else expect $role 200 - GET /v1/admin/alert-routes; fi
  case $role in owner|admin) expect $role 200 - PUT /v1/admin/alert-routes '{"routes":[]}' ;;
    *) expect $role 0 "manage the plan limit or alert routes; that needs an owner or admin key" PUT /v1/admin/plan \
         '{"requestsPerMonth":1000000}' "}" ;; esac
  if [ $role = ingest ]; then expect $role 0 "read; use an owner, admin or member key" GET /v1/admin/pricing "" "}"
  else expect $role 200 - GET /v1/admin/pricing; fi
  case $role in owner|admin) expect $role 200 - PUT /v1/admin/pricing '{}' ;;
    *) expect $role 0 "manage prices or model aliases; that needs an owner or admin key" PUT /v1/admin/pricing '{}' "}" ;; esac
  if [ $role = owner ]; then expect $role 200 - GET /v1/admin/config
  else expect $role 0 "export the settings; the export holds key hashes: it needs an owner key" GET /v1/admin/config "" "}"; fi
  read -r target _ <<< "$(make_key "$base" "$owner_key" ingest)"
  read -r owner_target _ <<< "$(make_key "$base" "$owner_key" owner)"
  case $role in
    owner|admin)
      expect $role 201 - POST /v1/admin/keys '{"role":"ingest"}'
      expect $role 200 - POST "/v1/admin/keys/$target/rotate" '{}'
      expect $role 200 - DELETE "/v1/admin/keys/$target"
      expect $role 200 - GET /v1/admin/audit ;;
    *)
      expect $role 0 "$manage" POST /v1/admin/keys '{"role":"ingest"}' "}"
      expect $role 0 "$manage" POST "/v1/admin/keys/$target/rotate" '{}' "}"
      expect $role 0 "$manage" DELETE "/v1/admin/keys/$target" "" "}"
      expect $role 0 "read the audit trail; the audit trail needs an owner or admin key" GET /v1/admin/audit "" "}"
      ;;
  esac
  case $role in
    owner)
      expect $role 201 - POST /v1/admin/keys '{"role":"owner"}'
      expect $role 200 - POST "/v1/admin/keys/$owner_target/rotate" '{}'
      expect $role 200 - DELETE "/v1/admin/keys/$owner_target" ;;
    admin)
      expect $role 0 "$owner_keys" POST /v1/admin/keys '{"role":"owner"}' "}"
      expect $role 0 "$owner_keys" POST "/v1/admin/keys/$owner_target/rotate" '{}' "}"
      expect $role 0 "$owner_keys" DELETE "/v1/admin/keys/$owner_target" "" "}" ;;
    *)
      expect $role 0 "$manage" POST /v1/admin/keys '{"role":"owner"}' "}"
      expect $role 0 "$manage" DELETE "/v1/admin/keys/$owner_target" "" "}" ;;
  esac
  cells=$((cells + 1))
done
echo "permission table: ok"

# Live: a new key ingests at once, a revoked one is refused at once.
[ "$(code "$base" POST /v1/ingest "$ingest_api_key" "$(event live-1)")" = 202 ] || fail "the new key does not ingest"
# The key list says when each key was last used (by this process), never for a fresh one.
read -r fresh_id _ <<< "$(make_key "$base" "$owner_key" ingest)"
last_used() { call "$base" GET /v1/admin/keys "$member_key" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1]); print([k["lastUsedAt"] for k in d["keys"] if k["id"]==sys.argv[1]][0])' "$1"; }
[ "$(last_used "$fresh_id")" = None ] || fail "a fresh key's last use: $(last_used "$fresh_id")"
used=$(last_used "$ingest_id")
[ "$(python3 -c "import datetime,sys; t=datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')); print(abs((datetime.datetime.now(datetime.timezone.utc)-t).total_seconds()) < 60)" "$used")" = True ] ||
  fail "the last use of a key that just ingested: $used"
[ "$(code "$base" DELETE "/v1/admin/keys/$ingest_id" "$admin_key")" = 200 ] || fail "revoke"
[ "$(code "$base" POST /v1/ingest "$ingest_api_key" "$(event live-2)")" = 401 ] || fail "a revoked key still ingests"
# A project made through the API is known at once (the example's workspace lists its
# projects: an unknown slug is kept unattributed with a warning).
billing() { echo "{\"events\":[{\"requestId\":\"$1\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":10,\"outputTokens\":5,\"project\":\"billing\"}]}"; }
read -r _ demo_ingest <<< "$(make_key "$base" "$owner_key" ingest)"
call "$base" POST /v1/ingest "$demo_ingest" "$(billing bill-1)" | grep -q '"warnings":\[{"index":0,"code":"unknown_project"' ||
  fail "an unknown project before it is made: $(call "$base" POST /v1/ingest "$demo_ingest" "$(billing bill-1b)")"
[ "$(code "$base" POST /v1/admin/projects "$owner_key" '{"slug":"billing","name":"Billing"}')" = 201 ] || fail "making a project"
call "$base" POST /v1/ingest "$demo_ingest" "$(billing bill-2)" | grep -q '"warnings":\[\]' || fail "the project once made"
# Rotation with a 3 s overlap.
read -r rot_id rot_old <<< "$(make_key "$base" "$owner_key" ingest '"env":"test"')"
rotated=$(call "$base" POST "/v1/admin/keys/$rot_id/rotate" "$owner_key" '{"overlapSeconds":3}')
rot_new=$(echo "$rotated" | member '["secret"]')
rotated_at=$(date +%s.%N)
secrets+=("$rot_old" "$rot_new")
[ "$(code "$base" POST /v1/ingest "$rot_new" "$(event rot-1)")" = 202 ] || fail "the rotated secret"
[ "$(code "$base" POST /v1/ingest "$rot_old" "$(event rot-2)")" = 202 ] || fail "the old secret within its overlap"
sleep "$(python3 -c "print(max(0, 3.2 - ($(date +%s.%N) - $rotated_at)))")"
[ "$(code "$base" POST /v1/ingest "$rot_old" "$(event rot-3)")" = 401 ] || fail "the old secret after its overlap"
[ "$(code "$base" POST /v1/ingest "$rot_new" "$(event rot-4)")" = 202 ] || fail "the new secret after the overlap"
echo "serve, live keys: ok"

# A budget made through the API counts the events after it; lowered under its spend it is
# exceeded at once, with no new event; raised, resolved. 3 events of 4,500 nano.
[ "$(code "$base" PUT /v1/admin/budgets/team "$admin_key" '{"amountUsd":"1","endpointTag":"team"}')" = 201 ] || fail "a budget"
team_event() { echo "{\"events\":[{\"requestId\":\"$1\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":10,\"outputTokens\":5,\"feature\":\"team\"}]}"; }
for i in 1 2 3; do [ "$(code "$base" POST /v1/ingest "$rot_new" "$(team_event "team-$i")")" = 202 ] || fail "team-$i"; done
team_state() { call "$base" GET /v1/budgets "$member_key" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1]); b=[b for b in d["budgets"] if b["budget"]=="team"][0]; print(b["state"], b["spendNanoUsd"], b["limitUsd"])'; }
[ "$(team_state)" = "ok 13500 1.000000000" ] || fail "the budget's state: $(team_state)"
[ "$(code "$base" PUT /v1/admin/budgets/team "$admin_key" '{"amountUsd":"0.00001","endpointTag":"team"}')" = 200 ] || fail "lowering"
wait_for '[ "$(team_state)" = "exceeded 13500 0.000010000" ]' 20 || fail "lowered: $(team_state)"
team_alerts() { call "$base" GET /v1/alerts "$member_key" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1]); print(" ".join(a["alert"]["type"]+":"+a["alert"]["status"]+":"+a["alert"]["observed"] for a in reversed(d["alerts"]) if a["alert"]["scope"].get("budget")=="team"))'; }
wait_for '[ "$(team_alerts)" = "budget_exceeded:firing:0.000013500" ]' 20 || fail "the lowered budget's alert: $(team_alerts)"
[ "$(code "$base" PUT /v1/admin/budgets/team "$admin_key" '{"amountUsd":"1","endpointTag":"team"}')" = 200 ] || fail "raising"
wait_for '[ "$(team_alerts)" = "budget_exceeded:firing:0.000013500 budget_exceeded:resolved:0.000013500" ]' 20 ||
  fail "the raised budget's alert: $(team_alerts)"
[ "$(code "$base" PUT /v1/admin/budgets/monthly "$admin_key" '{"amountUsd":"1"}')" = 409 ] || fail "the config file's budget"
echo "serve, live budgets: ok"

# Pricing through the API: a model the catalog lacks is counted unpriced (and warned);
# once given a price, the next call is priced exactly (1000 x 3,000 + 100 x 12,000 nano),
# and an alias prices a deployment name as its catalog model (gpt-4o-mini: 150 / 600).
priced() { echo "{\"events\":[{\"requestId\":\"$1\",\"provider\":\"openai\",\"model\":\"$2\",\"inputTokens\":1000,\"outputTokens\":100}]}"; }
cost_of() { call "$base" GET "/v1/events/$1" "$member_key" | member '["cost"]["cost_usd"]'; }
call "$base" POST /v1/ingest "$rot_new" "$(priced house-1 house-llm)" | grep -q '"code":"unpriced_model"' ||
  fail "a model without a price: $(call "$base" POST /v1/ingest "$rot_new" "$(priced house-1b house-llm)")"
bad=$(call "$base" PUT /v1/admin/pricing "$admin_key" '{"overrides":[{"provider":"openai","model":"house-llm","inputUsdPerMtok":"three"}]}')
[ "$bad" = '400 {"ok":false,"reason":"bad_request","message":"overrides[0]: input_usd_per_mtok must be a decimal USD amount per million tokens, e.g. \"2.50\""}' ] ||
  fail "a malformed price: $bad"
pricing='{"overrides":[{"provider":"openai","model":"house-llm","inputUsdPerMtok":"3","outputUsdPerMtok":"12"}],"aliases":[{"provider":"openai","name":"prod-chat","model":"gpt-4o-mini"}]}'
[ "$(code "$base" PUT /v1/admin/pricing "$admin_key" "$pricing")" = 200 ] || fail "setting the pricing"
call "$base" POST /v1/ingest "$rot_new" "$(priced house-2 house-llm)" | grep -q '"warnings":\[\]' || fail "the priced model still warned"
[ "$(code "$base" POST /v1/ingest "$rot_new" "$(priced alias-1 prod-chat)")" = 202 ] || fail "the aliased model"
wait_for '[ "$(cost_of house-2)" = 0.004200000 ]' 20 || fail "the API's price: $(call "$base" GET /v1/events/house-2 "$member_key")"
wait_for '[ "$(cost_of alias-1)" = 0.000210000 ]' 20 || fail "the API's alias: $(call "$base" GET /v1/events/alias-1 "$member_key")"
[ "$(cost_of house-1)" = None ] || fail "the call before the price is repriced: $(cost_of house-1)"
call "$base" GET /v1/admin/pricing "$member_key" | grep -q '"model":"house-llm","effectiveFrom":"","inputUsdPerMtok":"3"' ||
  fail "the pricing read back: $(call "$base" GET /v1/admin/pricing "$member_key")"
echo "serve, live pricing: ok"

# config export: the live settings as config YAML, from which a fresh serve starts with the
# API's keys, projects, budgets and pricing.
TOKENMETER_URL=$base TOKENMETER_KEY=$owner_key "$TM" config export > "$work/export.yaml" || fail "config export"
refused=$("$TM" config export --url "$base" --key "$admin_key" 2>&1) && fail "an admin key exported: $refused"
[ "$refused" = "tokenmeter config export: 403 an admin key cannot export the settings; the export holds key hashes: it needs an owner key" ] ||
  fail "config export by an admin key: $refused"
{ printf 'serve:\n  listen: 127.0.0.1:0\n  data_dir: %s\n' "$work/data-from-export"; cat "$work/export.yaml"; } > "$work/from-export.yaml"
"$TM" serve --config "$work/from-export.yaml" --port-file "$work/port2" 2> "$work/serve2.log" &
pids+=($!)
wait_for "[ -s '$work/port2' ]" 150 || fail "a serve from the export did not start: $(cat "$work/serve2.log")"
base2="http://127.0.0.1:$(cat "$work/port2")"
[ "$(code "$base2" POST /v1/ingest "$rot_new" "$(billing from-export)")" = 202 ] || fail "an API key in the export"
call "$base2" POST /v1/ingest "$rot_new" "$(billing from-export-2)" | grep -q '"warnings":\[\]' || fail "an API project in the export"
[ "$(code "$base2" POST /v1/ingest "$ingest_api_key" "$(event from-export-3)")" = 401 ] || fail "a revoked key in the export"
call "$base2" GET /v1/budgets "$member_key" | grep -q '"budget":"team"' || fail "an API budget in the export"
call "$base2" POST /v1/ingest "$rot_new" "$(priced house-3 house-llm)" | grep -q '"warnings":\[\]' || fail "the API's price in the export"
kill -TERM $! 2>/dev/null || true
echo "config export: ok"

# workspace create: a new workspace's first owner key, from an owner key of the config file.
created=$("$TM" workspace create --url "$base" --key "$owner_key" --workspace globex --name "Globex ops") || fail "workspace create"
g_owner=$(echo "$created" | head -1)
secrets+=("$g_owner")
listed_g=$(call "$base" GET /v1/admin/keys "$g_owner")
echo "$listed_g" | grep -q '"workspace":"globex","keys":\[{"id":"[^"]*","prefix":"tm_live_[^"]*","name":"Globex ops","role":"owner"' ||
  fail "the new workspace's owner key: $listed_g"
read -r _ g_ingest <<< "$(make_key "$base" "$g_owner" ingest)"
[ "$(code "$base" POST /v1/ingest "$g_ingest" "$(event globex-1)")" = 202 ] || fail "ingest into the new workspace"
[ "$(call "$base" GET /v1/dashboard/overview "$g_owner" | grep -o '"requests":[0-9]*' | head -1)" = '"requests":1' ] ||
  fail "the new workspace's own data: $(call "$base" GET /v1/dashboard/overview "$g_owner")"
again=$("$TM" workspace create --url "$base" --key "$owner_key" --workspace globex 2>&1) && fail "a workspace made twice"
[ "$again" = "tokenmeter workspace create: 409 workspace globex exists" ] || fail "a workspace made twice: $again"
by_api=$("$TM" workspace create --url "$base" --key "$g_owner" --workspace initech 2>&1) && fail "an API owner key made a workspace"
[ "$by_api" = "tokenmeter workspace create: 403 only an owner key from the config file creates workspaces (this is a key made through the API)" ] ||
  fail "workspace create by an API owner key: $by_api"
echo "workspace create: ok"

# A SIGKILL once a change is durable, before it is answered: after the restart the whole
# change is there (the key opens, the audit holds it once).
kill -TERM "$serve_pid"; wait "$serve_pid" || true
start_serve settings_durable
serve_ready
killed=$(call "$base" POST /v1/admin/keys "$owner_key" '{"role":"member","name":"made-at-the-kill"}')
[ "${killed%% *}" = 000 ] || fail "the crash point did not kill serve: $killed"
wait "$serve_pid" 2>/dev/null || true
start_serve
serve_ready
listed=$(call "$base" GET /v1/admin/keys "$owner_key")
[ "$(echo "$listed" | grep -o '"name":"made-at-the-kill"' | wc -l)" = 1 ] || fail "the change made at the kill: $listed"
audit=$(call "$base" GET '/v1/admin/audit?limit=1000' "$owner_key")
[ "$(echo "$audit" | grep -o '"action":"key.create"' | wc -l)" = "$(echo "$listed" | grep -o '"source":"api"' | wc -l)" ] ||
  fail "one creation per API key: $audit"
[ "$(code "$base" POST /v1/ingest "$rot_new" "$(event after-restart)")" = 202 ] || fail "a key made before the restart"
[ "$(code "$base" POST /v1/ingest "$ingest_api_key" "$(event after-restart-2)")" = 401 ] || fail "a key revoked before the restart"
echo "serve, SIGKILL during a change: ok"

# A plan limit set under the month's requests pauses the workspace at once (402) and
# alerts once; removed, events are taken again.
[ "$(code "$base" PUT /v1/admin/plan "$admin_key" '{"requestsPerMonth":1}')" = 200 ] || fail "setting a plan limit"
wait_for "[ \"\$(code $base POST /v1/ingest $rot_new '$(event plan-1)')\" = 402 ]" 20 || fail "the lowered plan limit does not pause"
plan_alerts() { call "$base" GET /v1/alerts "$member_key" | grep -o '"type":"plan_limit_reached"' | wc -l; }
[ "$(plan_alerts)" = 1 ] || fail "the plan alert: $(call "$base" GET /v1/alerts "$member_key")"
[ "$(code "$base" PUT /v1/admin/plan "$admin_key" '{"requestsPerMonth":2}')" = 200 ] || fail "changing the plan limit"
[ "$(code "$base" DELETE /v1/admin/plan "$admin_key")" = 200 ] || fail "removing the plan limit"
wait_for "[ \"\$(code $base POST /v1/ingest $rot_new '$(event plan-2)')\" = 202 ]" 20 || fail "the removed plan limit still pauses"
[ "$(plan_alerts)" = 1 ] || fail "one plan alert a month"
echo "serve, live plan limit: ok"

# No secret or hash anywhere but its own creation's answer.
metrics=$(curl -s "$base/metrics")
for s in "${secrets[@]}"; do
  hash=$(printf %s "$s" | sha256sum | cut -d' ' -f1)
  for where in "$work/serve.log"; do
    ! grep -q -e "${s:21}" -e "$hash" "$where" || fail "a secret or its hash in $where"
  done
  ! echo "$metrics$listed$audit" | grep -q -e "${s:21}" -e "$hash" || fail "a secret or its hash in an answer or /metrics"
done
echo "serve, no secrets shown: ok"
kill -TERM "$serve_pid"; wait "$serve_pid" || true

# ---------------------------------------------------------------- distributed
start_mock_broker "$MOCK"
start_webhook_receiver "$RX"
"$TM" keys create --workspace acme --role owner > "$work/owner.txt"
dist_owner=$(head -n 1 "$work/owner.txt")
cat > "$work/dist.yaml" <<YAML
edge:
  listen: 127.0.0.1:0
$(kafka_bus_yaml)
processor:
  listen: 127.0.0.1:0
  state_dir: $work/state
  poll_timeout_ms: 50
workspaces:
  - id: acme
    projects: [shop]
    strict_projects: true
sinks:
  - id: hook
    type: webhook
    url: $rx/hook
    secrets: ["$secret"]
alerts:
  retry:
    poll_interval_ms: 50
keys:
$(tail -n +3 "$work/owner.txt")
YAML
start_edge() {  # start_edge <name>: sets $edge_url
  rm -f "$work/$1.port"
  "$TM" edge --config "$work/dist.yaml" --port-file "$work/$1.port" 2>> "$work/$1.log" &
  pids+=($!)
  wait_for "[ -s '$work/$1.port' ]" 300 || fail "edge $1 did not start"
  edge_url="http://127.0.0.1:$(cat "$work/$1.port")"
  wait_for "curl -sf $edge_url/readyz > /dev/null" 150 || fail "edge $1 not ready"
}
start_edge edge_a; a=$edge_url
start_edge edge_b; b=$edge_url
start_processor "$work/dist.yaml" "$work/processor.log"
p="http://127.0.0.1:$pport"
# within_2s <command>: true once it succeeds, at most 2 s after now
within_2s() { wait_for "$1" 20; }
read -r d_ingest_id d_ingest <<< "$(make_key "$a" "$dist_owner" ingest)"
within_2s "[ \"\$(code $b POST /v1/ingest $d_ingest '$(event d-1)')\" = 202 ]" || fail "a key made on edge A, on edge B"
read -r _ d_member <<< "$(make_key "$a" "$dist_owner" member)"
within_2s "[ \"\$(code $p GET /v1/dashboard/overview $d_member)\" = 200 ]" || fail "a member key made on edge A, on the processor"
[ "$(code "$a" DELETE "/v1/admin/keys/$d_ingest_id" "$dist_owner")" = 200 ] || fail "revoke on edge A"
within_2s "[ \"\$(code $b POST /v1/ingest $d_ingest '$(event d-2)')\" = 401 ]" || fail "a key revoked on edge A still ingests on edge B"
read -r d_rot_id d_rot_old <<< "$(make_key "$a" "$dist_owner" ingest)"
d_rot_new=$(call "$a" POST "/v1/admin/keys/$d_rot_id/rotate" "$dist_owner" '{"overlapSeconds":3}' | member '["secret"]')
within_2s "[ \"\$(code $b POST /v1/ingest $d_rot_new '$(event d-3)')\" = 202 ]" || fail "a rotated key's new secret on edge B"
[ "$(code "$b" POST /v1/ingest "$d_rot_old" "$(event d-4)")" = 202 ] || fail "the old secret within its overlap on edge B"
wait_for "[ \"\$(code $b POST /v1/ingest $d_rot_old '$(event d-5)')\" = 401 ]" 60 || fail "the old secret after its overlap on edge B"
# The processor serves the admin API too (beside the dashboard): a key made there works on the edges.
read -r _ d_from_processor <<< "$(make_key "$p" "$dist_owner" ingest)"
within_2s "[ \"\$(code $b POST /v1/ingest $d_from_processor '$(event d-8)')\" = 202 ]" || fail "a key made on the processor, on edge B"
# Strict mode: a project made on edge A is accepted on edge B within 2 s.
read -r _ d_shop <<< "$(make_key "$a" "$dist_owner" ingest)"
within_2s "[ \"\$(code $b POST /v1/ingest $d_shop '$(event d-9)')\" = 202 ]" || fail "a key for the strict workspace"
call "$b" POST /v1/ingest "$d_shop" "$(billing d-bill-1)" | grep -q '"rejected":1' || fail "strict mode refuses an unknown project"
[ "$(code "$a" POST /v1/admin/projects "$dist_owner" '{"slug":"billing"}')" = 201 ] || fail "making a project on edge A"
within_2s "call $b POST /v1/ingest $d_shop '$(billing d-bill-2)' | grep -q '\"accepted\":1'" ||
  fail "a project made on edge A, in strict mode on edge B"
# A budget lowered on edge A fires at the processor and is delivered to the webhook the
# alert routes (set through the API too) name.
[ "$(code "$a" PUT /v1/admin/alert-routes "$dist_owner" '{"routes":[{"sink":"nowhere"}]}')" = 400 ] || fail "a route to no sink"
[ "$(code "$a" PUT /v1/admin/alert-routes "$dist_owner" '{"routes":[{"sink":"hook","types":["budget_exceeded"]}]}')" = 200 ] ||
  fail "routes on edge A"
[ "$(code "$a" PUT /v1/admin/budgets/team "$dist_owner" '{"amountUsd":"1","endpointTag":"team"}')" = 201 ] || fail "a budget on edge A"
within_2s "call $p GET /v1/budgets $dist_owner | grep -q '\"budget\":\"team\"'" || fail "the budget at the processor"
for i in 1 2 3; do [ "$(code "$b" POST /v1/ingest "$d_shop" "$(team_event "d-team-$i")")" = 202 ] || fail "d-team-$i"; done
wait_for "call $p GET /v1/budgets $dist_owner | grep -q '\"spendNanoUsd\":13500'" 100 || fail "the budget's spend: $(call "$p" GET /v1/budgets "$dist_owner")"
[ "$(code "$a" PUT /v1/admin/budgets/team "$dist_owner" '{"amountUsd":"0.00001","endpointTag":"team"}')" = 200 ] || fail "lowering on edge A"
delivered() { curl -s "$rx/state" | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); print(" ".join(b["type"]+":"+b["status"]+":"+b["observed"] for b in (s["bodies"][i] for i in s["processed"]) if b["scope"].get("budget")=="team"), all(a["verified"] for a in s["attempts"]))'; }
wait_for '[ "$(delivered)" = "budget_exceeded:firing:0.000013500 True" ]' 50 || fail "the lowered budget's webhook: $(delivered)"
[ "$(code "$a" PUT /v1/admin/budgets/team "$dist_owner" '{"amountUsd":"1","endpointTag":"team"}')" = 200 ] || fail "raising on edge A"
wait_for '[ "$(delivered)" = "budget_exceeded:firing:0.000013500 budget_exceeded:resolved:0.000013500 True" ]' 50 ||
  fail "the raised budget's webhook: $(delivered)"
# A price set on edge A prices the processor's next calls.
[ "$(code "$a" PUT /v1/admin/pricing "$dist_owner" "$pricing")" = 200 ] || fail "pricing on edge A"
within_2s "call $p GET /v1/admin/pricing $dist_owner | grep -q house-llm" || fail "the pricing at the processor"
[ "$(code "$b" POST /v1/ingest "$d_shop" "$(priced d-house house-llm)")" = 202 ] || fail "d-house"
wait_for "[ \"\$(call $p GET /v1/events/d-house $dist_owner | member '[\"cost\"][\"cost_usd\"]')\" = 0.004200000 ]" 100 ||
  fail "the price set on edge A, at the processor: $(call "$p" GET /v1/events/d-house "$dist_owner")"
echo "distributed, live on every process: ok"
# An edge started after the changes has them all before it is ready.
start_edge edge_c; c=$edge_url
[ "$(code "$c" POST /v1/ingest "$d_rot_new" "$(event d-6)")" = 202 ] || fail "a late edge: the rotated key"
[ "$(code "$c" POST /v1/ingest "$d_ingest" "$(event d-7)")" = 401 ] || fail "a late edge: the revoked key"
audit=$(call "$c" GET /v1/admin/audit "$dist_owner")
[ "$(echo "$audit" | grep -o '"applied":true' | wc -l)" = 13 ] || fail "the late edge's audit trail: $audit"
echo "distributed, a late edge: ok"
# A budget lowered while the processor is down decides its alert when the processor
# starts again (every budget and plan limit is reviewed then), with no new event.
kill -TERM "$processor_pid"; wait "$processor_pid" 2>/dev/null || true
[ "$(code "$a" PUT /v1/admin/budgets/team "$dist_owner" '{"amountUsd":"0.00001","endpointTag":"team"}')" = 200 ] ||
  fail "lowering a budget while the processor is down"
start_processor "$work/dist.yaml" "$work/processor.log"
wait_for '[ "$(delivered)" = "budget_exceeded:firing:0.000013500 budget_exceeded:resolved:0.000013500 budget_exceeded:firing:0.000013500 True" ]' 150 ||
  fail "the budget lowered while the processor was down: $(delivered)"
echo "distributed, a budget lowered while the processor was down: ok"
