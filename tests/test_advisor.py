"""plan(): the seed decision tree, table-driven, and invariants that hold for any workload."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpukit as gk
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet
from gpukit.quantity import GIB

W = gk.Workload

CASES = [
    # (workload, sharing, gpu model, mig profile, gpus, scheduler, codes that must fire)
    pytest.param(
        W(name="a", kind="training", workers=2, gpus=8, team="team-research"),
        "dedicated", "A100-80GB", None, 8, "volcano", {"DISTRIBUTED_DEDICATED", "GANG_VOLCANO"},
        id="multi-gpu-distributed-volcano",
    ),
    pytest.param(
        W(name="a", kind="training"),
        "dedicated", "A100-80GB", None, 1, "default", {"TRAINING_WHOLE_GPU", "DEFAULT_SCHEDULER"},
        id="single-gpu-training-whole-gpu",
    ),
    pytest.param(
        W(name="a", kind="fine-tuning", team="team-nlp", gpu_memory="20Gi"),
        "dedicated", "A100-80GB", None, 1, "kueue", {"TRAINING_WHOLE_GPU", "QUEUE_KUEUE"},
        id="team-training-kueue",
    ),
    pytest.param(
        W(name="a", kind="inference", gpu_memory="6Gi", isolation="strict"),
        "mig", "H100-80GB", "1g.10gb", 1, "default", {"ISOLATION_STRICT_MIG", "SMALLEST_PROFILE"},
        id="small-strict-mig",
    ),
    pytest.param(
        W(name="a", kind="inference", gpu_memory="15Gi", isolation="strict"),
        "mig", "H100-80GB", "2g.20gb", 1, "default", {"ISOLATION_STRICT_MIG", "SMALLEST_PROFILE"},
        id="medium-strict-next-profile",
    ),
    pytest.param(
        W(name="a", kind="batch-inference", gpu_memory="3Gi", priority="throughput"),
        "mps", "L4", None, 1, "default", {"THROUGHPUT_MPS", "SHARE_FITS"},
        id="small-throughput-mps",
    ),
    pytest.param(
        W(name="a", kind="interactive", isolation="none"),
        "time-slicing", "L4", None, 1, "default", {"DEV_TIME_SLICING"},
        id="notebook-time-slicing",
    ),
    pytest.param(
        W(name="a", kind="ci", gpu_memory="2Gi"),
        "time-slicing", "L4", None, 1, "default", {"DEV_TIME_SLICING", "MEMORY_GIVEN"},
        id="ci-time-slicing",
    ),
    pytest.param(
        W(name="a", kind="inference", gpu_memory="4Gi", isolation="process", priority="latency"),
        "mig", "H100-80GB", "1g.10gb", 1, "default", {"LATENCY_MIG"},
        id="latency-inference-avoids-time-slicing",
    ),
    pytest.param(
        W(name="a", kind="inference", model={"params": "70B", "precision": "bf16"}),
        "dedicated", "A100-80GB", None, 4, "default", {"LARGE_MODEL_DEDICATED", "TENSOR_PARALLEL", "MEMORY_ESTIMATED"},
        id="large-llm-dedicated",
    ),
    pytest.param(
        W(name="a", kind="inference", gpu_memory="50Gi", isolation="strict"),
        "dedicated", "A100-80GB", None, 1, "default", {"LARGE_MODEL_DEDICATED"},
        id="strict-too-big-for-any-slice",
    ),
    pytest.param(
        W(name="a", kind="inference"),
        "dedicated", "A100-80GB", None, 1, "default", {"FALLBACK", "MEMORY_UNKNOWN"},
        id="inference-unknown-memory-whole-gpu",
    ),
    pytest.param(
        W(name="a", kind="inference", gpus=2, gpu_memory="1Gi"),
        "dedicated", "A100-80GB", None, 2, "default", {"WHOLE_GPUS_ASKED"},
        id="explicit-gpus-honoured",
    ),
]


@pytest.mark.parametrize(("workload", "sharing", "model", "profile", "gpus", "scheduler", "codes"), CASES)
def test_seed_decision_tree(workload, sharing, model, profile, gpus, scheduler, codes):
    p = gk.plan(workload)
    assert (p.sharing, p.choice.gpu_model, p.choice.mig_profile, p.choice.gpus, p.scheduler) == (
        sharing, model, profile, gpus, scheduler,
    )
    fired = {r.code for r in p.reasons}
    assert codes <= fired, p.explain()


def _fleet(**installed) -> Fleet:
    base = gk.default_fleet().model_dump()
    base["installed"] = {**base["installed"], **installed}
    base["queues"] = [q for q in base["queues"] if installed.get(q["scheduler"], True)]
    return Fleet.model_validate(base)


def test_gang_falls_back_to_kueue_without_volcano():
    w = W(name="a", kind="training", workers=2, gpus=8, team="team-nlp")
    p = gk.plan(w, _fleet(volcano=False))
    assert (p.scheduler, p.queue, p.namespace) == ("kueue", "team-nlp", "team-nlp")
    assert "GANG_KUEUE" in {r.code for r in p.reasons}


def test_no_gang_scheduler_warns_about_deadlock():
    w = W(name="a", kind="training", workers=4, gpus=8)
    p = gk.plan(w, _fleet(volcano=False, kueue=False))
    assert p.scheduler == "default"
    assert "NO_GANG" in {r.code for r in p.warnings}


def test_time_slicing_plan_warns_about_isolation():
    p = gk.plan(W(name="a", kind="interactive"))
    assert "TIME_SLICING_NO_ISOLATION" in {r.code for r in p.warnings}


def test_team_without_queue_warns():
    p = gk.plan(W(name="a", kind="training", team="team-unknown"))
    assert p.scheduler == "default"
    assert "NO_QUEUE_FOR_TEAM" in {r.code for r in p.warnings}


def test_no_feasible_plan_lists_every_rejection():
    with pytest.raises(NoFeasiblePlan) as info:
        gk.plan(W(name="a", kind="training", gpus=16))
    assert info.value.rejections
    assert all(r.code for r in info.value.rejections)
    assert "EXCEEDS_NODE" in {r.code for r in info.value.rejections}


def test_rejections_say_why_each_option_lost():
    p = gk.plan(W(name="a", kind="inference", gpu_memory="6Gi", isolation="strict"))
    codes = {r.option.split(",")[0]: r.code for r in p.rejections}
    assert codes["time-slicing share of L4"] in {"NO_ISOLATION", "MEMORY_DOES_NOT_FIT"}
    assert codes["mps share of L4"] in {"MPS_NOT_STRICT", "MEMORY_DOES_NOT_FIT"}


def test_explain_reads_as_a_review():
    text = gk.plan(W(name="bert", kind="inference", gpu_memory="6Gi", isolation="strict")).explain()
    assert text.splitlines()[0].startswith("bert: inference")
    for heading in ("Decision:", "Why:", "Alternatives, best first:", "Rejected:"):
        assert heading in text


def test_json_form_has_the_documented_keys():
    d = gk.plan(W(name="a", kind="ci")).to_dict()
    for key in ("name", "sharing", "gpu_model", "mig_profile", "gpus", "scheduler", "queue", "reasons"):
        assert key in d
    assert all(set(r) == {"code", "message"} for r in d["reasons"])


workloads = st.builds(
    W,
    name=st.just("w"),
    kind=st.sampled_from(["training", "fine-tuning", "inference", "batch-inference", "interactive", "ci"]),
    gpu_memory=st.one_of(st.none(), st.integers(1, 300).map(lambda g: f"{g}Gi")),
    isolation=st.one_of(st.none(), st.sampled_from(["strict", "process", "none"])),
    priority=st.one_of(st.none(), st.sampled_from(["latency", "throughput", "cost"])),
    replicas=st.integers(1, 4),
    team=st.one_of(st.none(), st.sampled_from(["team-nlp", "team-research", "team-x"])),
)


@settings(max_examples=300, deadline=None)
@given(workloads)
def test_invariants(workload):
    try:
        p = gk.plan(workload)
    except NoFeasiblePlan as exc:
        assert exc.rejections
        return
    c = p.choice
    # never exceeds the memory of what it requests
    if p.memory.bytes is not None:
        assert p.memory.bytes <= c.memory_bytes
    # MIG only on a MIG-capable GPU, with a profile that GPU has
    if c.sharing == "mig":
        model = gk.get_gpu(c.gpu_model)
        assert model.mig_capable
        assert model.profile(c.mig_profile).resource_name == c.resource_name
    # time-slicing only without an isolation need
    if c.sharing == "time-slicing":
        assert workload.effective_isolation == "none"
    # training never shares
    if workload.is_training:
        assert c.sharing == "dedicated"
    # deterministic
    assert gk.plan(workload).to_dict() == p.to_dict()


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 8), st.booleans(), st.booleans())
def test_multi_worker_jobs_always_get_a_gang_or_a_warning(workers, volcano, kueue):
    w = W(name="w", kind="training", workers=workers, gpus=1, team="team-nlp")
    p = gk.plan(w, _fleet(volcano=volcano, kueue=kueue))
    assert p.scheduler in ("volcano", "kueue") or "NO_GANG" in {r.code for r in p.warnings}


def test_explicit_memory_wins_over_the_estimate():
    w = W(name="a", kind="inference", gpu_memory="5Gi", model={"params": "70B"})
    assert gk.memory_need(w).bytes == 5 * GIB
