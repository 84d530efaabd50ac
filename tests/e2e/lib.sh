# Sourced by the e2e scripts: a temp work dir, cleanup of every process they spawn,
# bounded waits, and the mock broker daemon. A script defines fail() itself (what to
# print on failure) and appends the PIDs it starts to `pids`.
set -euo pipefail
work=$(mktemp -d)
pids=()
e2e_cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap e2e_cleanup EXIT

# wait_for <command> <tenths of a second>: true once the command succeeds.
wait_for() {
  local i
  for ((i = 0; i < $2; i++)); do eval "$1" && return 0; sleep 0.1; done
  return 1
}

# kafka_bus_yaml: the `bus:` section of a distributed e2e config (after start_mock_broker);
# short session timeouts so a restarted consumer rejoins quickly.
kafka_bus_yaml() {
  cat <<YAML
bus:
  kafka:
    bootstrap_servers: $bootstrap
    properties:
      session.timeout.ms: "6000"
      heartbeat.interval.ms: "500"
YAML
}

# workspace_keys <role> <workspace...>: a key of that role for each workspace, its secret
# first in $work/key-<workspace>.txt; their config records appended to $work/keys.yaml.
workspace_keys() {
  local role=$1 ws
  shift
  for ws in "$@"; do
    "$TM" keys create --workspace "$ws" --role "$role" > "$work/key-$ws.txt"
    tail -n +3 "$work/key-$ws.txt" >> "$work/keys.yaml"
  done
}

# start_mock_broker <binary>: starts it with fault commands on fd 3; sets $bootstrap.
start_mock_broker() {
  mkfifo "$work/ctl"
  "$1" --bootstrap-file "$work/bootstrap" < "$work/ctl" > "$work/mock.out" 2>&1 &
  pids+=($!)
  exec 3> "$work/ctl"
  wait_for "[ -s '$work/bootstrap' ]" 100 || fail "mock broker did not start"
  bootstrap=$(cat "$work/bootstrap")
}

# serve_config <example serve.yaml>: $work/serve.yaml from it (a free port, data in
# $work/data); sets $ingest_key, $read_key and $owner_key to its published demo keys.
serve_config() {
  sed -e 's/127.0.0.1:8080/127.0.0.1:0/' -e "s#data_dir: tokenmeter-data#data_dir: $work/data#" "$1" > "$work/serve.yaml"
  ingest_key=$(awk '/#   ingest:/ {print $3}' "$1")
  read_key=$(awk '/#   read:/ {print $3}' "$1")
  owner_key=$(awk '/#   owner:/ {print $3}' "$1")
}

# start_serve [crash point]: starts `$TM serve --config $work/serve.yaml` (stderr to
# $work/serve.log; with TOKENMETER_CRASH_AT set to the crash point, if any; after the
# words in the serve_prefix array, e.g. a clock moved on) and waits until it listens;
# sets $serve_pid, $port and $base. serve_ready waits for its /readyz.
serve_prefix=()
start_serve() {
  rm -f "$work/port" "$work/port.tmp"
  TOKENMETER_CRASH_AT=${1:-} "${serve_prefix[@]}" "$TM" serve --config "$work/serve.yaml" --port-file "$work/port.tmp" \
    2>> "$work/serve.log" &
  serve_pid=$!
  pids+=($serve_pid)
  wait_for "[ -s '$work/port.tmp' ]" 150 || fail "serve did not start"
  mv "$work/port.tmp" "$work/port"
  port=$(cat "$work/port")
  base="http://127.0.0.1:$port"
}
serve_ready() { wait_for "curl -sf $base/readyz > /dev/null" 150 || fail "serve not ready"; }

# guide_curl <base url> <ingest key>: the CostLynx-style guide's validation step, its curl
# verbatim (one event without a timestamp).
guide_curl() {
  COSTLYNX_BASE_URL=$1 COSTLYNX_INGESTION_KEY=$2
  curl -s -X POST "$COSTLYNX_BASE_URL/api/v1/usage/ingest" \
  -H "Content-Type: application/json" \
  -H "X-API-Key: $COSTLYNX_INGESTION_KEY" \
  -d '{
"provider": "openai",
"model": "gpt-4o-mini",
"inputTokens": 850,
"outputTokens": 320,
"requestId": "test-integration-001",
"project": "customer-support",
"environment": "staging",
"feature": "ticket-classifier"
}'
}
# ingest_answer <inserted> <skipped> <pending> [conflicts] [warnings]: the exact 202 body of
# a one-event request in a workspace with no budget or plan flag set.
ingest_answer() {
  echo "{\"ok\":true,\"inserted\":$1,\"skipped\":$2,\"conflicts\":[${4:-}],\"pending\":$3,\"accepted\":1,\"rejected\":0,\"errors\":[],\"warnings\":[${5:-}],\"reason\":\"ok\",\"telemetryPaused\":false,\"providerCallsContinue\":true,\"isPlanLimitReached\":false,\"budgetWarning\":false,\"budgetExceeded\":false}"
}

# start_webhook_receiver <receivers dir>: receivers/webhook_receiver.js on loopback, its
# signing secret $secret; sets $rx (its URL). control <json> sets its script.
secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
start_webhook_receiver() {
  node "$1/webhook_receiver.js" "$work/rx.port" "$secret" > "$work/rx.log" 2>&1 &
  pids+=($!)
  wait_for "[ -s '$work/rx.port' ]" 100 || fail "the webhook receiver did not start"
  rx="http://127.0.0.1:$(cat "$work/rx.port")"
}
control() { curl -sf -X POST "$rx/control" -H 'Content-Type: application/json' -d "$1" > /dev/null || fail "control"; }

# start_processor <config> <log>: starts `$TM processor`, waits until it listens and is
# ready; sets $processor_pid and $pport.
start_processor() {
  rm -f "$work/pport"
  "$TM" processor --config "$1" --port-file "$work/pport" 2>> "$2" &
  processor_pid=$!
  pids+=($processor_pid)
  wait_for "[ -s '$work/pport' ]" 100 || fail "processor did not start"
  pport=$(cat "$work/pport")
  wait_for "curl -sf http://127.0.0.1:$pport/readyz > /dev/null" 100 || fail "processor never ready"
}
