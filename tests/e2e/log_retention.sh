#!/usr/bin/env bash
# Retention of serve's embedded log: with 1 MiB segments and a retention of ~4 s, a client
# with a ledger sends 60,000 events (~8 MB of log) for ~20 s while the log directory's
# size is sampled: once warmed up it stays bounded (segments the processor applied and
# that are old enough are dropped) while the log's offsets keep growing. A SIGKILL and a
# restart after segments were dropped lose nothing: exactly 60,000 counted, 60,000 x 4,500
# nano-USD. A state rebuilt from the trimmed log says it is partial (/readyz 503
# history_lost) instead of answering with partial totals as if they were whole.
# Usage: log_retention.sh <tokenmeter binary> <example serve.yaml>
TM=$1
EXAMPLE=$2
source "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*" >&2; tail -15 "$work/serve.log" >&2 || true; exit 1; }
serve_config "$EXAMPLE"
sed -i "s#data_dir: $work/data#&\n  log_segment_mb: 1#" "$work/serve.yaml"
printf 'retention:\n  log_days: 0.00005\n  dlq_days: 0.00005\n' >> "$work/serve.yaml"  # 4.32 s

query() { curl -s -H "X-API-Key: $read_key" "http://127.0.0.1:$port$1"; }
log_bytes() { du -sb "$work/data/log" | cut -f1; }

start_serve
wait_for "curl -sf http://127.0.0.1:$port/readyz > /dev/null" 100 || fail "not ready"
/usr/bin/python3 "$(dirname "$0")/ledger_client.py" "$port" "$ingest_key" soak 60000 --batch 100 --deadline 120 \
  > "$work/client.out" 2>&1 &
client=$!
pids+=($client)
# Sample the log's size every half second while the client runs (bounded: 240 samples).
samples=()
for ((i = 0; i < 240; i++)); do
  kill -0 "$client" 2>/dev/null || break
  samples+=("$(log_bytes)")
  sleep 0.5
done
wait "$client" || fail "client: $(cat "$work/client.out")"
grep -q '"accepted": 60000' "$work/client.out" || fail "client: $(cat "$work/client.out")"
wait_for "query '/v1/dashboard/overview?range=1h' | grep -q '\"requests\":60000,'" 300 || fail "not all applied: $(query '/v1/dashboard/overview?range=1h')"
(( ${#samples[@]} >= 8 )) || fail "the client finished too fast to sample the log (${#samples[@]} samples)"
# After warm-up (the first 8 s: two retention windows) the log never held more than the
# retention window's worth plus the segment being written and one closing: far less
# than the ~8 MB written.
max=0
for s in "${samples[@]:16}"; do (( s > max )) && max=$s; done
dropped=$(grep -c '"event":"segment_dropped"' "$work/serve.log" || true)
first=$(ls "$work/data/log" | grep '^events\.' | head -1)
echo "log bytes sampled: ${samples[*]}"
echo "max after warm-up: $max bytes; segments dropped: $dropped; oldest kept: $first"
(( dropped >= 3 )) || fail "retention dropped $dropped segments"
[ "$first" != events.00000000000000000000.log ] || fail "the first segment was never dropped"
(( max <= 6 * 1048576 )) || fail "the log grew to $max bytes after warm-up"

# A SIGKILL and a restart after segments were dropped: nothing lost, nothing twice.
kill -KILL "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
start_serve
wait_for "curl -sf http://127.0.0.1:$port/readyz > /dev/null" 100 || fail "not ready after restart"
overview=$(query '/v1/dashboard/overview?range=1h')
echo "$overview" | grep -q '"requests":60000,"successes":60000,"errors":0,"duplicates":0,' || fail "after restart: $overview"
echo "$overview" | grep -q '"costNanoUsd":270000000,' || fail "cost after restart: $overview"

# A state rebuilt from a log that no longer starts at 0 is partial, and says so.
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
mv "$work/data/state" "$work/state.aside"
start_serve
wait_for "curl -s http://127.0.0.1:$port/readyz | grep -q '\"reason\":\"history_lost\"'" 100 ||
  fail "readyz after a rebuild from the trimmed log: $(curl -s http://127.0.0.1:$port/readyz)"
grep -q '"event":"history_lost"' "$work/serve.log" || fail "no history_lost log line"
echo "PASS"
