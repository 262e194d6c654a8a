"""The estimator against the H200 measurements (bench/llm_memory_measure.py)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from gpukit.models import architecture
from gpukit.models.estimate import serving_estimate, training_estimate

TABLE = json.loads(
    resources.files("gpukit.models").joinpath("data/measured/H200-2026-12-02.json").read_text()
)

#: How each measured training mode is described to the estimator.
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


def _id(row):
    return f"{row['model']}-{row.get('mode', 'serve')}-b{row['batch']}-s{row['seq']}"


def test_table_names_its_environment():
    env = TABLE["environment"]
    assert env["gpu"] == "NVIDIA H200"
    assert {"date", "driver", "torch", "transformers"} <= set(env)


@pytest.mark.parametrize("row", TABLE["serve"], ids=_id)
def test_weights_plus_kv_within_5_percent(row):
    est = serving_estimate(
        architecture(row["model"]),
        context=row["seq"],
        concurrency=row["batch"],
        engine=False,
        chunk_tokens=row["batch"] * row["seq"],  # the bench prefills everything at once
    )
    measured = row["weights_bytes"] + row["kv_cache_bytes"]
    assert est.term("weights") + est.term("KV") == pytest.approx(measured, rel=0.05)
    # the whole prefill peak too (torch's allocator; the context is outside it)
    assert est.bytes - est.term("CUDA context") == pytest.approx(row["peak_allocated"], rel=0.05)


@pytest.mark.parametrize("row", TABLE["train"], ids=_id)
def test_training_peak_within_20_percent(row):
    est = training_estimate(
        architecture(row["model"]), batch=row["batch"], sequence=row["seq"], **MODES[row["mode"]]
    )
    assert est.bytes - est.term("CUDA context") == pytest.approx(row["peak_allocated"], rel=0.20)


def test_cuda_context_constant_matches_the_measurement():
    from gpukit.models.estimate import CUDA_CONTEXT_BYTES

    outside = [r["nvml_used"] - r["peak_reserved"] for r in TABLE["serve"]]
    assert all(abs(o - CUDA_CONTEXT_BYTES) < 0.1 * CUDA_CONTEXT_BYTES for o in outside)
