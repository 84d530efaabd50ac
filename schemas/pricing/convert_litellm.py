#!/usr/bin/python3
"""Converts LiteLLM's community model price catalog (MIT) into tokenmeter's catalog.

    convert_litellm.py SOURCE.json OUT.json --snapshot-date YYYY-MM-DD

Prices are read from the JSON text as decimals (never floats) and written as integer
femto-USD (1e-15 USD) per token, as decimal strings; a per-token price that is not a
whole number of femto-USD is an error. Only chat/completion/responses models with
per-token input and output prices are kept. Provider names are mapped onto tokenmeter's
normalized names; a model key's provider prefix ("gemini/", "azure/") is removed, and
region- or deployment-specific keys (a further "/") are left out.

Hand-kept data merged in (this folder):
  price_history.json  earlier prices with the date they ended (effective dating)
  manual_prices.json  list prices for models the snapshot lacks (each with a note)
  aliases.json        names clients send -> catalog model names (read by the processor)
"""
import argparse
import decimal
import hashlib
import json
import pathlib
import sys

# litellm_provider -> tokenmeter provider (normalized names, schemas/model/data).
PROVIDERS = {
    "openai": "openai", "text-completion-openai": "openai",
    "azure": "azure_openai", "azure_text": "azure_openai",
    "anthropic": "anthropic",
    "gemini": "google", "vertex_ai-language-models": "google",
    "bedrock": "aws_bedrock", "bedrock_converse": "aws_bedrock",
    "mistral": "mistral", "codestral": "mistral", "text-completion-codestral": "mistral",
    "cohere": "cohere", "cohere_chat": "cohere",
    "deepseek": "deepseek", "groq": "groq", "xai": "xai",
    "together_ai": "together_ai", "fireworks_ai": "fireworks_ai",
}
# When two keys give the same (provider, model), the entry from the preferred source wins.
PREFERRED_SOURCE = {"google": "gemini", "aws_bedrock": "bedrock_converse"}
MODES = {"chat", "completion", "responses", None}

# Our price component -> LiteLLM field (base prices).
BASE = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
    "reasoning": "output_cost_per_reasoning_token",
}
TIER_SUFFIXES = {200000: "_above_200k_tokens", 272000: "_above_272k_tokens",
                 128000: "_above_128k_tokens"}
FEMTO = decimal.Decimal(10) ** 15


def femto(value, where):
    d = decimal.Decimal(value) * FEMTO
    if d != d.to_integral_value() or d < 0:
        raise SystemExit(f"{where}: {value} USD/token is not a whole non-negative femto-USD")
    return str(int(d))


def prices_of(entry, suffix, key):
    out = {}
    for ours, field in BASE.items():
        name = field + suffix if suffix else field
        if ours == "cache_write_1h" and suffix:
            name = "cache_creation_input_token_cost_above_1hr" + suffix
        v = entry.get(name)
        if isinstance(v, (decimal.Decimal, int)):
            out[ours] = femto(v, f"{key}.{name}")
    return out


def convert(source_path, snapshot_date, here):
    raw = pathlib.Path(source_path).read_bytes()
    data = json.loads(raw, parse_float=decimal.Decimal)
    chosen = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or entry.get("mode") not in MODES:
            continue
        src = entry.get("litellm_provider")
        provider = PROVIDERS.get(src)
        if provider is None or "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
            continue
        model = key.lower()
        first, _, rest = model.partition("/")
        if rest and (first == src or PROVIDERS.get(first) == provider or first in ("gemini", "azure", "bedrock")):
            model = rest
        if "/" in model:
            continue  # region- or deployment-specific variant
        base = prices_of(entry, "", key)
        tiers = []
        for threshold, suffix in sorted(TIER_SUFFIXES.items()):
            tier = prices_of(entry, suffix, key)
            if "input" in tier or "output" in tier:
                tiers.append({"above_prompt_tokens": threshold, "prices": tier})
        record = {"provider": provider, "model": model, "source_key": key,
                  "effective_from": "1970-01-01T00:00:00Z", "prices": base}
        if tiers:
            record["tiers"] = tiers
        ident = (provider, model)
        previous = chosen.get(ident)
        if previous is None or (src == PREFERRED_SOURCE.get(provider) and
                                previous[0] != PREFERRED_SOURCE.get(provider)):
            chosen[ident] = (src, record)
    models = {ident: [rec] for ident, (_, rec) in chosen.items()}

    for m in json.loads((here / "manual_prices.json").read_text())["models"]:
        ident = (m["provider"], m["model"])
        if ident in models:
            raise SystemExit(f"manual_prices.json: {ident} is in the snapshot; drop the manual entry")
        models[ident] = [{"provider": m["provider"], "model": m["model"], "source_key": "manual: " + m["note"],
                          "effective_from": "1970-01-01T00:00:00Z",
                          "prices": {k: femto(decimal.Decimal(v), m["model"]) for k, v in m["usd_per_token"].items()}}]

    # Effective dating: each history entry is a price that ended at `until`; the current
    # price becomes effective then.
    for h in json.loads((here / "price_history.json").read_text())["changes"]:
        ident = (h["provider"], h["model"])
        if ident not in models:
            raise SystemExit(f"price_history.json: {ident} is not in the catalog")
        current = models[ident][-1]
        old = {"provider": h["provider"], "model": h["model"], "source_key": "history: " + h["note"],
               "effective_from": h["from"],
               "prices": {k: femto(decimal.Decimal(v), h["model"]) for k, v in h["usd_per_token"].items()}}
        current["effective_from"] = h["until"]
        models[ident].insert(len(models[ident]) - 1, old)

    flat = [rec for ident in sorted(models) for rec in models[ident]]
    digest = hashlib.sha256(raw).hexdigest()
    return {
        "catalog_version": f"litellm-{snapshot_date}-{digest[:12]}",
        "source": "LiteLLM community model price catalog (MIT): litellm-model-prices.json",
        "source_sha256": digest,
        "snapshot_date": snapshot_date,
        "generated_by": "schemas/pricing/convert_litellm.py",
        "units": "femto-USD (1e-15 USD) per token, as decimal integer strings",
        "models": flat,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--snapshot-date", required=True)
    args = ap.parse_args()
    here = pathlib.Path(__file__).resolve().parent
    catalog = convert(args.source, args.snapshot_date, here)
    text = json.dumps(catalog, indent=None, separators=(",", ":"))
    # One model per line keeps diffs of the committed file readable.
    text = text.replace(',{"provider"', ',\n{"provider"').replace('"models":[{', '"models":[\n{')
    pathlib.Path(args.out).write_text(text + "\n")
    print(f"{len(catalog['models'])} price entries, version {catalog['catalog_version']}", file=sys.stderr)


if __name__ == "__main__":
    main()
