"""Issue 14, cases 7-10: plans that misled (precision, no sharing, training memory, MIG decode).

Each test fails on the code before the fix: it asserts the code and the sentence a reviewer
reads, not only that a plan comes out.
"""

from __future__ import annotations

from typing import Any

import pytest

import gpukit as gk
from gpukit.fleet import Fleet

W = gk.Workload


def fleet(*pools: dict[str, Any]) -> Fleet:
    return Fleet.model_validate(
        {"name": "test", "node_pools": list(pools), "installed": {"dcgm_exporter": True}}
    )


T4 = {"name": "t4", "gpu": "T4", "gpus_per_node": 4, "nodes": 2}
A100 = {"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 2}


def codes(reasons) -> set[str]:
    return {r.code for r in reasons}


# -- case 8: a fleet without sharing explains itself and points to the fix -------------------


def test_no_sharing_fleet_says_so_instead_of_large_model():
    p = gk.plan(W(name="ci", kind="ci", gpu_memory="2Gi"), fleet(T4))
    assert p.sharing == "dedicated"
    assert p.reasons[0].code == "NO_SHARING_IN_FLEET"
    assert "large models" not in p.explain()
    assert "no MIG slices or shared GPUs" in p.reasons[0].message


@pytest.mark.parametrize(
    ("pools", "workload", "fix"),
    [
        # T4 has no MIG: a time-sliced share for CI, 6 x 2.5 GiB hold 2.2 GiB with headroom
        (
            (T4,),
            W(name="ci", kind="ci", gpu_memory="2Gi"),
            "give pool t4 sharing: {mode: time-slicing, replicas: 6}",
        ),
        # isolated serving on an A100: the smallest MIG slice that holds it
        (
            (A100,),
            W(name="bert", kind="inference", gpu_memory="4Gi", isolation="strict"),
            "give pool a100 a MIG layout, e.g. mig: {strategy: mixed, layout: {1g.10gb: 7}}",
        ),
        # trusted serving without MIG: MPS
        (
            (T4,),
            W(name="bert", kind="inference", gpu_memory="4Gi"),
            "give pool t4 sharing: {mode: mps, replicas: 3}",
        ),
    ],
)
def test_no_sharing_fleet_warns_about_waste_with_the_config_that_fixes_it(pools, workload, fix):
    p = gk.plan(workload, fleet(*pools))
    warning = next(w for w in p.warnings if w.code == "NO_SHARING_IN_FLEET")
    assert fix in warning.message
    assert "gpukit platform render" in warning.message


def test_no_sharing_fleet_does_not_warn_for_work_that_fills_the_gpu():
    p = gk.plan(W(name="big", kind="inference", gpu_memory="12Gi"), fleet(T4))
    assert p.reasons[0].code == "NO_SHARING_IN_FLEET"
    assert "NO_SHARING_IN_FLEET" not in codes(p.warnings)


# -- case 7: the plan computes in the workload's precision, or says what happens instead --------

L4 = {"name": "l4", "gpu": "L4", "gpus_per_node": 4, "nodes": 2}
A100_CHEAP = {**A100, "name": "a100-cheap", "price_per_hour": 0.5}
H100 = {"name": "h100", "gpu": "H100-80GB", "gpus_per_node": 8, "nodes": 1}


@pytest.mark.parametrize(
    ("pools", "model", "chosen", "dropped"),
    [
        # T4 is cheaper, but has no bf16 Tensor Cores: the L4 computes bf16 natively
        ((T4, L4), {"params": "3B", "precision": "bf16"}, "L4", "T4"),
        # a cheaper A100 has no FP8 Tensor Cores: the H100 serves FP8 natively
        ((A100_CHEAP, H100), {"params": "8B", "precision": "fp8"}, "H100-80GB", "A100-80GB"),
    ],
)
def test_plan_picks_a_gpu_with_the_precision_natively(pools, model, chosen, dropped):
    p = gk.plan(W(name="m", kind="inference", model=model), fleet(*pools))
    assert p.choice.gpu_model == chosen
    gap = next(r for r in p.rejections if r.code == "PRECISION_NOT_NATIVE")
    assert gap.option.startswith(f"1x {dropped} ")
    assert "PRECISION_NOT_NATIVE" not in codes(p.warnings)


def test_weight_only_int4_needs_fp16_not_int4_tensor_cores():
    # gpukit sizes int4 as weight-only (16-bit activations): an H100 runs it natively
    p = gk.plan(
        W(name="m", kind="inference", model={"params": "8B", "precision": "int4"}), fleet(H100)
    )
    assert "PRECISION_NOT_NATIVE" not in codes(p.warnings)


@pytest.mark.parametrize(
    ("pools", "model", "says"),
    [
        ((T4,), {"params": "3B", "precision": "bf16"}, "bf16 work runs as fp16"),
        ((A100,), {"params": "8B", "precision": "fp8"}, "FP8 weights are served by weight-only"),
    ],
)
def test_without_a_native_gpu_the_plan_says_what_runs_instead(pools, model, says):
    p = gk.plan(W(name="m", kind="inference", model=model), fleet(*pools))
    warning = next(w for w in p.warnings if w.code == "PRECISION_NOT_NATIVE")
    assert says in warning.message
    assert f"{model['precision']} on {p.choice.gpu_model}" in warning.message


def test_fp8_training_is_rejected_where_there_are_no_fp8_tensor_cores():
    model = {"params": "1B", "precision": "fp8", "mode": "training"}
    with pytest.raises(gk.NoFeasiblePlan, match="PRECISION_NOT_SUPPORTED"):
        gk.plan(W(name="t", kind="training", model=model), fleet(A100))
    p = gk.plan(W(name="t", kind="training", model=model), fleet(A100, H100))
    assert p.choice.gpu_model == "H100-80GB"
    assert "PRECISION_NOT_SUPPORTED" in codes(p.rejections)


# -- case 10: an LLM's decode on a MIG slice scales by the slice's memory-bandwidth share -------

H100_MIG = {
    "name": "h100-mig",
    "gpu": "H100-80GB",
    "gpus_per_node": 8,
    "nodes": 1,
    "mig": {"strategy": "mixed", "layout": {"3g.40gb": 2}},
}


def test_llm_decode_on_a_mig_slice_runs_at_the_slices_memory_share():
    w = W(
        name="llm",
        kind="inference",
        isolation="strict",
        model={"name": "Llama-3.1-8B", "precision": "bf16"},
    )
    p = gk.plan(w, fleet(H100_MIG))
    assert p.choice.mig_profile == "3g.40gb"
    pred = p.prediction
    assert pred is not None and pred.mode == "mig"
    # 3g.40gb holds 4 of the H100's 8 memory slices: half the bandwidth, not ~0.95x
    assert pred.per_replica_throughput == pytest.approx(0.5, abs=0.01)
    assert any("law: memory-bandwidth bound" in a for a in pred.assumptions)


def test_small_kernel_serving_on_a_mig_slice_keeps_the_compute_law():
    w = W(name="bert", kind="inference", isolation="strict", gpu_memory="6Gi")
    p = gk.plan(w, fleet(H100_MIG))
    pred = p.prediction
    assert pred is not None and pred.per_replica_throughput > 0.8
    assert any("law: small-kernel (compute)" in a for a in pred.assumptions)


# -- case 9: training plans name their sharding and never need more than their GPUs hold --------


def pool(gpu: str, name: str = "p", nodes: int = 4) -> dict[str, Any]:
    return {"name": name, "gpu": gpu, "gpus_per_node": 8, "nodes": nodes}


def test_params_only_training_on_16_a100s_names_the_sharding_that_fits():
    w = W(name="t", kind="training", workers=2, gpus=8, model={"params": "13B", "mode": "training"})
    p = gk.plan(w, fleet(pool("A100-80GB")))
    gpu = 80 * 2**30
    # unsharded this is 242 GiB per worker, which no A100 holds; ZeRO-1 over 16 GPUs fits
    assert p.memory.strategy == "ZeRO-1 over 16 GPUs"
    assert p.memory.per_gpu_bytes * 1.1 <= gpu
    assert p.memory.bytes <= p.choice.memory_bytes
    assert "SHARDED_TRAINING" in codes(p.reasons)
    text = p.explain()
    assert "ZeRO-1 over 16 GPUs" in text and "no optimizer-state sharding" not in text


@pytest.mark.parametrize(
    ("gpu", "strategy"),
    [
        ("A100-80GB", "ZeRO-1 over 16 GPUs"),  # 112 GiB unsharded does not fit 80 GiB
        ("H200", "DDP over 16 GPUs"),  # but it fits a 141 GB H200: no sharding needed
    ],
)
def test_the_strategy_is_chosen_against_the_options_gpu_memory(gpu, strategy):
    w = W(name="t", kind="training", workers=2, gpus=8, model={"params": "6B", "mode": "training"})
    p = gk.plan(w, fleet(pool(gpu)))
    assert p.memory.strategy == strategy
    assert strategy in next(r.message for r in p.reasons if r.code == "SHARDED_TRAINING")


def test_a_params_only_model_too_big_for_a_node_spreads_over_sharded_nodes():
    w = W(name="t", kind="training", model={"params": 70e9, "mode": "training"})
    p = gk.plan(w, fleet(pool("A100-80GB", nodes=8)))
    assert p.memory.strategy == f"FSDP full shard (ZeRO-3) over {p.workers * p.choice.gpus} GPUs"
    assert p.workers > 1 and p.memory.per_gpu_bytes * 1.1 <= 80 * 2**30


@pytest.mark.parametrize("params", ["1B", "7B", "13B", "34B", "70B"])
@pytest.mark.parametrize("mode", ["training", "lora"])
@pytest.mark.parametrize("gpu", ["A100-40GB", "A100-80GB", "H200"])
def test_no_training_plan_needs_more_per_gpu_than_its_gpus_hold(params, mode, gpu):
    w = W(name="t", kind="training", model={"params": params, "mode": mode})
    try:
        p = gk.plan(w, fleet(pool(gpu, nodes=16)))
    except gk.NoFeasiblePlan as exc:
        assert "MEMORY_DOES_NOT_FIT" in str(exc) and "per GPU" in str(exc)
        return
    per_gpu = p.choice.memory_bytes // p.choice.gpus
    assert (p.memory.per_gpu_bytes or 0) * 1.1 <= per_gpu
    assert (p.memory.bytes or 0) <= p.choice.memory_bytes
    if p.choice.gpus * p.workers > 1:
        assert p.memory.strategy and p.memory.strategy in p.explain()


def test_an_architecture_model_is_sharded_against_each_options_gpus():
    w = W(
        name="t",
        kind="fine-tuning",
        workers=2,
        gpus=8,
        model={"name": "Llama-3.1-70B", "mode": "training", "sequence_length": 4096},
    )
    p = gk.plan(w, fleet(pool("A100-80GB")))
    assert p.memory.strategy.startswith("FSDP full shard (ZeRO-3)")
    assert p.memory.per_gpu_bytes * 1.1 <= 80 * 2**30
    with pytest.raises(gk.NoFeasiblePlan, match=r"MEMORY_DOES_NOT_FIT\] needs .* per GPU"):
        gk.plan(w, fleet(pool("A100-40GB")))


def test_memory_need_of_a_multi_gpu_params_only_job_names_its_sharding():
    from gpukit.memory import TRAINING_GPU_BUDGET, memory_need

    w = W(name="t", kind="training", workers=2, gpus=8, model={"params": "13B", "mode": "training"})
    need = memory_need(w)
    assert need.strategy == "ZeRO-1 over 16 GPUs"
    assert need.per_gpu_bytes <= TRAINING_GPU_BUDGET
    assert need.bytes == need.per_gpu_bytes * 8
    assert not any("no optimizer-state sharding" in a for a in need.assumptions)
