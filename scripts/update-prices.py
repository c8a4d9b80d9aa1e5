#!/usr/bin/env python3
"""Builds host/Pricing/prices.json, Ally's own price table, from LiteLLM's model_prices_and_context_window.json.

Usage: scripts/update-prices.py [SOURCE_JSON] [--out host/Pricing/prices.json] [--taken YYYY-MM-DD]

Only the chat models of the providers Ally has built in are kept, converted from dollars per token to dollars per
million tokens and keyed "<ally provider>/<model id as the provider's API spells it>". Local servers get a
provider-wide free entry ("ollama/*"), because whatever model they run costs nothing per token.
"""

import argparse
import json
import os
import re
import sys
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_source():
    """Finds ../shared/data next to the repository (or next to any folder above it, for git worktrees)."""
    folder = ROOT
    while True:
        candidate = os.path.join(os.path.dirname(folder), "shared", "data", "model_prices_and_context_window.json")
        if os.path.exists(candidate) or os.path.dirname(folder) == folder:
            return candidate
        folder = os.path.dirname(folder)


DEFAULT_OUT = os.path.join(ROOT, "host", "Pricing", "prices.json")

# LiteLLM provider name -> Ally provider name.
PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "groq": "groq",
    "cerebras": "cerebras",
    "openrouter": "openrouter",
    "mistral": "mistral",
    "together_ai": "together",
    "deepseek": "deepseek",
    "xai": "xai",
    "fireworks_ai": "fireworks",
    "perplexity": "perplexity",
    "deepinfra": "deepinfra",
    "azure": "azure",
    "ollama": "ollama",
    "huggingface": "huggingface",
}

# Servers that run on the user's own machine: every model is free per token.
FREE_PROVIDERS = ["ollama", "lmstudio", "vllm", "llamacpp", "localai"]

# Key prefixes LiteLLM puts in front of model ids; the provider's API does not use them.
PREFIXES = ["gemini/", "groq/", "cerebras/", "openrouter/", "mistral/", "together_ai/", "deepseek/", "xai/",
            "fireworks_ai/", "perplexity/", "deepinfra/", "azure/", "ollama/", "huggingface/", "anthropic/", "openai/"]

# Azure's regional and data-zone variants are billing variants of the same deployments.
SKIP_PATTERNS = [re.compile(p) for p in (r"^ft:", r"^azure/(eu|us|global|global-standard)/", r"^together-ai-")]


def per_million(value):
    if value is None:
        return None
    amount = (Decimal(repr(float(value))) * 1_000_000).normalize()
    # Keep the JSON readable: integers without a fraction, otherwise the shortest exact decimal.
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def tier_of(entry):
    """Finds the lowest prompt size above which the model has other prices (128k, 200k, 256k or 272k tokens)."""
    thresholds = set()
    for key in entry:
        match = re.search(r"_above_(\d+)k_tokens$", key)
        if match and "cost" in key:
            thresholds.add(int(match.group(1)))
    return min(thresholds) if thresholds else None


def convert(entry):
    row = {
        "input": per_million(entry.get("input_cost_per_token")),
        "output": per_million(entry.get("output_cost_per_token")),
        "cached_input": per_million(entry.get("cache_read_input_token_cost")),
        "cache_write": per_million(entry.get("cache_creation_input_token_cost")),
        "reasoning": per_million(entry.get("output_cost_per_reasoning_token")),
    }
    tier = tier_of(entry)
    if tier is not None:
        suffix = f"_above_{tier}k_tokens"
        row["above_tokens"] = tier * 1000
        row["input_above"] = per_million(entry.get("input_cost_per_token" + suffix))
        row["output_above"] = per_million(entry.get("output_cost_per_token" + suffix))
        row["cached_input_above"] = per_million(entry.get("cache_read_input_token_cost" + suffix))
        row["cache_write_above"] = per_million(entry.get("cache_creation_input_token_cost" + suffix))

    window = entry.get("max_input_tokens") or entry.get("max_tokens")
    if isinstance(window, (int, float)):
        row["context_window"] = int(window)
    max_output = entry.get("max_output_tokens")
    if isinstance(max_output, (int, float)):
        row["max_output"] = int(max_output)
    return {k: v for k, v in row.items() if v is not None}


def model_id(key):
    for prefix in PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def build(source, taken):
    models = {}
    for key, entry in source.items():
        if not isinstance(entry, dict) or entry.get("mode") != "chat":
            continue
        provider = PROVIDERS.get(entry.get("litellm_provider"))
        if provider is None or any(p.search(key) for p in SKIP_PATTERNS):
            continue
        row = convert(entry)
        if "input" not in row and "output" not in row:
            continue
        name = f"{provider}/{model_id(key)}"
        # LiteLLM lists some models twice (bare and prefixed); the prefixed entry is the provider-specific one.
        if name in models and "/" not in key:
            continue
        models[name] = row

    for provider in FREE_PROVIDERS:
        models[f"{provider}/*"] = {"input": 0, "output": 0}

    return {
        "source": "LiteLLM model_prices_and_context_window.json",
        "taken": taken,
        "models": dict(sorted(models.items())),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", default=None)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--taken", default="2026-07-24", help="the date the source was mirrored")
    args = parser.parse_args()

    with open(args.source or default_source(), encoding="utf-8") as f:
        source = json.load(f)
    table = build(source, args.taken)

    # One model a line keeps diffs of a price update readable.
    lines = ["{", f'  "source": {json.dumps(table["source"])},', f'  "taken": {json.dumps(table["taken"])},', '  "models": {']
    items = list(table["models"].items())
    for i, (name, row) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(name)}: {json.dumps(row, separators=(',', ':'))}{comma}")
    lines += ["  }", "}", ""]
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines))
    print(f"wrote {len(items)} models to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
