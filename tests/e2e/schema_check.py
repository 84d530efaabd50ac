"""Checks the golden contract files against schemas/json with a third-party validator
(Debian's python3-jsonschema), so the published schemas and the C++ parser, which
checks the same files in golden_contract_test.cc, cannot drift apart."""
import json
import pathlib
import sys

import jsonschema
from jsonschema import Draft202012Validator

root = pathlib.Path(sys.argv[1])
schemas = {p.name: json.loads(p.read_text()) for p in (root / "schemas/json").glob("*.json")}
store = {s["$id"]: s for s in schemas.values()}
store.update({name: s for name, s in schemas.items()})
resolver = jsonschema.RefResolver.from_schema(schemas["ingest-request.schema.json"], store=store)
checker = Draft202012Validator.FORMAT_CHECKER


def validator(name):
    Draft202012Validator.check_schema(schemas[name])
    return Draft202012Validator(schemas[name], resolver=resolver, format_checker=checker)


request = validator("ingest-request.schema.json")
event = validator("ingest-event.schema.json")
canonical = validator("canonical-event.schema.json")
alert = validator("alert.schema.json")
golden = root / "tests/golden"
failures = []
checked = 0


def check(path, v, want_valid):
    global checked
    doc = json.loads(path.read_text())
    docs = [doc]
    if isinstance(doc, dict) and "events" in doc:
        docs += doc["events"]
        v_items = [request] + [event] * len(doc["events"])
    else:
        v_items = [v]
    errors = [e.message for val, d in zip(v_items, docs) for e in val.iter_errors(d)]
    checked += 1
    if want_valid and errors:
        failures.append(f"{path.name}: {errors[0]}")
    if not want_valid and not errors:
        failures.append(f"{path.name}: the schema accepts an invalid event")


for p in sorted((golden / "ingest/valid").glob("*.json")):
    check(p, request, True)
for p in sorted((golden / "ingest/invalid").glob("*.json")):
    check(p, request, False)
for p in sorted((golden / "canonical").glob("*.json")):
    check(p, canonical, True)
for p in sorted((golden / "alerts").glob("*.json")):
    check(p, alert, True)
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"schema check: {checked} files agree with schemas/json")
