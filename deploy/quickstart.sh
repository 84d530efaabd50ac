#!/usr/bin/env bash
# The quickstart: installs what it needs, builds, starts `tokenmeter serve` (everything in
# one process, no Kafka) on 127.0.0.1:8080 with the demo config, sends demo traffic,
# prints what it cost by feature, then keeps running until Ctrl-C.
# Usage: deploy/quickstart.sh [--exit] [--port N] [--no-install]
#   --exit        stop after the demo (used by the test suite)
#   --port N      port (default 8080; 0 picks a free one)
#   --no-install  skip apt-get (dependencies already present)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stay=yes port=8080 install=yes
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
  cmake --build "$build" -j2 --target tokenmeter
fi
TM=$build/deploy/tokenmeter/tokenmeter

run=$(mktemp -d /tmp/tokenmeter-quickstart.XXXXXX)
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT INT TERM

example=deploy/examples/serve.yaml
sed -e "s/127.0.0.1:8080/127.0.0.1:$port/" -e "s#data_dir: tokenmeter-data#data_dir: $run/data#" "$example" > "$run/serve.yaml"
ingest_key=$(awk '/#   ingest:/ {print $3}' "$example")
read_key=$(awk '/#   read:/ {print $3}' "$example")
owner_key=$(awk '/#   owner:/ {print $3}' "$example")
"$TM" serve --config "$run/serve.yaml" --port-file "$run/port" 2> "$run/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [ -s "$run/port" ] && curl -sf "http://127.0.0.1:$(cat "$run/port")/readyz" > /dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$(cat "$run/port")"
curl -sf "$base/readyz" > /dev/null || { echo "tokenmeter serve did not start; log:" >&2; cat "$run/serve.log" >&2; exit 1; }

echo "== demo traffic to $base (workspace demo)"
send() {
  printf '%-26s -> ' "$1"
  curl -s -X POST "$base$2" -H "X-API-Key: $ingest_key" -H 'Content-Type: application/json' --data-binary "$3"
  echo
}
send "Opsmeter-style event" /v1/ingest '{"externalRequestId":"req_2026_02_07_001","provider":"openai","model":"gpt-4o-mini","promptVersion":"summarizer_v3","endpointTag":"checkout.ai_summary","inputTokens":120,"outputTokens":45,"totalTokens":165,"latencyMs":820,"status":"success"}'
send "CostLynx-style event" /api/v1/usage/ingest '{"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","feature":"ticket-classifier"}'
send "CostLynx-style batch" /v1/ingest/llm-request '{"events":[{"provider":"openai","model":"gpt-4.1","inputTokens":1200,"outputTokens":450,"requestId":"chatcmpl-abc123","project":"document-processing","feature":"contract-analysis"},{"provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"requestId":"msg_xyz456","project":"document-processing","feature":"classification"}]}'
send "Gemini alias" /v1/ingest '{"provider":"gemini","model":"gemini-2.0-flash","inputTokens":900,"outputTokens":200,"requestId":"6f1c2d3e-0000-4000-8000-000000000001","feature":"search.summarize"}'
send "a client retry (same id)" /api/v1/usage/ingest '{"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","feature":"ticket-classifier"}'
send "an invalid event" /v1/ingest '{"requestId":"oops","provider":"openai","model":"gpt-4o","inputTokens":-5}'
send "the demo set (dataMode demo)" /v1/ingest/demo ''

for _ in $(seq 100); do
  curl -s -H "X-API-Key: $read_key" "$base/v1/dashboard/overview?range=1h" | grep -q '"requests":5,' && break
  sleep 0.1
done
echo
echo "== cost by feature: GET $base/v1/dashboard/top-endpoints?range=1h"
curl -s -H "X-API-Key: $read_key" "$base/v1/dashboard/top-endpoints?range=1h" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
for i in d["items"]:
    print("  %-22s %d request(s)  %d retry(ies)  $%s" % (i["value"], i["requests"], i["duplicates"], i["costUsd"]))
'
echo
echo "== overview: GET $base/v1/dashboard/overview?range=1h"
curl -s -H "X-API-Key: $read_key" "$base/v1/dashboard/overview?range=1h"
echo
echo
curl -s "$base/metrics" | grep -E '^tokenmeter_(edge_events_accepted|processor_events_counted|processor_duplicates)_total'

if [ $stay = no ]; then exit 0; fi
cat <<MSG

tokenmeter serve is running on $base (Ctrl-C stops it; data in $run/data).
  dashboard: open $base/ and sign in with the read key $read_key
             (the events above are real data; choose "demo" in the data-mode filter for the sample set)
  ingest:   curl -X POST $base/v1/ingest -H 'X-API-Key: $ingest_key' -H 'Content-Type: application/json' \\
              -d '{"requestId":"my-1","provider":"openai","model":"gpt-4o-mini","inputTokens":10,"outputTokens":5,"feature":"my.feature"}'
  query:    curl -H 'X-API-Key: $read_key' '$base/v1/dashboard/top-endpoints?range=24h'
            (also overview, timeseries, top-users, top-tenants, prompt-versions, models, /v1/events/{requestId})
  keys:     curl -X POST $base/v1/admin/keys -H 'X-API-Key: $owner_key' -d '{"role":"ingest","name":"my app"}'
            (a new key, live at once; also GET /v1/admin/keys, .../{id}/rotate, DELETE .../{id}, GET /v1/admin/audit)
  metrics:  curl $base/metrics     health: $base/healthz   ready: $base/readyz
  config:   $run/serve.yaml (from deploy/examples/serve.yaml)   logs: $run/serve.log
MSG
wait "$serve_pid"
