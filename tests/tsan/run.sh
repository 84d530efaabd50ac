#!/usr/bin/env bash
# ThreadSanitizer over the concurrency-heavy tests (issue 43): the embedded log's
# publishers, writer and readers, RecordOutcomes, the processor's read-ahead helper and
# WAL syncer, the HTTP server's I/O threads and answers from other threads, and the alert
# dispatcher's workers. Builds them in build-tsan/ (RelWithDebInfo, -fsanitize=thread) and
# runs them; any report fails the test that made it (halt_on_error), so the exit status
# says whether TSan is clean. Libraries from Debian (RocksDB, librdkafka, Boost) are not
# instrumented: what happens inside them is not seen.
# Usage: tests/tsan/run.sh [ctest -R regex]   (~15 min to build on 2 cores the first time)
set -euo pipefail
cd "$(dirname "$0")/../.."
regex=${1:-'unit\.bus\.|unit\.processor\.(ProcessorService|WalSyncer|RollupJournal)|integration\.http\.|integration\.sinks\.'}
mkdir -p build-tsan
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOKENMETER_TSAN=ON > build-tsan/configure.log 2>&1 ||
  { cat build-tsan/configure.log; exit 1; }
cmake --build build-tsan -j"$(nproc)" --target unit_bus unit_processor integration_http integration_sinks
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$PWD/tests/tsan/suppressions.txt"
ctest --test-dir build-tsan -R "$regex" -j"$(nproc)" --output-on-failure
