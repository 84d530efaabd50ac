#!/usr/bin/env bash
# Fuzzes each target with libFuzzer (clang from Debian, AddressSanitizer and UBSan) for the
# given seconds, starting from its checked-in corpus; new interesting inputs are written
# into tests/fuzz/corpus/<target>/ (commit them), crashes into <build>/fuzz-crashes/ (turn
# each into a corpus file once fixed: fuzz.replay.<target> then keeps it tested).
# Usage: tests/fuzz/run.sh [seconds per target, default 60] [target...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ingest_body bus_record state_rows settings_change query_target http_request rollup_journal)  # config: replay only (tests/fuzz/CMakeLists.txt)
build=${TOKENMETER_FUZZ_BUILD_DIR:-build-fuzz}
command -v clang++ > /dev/null || { echo "fuzz: clang++ is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOKENMETER_FUZZ=ON > /dev/null
cmake --build "$build" -j2 --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p "$build/fuzz-crashes"
status=0
for t in "${targets[@]}"; do
  echo "== fuzz_$t for $secs s"
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/fuzz-crashes/$t-" "tests/fuzz/corpus/$t" 2>&1 | tail -3 || status=1
done
exit $status
