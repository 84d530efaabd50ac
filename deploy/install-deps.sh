#!/usr/bin/env bash
# Installs every build and test dependency of tokenmeter from Debian 12 packages.
# Idempotent: packages already present are skipped, so a second run costs one dpkg query.
# Usage: deploy/install-deps.sh            (build + test dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git ca-certificates
  librdkafka-dev            # Kafka client and its mock cluster (rdkafka_mock.h)
  librocksdb-dev            # processor state
  prometheus-cpp-dev        # /metrics (core: registry + text exposition)
  rapidjson-dev             # JSON
  libboost1.81-dev          # Beast/Asio (1.81 replaces the default 1.74 headers)
  libcurl4-openssl-dev      # SMTP
  libyaml-cpp-dev           # config
  libssl-dev                # SHA-256, HMAC
  libgtest-dev libgmock-dev # tests
  kcat curl python3         # end-to-end tests talk to the edge and the topic as a user would
  python3-jsonschema        # checks the published JSON Schemas against the golden files
  zlib1g-dev                # CRC32 for API key checksums
  python3-aiosmtpd          # a real SMTP server on loopback for the alert e-mail tests
  nginx wrk bc              # benchmarks: the HTTP ceiling, its load generator, arithmetic
  chromium                  # the dashboard's browser test (driven by playwright-core)
  libfaketime               # e2e: processes restarted with their clock moved on (retries days apart)
  prometheus                # e2e: the shipped scrape config and alert rules, loaded by a real Prometheus
)
# The webhook receiver of the e2e tests runs on Node.js (the machine's own, or Debian's).
command -v npm > /dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi
# The web dashboard's libraries, pinned by ui/package-lock.json and compiled into the binary.
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
