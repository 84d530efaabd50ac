#!/usr/bin/env bash
# The quickstart: installs what it needs, builds, starts a development Kafka (the mock
# broker) and the ingest edge on 127.0.0.1:8081, sends demo traffic, shows where it
# landed and where to look, then keeps running until Ctrl-C.
# Usage: deploy/quickstart.sh [--exit] [--port N] [--no-install]
#   --exit        stop after the demo (used by the test suite)
#   --port N      edge port (default 8081; 0 picks a free one)
#   --no-install  skip apt-get (dependencies already present)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stay=yes port=8081 install=yes
while [ $# -gt 0 ]; do
  case $1 in
    --exit) stay=no ;;
    --port) port=$2; shift ;;
    --no-install) install=no ;;
    *) echo "usage: deploy/quickstart.sh [--exit] [--port N] [--no-install]" >&2; exit 2 ;;
  esac
  shift
done

[ $install = yes ] && bash deploy/install-deps.sh
build=${TOKENMETER_BUILD_DIR:-$root/build}
if [ ! -x "$build/deploy/tokenmeter/tokenmeter" ] || [ -z "${TOKENMETER_BUILD_DIR:-}" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$build" -j2 --target tokenmeter tokenmeter-mock-broker
fi
TM=$build/deploy/tokenmeter/tokenmeter
MOCK=$build/deploy/dev/tokenmeter-mock-broker

run=$(mktemp -d /tmp/tokenmeter-quickstart.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT INT TERM

# A development Kafka: librdkafka's mock cluster, 3 brokers on loopback.
"$MOCK" --bootstrap-file "$run/bootstrap" < /dev/null > "$run/mock.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$run/bootstrap" ] && break; sleep 0.1; done
bootstrap=$(cat "$run/bootstrap")

# An ingest key for workspace "demo": the key is printed once; the config keeps its hash.
"$TM" keys create --workspace demo --role ingest > "$run/key.txt"
key=$(head -n 1 "$run/key.txt")
cat > "$run/tokenmeter.yaml" <<YAML
edge:
  listen: 127.0.0.1:$port
bus:
  kafka:
    bootstrap_servers: $bootstrap
workspaces:
  - id: demo
    projects: [customer-support, document-processing]
keys:
$(tail -n +3 "$run/key.txt")
YAML
"$TM" edge --config "$run/tokenmeter.yaml" --port-file "$run/port" 2> "$run/edge.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$run/port" ] && curl -sf "http://127.0.0.1:$(cat "$run/port")/readyz" > /dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$(cat "$run/port")"
curl -sf "$base/readyz" > /dev/null || { echo "the edge did not become ready; log:" >&2; cat "$run/edge.log" >&2; exit 1; }

echo "== demo traffic to $base"
send() {
  printf '%-24s -> ' "$1"
  curl -s -X POST "$base$2" -H "X-API-Key: $key" -H 'Content-Type: application/json' --data-binary "$3"
  echo
}
send "Opsmeter-style event" /v1/ingest '{"externalRequestId":"req_2026_02_07_001","provider":"openai","model":"gpt-4o-mini","promptVersion":"summarizer_v3","endpointTag":"checkout.ai_summary","inputTokens":120,"outputTokens":45,"totalTokens":165,"latencyMs":820,"status":"success"}'
send "CostLynx-style batch" /api/v1/usage/ingest '{"events":[{"provider":"openai","model":"gpt-4.1","inputTokens":1200,"outputTokens":450,"requestId":"chatcmpl-abc123","project":"document-processing","feature":"contract-analysis"},{"provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"requestId":"msg_xyz456","project":"document-processing","feature":"classification"}]}'
send "Gemini alias" /v1/ingest '{"provider":"gemini","model":"gemini-2.0-flash","inputTokens":900,"outputTokens":200,"requestId":"6f1c2d3e-0000-4000-8000-000000000001","feature":"search.summarize"}'
send "an invalid event" /v1/ingest '{"requestId":"oops","provider":"openai","model":"gpt-4o","inputTokens":-5}'

echo
echo "== what landed on tokenmeter.events (key = workspace, value = canonical event)"
kcat -C -b "$bootstrap" -t tokenmeter.events -e -q -f '%k  %s\n'
echo
echo "== accepted/rejected counters from $base/metrics"
curl -s "$base/metrics" | grep -E '^tokenmeter_edge_events_(accepted|rejected)_total' | grep -v ' 0$'

if [ $stay = no ]; then exit 0; fi
cat <<MSG

tokenmeter edge is running on $base (Ctrl-C stops everything).
  ingest:   curl -X POST $base/v1/ingest -H 'X-API-Key: $key' -H 'Content-Type: application/json' \\
              -d '{"requestId":"my-1","provider":"openai","model":"gpt-4o-mini","inputTokens":10,"outputTokens":5}'
  watch:    kcat -C -b $bootstrap -t tokenmeter.events -f '%k  %s\\n'
  metrics:  curl $base/metrics     health: $base/healthz   ready: $base/readyz
  config:   $run/tokenmeter.yaml   logs: $run/edge.log
MSG
wait
