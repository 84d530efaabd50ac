#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs the dependencies,
# builds (Release, -j2) and runs every test with ctest (unit, integration against the
# librdkafka mock cluster, end to end with processes, the quickstart's smoke run).
# Usage: deploy/test.sh [ctest args...]      e.g. deploy/test.sh -R integration
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
build=${TOKENMETER_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j2
cd "$build"
ctest -j2 --output-on-failure --timeout 300 "$@"
