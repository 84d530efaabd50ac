#!/usr/bin/env bash
# The realistic-cardinality phase (benchmarks/README.md): `tokenmeter serve` fed a month of
# one workspace's calls at realistic cardinality through its ingest API, then every
# dashboard view at 24h / 7d / 30d; the same events loaded into DuckDB in-process (the
# columnar ceiling) answering the same questions; serve's ingest rate, RSS during and after,
# and bytes on disk per event (log and state, after compaction). The whole data's answers
# (requests, cost, the top user) must be equal on both sides.
#
# Then two exports streamed from serve (every counted call as CSV, and the users' day rows):
# rows, time and serve's RSS growth while they stream, their sums equal to the views'.
#
# Usage: benchmarks/realistic.sh --build-dir DIR [--smoke] [--events N] --out FILE
#   (run by benchmarks/run.sh; FILE gets the report's section, markdown; --events: another
#   number of distinct calls, a multiple of 90)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=full
build=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) mode=smoke ;;
    --build-dir) build=$2; shift ;;
    --out) out=$2; shift ;;
    --events) events_given=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$build" ] && [ -n "$out" ] || { echo "usage: $0 --build-dir DIR [--smoke] --out FILE" >&2; exit 2; }
if [ "$mode" = full ]; then
  events=9999990  # distinct calls, a multiple of 9 (with every 10th request a retry: 11,111,100 sent)
  runs=20
  budget_s=30     # per view and range, after at least three runs
else
  events=18000
  runs=2
  budget_s=5
fi
[ -n "${events_given:-}" ] && events=$events_given
(( events % 90 == 0 )) || { echo "--events must be a multiple of 90 (whole 100-event batches of calls and retries)" >&2; exit 2; }
sent=$((events / 9 * 10))
TM="$build/deploy/tokenmeter/tokenmeter"
BENCH="$build/benchmarks/tokenmeter-bench"
duck="$root/benchmarks/duckdb"
if [ ! -d "$duck/node_modules/@duckdb/node-api" ] || [ "$duck/package-lock.json" -nt "$duck/node_modules/.package-lock.json" ]; then
  (cd "$duck" && npm ci --no-audit --no-fund --loglevel=error)
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "realistic FAIL: $*" >&2
  [ -f "$work/serve.log" ] && tail -5 "$work/serve.log" | cut -c1-300 >&2
  exit 1
}
log() { echo "bench: realistic: $*" >&2; }
wait_for() {
  local i
  for ((i = 0; i < $2; i++)); do eval "$1" && return 0; sleep 0.1; done
  return 1
}
declare -A R
run() {  # run <name> <timeout s> <command...>: records its name=value figures as R[name.k]
  local name=$1 t=$2 line kv
  shift 2
  line=$(timeout "$t" "$@" 2> "$work/$name.err") || { tail -20 "$work/$name.err" >&2; fail "$name"; }
  for kv in $line; do R[$name.${kv%%=*}]=${kv#*=}; done
  log "$name: $(echo "$line" | cut -c1-300)"
}

# --- serve with a month of history allowed -------------------------------------------------
"$TM" keys create --workspace bench --role ingest > "$work/key.txt"
"$TM" keys create --workspace bench --role member > "$work/read.txt"
cat > "$work/serve.yaml" <<YAML
edge:
  max_connections: 1024
  key_events_per_second: 100000000
  key_burst_events: 100000000
serve:
  listen: 127.0.0.1:0
  data_dir: $work/data
ingest:
  max_past_skew_s: 2635200
retention:
  dedup_days: 35
  events_days: 31
  minute_rollup_days: 32
workspaces:
  - id: bench
    projects: [project-1, project-2, project-3, project-4, project-5]
    events_per_second: 100000000
    burst_events: 100000000
keys:
$(tail -n +3 "$work/key.txt")
$(tail -n +3 "$work/read.txt")
YAML
"$TM" serve --config "$work/serve.yaml" --port-file "$work/port" 2> "$work/serve.log" &
serve_pid=$!
pids+=($serve_pid)
wait_for "[ -s '$work/port' ]" 100 || fail "serve did not start"
port=$(cat "$work/port")
wait_for "curl -sf http://127.0.0.1:$port/readyz > /dev/null" 150 || fail "serve not ready"
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {printf "%.0f", $2}'; }
# RSS once a second while it runs.
(while kill -0 "$serve_pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status" 2>/dev/null; sleep 1; done) \
  > "$work/rss.txt" &
pids+=($!)

end_ms=$(($(date +%s) * 1000 - 60000))  # the last event a minute ago
shape=(--shape realistic --events "$events" --span-days 30 --end-ms "$end_ms" --prefix r)
t0=$(date +%s.%N)
run load 3600 "$BENCH" http --port "$port" --key "$(head -n 1 "$work/key.txt")" --connections 64 \
  --batch 100 --duration-s 3000 --max-events "$sent" --duplicate-every 10 "${shape[@]}"
[ "${R[load.failed]%.*}" = 0 ] || fail "${R[load.failed]} requests failed"
wait_for '[ "$(metric tokenmeter_processor_events_counted_total)" = "$events" ]' 36000 ||
  fail "serve counted $(metric tokenmeter_processor_events_counted_total) of $events"
applied_s=$(echo "$(date +%s.%N) - $t0" | bc -l)
duplicates=$(metric tokenmeter_processor_duplicates_total)
[ "$duplicates" = $((sent - events)) ] || fail "serve counted $duplicates retries, $((sent - events)) were sent"
rss_max=$(sort -n "$work/rss.txt" | tail -1)
sleep 2
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status")
[ "$rss_after" -gt "${rss_max:-0}" ] && rss_max=$rss_after

# --- every view, then the whole data's answers --------------------------------------------
query_ms=$(($(date +%s) * 1000))
day_ms=86400000
from=$(date -u -d "@$(((end_ms - 31 * day_ms) / day_ms * day_ms / 1000))" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$(((end_ms / day_ms + 2) * day_ms / 1000))" +%Y-%m-%dT%H:%M:%SZ)
run queries 3600 "$BENCH" queries --port "$port" --key "$(head -n 1 "$work/read.txt")" --runs "$runs" \
  --budget-s "$budget_s" --from "$from" --to "$to"

# --- exports, streamed: rows, time, serve's RSS growth while streaming ---------------------
export_phase() {  # export_phase <name> <query> <column to sum>: R[name.rows/.sum/.seconds/.rss_growth_kib]
  local name=$1 q=$2 col=$3 before sampler t0 line
  before=$(awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status")
  (while kill -0 "$serve_pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status"; sleep 0.2; done) \
    > "$work/rss_$name.txt" &
  sampler=$!
  t0=$(date +%s.%N)
  line=$(curl -sfN -H "X-API-Key: $(head -n 1 "$work/read.txt")" "http://127.0.0.1:$port/v1/export?$q" |
    awk -F, -v c="$col" 'NR > 1 {n++; s += $c} END {printf "%d %.0f", n, s}') || fail "export $name"
  R[$name.seconds]=$(echo "$(date +%s.%N) - $t0" | bc -l)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  R[$name.rows]=${line% *}
  R[$name.sum]=${line#* }
  R[$name.rss_growth_kib]=$(($(sort -n "$work/rss_$name.txt" | tail -1) - before))
  log "$name: ${R[$name.rows]} rows in ${R[$name.seconds]} s, sum $col ${R[$name.sum]}, RSS +${R[$name.rss_growth_kib]} KiB"
}
export_phase export_events "from=$from&to=$to&format=csv" 21  # costNanoUsd
[ "${R[export_events.rows]}" = "$events" ] || fail "the export has ${R[export_events.rows]} calls of $events"
[ "${R[export_events.sum]}" = "${R[queries.check_cost_nano]}" ] ||
  fail "the export's calls cost ${R[export_events.sum]} nano-USD, the views ${R[queries.check_cost_nano]}"
export_phase export_rollups "from=$from&to=$to&format=csv&of=rollups&dimension=user&granularity=day" 9  # requests
[ "${R[export_rollups.sum]}" = "$events" ] || fail "the users' day rows count ${R[export_rollups.sum]} requests of $events"
kill -TERM "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
run compact 1800 "$BENCH" compact --state "$work/data/state"
log_bytes=$(du -sb "$work/data/log" | awk '{print $1}')
state_bytes=$(du -sb "$work/data/state" | awk '{print $1}')

# --- the columnar ceiling over the same events --------------------------------------------
run csv 1800 "$BENCH" realistic-csv "${shape[@]}" --out "$work/events.csv"
run duckdb 3600 node "$duck/ceiling.mjs" "$work/events.csv" "$query_ms" "$runs"
rm -f "$work/events.csv"
for c in check_requests check_cost_nano check_top_user check_feature_prompt; do
  [ "${R[queries.$c]}" = "${R[duckdb.$c]}" ] || fail "$c: tokenmeter ${R[queries.$c]}, DuckDB ${R[duckdb.$c]}"
done
[ "${R[queries.check_requests]}" = "$events" ] || fail "tokenmeter answers ${R[queries.check_requests]} requests of $events"

# --- the report's section -------------------------------------------------------------------
fmt() { LC_ALL=C printf "%'.${2:-0}f" "$1"; }
yes_no() { [ "$(echo "$1" | bc -l)" = 1 ] && echo yes || echo "**no**"; }
{
  echo "### Realistic cardinality ($mode)"
  echo
  echo "One workspace, $(fmt "$events") calls over 30 days (+ $(fmt $((sent - events))) retries), ~100k users, 1k tenants, 500 features, 100 prompt versions, 50 models, 5 projects, 3 environments, skewed; through \`serve\`'s ingest API in 100-event batches. DuckDB $(cd "$duck" && node --input-type=module -e "import d from '@duckdb/node-api'; console.log(d.version())" 2>/dev/null || echo '?') in-process over the same calls (one row each, exact cost): loaded in ${R[duckdb.duckdb_load_s]} s. Both answer the whole data alike: ${R[queries.check_requests]} requests, ${R[queries.check_cost_nano]} nano-USD, top user ${R[queries.check_top_user]}."
  echo
  echo "| view | range | tokenmeter p50 / p99 ms (runs) | DuckDB p50 / p99 ms | p50 ratio | ≤ 1.0 × DuckDB | p99 ≤ 100 ms |"
  echo "|---|---|---|---|---|---|---|"
  for view in overview timeseries top-endpoints top-users top-tenants prompt-versions models providers projects environments feature-prompts feature-models user-overview; do
    for range in 24h 7d 30d; do
      t50=${R[queries.${view}_${range}_p50_ms]}
      t99=${R[queries.${view}_${range}_p99_ms]}
      d50=${R[duckdb.duckdb_${view}_${range}_p50_ms]}
      d99=${R[duckdb.duckdb_${view}_${range}_p99_ms]}
      echo "| $view | $range | $(fmt "$t50" 1) / $(fmt "$t99" 1) (${R[queries.${view}_${range}_runs]}) | $(fmt "$d50" 1) / $(fmt "$d99" 1) | $(fmt "$(echo "$t50 / $d50" | bc -l)" 2) | $(yes_no "$t50 <= $d50") | $(yes_no "$t99 <= 100") |"
    done
  done
  echo
  echo "| figure | value | target | met |"
  echo "|---|---|---|---|"
  echo "| serve ingest, accepted (100-event batches, 64 conns) | $(fmt "${R[load.events_per_s]}") events/s | - | - |"
  echo "| serve end to end, sent until all applied | $(fmt "$(echo "$sent / $applied_s" | bc -l)") events/s | ≥ 100,000 | $(yes_no "$sent / $applied_s >= 100000") |"
  echo "| serve RSS, most during the load / after | $(fmt "$(echo "$rss_max / 1024" | bc -l)") / $(fmt "$(echo "$rss_after / 1024" | bc -l)") MiB | ≤ 512 MiB | $(yes_no "$rss_max / 1024 <= 512") |"
  echo "| state on disk after compaction, per call | $(fmt "$(echo "$state_bytes / $events" | bc -l)") B | ≤ 200 B | $(yes_no "$state_bytes / $events <= 200") |"
  echo "| log on disk, per record received | $(fmt "$(echo "$log_bytes / $sent" | bc -l)") B | - | - |"
  for e in export_events export_rollups; do
    what="export of every call (CSV)"
    [ "$e" = export_rollups ] && what="export of the users' day rows (CSV)"
    echo "| $what: $(fmt "${R[$e.rows]}") rows in $(fmt "${R[$e.seconds]}" 1) s, serve's RSS growth while streaming | $(fmt "$(echo "${R[$e.rss_growth_kib]} / 1024" | bc -l)" 1) MiB | ≤ 8 MiB | $(yes_no "${R[$e.rss_growth_kib]} <= 8192") |"
  done
} > "$out"
# Every figure a number; the section written.
for k in queries.failures load.failed; do [ "${R[$k]%.*}" = 0 ] || fail "$k = ${R[$k]}"; done
for k in "${!R[@]}"; do
  case "$k" in queries.check_top_user | duckdb.check_top_user | queries.check_feature_prompt | duckdb.check_feature_prompt) continue ;; esac
  [[ "${R[$k]}" =~ ^-?[0-9.]+$ ]] || fail "figure $k is not a number: '${R[$k]}'"
done
log "section: $out"
