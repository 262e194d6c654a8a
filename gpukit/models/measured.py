"""The measured memory tables (data/measured/*.json) and the estimator's figure for each row.

Tables come from ``bench/llm_memory_measure.py`` on one GPU: PyTorch and transformers,
models built from their configs with random weights. ``comparisons()`` pairs every measured
figure with the estimate for the same shape; tests hold the pairs to the issue's bounds and
``bench/llm_memory_compare.py`` prints them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from gpukit.models import architecture
from gpukit.models.estimate import serving_estimate, training_estimate

__all__ = ["MODES", "Comparison", "comparisons", "tables"]

#: How each measured training mode is described to the estimator.
MODES: dict[str, dict[str, Any]] = {
    "bf16-adamw": {"master_weights": False, "optimizer": "adamw-bf16"},
    "fp32-master-adamw": {"master_weights": True, "precision": "bf16"},
    "bf16-adamw-checkpointing": {
        "master_weights": False,
        "optimizer": "adamw-bf16",
        "checkpointing": True,
    },
    "lora-r16": {"mode": "lora"},
}


@dataclass(frozen=True)
class Comparison:
    row: str  # model, phase and shape
    what: str  # "weights+KV" | "prefill peak" | "step peak"
    estimate: float
    measured: float
    table: str

    @property
    def error(self) -> float:
        return self.estimate / self.measured - 1


def tables() -> dict[str, dict[str, Any]]:
    """Every embedded measured table, by file name."""
    folder = resources.files("gpukit.models").joinpath("data/measured")
    return {
        f.name: json.loads(f.read_text())
        for f in sorted(folder.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".json")
    }


def comparisons(named: dict[str, dict[str, Any]] | None = None) -> list[Comparison]:
    """Estimate and measurement for every row of the tables (default: the embedded ones)."""
    out: list[Comparison] = []
    for name, table in (named if named is not None else tables()).items():
        for r in table["serve"]:
            arch = architecture(r["model"])
            # The bench prefills every token at once, in transformers (no serving engine).
            est = serving_estimate(
                arch,
                context=r["seq"],
                concurrency=r["batch"],
                engine=False,
                chunk_tokens=r["batch"] * r["seq"],
            )
            label = f"{r['model']} serve {r['batch']}x{r['seq']}"
            out.append(
                Comparison(
                    label,
                    "weights+KV",
                    est.term("weights") + est.term("KV"),
                    r["weights_bytes"] + r["kv_cache_bytes"],
                    name,
                )
            )
            if not arch.sliding_window:
                # transformers keeps a sliding layer's whole prefill K/V storage alive (its cache
                # holds a view of the window), which a paged engine does not: no peak compared.
                out.append(
                    Comparison(
                        label,
                        "prefill peak",
                        est.bytes - est.term("CUDA context"),
                        r["peak_allocated"],
                        name,
                    )
                )
        for r in table["train"]:
            est = training_estimate(
                architecture(r["model"]), batch=r["batch"], sequence=r["seq"], **MODES[r["mode"]]
            )
            out.append(
                Comparison(
                    f"{r['model']} {r['mode']} {r['batch']}x{r['seq']}",
                    "step peak",
                    est.bytes - est.term("CUDA context"),
                    r["peak_allocated"],
                    name,
                )
            )
    return out
