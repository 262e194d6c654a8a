"""Plan output: explain() text, the stable JSON form, alternatives with scores, NoFeasiblePlan."""

from __future__ import annotations

import json

import pytest

import gpukit as gk
from gpukit.advisor import SCORE_FORMULA, clear_caches
from gpukit.errors import NoFeasiblePlan

W = gk.Workload

#: The keys tools rely on (README), in order; later additions follow them.
STABLE_KEYS = [
    "name",
    "kind",
    "sharing",
    "gpu_model",
    "mig_profile",
    "gpus",
    "resource_name",
    "pool",
    "workers",
    "replicas",
    "scheduler",
    "queue",
    "namespace",
    "memory_need_bytes",
    "memory_source",
    "cost_per_hour",
    "reasons",
    "warnings",
    "alternatives",
    "rejections",
]
ADDED_KEYS = [
    "score",
    "gang",
    "priority_class",
    "memory_per_pod_bytes",
    "memory_formula",
    "memory_assumptions",
    "prediction",
]


def test_json_keys_are_stable_and_in_order():
    d = gk.plan(W(name="a", kind="ci")).to_dict()
    assert list(d) == STABLE_KEYS + ADDED_KEYS
    assert all(set(r) == {"code", "message"} for r in d["reasons"] + d["warnings"])
    assert all(set(r) == {"option", "code", "message"} for r in d["rejections"])
    assert all(
        {"sharing", "gpu_model", "score", "cost_per_hour"} <= set(a) for a in d["alternatives"]
    )


@pytest.mark.parametrize(
    "workload",
    [
        W(name="bert", kind="inference", gpu_memory="6Gi", isolation="strict", replicas=3),
        W(name="big", kind="training", model={"params": "70B", "mode": "training"}),
        W(name="nb", kind="interactive"),
        W(
            name="ft",
            kind="fine-tuning",
            model={"params": "7B", "mode": "lora"},
            team="team-nlp",
            preemptible=True,
        ),
    ],
    ids=["mig", "multi-node", "time-slicing", "preemptible"],
)
def test_json_is_plain_and_deterministic(workload):
    first = json.dumps(gk.plan(workload).to_dict())
    assert first == json.dumps(gk.plan(workload).to_dict())
    assert json.loads(first)["name"] == workload.name


def test_explain_reads_as_a_review():
    p = gk.plan(W(name="bert", kind="inference", gpu_memory="6Gi", isolation="strict"))
    text = p.explain()
    assert text.splitlines()[0].startswith("bert: inference")
    for heading in ("Decision:", "Why:", "Alternatives, best first:", "Rejected:", "Score:"):
        assert heading in text
    for reason in p.reasons:
        assert f"[{reason.code}] {reason.message}" in text
    for rejection in p.rejections:
        assert rejection.option in text and rejection.code in text
    assert SCORE_FORMULA in text
    assert str(p) == text


def test_alternatives_are_ranked_by_score():
    p = gk.plan(W(name="a", kind="batch-inference", gpu_memory="3Gi"))
    scores = [p.choice.score] + [a.score for a in p.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)
    # the sharing preference dominates the score: every MPS option beats every MIG option
    mig = [a.score for a in p.alternatives if a.sharing == "mig"]
    assert p.choice.sharing == "mps" and p.choice.score > max(mig)
    # within a pool the smallest slice that fits scores best
    assert [a.mig_profile for a in p.alternatives if a.sharing == "mig"] == [
        "1g.10gb",
        "2g.20gb",
        "3g.40gb",
    ]


def test_rejections_say_why_each_option_lost():
    p = gk.plan(W(name="a", kind="inference", gpu_memory="6Gi", isolation="strict"))
    codes = {r.option.split(",")[0]: r.code for r in p.rejections}
    assert codes["time-slicing share of L4"] in {"NO_ISOLATION", "MEMORY_DOES_NOT_FIT"}
    assert codes["mps share of L4"] in {"MPS_NOT_STRICT", "MEMORY_DOES_NOT_FIT"}


def test_no_feasible_plan_lists_every_rejection():
    with pytest.raises(NoFeasiblePlan) as info:
        gk.plan(W(name="a", kind="training", gpus=16))
    rejections = info.value.rejections
    assert (
        len(rejections) == 6
    )  # every option of the default fleet: 3 MIG profiles, 2 shares, whole GPUs
    assert {r.code for r in rejections} >= {"EXCEEDS_NODE"}
    for r in rejections:
        assert r.option in str(info.value) and f"[{r.code}]" in str(info.value)


def test_multi_node_plan_reports_plan_workers_and_gang():
    p = gk.plan(W(name="a", kind="training", model={"params": "70B", "mode": "training"}))
    d = p.to_dict()
    # FSDP (ZeRO-3) over 3 nodes of 8 A100-80GB is the least that fits each GPU
    assert (d["workers"], d["gpus"], d["gang"], p.pods) == (3, 8, True, 3)
    assert "3 workers" in p.explain().splitlines()[0]
    assert d["cost_per_hour"] == pytest.approx(3 * 8 * p.pool.price)


def test_plan_is_a_frozen_model():
    p = gk.plan(W(name="a", kind="ci"))
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen models
        p.scheduler = "volcano"  # type: ignore[misc]


def test_workloads_of_one_shape_share_a_decision_but_not_a_queue():
    a = gk.plan(
        W(name="a", kind="inference", gpu_memory="6Gi", isolation="strict", team="team-nlp")
    )
    b = gk.plan(W(name="b", kind="inference", gpu_memory="6Gi", isolation="strict"))
    assert a.choice == b.choice and a.alternatives == b.alternatives
    assert (a.scheduler, a.queue, a.namespace) == ("kueue", "team-nlp", "team-nlp")
    assert (b.scheduler, b.queue, b.namespace) == ("default", None, "default")
    clear_caches()
    assert (
        gk.plan(
            W(name="a", kind="inference", gpu_memory="6Gi", isolation="strict", team="team-nlp")
        )
        == a
    )


def test_an_unvalidated_fleet_never_yields_an_impossible_mig_slice():
    from gpukit.fleet import Fleet, MigConfig, NodePool

    bad_mig = NodePool.model_construct(
        name="l4-mig",
        gpu="L4",
        gpus_per_node=4,
        nodes=1,
        mig=MigConfig(layout={"1g.10gb": 7}),
        sharing=None,
        labels={},
        taints=(),
        price_per_hour=None,
        product=None,
    )
    bad_name = NodePool.model_construct(
        name="h100-typo",
        gpu="H100-80GB",
        gpus_per_node=8,
        nodes=1,
        mig=MigConfig(layout={"1g.11gb": 7}),
        sharing=None,
        labels={},
        taints=(),
        price_per_hour=None,
        product=None,
    )
    whole = gk.default_fleet().pool("a100-train")
    fleet = Fleet.model_construct(
        name="unchecked",
        node_pools=(bad_mig, bad_name, whole),
        installed=gk.default_fleet().installed,
        queues=(),
    )
    p = gk.plan(W(name="a", kind="inference", gpu_memory="6Gi", isolation="strict"), fleet)
    assert p.sharing == "dedicated"
    unknown = {r.option: r.message for r in p.rejections if r.code == "MIG_PROFILE_UNKNOWN"}
    assert set(unknown) == {
        "MIG 1g.10gb on L4, pool l4-mig",
        "MIG 1g.11gb on H100-80GB, pool h100-typo",
    }
    assert "not MIG-capable" in unknown["MIG 1g.10gb on L4, pool l4-mig"]
