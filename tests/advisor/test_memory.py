"""Memory estimation: the formula per mode and precision, assumptions shown, given memory wins."""

from __future__ import annotations

import pytest

import gpukit as gk
from gpukit.memory import estimate_model_memory, memory_need
from gpukit.quantity import GIB
from gpukit.workload import ModelSpec

GB = 1e9


@pytest.mark.parametrize(
    ("spec", "expected_bytes", "formula_has", "assumption_has"),
    [
        pytest.param(
            {"params": "7B", "precision": "bf16"},
            7 * GB * 2 * 1.2,
            ["7B params", "2 B (bf16)", "20% overhead"],
            "KV cache not counted",
            id="inference-bf16",
        ),
        pytest.param(
            {"params": "7B", "precision": "fp32"},
            7 * GB * 4 * 1.2,
            ["4 B (fp32)"],
            "20%",
            id="inference-fp32",
        ),
        pytest.param(
            {"params": "7B", "precision": "fp16"},
            7 * GB * 2 * 1.2,
            ["2 B (fp16)"],
            "20%",
            id="inference-fp16",
        ),
        pytest.param(
            {"params": "70B", "precision": "fp8"},
            70 * GB * 1 * 1.2,
            ["1 B (fp8)"],
            "20%",
            id="inference-fp8",
        ),
        pytest.param(
            {"params": "70B", "precision": "int8"},
            70 * GB * 1 * 1.2,
            ["1 B (int8)"],
            "20%",
            id="inference-int8",
        ),
        pytest.param(
            {"params": "70B", "precision": "int4"},
            70 * GB * 0.5 * 1.2,
            ["0.5 B (int4)"],
            "20%",
            id="inference-int4",
        ),
        pytest.param(
            {"params": "7B", "kv_cache": "4Gi"},
            7 * GB * 2 * 1.2 + 4 * GIB,
            ["4 GiB KV cache (given)"],
            "20%",
            id="inference-kv-given",
        ),
        pytest.param(
            {
                "params": "8B",
                "precision": "bf16",
                "sequence_length": 4096,
                "batch_size": 4,
                "layers": 32,
                "hidden_size": 4096,
            },
            8 * GB * 2 * 1.2 + 2 * 32 * 4096 * 4096 * 4 * 2,
            ["KV 2 x 32 layers x 4096 hidden x 4096 tokens x batch 4 x 2 B"],
            "grouped-query attention",
            id="inference-kv-formula",
        ),
        pytest.param(
            {
                "params": "8B",
                "precision": "int4",
                "sequence_length": 1024,
                "layers": 32,
                "hidden_size": 4096,
            },
            8 * GB * 0.5 * 1.2 + 2 * 32 * 4096 * 1024 * 1 * 2,
            ["batch 1 x 2 B"],
            "16-bit KV cache",
            id="inference-int4-kv-stays-16-bit",
        ),
        pytest.param(
            {"params": "1B", "mode": "training"},
            1 * GB * 16 * 1.25,
            ["16 B (weights, gradients, Adam)", "activations 25%"],
            "ZeRO",
            id="training-adam",
        ),
        pytest.param(
            {
                "params": "1B",
                "mode": "training",
                "sequence_length": 2048,
                "batch_size": 8,
                "layers": 24,
                "hidden_size": 2048,
            },
            1 * GB * 16 + 34 * 2048 * 8 * 2048 * 24,
            ["activations 34 x 2048 tokens x batch 8"],
            "no checkpointing",
            id="training-activations-sized",
        ),
        pytest.param(
            {"params": "7B", "mode": "training", "precision": "fp8"},
            7 * GB * 16 * 1.25,
            ["16 B"],
            "fp8 training still keeps fp32",
            id="training-fp8-keeps-fp32-state",
        ),
        pytest.param(
            {"params": "7B", "mode": "lora"},
            (7 * GB * 2 + 7 * GB * 0.02 * 16) * 1.25,
            ["bf16 frozen base", "2% trainable"],
            "LoRA adapters train 2%",
            id="lora",
        ),
        pytest.param(
            {"params": "70B", "mode": "qlora"},
            (70 * GB * (0.5 + 0.127 / 8) + 70 * GB * 0.02 * 16) * 1.25,
            ["4-bit NF4 base"],
            "QLoRA",
            id="qlora",
        ),
    ],
)
def test_estimate(spec, expected_bytes, formula_has, assumption_has):
    need = estimate_model_memory(ModelSpec(**spec))
    assert need.source == "estimated"
    assert need.bytes == pytest.approx(expected_bytes, rel=1e-6)
    for part in formula_has:
        assert part in need.formula
    assert any(assumption_has in a for a in need.assumptions), need.assumptions
    # the formula ends with the total, as the plan shows it
    assert need.formula.endswith(need.describe().split(" (")[0])


def test_precision_orders_the_need():
    sizes = [
        estimate_model_memory(ModelSpec(params="13B", precision=p)).bytes
        for p in ("fp32", "bf16", "fp8", "int4")
    ]
    assert sizes == sorted(sizes, reverse=True)


def test_modes_order_the_need():
    sizes = [
        estimate_model_memory(ModelSpec(params="13B", mode=m)).bytes
        for m in ("training", "lora", "inference", "qlora")
    ]
    assert sizes == sorted(sizes, reverse=True)


def test_given_memory_wins_and_says_so():
    w = gk.Workload(name="a", kind="inference", gpu_memory="5Gi", model={"params": "70B"})
    need = memory_need(w)
    assert (need.bytes, need.source) == (5 * GIB, "given")
    assert "wins over the model estimate" in need.assumptions[0]


def test_unknown_without_memory_or_model():
    need = memory_need(gk.Workload(name="a", kind="interactive"))
    assert (need.bytes, need.source, need.known) == (None, "unknown", False)


def test_plan_shows_formula_and_assumptions():
    p = gk.plan(gk.Workload(name="a", kind="inference", model={"params": "7B", "kv_cache": "2Gi"}))
    d = p.to_dict()
    assert d["memory_source"] == "estimated"
    assert "7B params" in d["memory_formula"] and "KV cache" in d["memory_formula"]
    assert d["memory_assumptions"]
    text = p.explain()
    assert "Memory assumptions:" in text and d["memory_formula"] in text


# -- models with an architecture (gpukit.models) ------------------------------------------------


def test_named_model_is_sized_from_its_architecture_not_a_flat_overhead():
    need = estimate_model_memory(ModelSpec(name="Qwen3-8B", context_length=4096, max_concurrency=8))
    assert "KV 2 x 8 KV heads x 128 x 36 layers x 4096 tokens x 8 seqs x 2 B" in need.formula
    assert "20% overhead" not in need.formula
    assert not any("not counted" in a for a in need.assumptions)


def test_given_memory_wins_over_a_named_model():
    w = gk.Workload(name="a", kind="inference", gpu_memory="30Gi", model={"name": "Llama-3.1-8B"})
    need = memory_need(w)
    assert (need.bytes, need.source) == (30 * GIB, "given")
    assert "wins over the model estimate" in need.assumptions[0]


@pytest.mark.parametrize(
    ("precision", "smaller_than"),
    [
        pytest.param("fp8", "bf16", id="fp8"),
        pytest.param("awq", "fp8", id="awq"),
        pytest.param("gptq", "int8", id="gptq"),
    ],
)
def test_quantisation_shrinks_a_named_model(precision, smaller_than):
    def size(p):
        return estimate_model_memory(
            ModelSpec(name="Llama-3.1-70B", precision=p, context_length=4096)
        ).bytes

    assert size(precision) < size(smaller_than)
