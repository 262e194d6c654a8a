"""plan() decision table: every branch of the seed tree and every rule, with the codes that fire.

Each case names a workload and a fleet and asserts the chosen option (sharing, GPU model,
MIG profile, GPUs per pod, workers, pool when it matters), the scheduler, and the reason,
warning and rejection codes that must appear. A case may instead expect NoFeasiblePlan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

import gpukit as gk
from gpukit.advisor import PREEMPTIBLE_PRIORITY_CLASS
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet

W = gk.Workload
DEFAULT = gk.default_fleet()


def fleet(*pools: dict[str, Any], volcano=False, kueue=False, dcgm=True, queues=()) -> Fleet:
    return Fleet.model_validate(
        {
            "name": "test",
            "node_pools": list(pools),
            "installed": {"volcano": volcano, "kueue": kueue, "dcgm_exporter": dcgm},
            "queues": list(queues),
        }
    )


def default_with(**installed: bool) -> Fleet:
    base = DEFAULT.model_dump()
    base["installed"] = {**base["installed"], **installed}
    base["queues"] = [q for q in base["queues"] if base["installed"][q["scheduler"]]]
    return Fleet.model_validate(base)


A100_MIG_SMALL = {
    "name": "a100-mig",
    "gpu": "A100-40GB",
    "gpus_per_node": 8,
    "nodes": 1,
    "mig": {"strategy": "mixed", "layout": {"1g.5gb": 7}},
}
H100_ANY_LAYOUT = {
    "name": "h100-any",
    "gpu": "H100-80GB",
    "gpus_per_node": 8,
    "nodes": 1,
    "mig": {"strategy": "mixed"},
}
A100_SINGLE = {
    "name": "a100-single",
    "gpu": "A100-80GB",
    "gpus_per_node": 8,
    "nodes": 1,
    "mig": {"strategy": "single", "layout": {"3g.40gb": 2}},
}
L40S = {"name": "l40s", "gpu": "L40S", "gpus_per_node": 4, "nodes": 2}
L40S_SMALL = {"name": "l40s-a", "gpu": "L40S", "gpus_per_node": 4, "nodes": 1}
L40S_BIG = {"name": "l40s-b", "gpu": "L40S", "gpus_per_node": 4, "nodes": 4}
A100 = {"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 2}
A100_CHEAP = {**A100, "name": "a100-cheap", "price_per_hour": 1.0}
A100_TINY = {
    "name": "a100-tiny",
    "gpu": "A100-80GB",
    "gpus_per_node": 8,
    "nodes": 1,
    "price_per_hour": 0.5,
}
L4_TS = {
    "name": "l4-ts",
    "gpu": "L4",
    "gpus_per_node": 4,
    "nodes": 1,
    "sharing": {"mode": "time-slicing", "replicas": 4},
}
L4_MPS_64 = {
    "name": "l4-mps64",
    "gpu": "L4",
    "gpus_per_node": 4,
    "nodes": 1,
    "sharing": {"mode": "mps", "replicas": 64},
}
V100_MPS_16 = {
    "name": "v100-mps16",
    "gpu": "V100-32GB",
    "gpus_per_node": 4,
    "nodes": 1,
    "sharing": {"mode": "mps", "replicas": 16},
}
V100_MPS_20 = {**V100_MPS_16, "name": "v100-mps20", "sharing": {"mode": "mps", "replicas": 20}}

LLAMA_8B_KV = {
    "params": "8B",
    "precision": "int4",
    "sequence_length": 8192,
    "batch_size": 4,
    "layers": 32,
    "hidden_size": 4096,
}


@dataclass
class Expect:
    sharing: str | None = None
    gpu_model: str | None = None
    profile: str | None = None
    gpus: int = 1
    workers: int = 1
    scheduler: str = "default"
    pool: str | None = None
    resource: str | None = None
    reasons: set[str] = field(default_factory=set)
    warnings: set[str] = field(default_factory=set)
    rejections: set[str] = field(default_factory=set)
    no_plan: bool = False


def case(id_: str, workload: W, expect: Expect, on: Fleet = DEFAULT):
    return pytest.param(workload, on, expect, id=id_)


CASES = [
    # -- seed tree: multi-GPU distributed -> Volcano if gang, Kueue if queueing ------------
    case(
        "distributed-volcano-gang",
        W(name="a", kind="training", workers=2, gpus=8, team="team-research"),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=8,
            workers=2,
            scheduler="volcano",
            reasons={"DISTRIBUTED_DEDICATED", "GANG_VOLCANO"},
            rejections={"DISTRIBUTED_DEDICATED", "ONE_SHARED_GPU_PER_CONTAINER"},
        ),
    ),
    case(
        "distributed-kueue-all-or-nothing",
        W(name="a", kind="training", workers=2, gpus=8, team="team-nlp"),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=8,
            workers=2,
            scheduler="kueue",
            reasons={"DISTRIBUTED_DEDICATED", "GANG_KUEUE"},
        ),
        default_with(volcano=False),
    ),
    case(
        "distributed-no-gang-warns",
        W(name="a", kind="training", workers=4, gpus=8),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=8,
            workers=4,
            reasons={"DISTRIBUTED_DEDICATED", "DEFAULT_SCHEDULER"},
            warnings={"NO_GANG"},
        ),
        default_with(volcano=False, kueue=False),
    ),
    case(
        "distributed-fine-tuning-volcano-default-queue",
        W(name="a", kind="fine-tuning", workers=2, gpus=4),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=4,
            workers=2,
            scheduler="volcano",
            reasons={"DISTRIBUTED_DEDICATED", "GANG_VOLCANO"},
        ),
    ),
    # -- seed tree: single-GPU training -> device plugin, whole GPU --------------------------
    case(
        "single-gpu-training-whole-gpu",
        W(name="a", kind="training"),
        Expect(
            "dedicated",
            "A100-80GB",
            reasons={"TRAINING_WHOLE_GPU", "DEFAULT_SCHEDULER", "MEMORY_UNKNOWN"},
            rejections={"TRAINING_WHOLE_GPU"},
        ),
    ),
    case(
        "team-fine-tuning-kueue-queue",
        W(name="a", kind="fine-tuning", team="team-nlp", gpu_memory="20Gi"),
        Expect(
            "dedicated",
            "A100-80GB",
            scheduler="kueue",
            reasons={"TRAINING_WHOLE_GPU", "QUEUE_KUEUE"},
        ),
    ),
    case(
        "lora-7b-estimated",
        W(name="a", kind="fine-tuning", model={"params": "7B", "mode": "lora"}),
        Expect("dedicated", "A100-80GB", reasons={"TRAINING_WHOLE_GPU", "MEMORY_ESTIMATED"}),
    ),
    case(
        "qlora-70b-fits-one-gpu",
        W(name="a", kind="fine-tuning", model={"params": "70B", "mode": "qlora"}),
        Expect("dedicated", "A100-80GB", reasons={"TRAINING_WHOLE_GPU", "MEMORY_ESTIMATED"}),
    ),
    case(
        "full-training-70b-spans-nodes",
        W(
            name="a",
            kind="training",
            model={"params": "70B", "mode": "training"},
            team="team-research",
        ),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=8,
            workers=3,  # FSDP (ZeRO-3) over 24 A100s: 54 GiB per GPU (issue 14, case 9)
            scheduler="volcano",
            reasons={"TRAINING_WHOLE_GPU", "SHARDED_TRAINING", "GANG_VOLCANO", "MEMORY_ESTIMATED"},
        ),
    ),
    case(
        "training-cheapest-gpu-model",
        W(name="a", kind="training", gpu_memory="30Gi"),
        Expect("dedicated", "L40S", pool="l40s", reasons={"TRAINING_WHOLE_GPU", "GPU_MODEL_COST"}),
        fleet(L40S, A100),
    ),
    case(
        "pool-price-override-wins",
        W(name="a", kind="training", gpu_memory="30Gi"),
        Expect("dedicated", "A100-80GB", pool="a100-cheap", reasons={"GPU_MODEL_COST"}),
        fleet(L40S, A100_CHEAP),
    ),
    case(
        "more-free-capacity-breaks-a-tie",
        W(name="a", kind="training", gpu_memory="20Gi"),
        Expect("dedicated", "L40S", pool="l40s-b", reasons={"TRAINING_WHOLE_GPU"}),
        fleet(L40S_SMALL, L40S_BIG),
    ),
    case(
        "cheap-pool-too-small-capacity",
        W(name="a", kind="inference", gpus=1, replicas=9),
        Expect(
            "dedicated",
            "A100-80GB",
            pool="a100",
            reasons={"WHOLE_GPUS_ASKED"},
            rejections={"NOT_ENOUGH_CAPACITY"},
        ),
        fleet(A100_TINY, A100),
    ),
    # -- seed tree: small shared work -> MIG if isolation, MPS if throughput ---------------
    case(
        "small-strict-mig",
        W(name="a", kind="inference", gpu_memory="6Gi", isolation="strict"),
        Expect(
            "mig",
            "H100-80GB",
            "1g.10gb",
            resource="nvidia.com/mig-1g.10gb",
            reasons={"ISOLATION_STRICT_MIG", "SMALLEST_PROFILE", "MEMORY_GIVEN"},
            rejections={"MEMORY_DOES_NOT_FIT"},
        ),
    ),
    case(
        "medium-strict-next-profile",
        W(name="a", kind="inference", gpu_memory="15Gi", isolation="strict"),
        Expect(
            "mig",
            "H100-80GB",
            "2g.20gb",
            reasons={"ISOLATION_STRICT_MIG", "SMALLEST_PROFILE"},
            rejections={"MEMORY_DOES_NOT_FIT"},
        ),
    ),
    case(
        "large-strict-3g",
        W(name="a", kind="inference", gpu_memory="30Gi", isolation="strict"),
        Expect("mig", "H100-80GB", "3g.40gb", reasons={"ISOLATION_STRICT_MIG", "SMALLEST_PROFILE"}),
    ),
    case(
        "strict-too-big-for-any-slice",
        W(name="a", kind="inference", gpu_memory="50Gi", isolation="strict"),
        Expect(
            "dedicated",
            "A100-80GB",
            reasons={"LARGE_MODEL_DEDICATED"},
            rejections={"LARGE_MODEL_DEDICATED"},
        ),
    ),
    case(
        "strict-throughput-still-mig",
        W(
            name="a",
            kind="batch-inference",
            gpu_memory="3Gi",
            isolation="strict",
            priority="throughput",
        ),
        Expect(
            "mig",
            "H100-80GB",
            "1g.10gb",
            reasons={"ISOLATION_STRICT_MIG"},
            rejections={"MPS_NOT_STRICT", "NO_ISOLATION"},
        ),
    ),
    case(
        "small-throughput-mps",
        W(name="a", kind="batch-inference", gpu_memory="3Gi", priority="throughput"),
        Expect(
            "mps",
            "L4",
            reasons={"THROUGHPUT_MPS", "SHARE_FITS"},
            warnings={"MPS_SHARED_FAULTS"},
            rejections={"NO_ISOLATION"},
        ),
    ),
    case(
        "throughput-too-big-for-mps-falls-back-to-mig",
        W(name="a", kind="batch-inference", gpu_memory="8Gi"),
        Expect(
            "mig",
            "H100-80GB",
            "1g.10gb",
            reasons={"THROUGHPUT_MPS", "FALLBACK", "SMALLEST_PROFILE"},
            rejections={"MEMORY_DOES_NOT_FIT"},
        ),
    ),
    case(
        "throughput-no-isolation-prefers-mps-over-time-slicing",
        W(name="a", kind="batch-inference", gpu_memory="2Gi", isolation="none"),
        Expect("mps", "L4", reasons={"THROUGHPUT_MPS"}),
    ),
    case(
        "cost-priority-cheapest-share",
        W(name="a", kind="inference", gpu_memory="3Gi", priority="cost"),
        Expect("mps", "L4", reasons={"COST_CHEAPEST_SHARE", "SHARE_FITS", "GPU_MODEL_COST"}),
    ),
    case(
        "mig-a100-40gb-smallest",
        W(name="a", kind="inference", gpu_memory="4Gi", isolation="strict"),
        Expect(
            "mig",
            "A100-40GB",
            "1g.5gb",
            pool="a100-mig",
            resource="nvidia.com/mig-1g.5gb",
            reasons={"SMALLEST_PROFILE"},
        ),
        fleet(A100_MIG_SMALL, L40S),
    ),
    case(
        "layout-lacks-a-fitting-profile",
        W(name="a", kind="inference", gpu_memory="8Gi", isolation="strict"),
        Expect(
            "dedicated",
            "L40S",
            reasons={"LARGE_MODEL_DEDICATED"},
            warnings={"WHOLE_GPU_FOR_SMALL_WORK"},
            rejections={"LARGE_MODEL_DEDICATED"},
        ),
        fleet(A100_MIG_SMALL, L40S),
    ),
    case(
        "undeclared-layout-smallest-of-model",
        W(name="a", kind="inference", gpu_memory="15Gi", isolation="strict"),
        Expect(
            "mig",
            "H100-80GB",
            "1g.20gb",
            reasons={"SMALLEST_PROFILE"},
            warnings={"MIG_LAYOUT_NEEDED"},
        ),
        fleet(H100_ANY_LAYOUT, L40S),
    ),
    case(
        "single-strategy-requests-nvidia-gpu",
        W(name="a", kind="inference", gpu_memory="30Gi", isolation="strict"),
        Expect(
            "mig", "A100-80GB", "3g.40gb", resource="nvidia.com/gpu", reasons={"SMALLEST_PROFILE"}
        ),
        fleet(A100_SINGLE, L40S),
    ),
    case(
        "strict-without-mig-in-fleet-falls-back",
        W(name="a", kind="inference", gpu_memory="3Gi", isolation="strict"),
        Expect(
            "dedicated",
            "L40S",
            reasons={"FALLBACK", "ISOLATION_STRICT_MIG"},
            warnings={"WHOLE_GPU_FOR_SMALL_WORK"},
            rejections={"NO_ISOLATION"},
        ),
        fleet(L4_TS, L40S),
    ),
    case(
        "mps-over-48-clients-rejected",
        W(name="a", kind="batch-inference", gpu_memory="100Mi"),
        Expect("dedicated", "L40S", reasons={"FALLBACK"}, rejections={"MPS_CLIENT_LIMIT"}),
        fleet(L4_MPS_64, L40S),
    ),
    case(
        "mps-volta-16-clients-ok",
        W(name="a", kind="batch-inference", gpu_memory="1Gi"),
        Expect("mps", "V100-32GB", reasons={"THROUGHPUT_MPS"}),
        fleet(V100_MPS_16, L40S),
    ),
    case(
        "mps-volta-over-16-clients-rejected",
        W(name="a", kind="batch-inference", gpu_memory="1Gi"),
        Expect("dedicated", "L40S", rejections={"MPS_CLIENT_LIMIT"}),
        fleet(V100_MPS_20, L40S),
    ),
    # -- seed tree: inference -> MIG or time-slicing for small models, dedicated for large --
    case(
        "latency-inference-mig",
        W(name="a", kind="inference", gpu_memory="4Gi", isolation="process", priority="latency"),
        Expect("mig", "H100-80GB", "1g.10gb", reasons={"LATENCY_MIG"}),
    ),
    case(
        "latency-inference-avoids-time-slicing",
        W(name="a", kind="inference", gpu_memory="4Gi", isolation="none"),
        Expect(
            "mig",
            "H100-80GB",
            "1g.10gb",
            reasons={"LATENCY_MIG"},
            rejections={"LATENCY_AVOIDS_TIME_SLICING"},
        ),
    ),
    case(
        "small-inference-no-isolation-time-slicing",
        W(name="a", kind="inference", gpu_memory="4Gi", isolation="none", priority="cost"),
        Expect(
            "time-slicing",
            "L4",
            reasons={"DEV_TIME_SLICING", "SHARE_FITS"},
            warnings={"TIME_SLICING_NO_ISOLATION"},
        ),
    ),
    case(
        "kv-cache-sized-inference-3g",
        W(name="a", kind="inference", model=LLAMA_8B_KV),
        Expect("mig", "H100-80GB", "3g.40gb", reasons={"LATENCY_MIG", "MEMORY_ESTIMATED"}),
    ),
    case(
        "large-llm-tensor-parallel",
        W(name="a", kind="inference", model={"params": "70B", "precision": "bf16"}),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=4,
            reasons={"LARGE_MODEL_DEDICATED", "TENSOR_PARALLEL", "MEMORY_ESTIMATED"},
        ),
    ),
    case(
        "huge-llm-multi-node-gang",
        W(name="a", kind="inference", model={"params": "405B", "precision": "bf16"}),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=8,
            workers=2,
            scheduler="volcano",
            reasons={"LARGE_MODEL_DEDICATED", "MULTI_NODE", "GANG_VOLCANO"},
        ),
        default_with(lws=True),
    ),
    case(
        "huge-llm-without-lws-cannot-span-nodes",
        W(name="a", kind="inference", model={"params": "405B", "precision": "bf16"}),
        Expect(no_plan=True, rejections={"MULTI_NODE_SERVING_NEEDS_LWS", "LARGE_MODEL_DEDICATED"}),
    ),
    case(
        "fp8-70b-fits-one-node",
        W(name="a", kind="inference", model={"params": "70B", "precision": "fp8"}),
        Expect(
            "dedicated", "A100-80GB", gpus=2, reasons={"LARGE_MODEL_DEDICATED", "TENSOR_PARALLEL"}
        ),
    ),
    case(
        "inference-unknown-memory-whole-gpu",
        W(name="a", kind="inference"),
        Expect(
            "dedicated",
            "A100-80GB",
            reasons={"FALLBACK", "MEMORY_UNKNOWN"},
            warnings={"WHOLE_GPU_FOR_SMALL_WORK"},
            rejections={"MEMORY_NEED_UNKNOWN"},
        ),
    ),
    case(
        "explicit-gpus-honoured",
        W(name="a", kind="inference", gpus=2, gpu_memory="1Gi"),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=2,
            reasons={"WHOLE_GPUS_ASKED"},
            rejections={"ONE_SHARED_GPU_PER_CONTAINER", "WHOLE_GPUS_ASKED"},
        ),
    ),
    case(
        "explicit-memory-wins-over-estimate",
        W(
            name="a",
            kind="inference",
            gpu_memory="5Gi",
            isolation="strict",
            model={"params": "70B"},
        ),
        Expect("mig", "H100-80GB", "1g.10gb", reasons={"MEMORY_GIVEN"}),
    ),
    # -- dev, notebooks, CI -> time-slicing ----------------------------------------------------
    case(
        "notebook-time-slicing",
        W(name="a", kind="interactive"),
        Expect(
            "time-slicing",
            "L4",
            reasons={"DEV_TIME_SLICING", "MEMORY_UNKNOWN"},
            warnings={"TIME_SLICING_NO_ISOLATION", "MEMORY_NEED_UNKNOWN"},
            rejections={"MEMORY_NEED_UNKNOWN"},
        ),
    ),
    case(
        "ci-time-slicing",
        W(name="a", kind="ci", gpu_memory="2Gi"),
        Expect("time-slicing", "L4", reasons={"DEV_TIME_SLICING", "MEMORY_GIVEN"}),
    ),
    case(
        "notebook-two-gpus-gets-whole-gpus",
        W(name="a", kind="interactive", gpus=2),
        Expect(
            "dedicated",
            "A100-80GB",
            gpus=2,
            reasons={"WHOLE_GPUS_ASKED"},
            rejections={"ONE_SHARED_GPU_PER_CONTAINER"},
        ),
    ),
    case(
        "notebook-too-big-for-a-share",
        W(name="a", kind="interactive", gpu_memory="8Gi"),
        Expect(
            "mig",
            "H100-80GB",
            "1g.10gb",
            reasons={"FALLBACK", "DEV_TIME_SLICING"},
            rejections={"MEMORY_DOES_NOT_FIT"},
        ),
    ),
    # -- queues, priority, monitoring -------------------------------------------------------
    case(
        "preemptible-low-priority-class",
        W(name="a", kind="training", gpu_memory="20Gi", preemptible=True),
        Expect("dedicated", "A100-80GB", reasons={"PREEMPTIBLE_LOW_PRIORITY"}),
    ),
    case(
        "team-without-queue-warns",
        W(name="a", kind="training", team="team-unknown"),
        Expect("dedicated", "A100-80GB", warnings={"NO_QUEUE_FOR_TEAM"}),
    ),
    case(
        "team-without-kueue-has-no-quota",
        W(name="a", kind="training", gpu_memory="20Gi", team="team-nlp"),
        Expect("dedicated", "A100-80GB", warnings={"NO_QUOTA"}),
        fleet(A100),
    ),
    case(
        "named-queue-not-in-fleet",
        W(name="a", kind="training", gpu_memory="20Gi", queue="adhoc"),
        Expect(
            "dedicated",
            "A100-80GB",
            scheduler="kueue",
            reasons={"QUEUE_KUEUE"},
            warnings={"QUEUE_NOT_IN_FLEET"},
        ),
    ),
    case(
        "no-dcgm-warns",
        W(name="a", kind="training", gpu_memory="20Gi"),
        Expect("dedicated", "A100-80GB", warnings={"NO_DCGM_MONITORING"}),
        fleet(A100, dcgm=False),
    ),
    # -- nothing fits ---------------------------------------------------------------------------
    case(
        "sixteen-gpus-in-one-pod",
        W(name="a", kind="training", gpus=16),
        Expect(no_plan=True, rejections={"EXCEEDS_NODE", "TRAINING_WHOLE_GPU"}),
    ),
    case(
        "batch-model-bigger-than-a-node",
        W(name="a", kind="batch-inference", model={"params": "405B"}),
        Expect(no_plan=True, rejections={"EXCEEDS_NODE", "LARGE_MODEL_DEDICATED"}),
    ),
    case(
        "training-on-a-mig-only-fleet",
        W(name="a", kind="training", gpu_memory="4Gi"),
        Expect(no_plan=True, rejections={"TRAINING_WHOLE_GPU"}),
        fleet(A100_MIG_SMALL),
    ),
]


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize(("workload", "on", "expect"), CASES)
def test_plan_case(workload: W, on: Fleet, expect: Expect):
    if expect.no_plan:
        with pytest.raises(NoFeasiblePlan) as info:
            gk.plan(workload, on)
        codes = {r.code for r in info.value.rejections}
        assert expect.rejections <= codes, str(info.value)
        # the message lists every rejection
        assert all(r.option in str(info.value) for r in info.value.rejections)
        return
    p = gk.plan(workload, on)
    c = p.choice
    got = (c.sharing, c.gpu_model, c.mig_profile, c.gpus, c.workers, p.scheduler)
    want = (
        expect.sharing,
        expect.gpu_model,
        expect.profile,
        expect.gpus,
        expect.workers,
        expect.scheduler,
    )
    assert got == want, p.explain()
    if expect.pool:
        assert c.pool == expect.pool, p.explain()
    if expect.resource:
        assert c.resource_name == expect.resource
    assert expect.reasons <= {r.code for r in p.reasons}, p.explain()
    assert expect.warnings <= {r.code for r in p.warnings}, p.explain()
    assert expect.rejections <= {r.code for r in p.rejections}, p.explain()


def test_preemptible_plan_names_the_priority_class():
    p = gk.plan(W(name="a", kind="training", gpu_memory="20Gi", preemptible=True))
    assert p.priority_class == PREEMPTIBLE_PRIORITY_CLASS == "gpukit-preemptible"
    assert p.to_dict()["priority_class"] == "gpukit-preemptible"
    assert gk.plan(W(name="a", kind="training")).priority_class is None
