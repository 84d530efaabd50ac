#!/usr/bin/env bash
# Cleanup that exactly reverses, in serve: real calls are sent, then demo rows (the demo
# set, with its retries) and test rows of two owners' keys; a member removes only its
# owner's test rows (scope=mine), is refused the workspace scope, an admin removes every
# demo row while serve is SIGKILLed in the middle of applying it (crash point
# cleanup_staged) and restarted, then every test row: afterwards every dashboard view,
# over every data mode, answers byte for byte what it answered before those rows were
# sent, and the budget's spend and the plan's count never moved.
# Usage: cleanup_e2e.sh <tokenmeter binary> <example serve.yaml>
TM=$1
EXAMPLE=$2
source "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*" >&2; tail -15 "$work/serve.log" >&2 || true; exit 1; }

# Keys: the example's ingest key and member key (owner "alice"), an ingest key of
# "bob", an admin key.
serve_config "$EXAMPLE"
alice_ingest=$ingest_key
alice_read=$read_key
sed -i -e '/role: ingest/a\    owner: alice' -e '/role: member/a\    owner: alice' "$work/serve.yaml"
"$TM" keys create --workspace demo --role ingest > "$work/bob.txt"
bob_ingest=$(head -n 1 "$work/bob.txt")
"$TM" keys create --workspace demo --role admin > "$work/admin.txt"
admin=$(head -n 1 "$work/admin.txt")
{ tail -n +3 "$work/bob.txt"; echo "    owner: bob"; tail -n +3 "$work/admin.txt"; } >> "$work/serve.yaml"

query() { curl -s -H "X-API-Key: $alice_read" "$base$1"; }
send() {  # <key> <body>: the 202's inserted count
  curl -s -X POST "$base/v1/ingest" -H "X-API-Key: $1" -H 'Content-Type: application/json' --data-binary "$2" |
    grep -o '"inserted":[0-9]*' || true
}
cleanup() {  # <key> <demo|test> <scope>: the answer
  curl -s -w ' %{http_code}' -X DELETE "$base/v1/ingest/$2-data?scope=$3" -H "X-API-Key: $1"
}
wait_done() {  # <cleanup answer>: waits until applied, prints the result
  local id
  id=$(echo "$1" | grep -o 'cl_[0-9a-f]*' | head -1)
  [ -n "$id" ] || fail "no cleanup id in: $1"
  wait_for "query /v1/cleanups/$id | grep -q '\"done\":true'" 150 || fail "cleanup $id not applied: $(query /v1/cleanups/$id)"
  query "/v1/cleanups/$id"
}
# Every view over every mode, for one fixed window, so two snapshots compare byte for byte
# (availableFrom is now minus the retention: it moves with the clock, so it is masked).
from=$(date -u -d '-1 day' +%Y-%m-%dT%H:00:00Z)
to=$(date -u -d '+2 hours' +%Y-%m-%dT%H:00:00Z)
snapshot_raw() {
  local w="from=$from&to=$to&dataMode=all"
  for view in overview timeseries top-endpoints top-users top-tenants prompt-versions models providers projects environments; do
    echo "$view: $(query "/v1/dashboard/$view?$w&limit=1000")"
  done
  echo "minutes: $(query "/v1/dashboard/timeseries?$w&granularity=minute")"
  echo "p95 by feature: $(query "/v1/dashboard/overview?$w&feature=support.reply")"
  echo "unpriced: $(query "/v1/models/unpriced?$w")"
  echo "export: $(query "/v1/export?$w&format=ndjson")"
  for dim in total feature user; do
    echo "rollups $dim: $(query "/v1/export?$w&of=rollups&dimension=$dim&granularity=minute&format=ndjson")"
  done
}
snapshot() { snapshot_raw | sed -E 's/"availableFrom":"[^"]*"/"availableFrom":"(masked)"/g'; }
real_state() {  # the budget's spend and the plan's count (real data only)
  query /v1/budgets | grep -o '"spendNanoUsd":[0-9]*,"requests":[0-9]*'
}

start_serve
serve_ready
# Real calls, with latencies and a retry.
real='{"events":[{"requestId":"r1","provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"latencyMs":640,"endpointTag":"support.reply","userId":"u1"},{"requestId":"r2","provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"latencyMs":1900,"endpointTag":"support.reply","promptVersion":"v2"}]}'
[ "$(send "$alice_ingest" "$real")" = '"inserted":2' ] || fail "real calls"
[ "$(send "$alice_ingest" "$real")" = '"inserted":0' ] || fail "real retry"
snapshot > "$work/before.txt"
budget_before=$(real_state)
# The export, read by Python's csv and json: its rows add up to the query API's totals.
query "/v1/export?from=$from&to=$to&format=csv" > "$work/export.csv"
query "/v1/export?from=$from&to=$to&format=json" > "$work/export.json"
query "/v1/export?from=$from&to=$to&format=csv&of=rollups&dimension=feature" > "$work/rollups.csv"
/usr/bin/python3 - "$work/export.csv" "$work/export.json" "$(query "/v1/dashboard/overview?from=$from&to=$to")" \
  "$work/rollups.csv" <<'PY' ||
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
doc = json.load(open(sys.argv[2]))
totals = json.loads(sys.argv[3])["totals"]
rollups = list(csv.DictReader(open(sys.argv[4], newline="")))
assert {r["value"] for r in rollups} == {"support.reply"}, rollups
for field in ("requests", "duplicates", "inputTokens", "outputTokens", "costNanoUsd"):
    assert sum(int(r[field]) for r in rollups) == totals[field], (field, rollups, totals)
assert sum(int(r["latencySumMs"]) for r in rollups) == 640 + 1900, rollups
assert [r["requestId"] for r in rows] == ["r1", "r2"], rows
assert [e["requestId"] for e in doc["events"]] == ["r1", "r2"], doc
assert sum(int(r["costNanoUsd"]) for r in rows) == totals["costNanoUsd"], (rows, totals)
assert [r["costUsd"] for r in rows] == [e["costUsd"] for e in doc["events"]]
assert sum(int(r["attempts"]) - 1 for r in rows) == totals["duplicates"], (rows, totals)
assert sum(int(r["inputTokens"]) for r in rows) == totals["inputTokens"]
PY
  fail "export: $(cat "$work/export.csv")"
[ -n "$budget_before" ] || fail "no budget: $(query /v1/budgets)"

# Demo rows (alice's ingest key) and test rows of both owners, sharing a feature and a
# minute with the real calls, with retries.
curl -s -X POST "$base/v1/ingest/demo" -H "X-API-Key: $alice_ingest" | grep -q '"inserted":48,"skipped":2' || fail "demo seed"
test_event() {  # <id> <latency>
  echo "{\"requestId\":\"$1\",\"provider\":\"openai\",\"model\":\"gpt-4.1\",\"inputTokens\":1000,\"outputTokens\":100,\"latencyMs\":$2,\"endpointTag\":\"support.reply\",\"userId\":\"tester\",\"dataMode\":\"test\",\"environment\":\"staging\"}"
}
[ "$(send "$alice_ingest" "{\"events\":[$(test_event a1 90),$(test_event a2 4000)]}")" = '"inserted":2' ] || fail "alice test"
[ "$(send "$alice_ingest" "$(test_event a1 90)")" = '"inserted":0' ] || fail "alice test retry"
[ "$(send "$bob_ingest" "{\"events\":[$(test_event b1 300),$(test_event b2 310),$(test_event b3 320)]}")" = '"inserted":3' ] || fail "bob test"
snapshot > "$work/with_rows.txt"
cmp -s "$work/before.txt" "$work/with_rows.txt" && fail "the demo and test rows changed no view"
[ "$(real_state)" = "$budget_before" ] || fail "demo/test rows moved the budget: $(real_state)"

# A member: its owner's rows only; the workspace scope is refused.
got=$(cleanup "$alice_read" test workspace)
echo "$got" | grep -q '"reason":"forbidden",.* 403$' || fail "member, workspace scope: $got"
got=$(cleanup "$alice_read" test mine)
echo "$got" | grep -q '"scope":"mine",.* 202$' || fail "member, mine: $got"
result=$(wait_done "$got")
echo "$result" | grep -q '"removedEvents":2,"removedRetries":1}' || fail "alice's test rows: $result"
tests_left=$(query "/v1/dashboard/overview?from=$from&to=$to&dataMode=test")
echo "$tests_left" | grep -q '"totals":{"requests":3,"successes":3,"errors":0,"duplicates":0,' || fail "bob's test rows: $tests_left"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$base/v1/ingest/test-data" -H "X-API-Key: $alice_read")" = 400 ] ||
  fail "no scope must be a 400"

# The admin removes every demo row; serve is killed while applying it, and applies it
# once after the restart.
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
start_serve cleanup_staged
serve_ready
got=$(cleanup "$admin" demo workspace || true)
wait_for "! kill -0 $serve_pid 2>/dev/null" 100 || fail "serve did not stop at the crash point"
# The 202 may be cut off by the kill (the command was durable before it): the edge logged its id.
echo "$got" | grep -q '"dataMode":"demo","scope":"workspace",.* 202$' ||
  got=$(grep -o '"event":"cleanup_requested","cleanup_id":"cl_[0-9a-f]*' "$work/serve.log" | tail -1)
[ "$(grep -c '"event":"cleanup_applied"' "$work/serve.log")" = 1 ] || fail "the demo cleanup was applied before the crash point"
start_serve
serve_ready
result=$(wait_done "$got")
echo "$result" | grep -q '"removedEvents":48,"removedRetries":2}' || fail "demo rows: $result"
[ "$(grep -c '"event":"cleanup_applied"' "$work/serve.log")" = 2 ] ||
  fail "alice's cleanup and the demo cleanup, each applied once: $(grep cleanup_applied "$work/serve.log")"
result=$(wait_done "$(cleanup "$admin" test workspace)")
echo "$result" | grep -q '"removedEvents":3,"removedRetries":0}' || fail "bob's test rows: $result"

snapshot > "$work/after.txt"
diff "$work/before.txt" "$work/after.txt" > "$work/diff.txt" || fail "views differ from before the rows were sent: $(head -c 2000 "$work/diff.txt")"
[ "$(real_state)" = "$budget_before" ] || fail "the cleanup moved the budget: $(real_state)"
# An id whose row was cleaned is a new call when sent again.
[ "$(send "$bob_ingest" "$(test_event b1 300)")" = '"inserted":1' ] || fail "a cleaned id sent again"
echo "PASS: $(grep -c . "$work/before.txt") views equal before and after; budget $budget_before"
