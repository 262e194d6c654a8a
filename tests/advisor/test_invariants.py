"""Properties plan() keeps for any workload on any fleet (Hypothesis)."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

import gpukit as gk
from gpukit.advisor import HEADROOM, clear_caches
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet

W = gk.Workload

POOLS = [
    {
        "name": "h100-mig",
        "gpu": "H100-80GB",
        "gpus_per_node": 8,
        "nodes": 2,
        "mig": {"strategy": "mixed", "layout": {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}},
    },
    {
        "name": "a100-40-mig",
        "gpu": "A100-40GB",
        "gpus_per_node": 8,
        "nodes": 1,
        "mig": {"strategy": "mixed", "layout": {"1g.5gb": 7}},
    },
    {
        "name": "a30-single",
        "gpu": "A30",
        "gpus_per_node": 4,
        "nodes": 1,
        "mig": {"strategy": "single", "layout": {"2g.12gb": 2}},
    },
    {
        "name": "h200-any",
        "gpu": "H200",
        "gpus_per_node": 8,
        "nodes": 1,
        "mig": {"strategy": "mixed"},
    },
    {"name": "a100-80", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 4},
    {"name": "l40s", "gpu": "L40S", "gpus_per_node": 4, "nodes": 2, "price_per_hour": 0.9},
    {"name": "t4", "gpu": "T4", "gpus_per_node": 1, "nodes": 3},
    {
        "name": "l4-ts",
        "gpu": "L4",
        "gpus_per_node": 4,
        "nodes": 2,
        "sharing": {"mode": "time-slicing", "replicas": 4},
    },
    {
        "name": "l4-mps",
        "gpu": "L4",
        "gpus_per_node": 4,
        "nodes": 2,
        "sharing": {"mode": "mps", "replicas": 8},
    },
    {
        "name": "l4-mps64",
        "gpu": "L4",
        "gpus_per_node": 4,
        "nodes": 1,
        "sharing": {"mode": "mps", "replicas": 64},
    },
    {
        "name": "v100-mps",
        "gpu": "V100-32GB",
        "gpus_per_node": 4,
        "nodes": 1,
        "sharing": {"mode": "mps", "replicas": 20},
    },
    # MIG slices time-sliced by the device plugin (mixed: per MIG resource; single: nvidia.com/gpu)
    {
        "name": "a100-mig-ts",
        "gpu": "A100-40GB",
        "gpus_per_node": 8,
        "nodes": 1,
        "mig": {"strategy": "mixed", "layout": {"1g.5gb": 3, "2g.10gb": 2}},
        "sharing": {"mode": "time-slicing", "replicas": 4, "rename_by_default": True},
    },
    {
        "name": "h100-single-ts",
        "gpu": "H100-80GB",
        "gpus_per_node": 8,
        "nodes": 1,
        "mig": {"strategy": "single", "layout": {"1g.10gb": 7}},
        "sharing": {"mode": "time-slicing", "replicas": 2},
    },
]


@st.composite
def fleets(draw) -> Fleet:
    if draw(st.booleans()):
        return gk.default_fleet()
    pools = draw(
        st.lists(st.sampled_from(POOLS), min_size=1, max_size=4, unique_by=lambda p: p["name"])
    )
    volcano, kueue, lws = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    kai = draw(st.booleans())
    queues = (
        [{"name": "team-a", "scheduler": "kueue", "team": "team-a", "namespace": "team-a"}]
        if kueue
        else []
    )
    if kai and draw(st.booleans()):
        queues.append({"name": "team-b-kai", "scheduler": "kai", "team": "team-b"})
    return Fleet.model_validate(
        {
            "name": "random",
            "node_pools": pools,
            "installed": {
                "volcano": volcano,
                "kueue": kueue,
                "lws": lws,
                "kai": kai,
                "dcgm_exporter": draw(st.booleans()),
            },
            "queues": queues,
        }
    )


models = st.fixed_dictionaries(
    {
        "params": st.sampled_from(["125M", "1B", "7B", "13B", "70B", "405B"]),
        "precision": st.sampled_from(["fp32", "bf16", "fp16", "fp8", "int8", "int4"]),
        "mode": st.sampled_from(["inference", "training", "lora", "qlora"]),
    },
    optional={
        "sequence_length": st.sampled_from([512, 4096, 32768]),
        "batch_size": st.integers(1, 16),
        "layers": st.sampled_from([24, 32, 80]),
        "hidden_size": st.sampled_from([2048, 4096, 8192]),
    },
)


@st.composite
def workloads(draw) -> W:
    kind = draw(
        st.sampled_from(
            ["training", "fine-tuning", "inference", "batch-inference", "interactive", "ci"]
        )
    )
    may_gang = kind in ("training", "fine-tuning", "inference")
    memory = draw(st.sampled_from(["none", "given", "model"]))
    return W(
        name="w",
        kind=kind,
        gpus=draw(st.one_of(st.none(), st.integers(1, 8))),
        workers=draw(st.integers(1, 4)) if may_gang else 1,
        replicas=draw(st.integers(1, 4)),
        gpu_memory=draw(st.integers(1, 300).map(lambda g: f"{g}Gi")) if memory == "given" else None,
        model=draw(models) if memory == "model" else None,
        isolation=draw(st.one_of(st.none(), st.sampled_from(["strict", "process", "none"]))),
        priority=draw(st.one_of(st.none(), st.sampled_from(["latency", "throughput", "cost"]))),
        utilisation=draw(st.one_of(st.none(), st.floats(0.05, 1.0))),
        team=draw(st.one_of(st.none(), st.sampled_from(["team-a", "team-b"]))),
        preemptible=draw(st.booleans()),
    )


@settings(max_examples=400, deadline=None)
@given(workloads(), fleets())
def test_plan_invariants(workload: W, fleet: Fleet):
    try:
        p = gk.plan(workload, fleet)
    except NoFeasiblePlan as exc:
        # every option the fleet offers is listed with a code
        assert exc.rejections and all(r.code and r.message for r in exc.rejections)
        assert len(exc.rejections) >= len(fleet.node_pools)
        return
    c = p.choice
    pool = fleet.pool(c.pool)
    model = gk.get_gpu(c.gpu_model)
    assert pool.model.key == model.key

    # never exceeds the memory of what it requests (with headroom)
    if p.memory.bytes is not None:
        assert math.ceil(p.memory.bytes * (1 + HEADROOM)) <= c.memory_total_bytes
        if c.sharing == "mig":
            assert c.memory_bytes == model.profile(c.mig_profile).memory_bytes
        elif c.mig_profile is not None:  # a time-sliced MIG slice: the slice's memory / replicas
            assert (
                c.memory_bytes == model.profile(c.mig_profile).memory_bytes // pool.sharing.replicas
            )
        elif c.sharing == "dedicated":
            assert c.memory_bytes == model.memory_bytes * c.gpus
        else:
            assert c.memory_bytes == model.memory_bytes // pool.sharing.replicas

    # MIG (plain or time-sliced) only on a MIG-capable GPU of the fleet, with a profile it has
    if c.mig_profile is not None:
        assert c.sharing in ("mig", "time-slicing")
        assert model.mig_capable and pool.mig is not None
        assert (c.sharing == "time-slicing") == (pool.sharing is not None)
        profile = model.profile(c.mig_profile)
        expected = profile.resource_name if pool.mig.strategy == "mixed" else "nvidia.com/gpu"
        if pool.sharing is not None and pool.sharing.rename_by_default:
            expected += ".shared"
        assert c.resource_name == expected
        if pool.mig.layout:
            assert c.mig_profile in pool.mig.layout

    # time-slicing only without an isolation need; MPS never for strict; shares one per container
    if c.sharing == "time-slicing":
        assert workload.effective_isolation == "none"
        assert "TIME_SLICING_NO_ISOLATION" in {w.code for w in p.warnings}
    if c.sharing == "mps":
        assert workload.effective_isolation != "strict"
        assert pool.sharing.replicas <= model.mps_max_clients
    if c.sharing in ("time-slicing", "mps"):
        assert c.gpus == 1

    # training, distributed work and explicit GPU counts get whole GPUs
    if workload.is_training or workload.is_distributed or workload.gpus:
        assert c.sharing == "dedicated"
    if workload.gpus:
        assert c.gpus == workload.gpus
    assert c.gpus <= pool.gpus_per_node

    # a multi-worker plan has a gang mechanism or says it has none
    if p.workers > 1:
        assert p.gang
        assert p.scheduler in ("volcano", "kueue", "kai") or "NO_GANG" in {
            w.code for w in p.warnings
        }

    # a fleet with KAI schedules through it unless a named Volcano/Kueue queue says otherwise
    if fleet.installed.kai and workload.queue is None:
        assert p.scheduler == "kai" and p.queue

    # cost per pod is the pool's price times the share of a GPU the pod holds
    assert math.isclose(c.cost_per_hour, pool.price * c.gpu_share * c.gpus)

    # preemptible work gets the low priority class, nothing else does
    assert (p.priority_class is not None) == workload.preemptible

    # the choice scores at least as well as every alternative; alternatives are best first
    scores = [a.score for a in p.alternatives]
    assert all(c.score >= s for s in scores) and scores == sorted(scores, reverse=True)

    # the workload as planned carries the plan's workers; every plan renders
    assert p.workload.workers == c.workers
    assert gk.render(p)

    # deterministic, with or without the decision cache, and the JSON form is plain JSON
    clear_caches()
    again = gk.plan(workload, fleet)
    assert json.dumps(again.to_dict()) == json.dumps(p.to_dict())
    assert again.explain() == p.explain()


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2, 8),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "team-nlp", "team-x"]),
)
def test_multi_worker_jobs_always_get_a_gang_or_a_warning(workers, volcano, kueue, kai, team):
    base = gk.default_fleet().model_dump()
    base["installed"] |= {"volcano": volcano, "kueue": kueue, "kai": kai}
    base["queues"] = [q for q in base["queues"] if base["installed"][q["scheduler"]]]
    w = W(name="w", kind="training", workers=workers, gpus=1, team=team)
    p = gk.plan(w, Fleet.model_validate(base))
    assert p.scheduler in ("volcano", "kueue", "kai") or "NO_GANG" in {r.code for r in p.warnings}
