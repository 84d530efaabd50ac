#!/usr/bin/env bash
# The committed pricing catalog is exactly what the converter makes from the snapshot
# (../shared/data/litellm-model-prices.json, or $TOKENMETER_PRICE_SNAPSHOT).
# Exit 77 (skipped) when the snapshot is not on this machine.
set -euo pipefail
root=$1
snapshot=${TOKENMETER_PRICE_SNAPSHOT:-$root/../shared/data/litellm-model-prices.json}
if [ ! -f "$snapshot" ]; then
  echo "snapshot not found at $snapshot: skipped"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
date=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['snapshot_date'])" \
  "$root/schemas/pricing/catalog.json")
/usr/bin/python3 "$root/schemas/pricing/convert_litellm.py" "$snapshot" "$out" --snapshot-date "$date"
diff -q "$out" "$root/schemas/pricing/catalog.json" \
  || { echo "schemas/pricing/catalog.json is stale: regenerate it (schemas/pricing/README.md)"; exit 1; }
echo "catalog matches the snapshot"
