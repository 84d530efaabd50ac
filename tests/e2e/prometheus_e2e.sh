#!/usr/bin/env bash
# The deployment files of the distributed form, checked and used for real:
# promtool checks the shipped scrape config and alert rules; systemd-analyze verifies the
# units (where systemd is installed); every metric the rules and the Grafana dashboard
# name is one an edge or a processor exposes; and a real Prometheus (Debian's), running
# the shipped config and rules against an edge and a processor on the mock broker, scrapes
# both, fires no alert while all is well, fires TokenmeterBusUnready when the brokers go
# down and resolves it when they come back. The test shortens the scrape interval and
# every rule's `for:` (the expressions are the shipped ones).
# Usage: prometheus_e2e.sh <tokenmeter binary> <tokenmeter-mock-broker binary> <deploy dir>
TM=$1
MOCK=$2
DEPLOY=$3
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
fail() {
  echo "FAIL: $*" >&2
  for f in edge processor prometheus; do echo "--- $f" >&2; tail -8 "$work/$f.log" >&2 || true; done
  exit 1
}
command -v prometheus > /dev/null && command -v promtool > /dev/null ||
  { echo "SKIP: Debian's prometheus package is not installed (deploy/install-deps.sh installs it)"; exit 77; }

# --- the files themselves -----------------------------------------------------------------
promtool check rules "$DEPLOY/prometheus/tokenmeter-rules.yml" > "$work/promtool.out" 2>&1 ||
  fail "promtool check rules: $(cat "$work/promtool.out")"
promtool check config "$DEPLOY/prometheus/prometheus.yml" > "$work/promtool.out" 2>&1 ||
  fail "promtool check config: $(cat "$work/promtool.out")"
if command -v systemd-analyze > /dev/null; then
  for unit in "$DEPLOY"/systemd/*.service; do
    sed "s#/usr/local/bin/tokenmeter#$TM#" "$unit" > "$work/$(basename "$unit")"
    systemd-analyze verify "$work/$(basename "$unit")" > "$work/verify.out" 2>&1 ||
      fail "systemd-analyze verify $(basename "$unit"): $(cat "$work/verify.out")"
  done
else
  echo "note: systemd-analyze not installed; units not verified"
fi

# --- an edge and a processor on the mock broker -------------------------------------------
start_mock_broker "$MOCK"
"$TM" keys create --workspace acme --role ingest > "$work/key.txt"
{
  kafka_bus_yaml
  echo "edge:"
  echo "  listen: 127.0.0.1:0"
  echo "processor:"
  echo "  listen: 127.0.0.1:0"
  echo "  state_dir: $work/state"
  echo "sinks:"  # a sink, so the delivery metrics are exposed (no alert is ever sent to it)
  echo "  - id: ops-hook"
  echo "    type: webhook"
  echo "    url: http://127.0.0.1:9/hook"
  echo "    secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]"
  echo "keys:"
  tail -n +3 "$work/key.txt"
} > "$work/tokenmeter.yaml"
"$TM" edge --config "$work/tokenmeter.yaml" --port-file "$work/edge.port" 2> "$work/edge.log" &
pids+=($!)
"$TM" processor --config "$work/tokenmeter.yaml" --port-file "$work/processor.port" 2> "$work/processor.log" &
pids+=($!)
wait_for "[ -s '$work/edge.port' ] && [ -s '$work/processor.port' ]" 100 || fail "edge or processor did not start"
edge=127.0.0.1:$(cat "$work/edge.port")
processor=127.0.0.1:$(cat "$work/processor.port")
wait_for "curl -sf http://$edge/readyz > /dev/null && curl -sf http://$processor/readyz > /dev/null" 150 ||
  fail "edge or processor never ready"

# Every tokenmeter_* name in the rules and the dashboard is exposed by one of them (the
# lag once the processor owns partitions).
wait_for "curl -s http://$processor/metrics | grep -q '^tokenmeter_processor_consumer_lag_records{'" 150 ||
  fail "the processor never reported its lag"
curl -s "http://$edge/metrics" "http://$processor/metrics" > "$work/metrics"
$PY - "$DEPLOY" "$work/metrics" <<'PYEOF' || fail "the rules or the dashboard name metrics no process exposes"
import json, re, sys
deploy, metrics = sys.argv[1], sys.argv[2]
exposed = set()
for line in open(metrics):
    if line.startswith("# TYPE "):
        name, kind = line.split()[2:4]
        exposed.add(name)
        if kind == "histogram":
            exposed |= {name + "_bucket", name + "_sum", name + "_count"}
rules = open(deploy + "/prometheus/tokenmeter-rules.yml").read()
dashboard = json.load(open(deploy + "/grafana/tokenmeter-health.json"))
exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
assert len(exprs) >= 16, exprs
named = set(re.findall(r"tokenmeter_[a-z_]+", rules + "\n".join(exprs)))
missing = sorted(n for n in named if n not in exposed)
if missing:
    print("not exposed:", missing)
    sys.exit(1)
print("rules and dashboard name", len(named), "metrics, all exposed")
PYEOF

# --- a real Prometheus with the shipped config and rules ----------------------------------
prom_port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e 's/scrape_interval: 15s/scrape_interval: 1s/' -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' \
  -e "s/127.0.0.1:8081/$edge/" -e "s/127.0.0.1:8082/$processor/" \
  "$DEPLOY/prometheus/prometheus.yml" > "$work/prometheus.yml"
sed -E 's/^( *)for: .*/\1for: 0s/' "$DEPLOY/prometheus/tokenmeter-rules.yml" > "$work/tokenmeter-rules.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prom_port/api/v1"
both_up() {
  curl -s "$api/targets" 2>/dev/null | $PY -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
sys.exit(0 if len(t) == 2 and all(x["health"] == "up" for x in t) else 1)' 2>/dev/null
}
wait_for both_up 300 || fail "Prometheus does not scrape both: $(curl -s "$api/targets")"
# alerts <state>: the names of the alerts in that state, sorted, one line ("none" if
# none; "unanswered" if Prometheus did not answer).
alerts() { curl -s "$api/alerts" | $PY -c "
import json, sys
try:
    names = sorted(a['labels']['alertname'] for a in json.load(sys.stdin)['data']['alerts'] if a['state'] == '$1')
except Exception:
    names = ['unanswered']
print(' '.join(names) or 'none')" 2>/dev/null; }
rules_evaluated() { curl -s "$api/rules" | grep -q '"lastEvaluation":"20'; }
wait_for rules_evaluated 100 || fail "rules never evaluated"
sleep 3  # three more evaluations with everything well
[ "$(alerts firing)" = none ] || fail "alerts fire while all is well: $(alerts firing)"

echo "down -1" >&3
wait_for '[ "$(alerts firing)" = TokenmeterBusUnready ]' 300 || fail "TokenmeterBusUnready did not fire alone: firing '$(alerts firing)'"
echo "up -1" >&3
wait_for '[ "$(alerts firing)" = none ]' 300 || fail "still firing after the brokers came back: $(alerts firing)"
echo "e2e prometheus: ok"
