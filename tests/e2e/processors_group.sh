#!/usr/bin/env bash
# Complete answers in the distributed form: three `tokenmeter processor` processes in one
# consumer group over the 4-partition topic (mock broker daemon), events for 8 workspaces
# (kcat, canonical records with client retries). Every processor is asked about every
# workspace: each answer equals the totals the single owner holds (a question about a
# workspace another processor owns is sent on to it). Then one processor is SIGKILLed,
# more events arrive, and it is restarted: until every answer is complete again, each
# answer is either exact (between the totals before and after the new events, cost to the
# nano-dollar) or a 503 with a reason, never a partial 200.
# Usage: processors_group.sh <tokenmeter binary> <tokenmeter-mock-broker binary>
TM=$1
MOCK=$2
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  for n in 1 2 3; do echo "--- p$n" >&2; tail -8 "$work/p$n.log" >&2 || true; done
  exit 1
}

start_mock_broker "$MOCK"
workspaces="ws1 ws2 ws3 ws4 ws5 ws6 ws7 ws8"
workspace_keys member $workspaces
for n in 1 2 3; do
  cat > "$work/p$n.yaml" <<YAML
$(kafka_bus_yaml)
processor:
  listen: 127.0.0.1:0
  state_dir: $work/state$n
  group_id: trio
keys:
$(cat "$work/keys.yaml")
YAML
done

# produce <first> <last>: events <first>..<last> of every workspace, the first 3 of them
# sent once more (client retries). Each costs 10 * 150 + 5 * 600 = 4,500 nano-USD.
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
produce() {
  for ws in $workspaces; do
    for i in $(seq "$1" "$2") $(seq "$1" $(($1 + 2))); do
      printf '%s|{"v":1,"workspace":"%s","request_id":"%s-%d","provider":"openai","model":"gpt-4o-mini","environment":"prod","data_mode":"real","input_tokens":10,"output_tokens":5,"occurred_at":"%s","received_at":"%s"}\n' \
        "$ws" "$ws" "$ws" "$i" "$now" "$now"
    done
  done > "$work/records.txt"
  kcat -P -X topic.partitioner=murmur2_random -b "$bootstrap" -t tokenmeter.events -K '|' -l "$work/records.txt" 2> "$work/kcat.err" || fail "kcat: $(cat "$work/kcat.err")"
}

start() {  # <n>
  rm -f "$work/port$1"
  "$TM" processor --config "$work/p$1.yaml" --port-file "$work/port$1" 2>> "$work/p$1.log" &
  eval "pid$1=\$!"
  pids+=($!)
  wait_for "[ -s '$work/port$1' ]" 100 || fail "processor $1 did not start"
}
# ask <n> <workspace> <path>: "<status> <body>" of processor n's answer.
ask() {
  local key
  key=$(head -n 1 "$work/key-$2.txt")
  : > "$work/body"
  curl -s -o "$work/body" -w '%{http_code}' -H "X-API-Key: $key" "http://127.0.0.1:$(cat "$work/port$1")$3" || true
  echo -n " "
  cat "$work/body"
}
requests_of() { sed -n 's/.*"totals":{"requests":\([0-9]*\),.*/\1/p' <<< "$1"; }
cost_of() { sed -n 's/.*"costNanoUsd":\([0-9]*\),.*/\1/p' <<< "$1"; }

produce 1 20  # 20 calls per workspace, 3 retries each
for n in 1 2 3; do start "$n"; done

# every_answer_exact <requests> <duplicates>: true once all 24 answers (3 processors x 8
# workspaces) are 200 with exactly these totals.
every_answer_exact() {
  local n ws a
  for n in 1 2 3; do
    for ws in $workspaces; do
      a=$(ask "$n" "$ws" "/v1/dashboard/overview?range=1h")
      grep -q "^200 .*\"workspace\":\"$ws\".*\"totals\":{\"requests\":$1,\"successes\":$1,\"errors\":0,\"duplicates\":$2," <<< "$a" || return 1
      [ "$(cost_of "$a")" = $(($1 * 4500)) ] || return 1
    done
  done
}
wait_for "every_answer_exact 20 3" 400 || fail "not every processor answers every workspace: p1 ws1 $(ask 1 ws1 /v1/dashboard/overview?range=1h)"
owners=0
for n in 1 2 3; do
  a=$(curl -s "http://127.0.0.1:$(cat "$work/port$n")/readyz")
  [ "$(sed -n 's/.*"assignedPartitions":\([0-9]*\).*/\1/p' <<< "$a")" != 0 ] && owners=$((owners + 1))
done
[ "$owners" -ge 2 ] || fail "the partitions are not split among the processors"
# The same for one event, the budgets and the alerts, and answers sent on say by whom.
forwarded=0
for n in 1 2 3; do
  for ws in $workspaces; do
    a=$(ask "$n" "$ws" "/v1/events/$ws-2")
    grep -q "^200 .*\"attempts\":2," <<< "$a" || fail "p$n $ws event: $a"
    for path in /v1/budgets /v1/alerts; do
      a=$(ask "$n" "$ws" "$path")
      grep -q '^200 {"ok":true' <<< "$a" || fail "p$n $ws $path: $a"
    done
    key=$(head -n 1 "$work/key-$ws.txt")
    curl -s -D - -o /dev/null -H "X-API-Key: $key" "http://127.0.0.1:$(cat "$work/port$n")/v1/dashboard/overview?range=1h" |
      grep -qi '^X-Tokenmeter-Answered-By: http://127.0.0.1:' && forwarded=$((forwarded + 1))
  done
done
# Each workspace is owned by one of three: two of every three answers are sent on.
[ "$forwarded" = 16 ] || fail "$forwarded of 24 answers were sent on to the owner (expected 16)"

# --- one processor killed, more events, the processor restarted ---------------------------
kill -KILL "$pid1"
wait "$pid1" 2>/dev/null || true
produce 21 30  # 10 more calls per workspace, 3 more retries
restarted=0
partial=0
unanswered=0
declare -A reasons=()
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
  if [ $restarted = 0 ] && [ $SECONDS -ge $((deadline - 52)) ]; then start 1; restarted=1; fi
  complete=1
  for n in 1 2 3; do
    [ -s "$work/port$n" ] || { complete=0; continue; }
    for ws in $workspaces; do
      a=$(ask "$n" "$ws" "/v1/dashboard/overview?range=1h")
      code=${a%% *}
      if [ "$code" = 200 ]; then
        r=$(requests_of "$a")
        # Exact as of some point of the stream: every event before the kill, some after.
        if [ -z "$r" ] || [ "$r" -lt 20 ] || [ "$r" -gt 30 ] || [ "$(cost_of "$a")" != $((r * 4500)) ]; then
          partial=$((partial + 1))
          echo "partial answer from p$n for $ws: $a" >&2
        fi
        [ "$r" = 30 ] || complete=0
      elif [ "$code" = 503 ] && reason=$(sed -n 's/^503 {"ok":false,"reason":"\([a-z_]*\)","message":".*/\1/p' <<< "$a") && [ -n "$reason" ]; then
        reasons[$reason]=$((${reasons[$reason]:-0} + 1))
        unanswered=$((unanswered + 1))
        complete=0
      elif [ "$code" = 000 ] && [ "$n" = 1 ]; then
        complete=0  # the killed processor, not listening yet
      else
        fail "p$n $ws answered neither exactly nor 503 with a reason: $a"
      fi
    done
  done
  [ $restarted = 1 ] && [ $complete = 1 ] && break
  sleep 0.2
done
[ "$partial" = 0 ] || fail "$partial partial answers during the rebalance"
[ $restarted = 1 ] && [ $complete = 1 ] || fail "answers not complete 60 s after the kill"
every_answer_exact 30 6 || fail "final answers differ"
echo "e2e processors group: ok (answers held back during the rebalance: $unanswered; $(for r in "${!reasons[@]}"; do echo -n "$r=${reasons[$r]} "; done))"
