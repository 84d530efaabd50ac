# Sourced by the e2e scripts: a temp work dir, cleanup of every process they spawn,
# bounded waits, and the mock broker daemon. A script defines fail() itself (what to
# print on failure) and appends the PIDs it starts to `pids`.
set -euo pipefail
work=$(mktemp -d)
pids=()
e2e_cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap e2e_cleanup EXIT

# wait_for <command> <tenths of a second>: true once the command succeeds.
wait_for() {
  local i
  for ((i = 0; i < $2; i++)); do eval "$1" && return 0; sleep 0.1; done
  return 1
}

# kafka_bus_yaml: the `bus:` section of a distributed e2e config (after start_mock_broker);
# short session timeouts so a restarted consumer rejoins quickly.
kafka_bus_yaml() {
  cat <<YAML
bus:
  kafka:
    bootstrap_servers: $bootstrap
    properties:
      session.timeout.ms: "6000"
      heartbeat.interval.ms: "500"
YAML
}

# start_mock_broker <binary>: starts it with fault commands on fd 3; sets $bootstrap.
start_mock_broker() {
  mkfifo "$work/ctl"
  "$1" --bootstrap-file "$work/bootstrap" < "$work/ctl" > "$work/mock.out" 2>&1 &
  pids+=($!)
  exec 3> "$work/ctl"
  wait_for "[ -s '$work/bootstrap' ]" 100 || fail "mock broker did not start"
  bootstrap=$(cat "$work/bootstrap")
}
