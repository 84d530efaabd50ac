#!/usr/bin/env bash
# Two `tokenmeter processor` processes in one consumer group on the 4-partition topic
# (mock broker daemon). kcat produces canonical events for four workspaces, with client
# retries. After one processor is SIGKILLed, the survivor takes over its partitions,
# rebuilds them from the start of the log, and answers every workspace's totals exactly.
# Usage: two_processors.sh <tokenmeter binary> <tokenmeter-mock-broker binary>
TM=$1
MOCK=$2
source "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*" >&2; for n in 1 2; do echo "--- p$n" >&2; tail -8 "$work/p$n.log" >&2 || true; done; exit 1; }
metric() { curl -s "http://127.0.0.1:$(cat "$work/port$1")/metrics" | awk -v m="$2" '$1 == m {print $2}'; }

start_mock_broker "$MOCK"

workspaces="alpha bravo charlie delta"
workspace_keys member $workspaces
for n in 1 2; do
  cat > "$work/p$n.yaml" <<YAML
$(kafka_bus_yaml)
processor:
  listen: 127.0.0.1:0
  state_dir: $work/state$n
  group_id: pair
keys:
$(cat "$work/keys.yaml")
YAML
done

# 20 events per workspace and 5 client retries each: 100 records, 80 distinct calls.
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
for ws in $workspaces; do
  for i in $(seq 1 20) $(seq 1 5); do
    printf '%s|{"v":1,"workspace":"%s","request_id":"%s-%d","provider":"openai","model":"gpt-4o-mini","environment":"prod","data_mode":"real","input_tokens":10,"output_tokens":5,"occurred_at":"%s","received_at":"%s"}\n' \
      "$ws" "$ws" "$ws" "$i" "$now" "$now"
  done
done > "$work/records.txt"
kcat -P -b "$bootstrap" -t tokenmeter.events -K '|' -l "$work/records.txt" 2> "$work/kcat.err" || fail "kcat: $(cat "$work/kcat.err")"

for n in 1 2; do
  "$TM" processor --config "$work/p$n.yaml" --port-file "$work/port$n" 2> "$work/p$n.log" &
  eval "pid$n=\$!"
  pids+=($!)
done
wait_for "[ -s '$work/port1' ] && [ -s '$work/port2' ]" 100 || fail "processors did not start"
consumed() { echo $(( $(metric 1 tokenmeter_processor_events_consumed_total || echo 0) + $(metric 2 tokenmeter_processor_events_consumed_total || echo 0) )); }
wait_for '[ "$(consumed)" = 100 ]' 400 || fail "the pair consumed $(consumed) of 100"
a1=$(metric 1 tokenmeter_processor_assigned_partitions)
a2=$(metric 2 tokenmeter_processor_assigned_partitions)
[ $((a1 + a2)) = 4 ] && [ "$a1" != 0 ] && [ "$a2" != 0 ] || fail "partitions not split: $a1 + $a2"

kill -KILL "$pid1"
wait "$pid1" 2>/dev/null || true
wait_for '[ "$(metric 2 tokenmeter_processor_assigned_partitions)" = 4 ]' 300 || fail "survivor never took over"
wait_for '[ "$(metric 2 tokenmeter_processor_events_counted_total)" = 80 ]' 300 \
  || fail "survivor counted $(metric 2 tokenmeter_processor_events_counted_total) of 80"
for ws in $workspaces; do
  key=$(head -n 1 "$work/key-$ws.txt")
  o=$(curl -s -H "X-API-Key: $key" "http://127.0.0.1:$(cat "$work/port2")/v1/dashboard/overview?range=1h")
  # 20 * (10*150 + 5*600) = 90,000 nano-USD per workspace, 5 retries.
  echo "$o" | grep -q "\"workspace\":\"$ws\"" || fail "$ws: $o"
  echo "$o" | grep -q '"requests":20,"successes":20,"errors":0,"duplicates":5,' || fail "$ws totals: $o"
  echo "$o" | grep -q '"costNanoUsd":90000,' || fail "$ws cost: $o"
done
echo "e2e two processors: ok"
