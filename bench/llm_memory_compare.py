"""gpukit's LLM memory estimate against the measured H200 table, row by row.

Run: .venv/bin/python bench/llm_memory_compare.py [--table gpukit/models/data/measured/H200-2026-12-02.json]

The table comes from bench/llm_memory_measure.py on one GPU (random weights, no downloads).
Serving rows compare weights + KV cache (the engine-independent part) and the prefill peak of
PyTorch's allocator; training rows compare the peak of a steady-state step.
"""

from __future__ import annotations

import argparse
import json
from importlib import resources

from gpukit.models import architecture
from gpukit.models.estimate import serving_estimate, training_estimate

GIB = 1024**3
MODES = {
    "bf16-adamw": {"master_weights": False, "optimizer": "adamw-bf16"},
    "fp32-master-adamw": {"master_weights": True, "precision": "bf16"},
    "bf16-adamw-checkpointing": {
        "master_weights": False,
        "optimizer": "adamw-bf16",
        "checkpointing": True,
    },
    "lora-r16": {"mode": "lora"},
}


def rows(table: dict) -> list[tuple[str, str, float, float]]:
    out = []
    for r in table["serve"]:
        est = serving_estimate(
            architecture(r["model"]),
            context=r["seq"],
            concurrency=r["batch"],
            engine=False,
            chunk_tokens=r["batch"] * r["seq"],
        )
        what = f"{r['model']} serve {r['batch']}x{r['seq']}"
        out.append(
            (
                what,
                "weights+KV",
                est.term("weights") + est.term("KV"),
                r["weights_bytes"] + r["kv_cache_bytes"],
            )
        )
        out.append(
            (what, "prefill peak", est.bytes - est.term("CUDA context"), r["peak_allocated"])
        )
    for r in table["train"]:
        est = training_estimate(
            architecture(r["model"]), batch=r["batch"], sequence=r["seq"], **MODES[r["mode"]]
        )
        out.append(
            (
                f"{r['model']} {r['mode']} {r['batch']}x{r['seq']}",
                "step peak",
                est.bytes - est.term("CUDA context"),
                r["peak_allocated"],
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", help="a measured JSON table (default: the embedded H200 one)")
    args = parser.parse_args()
    if args.table:
        with open(args.table) as f:
            text = f.read()
    else:
        text = (
            resources.files("gpukit.models")
            .joinpath("data/measured/H200-2026-12-02.json")
            .read_text()
        )
    table = json.loads(text)
    env = table["environment"]
    print(
        f"measured: {env['gpu']}, driver {env['driver']}, torch {env['torch']}, "
        f"transformers {env['transformers']}, {env['date']}"
    )
    print(f"| {'row':44} | {'what':12} | estimate GiB | measured GiB | error |")
    print(f"| {'-' * 44} | {'-' * 12} | ------------ | ------------ | ----- |")
    worst: dict[str, float] = {}
    for what, term, est, measured in rows(table):
        err = est / measured - 1
        key = "serve" if term != "step peak" else "train"
        key += " weights+KV" if term == "weights+KV" else ""
        worst[key] = max(worst.get(key, 0.0), abs(err))
        print(
            f"| {what:44} | {term:12} | {est / GIB:12.2f} | {measured / GIB:12.2f} | {err:+.1%} |"
        )
    print("largest error: " + ", ".join(f"{k} {v:.1%}" for k, v in sorted(worst.items())))


if __name__ == "__main__":
    main()
