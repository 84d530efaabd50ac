#!/usr/bin/env bash
# The web dashboard end to end: `tokenmeter serve` with the example config is sent a known
# set of events (one three hours old, a retry, an unpriced model, calls without a user, two
# prompt versions of one feature, one of them also used by another feature, a real call
# from staging),
# then browser/dashboard_test.js drives Debian's chromium through every view.
# Usage: dashboard_e2e.sh <tokenmeter binary> <example serve.yaml> <screenshots dir>
TM=$1
EXAMPLE=$2
SHOTS=$3
source "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*" >&2; tail -20 "$work/serve.log" >&2 || true; exit 1; }
browser_dir="$(dirname "$0")/browser"
[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium is not installed (deploy/install-deps.sh installs it)"; exit 77; }
[ -d "$browser_dir/node_modules/playwright-core" ] || { echo "SKIP: run npm ci in tests/e2e/browser"; exit 77; }
mkdir -p "$SHOTS"

sed -e 's/127.0.0.1:8080/127.0.0.1:0/' -e "s#data_dir: tokenmeter-data#data_dir: $work/data#" "$EXAMPLE" > "$work/serve.yaml"
ingest_key=$(awk '/#   ingest:/ {print $3}' "$EXAMPLE")
read_key=$(awk '/#   read:/ {print $3}' "$EXAMPLE")
owner_key=$(awk '/#   owner:/ {print $3}' "$EXAMPLE")
"$TM" serve --config "$work/serve.yaml" --port-file "$work/port" 2> "$work/serve.log" &
pids+=($!)
wait_for "[ -s '$work/port' ]" 100 || fail "serve did not start"
base="http://127.0.0.1:$(cat "$work/port")"
wait_for "curl -sf $base/readyz > /dev/null" 100 || fail "serve not ready"

post() {
  curl -s -o /dev/null -w '%{http_code}' -X POST "$base/v1/ingest" -H "X-API-Key: $ingest_key" \
    -H 'Content-Type: application/json' --data-binary "$1"
}
old=$(date -u -d '3 hours ago' +%Y-%m-%dT%H:%M:%S.000Z)
lynx='{"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","feature":"ticket-classifier"}'
[ "$(post "$lynx")" = 202 ] || fail "lynx"
[ "$(post '{"events":[{"provider":"openai","model":"gpt-4.1","inputTokens":1200,"outputTokens":450,"requestId":"chatcmpl-abc123","project":"document-processing","feature":"contract-analysis","userId":"u-42"},{"provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"requestId":"msg_xyz456","project":"document-processing","feature":"classification","userId":"u-7","promptVersion":"summarizer_v2"}]}')" = 202 ] || fail "batch"
[ "$(post '{"provider":"anthropic","model":"claude-9-opus","inputTokens":10,"outputTokens":5,"requestId":"unpriced-1","feature":"new-model"}')" = 202 ] || fail "unpriced"
[ "$(post "{\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"inputTokens\":1000,\"outputTokens\":100,\"requestId\":\"old-1\",\"feature\":\"old-feature\",\"timestamp\":\"$old\"}")" = 202 ] || fail "old"
[ "$(post "$lynx")" = 202 ] || fail "retry"
[ "$(post '{"requestId":"staging-1","provider":"openai","model":"gpt-4o-mini","inputTokens":100,"outputTokens":10,"feature":"ticket-classifier","environment":"staging"}')" = 202 ] || fail "staging"
[ "$(post '{"events":[{"requestId":"p2-1","provider":"openai","model":"gpt-4o-mini","inputTokens":1000,"outputTokens":200,"promptVersion":"summarizer_v2","endpointTag":"checkout.ai_summary","latencyMs":900},{"requestId":"p3-1","provider":"openai","model":"gpt-4o-mini","inputTokens":600,"outputTokens":200,"promptVersion":"summarizer_v3","endpointTag":"checkout.ai_summary","latencyMs":700}]}')" = 202 ] || fail "prompt versions"

# The page's security headers, and nothing but its files under /ui/.
headers=$(curl -sI "$base/")
for h in "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'" \
  "X-Content-Type-Options: nosniff" "X-Frame-Options: DENY" "Referrer-Policy: no-referrer" \
  "Content-Type: text/html; charset=utf-8"; do
  echo "$headers" | grep -qiF "$h" || fail "header $h: $headers"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ui/nothing.js")" = 404 ] || fail "an unknown file under /ui/"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/")" = 405 ] || fail "POST /"

node "$browser_dir/dashboard_test.js" "$base" "$read_key" "$ingest_key" "$SHOTS" "$owner_key" || fail "the dashboard (screenshots in $SHOTS)"
echo "e2e dashboard: ok"
