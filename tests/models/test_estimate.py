"""Serving and training estimates: their invariants, the plan's strategy and engine settings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpukit as gk
from gpukit.errors import WorkloadError
from gpukit.memory import memory_need, serving_settings
from gpukit.models import architecture, catalog
from gpukit.models.estimate import (
    max_concurrency,
    serving_estimate,
    training_estimate,
    weight_bytes,
)
from gpukit.quantity import GIB

LLAMA_8B = architecture("Llama-3.1-8B")


def test_quantised_weights_shrink_in_order():
    sizes = [weight_bytes(LLAMA_8B, p)[0] for p in ("fp32", "bf16", "fp8", "awq")]
    assert sizes == sorted(sizes, reverse=True)
    # int4 AWQ/GPTQ: 4 bits + a group-128 fp16 scale and 4-bit zero; embeddings stay 16-bit
    linear = LLAMA_8B.params - 2 * 128256 * 4096
    assert weight_bytes(LLAMA_8B, "gptq")[0] == pytest.approx(
        linear * (4 + 20 / 128) / 8 + 2 * 128256 * 4096 * 2
    )


def test_fp8_kv_cache_halves_the_cache():
    bf16 = serving_estimate(LLAMA_8B, context=8192, concurrency=8)
    fp8 = serving_estimate(LLAMA_8B, context=8192, concurrency=8, kv_dtype="fp8")
    assert fp8.term("KV") * 2 == bf16.term("KV")


def test_tensor_parallel_splits_weights_and_cache_not_the_context():
    one = serving_estimate(LLAMA_8B, context=8192, concurrency=8)
    four = serving_estimate(LLAMA_8B, context=8192, concurrency=8, tensor_parallel=4)
    assert four.term("weights") * 4 == pytest.approx(one.term("weights"))
    assert four.term("KV") * 4 == pytest.approx(one.term("KV"))
    assert four.term("CUDA context") == one.term("CUDA context")


@settings(max_examples=60, deadline=None)
@given(
    memory_gib=st.floats(min_value=18, max_value=140),
    context=st.sampled_from([1024, 4096, 8192, 32768]),
    name=st.sampled_from(["Llama-3.1-8B", "Gemma-2-9B", "Qwen3-30B-A3B"]),
)
def test_max_concurrency_is_the_inverse_of_the_estimate(memory_gib, context, name):
    arch = architecture(name)
    memory = memory_gib * GIB
    n = max_concurrency(arch, memory, context=context)
    if n:
        assert serving_estimate(arch, context=context, concurrency=n).bytes <= memory
    assert serving_estimate(arch, context=context, concurrency=n + 1).bytes > memory


def test_sharding_never_raises_the_per_gpu_need():
    arch = architecture("Llama-3.1-70B")
    per_gpu = [
        training_estimate(arch, sharding=s, data_parallel=16, checkpointing=True).bytes
        for s in ("ddp", "zero1", "zero2", "zero3")
    ]
    assert per_gpu == sorted(per_gpu, reverse=True)
    assert per_gpu[-1] < per_gpu[0] / 4


def test_optimizers_order_and_checkpointing_saves_memory():
    arch = architecture("Llama-3.2-1B")
    by_opt = [
        training_estimate(arch, optimizer=o, master_weights=False, batch=4, sequence=2048).term(
            "optimizer"
        )
        for o in ("adamw", "adamw-bf16", "adamw-8bit")
    ]
    assert by_opt == [arch.params * 8, arch.params * 4, arch.params * 2]
    full = training_estimate(arch, batch=8, sequence=2048)
    ckpt = training_estimate(arch, batch=8, sequence=2048, checkpointing=True)
    assert ckpt.bytes < full.bytes


def test_qlora_base_is_4_bit():
    arch = architecture("Llama-3.1-70B")
    qlora = training_estimate(arch, mode="qlora")
    lora = training_estimate(arch, mode="lora")
    assert qlora.term("frozen base") < lora.term("frozen base") / 3


# -- the plan -------------------------------------------------------------------------------

SERVE_8B = gk.Workload(
    name="chat",
    kind="inference",
    priority="latency",
    model={"name": "Llama-3.1-8B", "max_concurrency": 32, "context_length": 8192},
)


def test_serving_need_counts_the_kv_cache_with_the_formula_shown():
    need = memory_need(SERVE_8B)
    assert need.bytes == pytest.approx((14.96 + 32 + 0.95 + 1.3 + 1.0) * GIB, rel=0.01)
    assert (
        "KV 2 x 8 KV heads x 128 x 32 layers x 8192 tokens x 32 seqs x 2 B = 32.00 GiB"
        in need.formula
    )
    assert not any("not counted" in a for a in need.assumptions)


def test_plan_gives_vllm_settings_that_fit():
    plan = gk.plan(SERVE_8B)
    (engine,) = [r.message for r in plan.reasons if r.code == "ENGINE_SETTINGS"]
    assert "--max-model-len 8192" in engine and "--max-num-seqs 32" in engine
    assert "ENGINE_SETTINGS" in plan.explain()


@pytest.mark.parametrize(
    ("device_gib", "allotted_gib", "util"),
    [
        pytest.param(80, 80, 0.90, id="whole-gpu"),
        pytest.param(80, 20, 0.22, id="time-sliced-quarter-sees-the-whole-gpu"),
        pytest.param(19.6, 19.6, 0.90, id="mig-slice-sees-itself"),
    ],
)
def test_gpu_memory_utilization_is_of_the_device_the_engine_sees(device_gib, allotted_gib, util):
    w = gk.Workload(
        name="s",
        kind="inference",
        model={"name": "Llama-3.2-1B", "max_concurrency": 4, "context_length": 4096},
    )
    flags, why = serving_settings(
        w,
        device_bytes=int(device_gib * GIB),
        allotted_bytes=int(allotted_gib * GIB),
        gpus=1,
        workers=1,
    )
    assert flags["--gpu-memory-utilization"] == util
    assert flags["--gpu-memory-utilization"] * device_gib <= allotted_gib / 1.1 + 0.01
    assert "sequences of 4096 tokens" in why


FINETUNE_70B = gk.Workload(
    name="ft-70b",
    kind="fine-tuning",
    gpus=8,
    workers=2,
    model={"name": "Llama-3.1-70B", "mode": "training", "sequence_length": 4096},
)


def test_70b_full_fine_tune_on_two_nodes_is_sharded_and_fits_each_gpu():
    need = memory_need(FINETUNE_70B)
    assert need.strategy.startswith("FSDP full shard (ZeRO-3) over 16 GPUs")
    plan = gk.plan(FINETUNE_70B)
    per_gpu = need.bytes / plan.choice.gpus
    assert per_gpu * 1.1 <= plan.choice.memory_bytes / plan.choice.gpus
    assert "FSDP full shard" in plan.explain()


def test_ddp_when_the_model_fits_unsharded():
    w = gk.Workload(
        name="ft-1b",
        kind="fine-tuning",
        gpus=8,
        model={"name": "Llama-3.2-1B", "mode": "training", "sequence_length": 2048},
    )
    assert memory_need(w).strategy == "DDP over 8 GPUs"


# -- the workload fields -------------------------------------------------------------------


def test_workload_file_names_a_model_or_a_config(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "hidden_size": 2048,
                "intermediate_size": 8192,
                "num_attention_heads": 32,
                "num_hidden_layers": 16,
                "num_key_value_heads": 8,
                "vocab_size": 128256,
                "tie_word_embeddings": True,
            }
        )
    )
    path = tmp_path / "w.yaml"
    path.write_text(
        "name: a\nkind: inference\nmodel: {name: Llama-3.2-1B, context_length: 4096}\n---\n"
        f"name: b\nkind: inference\nmodel: {{config: {config}, context_length: 4096}}\n"
    )
    a, b = gk.load_workloads(path)
    assert memory_need(a).bytes == memory_need(b).bytes


def test_explicit_fields_override_the_catalog():
    base = gk.Workload(
        name="a", kind="inference", model={"name": "Llama-3.1-8B", "context_length": 8192}
    )
    fewer = gk.Workload(
        name="a",
        kind="inference",
        model={"name": "Llama-3.1-8B", "context_length": 8192, "kv_heads": 4},
    )
    assert memory_need(fewer).bytes < memory_need(base).bytes


def test_unknown_model_name_in_a_workload_file_is_one_line(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("name: a\nkind: inference\nmodel: {name: Lama-3.1-8B}\n")
    with pytest.raises(WorkloadError, match=r"did you mean 'Llama-3.1-8B'"):
        gk.load_workloads(path)


@pytest.mark.parametrize(
    ("name", "tp", "kv_split"),
    [
        pytest.param("Llama-3.1-8B", 4, 4, id="gqa-heads-split"),
        pytest.param("Qwen3-30B-A3B", 8, 4, id="4-kv-heads-copied-past-tp4"),
        pytest.param("DeepSeek-V3", 8, 1, id="mla-latent-whole-on-each-rank"),
    ],
)
def test_kv_cache_splits_over_tp_only_as_far_as_its_heads(name, tp, kv_split):
    arch = architecture(name)
    one = serving_estimate(arch, context=4096, concurrency=4)
    many = serving_estimate(arch, context=4096, concurrency=4, tensor_parallel=tp)
    assert many.term("KV") * kv_split == pytest.approx(one.term("KV"))


def test_a_time_sliced_share_gets_the_shares_fraction_of_the_whole_gpu(tmp_path):
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(
        "name: shared\nnode_pools:\n"
        "  - name: l4-shared\n    gpu: L4\n    gpus_per_node: 4\n    nodes: 1\n"
        "    sharing: {mode: time-slicing, replicas: 4, config_name: l4-ts}\n"
    )
    fleet = gk.load_fleet(fleet_file)
    w = gk.Workload(
        name="dev-chat",
        kind="inference",
        isolation="none",
        priority="cost",
        model={"name": "Llama-3.2-1B", "max_concurrency": 1, "context_length": 1024},
    )
    plan = gk.plan(w, fleet)
    assert plan.choice.sharing == "time-slicing"
    (engine,) = [r.message for r in plan.reasons if r.code == "ENGINE_SETTINGS"]
    util = float(engine.split("--gpu-memory-utilization ")[1].split()[0])
    # a quarter of the GPU, less the headroom: vLLM's default 0.9 would take its neighbours' memory
    assert 0.2 <= util <= 0.25
    assert "the whole GPU, of which this time-slicing replica gets a share" in engine
    assert "neighbours must stay within their shares" in engine


def test_training_plan_says_how_to_launch_it():
    plan = gk.plan(FINETUNE_70B)
    (launch,) = [r.message for r in plan.reasons if r.code == "ENGINE_SETTINGS"]
    assert launch.startswith(
        "torchrun --nnodes 2 --nproc-per-node 8; FSDP full shard (ZeRO-3) over 16 GPUs"
    )
    assert "gradient checkpointing on" in launch


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(catalog())),
    concurrency=st.integers(min_value=1, max_value=64),
    context=st.sampled_from([2048, 8192, 32768]),
    precision=st.sampled_from(["bf16", "fp8", "awq"]),
)
def test_a_plan_never_gives_a_pod_less_memory_than_the_model_needs(
    name, concurrency, context, precision
):
    w = gk.Workload(
        name="s",
        kind="inference",
        model={
            "name": name,
            "max_concurrency": concurrency,
            "context_length": context,
            "precision": precision,
        },
    )
    try:
        plan = gk.plan(w)
    except gk.NoFeasiblePlan:
        return
    held = plan.choice.memory_bytes * (plan.choice.workers if plan.choice.spans_nodes else 1)
    assert plan.memory.bytes * 1.1 <= held + 1
