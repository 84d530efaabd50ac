#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs the dependencies,
# builds (Release, -j2) and runs every test with ctest (unit, integration against the
# librdkafka mock cluster, end to end with processes, the quickstart, schemas, pricing
# catalog), then builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs
# the suite once more.
# Usage: deploy/test.sh [ctest args...]      e.g. deploy/test.sh -R integration
#   TOKENMETER_SKIP_SANITIZERS=1  skip the sanitizer pass (quicker local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
# The e2e webhook receiver verifies signatures with the standardwebhooks npm package.
if [ ! -d tests/e2e/receivers/node_modules/standardwebhooks ]; then
  (cd tests/e2e/receivers && npm ci --no-audit --no-fund --loglevel=error)
fi
# The dashboard's browser test drives Debian's chromium with playwright-core.
if [ ! -d tests/e2e/browser/node_modules/playwright-core ]; then
  (cd tests/e2e/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
# The benchmarks' columnar ceiling (bench.smoke runs it at tiny size) is DuckDB's npm package.
if [ ! -d benchmarks/duckdb/node_modules/@duckdb/node-api ]; then
  (cd benchmarks/duckdb && npm ci --no-audit --no-fund --loglevel=error)
fi
build=${TOKENMETER_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j2
(cd "$build" && ctest -j2 --output-on-failure --timeout 300 "$@")

if [ "${TOKENMETER_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== the same suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B "$build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOKENMETER_SANITIZE=ON > /dev/null
  cmake --build "$build-asan" -j2
  cd "$build-asan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest -j2 --output-on-failure --timeout 600 "$@"
fi
