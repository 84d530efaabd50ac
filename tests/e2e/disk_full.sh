#!/usr/bin/env bash
# serve rides out a full disk (RELIABILITY.md T-P9). The state and the log each get a
# 16 MiB tmpfs; a ledger client retries every batch with the same ids until it is
# answered 202.
#  1. State disk full: events are still accepted (the log has room), commits stop
#     (tokenmeter_processor_state_disk_full 1), queries are answered; once space returns
#     the store resumes by itself and every accepted event is counted once.
#  1b. Idle with the state disk full: a settings review's failed write is retried once
#     space returns, though no event arrives to retry it.
#  2. Log disk full: ingest answers 503 with reason disk_full (and /readyz says so),
#     queries are answered; once space returns the client's retries are accepted.
#  3. Both full, serve SIGKILLed: the restart refuses to start with a clear NO_SPACE
#     error (never an abort); with space back it starts and nothing accepted is lost.
# Needs root to mount tmpfs; exits 77 (skipped) where mounting is not allowed.
# Usage: disk_full.sh <tokenmeter binary> <example serve.yaml>
TM=$1
EXAMPLE=$2
source "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*" >&2; tail -20 "$work/serve.log" >&2 || true; exit 1; }
client="/usr/bin/python3 $(dirname "$0")/ledger_client.py"

mkdir -p "$work/log-fs" "$work/state-fs"
unmount() { umount "$work/log-fs" "$work/state-fs" 2>/dev/null || true; e2e_cleanup; }
trap unmount EXIT
if ! mount -t tmpfs -o size=16m tmpfs "$work/log-fs" 2>/dev/null ||
   ! mount -t tmpfs -o size=16m tmpfs "$work/state-fs" 2>/dev/null; then
  echo "SKIPPED: this machine does not allow mounting a tmpfs (needs root)"
  exit 77
fi
fill() { dd if=/dev/zero of="$1/filler" bs=64k 2> /dev/null || true; }

sed -e 's/127.0.0.1:8080/127.0.0.1:0/' -e "s#data_dir: tokenmeter-data#data_dir: $work/log-fs/data#" \
  "$EXAMPLE" > "$work/serve.yaml"
printf 'processor:\n  state_dir: %s\n' "$work/state-fs/state" >> "$work/serve.yaml"
ingest_key=$(awk '/#   ingest:/ {print $3}' "$EXAMPLE")
read_key=$(awk '/#   read:/ {print $3}' "$EXAMPLE")

start_serve() {
  rm -f "$work/port.tmp" "$work/port"
  "$TM" serve --config "$work/serve.yaml" --port-file "$work/port.tmp" 2>> "$work/serve.log" &
  serve_pid=$!
  pids+=($serve_pid)
  wait_for "[ -s '$work/port.tmp' ]" 100 || fail "serve did not start"
  mv "$work/port.tmp" "$work/port"
  port=$(cat "$work/port")
}
query() { curl -s -H "X-API-Key: $read_key" "http://127.0.0.1:$port$1"; }
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
requests() { query '/v1/dashboard/overview?range=1h' | sed -n 's/.*"requests":\([0-9]*\),.*/\1/p'; }
alive() { kill -0 "$serve_pid" 2>/dev/null || fail "serve died: $(tail -3 "$work/serve.log")"; }

start_serve
[ "$($client "$port" "$ingest_key" warm 500 | grep -c '"accepted": 500')" = 1 ] || fail "warm-up"
wait_for '[ "$(requests)" = 500 ]' 100 || fail "warm-up not counted: $(requests)"

# 1. The state disk fills: the log still takes events, commits stop, queries answer.
fill "$work/state-fs"
out=$($client "$port" "$ingest_key" state 3000 --deadline 60) || fail "phase 1 client: $out"
echo "$out" | grep -q '"accepted": 3000' || fail "phase 1: $out"
wait_for '[ "$(metric tokenmeter_processor_state_disk_full)" = 1 ]' 100 || fail "state disk_full gauge: $(metric tokenmeter_processor_state_disk_full)"
[ "$(metric tokenmeter_processor_state_writes_stopped)" = 1 ] || fail "writes_stopped gauge"
sleep 1
alive
counted=$(requests)
[ -n "$counted" ] && [ "$counted" -lt 3500 ] || fail "queries while the state disk is full: $(query '/v1/dashboard/overview?range=1h')"
rm -f "$work/state-fs/filler"
wait_for '[ "$(requests)" = 3500 ]' 300 || fail "after space returned to the state disk: $(requests) of 3500"
wait_for '[ "$(metric tokenmeter_processor_state_disk_full)" = 0 ]' 50 || fail "gauge stays 1"
grep -q '"event":"state_recovered"' "$work/serve.log" || fail "no state_recovered line"

# 1b. Idle, no event to retry a write: with the state disk full a write fails (a budget
# lowered through the admin API is reviewed then); once space returns the store resumes
# by itself and the budget's alert is decided.
owner_key=$(awk '/#   owner:/ {print $3}' "$EXAMPLE")
budget() {  # budget <method> <amount>: the admin API's status code
  curl -s -o /dev/null -w '%{http_code}' -X "$1" "http://127.0.0.1:$port/v1/admin/budgets/tiny" \
    -H "X-API-Key: $owner_key" -H 'Content-Type: application/json' --data-binary "{\"amountUsd\":\"$2\"}"
}
# The budget's alerts, type:status, oldest first ("none" if none).
budget_alerts() { query /v1/alerts | /usr/bin/python3 -c 'import json,sys; print(" ".join(a["alert"]["type"]+":"+a["alert"]["status"] for a in reversed(json.load(sys.stdin)["alerts"]) if a["alert"]["scope"].get("budget")=="tiny") or "none")'; }
[ "$(budget PUT 1)" = 201 ] || fail "budget PUT"
$client "$port" "$ingest_key" tiny 10 | grep -q '"accepted": 10' || fail "events of the budget"
wait_for '[ "$(requests)" = 3510 ]' 100 || fail "the budget's events: $(requests)"
[ "$(budget_alerts)" = none ] || fail "the budget's alerts before: $(budget_alerts)"
fill "$work/state-fs"
[ "$(budget PUT 0.000001)" = 200 ] || fail "budget lowered while the state disk is full"
# A write fails (the review's, or the fold of those events: RocksDB's preallocated WAL may
# still take a small batch), and no event follows to retry it.
wait_for '[ "$(metric tokenmeter_processor_state_disk_full)" = 1 ]' 100 || fail "no write failed on the full disk"
rm -f "$work/state-fs/filler"
wait_for '[ "$(metric tokenmeter_processor_state_disk_full)" = 0 ]' 100 || fail "an idle store stayed stopped"
wait_for '[ "$(budget_alerts)" = budget_exceeded:firing ]' 100 || fail "the budget's review after space returned: $(budget_alerts)"
[ "$(requests)" = 3510 ] || fail "idle phase changed the count: $(requests)"
[ "$(budget DELETE 0)" = 200 ] || fail "budget DELETE"

# 2. The log disk fills: ingest is refused with a disk reason; queries answer.
fill "$work/log-fs"
$client "$port" "$ingest_key" log 2000 --deadline 90 --ledger "$work/ledger2" > "$work/client2.out" &
client_pid=$!
pids+=($client_pid)
wait_for "grep -q '^503 disk_full$' '$work/ledger2'" 100 || fail "no 503 disk_full: $(sort "$work/ledger2" | uniq -c)"
ready=$(curl -s "http://127.0.0.1:$port/readyz")
echo "$ready" | grep -q '"reason":"disk_full"' || fail "readyz while the log disk is full: $ready"
[ "$(requests)" = 3510 ] || fail "queries while the log disk is full: $(requests)"
sleep 2
alive
rm -f "$work/log-fs/filler"
wait "$client_pid" || fail "phase 2 client: $(cat "$work/client2.out")"
grep -q '"accepted": 2000' "$work/client2.out" || fail "phase 2: $(cat "$work/client2.out")"
wait_for '[ "$(requests)" = 5510 ]' 300 || fail "after space returned to the log disk: $(requests) of 5510"

# 3. Both full and a SIGKILL: the restart says why it cannot start; nothing is lost.
fill "$work/state-fs"
$client "$port" "$ingest_key" kill 1000 --deadline 20 > "$work/client3.out" || true
accepted3=$(sed -n 's/.*"accepted": \([0-9]*\).*/\1/p' "$work/client3.out")
fill "$work/log-fs"
kill -KILL "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
status=0
timeout 30 "$TM" serve --config "$work/serve.yaml" 2> "$work/restart.log" || status=$?
[ "$status" = 1 ] || fail "a restart on a full disk exited $status (expected 1): $(tail -3 "$work/restart.log")"
grep -q '"event":"startup_failed".*NO_SPACE' "$work/restart.log" || fail "startup error: $(tail -3 "$work/restart.log")"
rm -f "$work/state-fs/filler" "$work/log-fs/filler"
start_serve
want=$((5510 + accepted3))
wait_for '[ "$(requests)" = '"$want"' ]' 300 || fail "after the restart: $(requests) of $want"
# 4,500 nano-USD an event; each accepted id counted once.
query '/v1/dashboard/overview?range=1h' | grep -q "\"costNanoUsd\":$((want * 4500))," || fail "cost: $(query '/v1/dashboard/overview?range=1h')"
kill -TERM "$serve_pid"
status=0
wait "$serve_pid" || status=$?
[ $status = 0 ] || fail "serve exited $status after SIGTERM"
echo "e2e disk full: ok ($want events accepted and counted once; phase 3 accepted $accepted3 before the kill)"
