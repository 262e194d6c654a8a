"""gpukit's LLM memory estimate against the measured tables, row by row.

Run: .venv/bin/python bench/llm_memory_compare.py [--table my-gpu.json ...]

The tables come from bench/llm_memory_measure.py on one GPU (random weights, no downloads);
by default the embedded ones (gpukit/models/data/measured/). Serving rows compare weights +
KV cache (what the cache holds) and the prefill peak of PyTorch's allocator; training rows
the peak of a steady-state step.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gpukit.models.measured import comparisons, tables

GIB = 1024**3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--table", nargs="*", help="measured JSON tables (default: the embedded ones)"
    )
    args = parser.parse_args()
    named = (
        {Path(t).name: json.loads(Path(t).read_text()) for t in args.table}
        if args.table
        else tables()
    )
    for name, table in named.items():
        env = table["environment"]
        print(
            f"{name}: {env['gpu']}, driver {env['driver']}, torch {env['torch']}, "
            f"transformers {env['transformers']}, {env['date']}"
        )
    print(f"| {'row':44} | {'what':12} | estimate GiB | measured GiB | error |")
    print(f"| {'-' * 44} | {'-' * 12} | ------------ | ------------ | ----- |")
    worst: dict[str, float] = {}
    for c in comparisons(named):
        worst[c.what] = max(worst.get(c.what, 0.0), abs(c.error))
        print(
            f"| {c.row:44} | {c.what:12} | {c.estimate / GIB:12.2f} | {c.measured / GIB:12.2f} "
            f"| {c.error:+.1%} |"
        )
    print("largest error: " + ", ".join(f"{k} {v:.2%}" for k, v in sorted(worst.items())))


if __name__ == "__main__":
    main()
