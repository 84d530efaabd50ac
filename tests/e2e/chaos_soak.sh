#!/usr/bin/env bash
# A chaos soak, bounded in time, loopback only, seeded: three ledger clients (each retries
# a batch with the same request ids until it is answered 202, as the guides' clients do)
# send paced batches while, every 3-9 s, `tokenmeter serve` is SIGKILLed and restarted —
# or, in the distributed form (--mock-broker), the edge or the processor is SIGKILLed and
# restarted or every broker of the mock cluster goes down for 2-4 s; the webhook receiver
# fails (500) for the first third, then hangs, then answers; the SMTP receiver is down for
# the first half. Each client's feature has a
# budget its calls cross (a warning, then exceeded), routed to both sinks. After the
# chaos a fourth client sends 1,000 of the first client's ids again (all duplicates).
# The report: events lost / counted twice / unexpected (the workspace's totals and each
# feature's, and a sample of ids looked up one by one), cost off by nano-USD, alerts
# missing / decided twice / unexpected, alerts not delivered to each sink; exit 1 unless
# every one is 0.
# Usage: chaos_soak.sh <tokenmeter binary> <receivers dir> [--seconds S] [--seed N]
#                      [--mock-broker <tokenmeter-mock-broker binary>]
#   (ctest runs the short profile, 60 s of each form; the README has the last long runs)
TM=$1
RX=$2
shift 2
seconds=60
seed=7
mock=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --seed) seed=$2; shift ;;
    --mock-broker) mock=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  for f in serve edge processor; do [ -f "$work/$f.log" ] && tail -20 "$work/$f.log" | cut -c1-300 >&2; done
  exit 1
}
py=/usr/bin/python3
[ -d "$RX/node_modules/standardwebhooks" ] || { echo "SKIP: run npm ci in $RX"; exit 77; }
$py -c 'import aiosmtpd' 2> /dev/null || { echo "SKIP: python3-aiosmtpd is not installed (deploy/install-deps.sh)"; exit 77; }
RANDOM=$seed
began=$(date +%s)

# --- receivers: the webhook fails from the start; SMTP's port is reserved, not listening ---
start_webhook_receiver "$RX"
control '{"script":[],"default":"500"}'
smtp_port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/mail"

# --- one workspace, a budget per client's feature ----------------------------------------
per_client=$((seconds * 50))  # 25-event batches every ~0.5 s
budget_usd=$($py -c "print(f'{$per_client * 4500 // 2 / 1e9:.9f}')")  # exceeded at half the calls
TM_KEYS=$work/keys.yaml
: > "$TM_KEYS"
"$TM" keys create --workspace acme --role ingest > "$work/ingest.txt"
"$TM" keys create --workspace acme --role member > "$work/read.txt"
tail -n +3 "$work/ingest.txt" >> "$TM_KEYS"
tail -n +3 "$work/read.txt" >> "$TM_KEYS"
ingest_key=$(head -n 1 "$work/ingest.txt")
read_key=$(head -n 1 "$work/read.txt")
[ -z "$mock" ] || start_mock_broker "$mock"
{
  if [ -z "$mock" ]; then
    printf 'serve:\n  listen: 127.0.0.1:0\n  data_dir: %s\n' "$work/data"
  else
    printf 'edge:\n  listen: 127.0.0.1:0\n'
    kafka_bus_yaml
    printf 'processor:\n  listen: 127.0.0.1:0\n  state_dir: %s\n  poll_timeout_ms: 50\n' "$work/state"
  fi
  cat <<YAML
workspaces:
  - id: acme
    budgets:
YAML
  for c in c1 c2 c3; do printf '      - id: %s\n        amount_usd: "%s"\n        endpoint_tag: %s\n' "$c" "$budget_usd" "$c"; done
  cat <<YAML
    alert_routes:
      - sink: hook
      - sink: mail
sinks:
  - id: hook
    type: webhook
    url: $rx/hook
    secrets: ["$secret"]
  - id: mail
    type: email
    smtp_url: smtp://127.0.0.1:$smtp_port
    starttls: "off"
    from: tokenmeter@example.test
    to: [ops@example.test]
alerts:
  retry:
    initial_backoff_ms: 200
    max_backoff_ms: 2000
    horizon_s: $((seconds * 10 + 600))
    attempt_timeout_ms: 1000
    poll_interval_ms: 50
keys:
YAML
  sed 's/^/  /' "$TM_KEYS"
} > "$work/serve.yaml"
# Each form's processes. The clients read the ingest port from $work/port at each new
# connection; queries go to $base (serve, or the processor).
start_edge() {
  rm -f "$work/eport.tmp"
  "$TM" edge --config "$work/serve.yaml" --port-file "$work/eport.tmp" 2>> "$work/edge.log" &
  edge_pid=$!
  pids+=($edge_pid)
  wait_for "[ -s '$work/eport.tmp' ]" 300 || fail "the edge did not start"
  wait_for "curl -sf http://127.0.0.1:\$(cat '$work/eport.tmp')/readyz > /dev/null" 300 || fail "the edge not ready"
  mv "$work/eport.tmp" "$work/port"
}
start_soak_processor() {
  rm -f "$work/pport"
  "$TM" processor --config "$work/serve.yaml" --port-file "$work/pport" 2>> "$work/processor.log" &
  processor_pid=$!
  pids+=($processor_pid)
  wait_for "[ -s '$work/pport' ]" 300 || fail "the processor did not start"
  base="http://127.0.0.1:$(cat "$work/pport")"
}
processor_ready() { wait_for "curl -sf $base/readyz > /dev/null" 600 || fail "the processor not ready"; }
kill_and_wait() { kill -KILL "$1"; wait "$1" 2> /dev/null || true; sleep "0.$((RANDOM % 10))"; }
# One chaos step; counts it in $work/chaos.txt.
chaos_step() {
  if [ -z "$mock" ]; then
    kill_and_wait "$serve_pid"; start_serve; echo serve_sigkill >> "$work/chaos.txt"
    return
  fi
  case $((RANDOM % 3)) in
    0) kill_and_wait "$edge_pid"; start_edge; echo edge_sigkill >> "$work/chaos.txt" ;;
    1) kill_and_wait "$processor_pid"; start_soak_processor; processor_ready; echo processor_sigkill >> "$work/chaos.txt" ;;
    2) echo "down -1" >&3; sleep "$((2 + RANDOM % 3))"; echo "up -1" >&3; echo broker_outage >> "$work/chaos.txt" ;;
  esac
}
: > "$work/chaos.txt"
if [ -z "$mock" ]; then
  start_serve
  serve_ready
else
  start_soak_processor
  processor_ready
  start_edge
fi

# --- the clients, and the chaos until they are done or the time is up --------------------
client_pids=()
for c in c1 c2 c3; do
  $py "$(dirname "$0")/ledger_client.py" 0 "$ingest_key" "$c" "$per_client" --batch 25 --pace 0.5 \
    --port-file "$work/port" --deadline $((seconds * 3 + 120)) > "$work/client-$c.json" &
  client_pids+=($!)
  pids+=($!)
done
smtp_up=0
hooks=500
while :; do
  running=0
  for p in "${client_pids[@]}"; do kill -0 "$p" 2> /dev/null && running=1; done
  [ $running = 1 ] || break
  elapsed=$(($(date +%s) - began))
  [ $elapsed -lt $((seconds * 3 + 180)) ] || fail "the clients did not finish in time"
  if [ $hooks = 500 ] && [ $elapsed -ge $((seconds / 3)) ]; then control '{"script":[],"default":"hang"}'; hooks=hang; fi
  if [ $hooks = hang ] && [ $elapsed -ge $((seconds * 2 / 3)) ]; then control '{"script":[],"default":"ok"}'; hooks=ok; fi
  if [ $smtp_up = 0 ] && [ $elapsed -ge $((seconds / 2)) ]; then
    SMTP_PORT=$smtp_port $py "$RX/smtp_receiver.py" "$work/smtp.port" "$work/mail" > "$work/smtp.log" 2>&1 &
    pids+=($!)
    smtp_up=1
  fi
  sleep "$((3 + RANDOM % 6)).$((RANDOM % 10))"
  if [ $elapsed -lt "$seconds" ] && kill -0 "${client_pids[0]}" 2> /dev/null; then chaos_step; fi
done
[ $hooks = ok ] || control '{"script":[],"default":"ok"}'
[ $smtp_up = 1 ] || { SMTP_PORT=$smtp_port $py "$RX/smtp_receiver.py" "$work/smtp.port" "$work/mail" > "$work/smtp.log" 2>&1 & pids+=($!); }
if [ -z "$mock" ]; then serve_ready; else processor_ready; fi
for c in c1 c2 c3; do
  [ "$($py -c "import json; print(json.load(open('$work/client-$c.json'))['accepted'])")" = "$per_client" ] ||
    fail "client $c: $(cat "$work/client-$c.json")"
done
# The same 1,000 calls again: every one a duplicate.
$py "$(dirname "$0")/ledger_client.py" 0 "$ingest_key" c1 1000 --batch 100 --port-file "$work/port" \
  --deadline 60 > "$work/client-again.json" || fail "the repeated calls: $(cat "$work/client-again.json")"

# --- the report ---------------------------------------------------------------------------
query() { curl -s --max-time 10 -H "X-API-Key: $read_key" "$base$1"; }
# The distributed edge answers once the events are on the bus: wait until they are counted.
counted() { query /v1/dashboard/overview?range=24h | $py -c 'import json,sys; print(json.load(sys.stdin)["totals"]["requests"])' 2> /dev/null; }
wait_for '[ "$(counted)" = $((3 * per_client)) ]' 1200 || true  # the report says what is missing
alerts_settled() {
  query /v1/alerts | $py -c "
import json, sys
a = json.load(sys.stdin)['alerts']
sys.exit(0 if len(a) >= 6 and all(d['state'] == 'delivered' for x in a for d in x['deliveries']) else 1)"
}
wait_for alerts_settled 1200 || true  # the report says what is not delivered
query /v1/dashboard/overview?range=24h > "$work/overview.json"
query "/v1/dashboard/top-endpoints?range=24h&limit=100" > "$work/features.json"
query /v1/alerts > "$work/alerts.json"
curl -sf "$rx/state" > "$work/rx.json" || fail "receiver state"
for i in $(seq 1 30); do
  c=c$((1 + RANDOM % 3)) n=$((RANDOM % per_client))
  echo "$c-$n $(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $read_key" "$base/v1/events/$c-$n")"
done > "$work/lookups.txt"
$py - "$work" "$per_client" "$seed" "$seconds" "${mock:+distributed}" <<'PY' ||
import email, glob, json, os, sys
work, per_client, seed, seconds, form = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] or "serve"
chaos = {}
for line in open(os.path.join(work, "chaos.txt")):
    chaos[line.strip()] = chaos.get(line.strip(), 0) + 1
load = lambda n: json.load(open(os.path.join(work, n)))
clients = {c: load(f"client-{c}.json") for c in ("c1", "c2", "c3", "again")}
totals = load("overview.json")["totals"]
features = {i["value"]: i for i in load("features.json")["items"]}
expected = 3 * per_client
counted = totals["requests"]
per_feature = {c: features.get(c, {}).get("requests", 0) for c in ("c1", "c2", "c3")}
lost = sum(max(0, per_client - n) for n in per_feature.values())
twice = sum(max(0, n - per_client) for n in per_feature.values())
unexpected = sum(i["requests"] for v, i in features.items() if v not in per_feature)
cost_off = totals["costNanoUsd"] - expected * 4500
lookups = [l.split() for l in open(os.path.join(work, "lookups.txt"))]
lookup_lost = sum(1 for _, code in lookups if code != "200")
alerts = load("alerts.json")["alerts"]
want = {(t, b) for t in ("budget_warning", "budget_exceeded") for b in ("c1", "c2", "c3")}
decided = {}
for a in alerts:
    key = (a["alert"]["type"], a["alert"]["scope"].get("budget", ""))
    decided.setdefault(key, []).append(a)
alerts_missing = len(want - decided.keys())
alerts_twice = sum(len(v) - 1 for k, v in decided.items() if k in want)
alerts_unexpected = sum(len(v) for k, v in decided.items() if k not in want)
ids = {a["alert"]["id"] for a in alerts}
rx = load("rx.json")
hook_missing = len(ids - set(rx["processed"]))
mails = []
for f in glob.glob(os.path.join(work, "mail", "*.eml")):
    mails.append(email.message_from_bytes(open(f, "rb").read())["X-Tokenmeter-Alert-Id"])
mail_missing = len(ids - set(mails))
report = {
    "form": form, "seconds": int(seconds), "seed": int(seed), "chaos": chaos,
    "events": {"sent_ids": expected, "counted": counted, "lost": lost, "counted_twice": twice, "unexpected": unexpected,
               "lookups": len(lookups), "lookups_missing": lookup_lost,
               "repeated_ids_sent": clients["again"]["accepted"]},
    "client_attempts": sum(c["attempts"] for c in clients.values()),
    "client_answers": {k: sum(c["codes"].get(k, 0) for c in clients.values())
                       for k in sorted({k for c in clients.values() for k in c["codes"]})},
    "cost": {"expected_nano": expected * 4500, "counted_nano": totals["costNanoUsd"], "off_nano": cost_off},
    "alerts": {"decided": len(alerts), "missing": alerts_missing, "decided_twice": alerts_twice,
               "unexpected": alerts_unexpected, "webhook_not_delivered": hook_missing,
               "webhook_attempts": len(rx["attempts"]), "email_not_delivered": mail_missing,
               "email_copies_beyond_one": len(mails) - len(set(mails))},
}
print("chaos soak report: " + json.dumps(report))
bad = [lost, twice, unexpected, lookup_lost, cost_off, alerts_missing, alerts_twice, alerts_unexpected, hook_missing,
       mail_missing, counted - expected]
sys.exit(0 if all(x == 0 for x in bad) else 1)
PY
  fail "the soak found lost, doubled or unexpected events or alerts (report above)"
echo "e2e chaos soak: ok ($(($(date +%s) - began)) s)"
