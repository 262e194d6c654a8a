"""Capacity in use: NodePool.gpus_in_use takes GPUs (and their slices and shares) out of what
the advisor may plan on, in the capacity rejections and in the free-capacity score."""

from __future__ import annotations

from typing import Any

import pytest

import gpukit as gk
from gpukit.advisor.rules import fleet_facts
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet

W = gk.Workload


def pool(name: str, in_use: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "gpu": "A100-80GB",
        "gpus_per_node": 8,
        "nodes": 1,
        "gpus_in_use": in_use,
        **extra,
    }


def fleet(*pools: dict[str, Any]) -> Fleet:
    return Fleet.model_validate({"name": "in-use", "node_pools": list(pools)})


MIG = {"mig": {"strategy": "mixed", "layout": {"3g.40gb": 2}}}
TS = {"sharing": {"mode": "time-slicing", "replicas": 4}}
MPS = {"sharing": {"mode": "mps", "replicas": 4}}

EIGHT_GPUS = {"kind": "training", "gpus": 8}
SLICES = {"kind": "batch-inference", "gpu_memory": "20Gi", "isolation": "strict"}
SHARES = {"kind": "interactive", "isolation": "none", "gpu_memory": "10Gi"}
MPS_PODS = {"kind": "batch-inference", "gpu_memory": "10Gi", "priority": "throughput"}

CASES = [
    # (id, pool extras, gpus in use, workload, replicas, fits, message when refused)
    ("whole-gpus-all-free", {}, 0, EIGHT_GPUS, 1, True, None),
    (
        "whole-gpus-one-in-use",
        {},
        1,
        EIGHT_GPUS,
        1,
        False,
        "needs 8 GPUs in all but pool p has 7 free",
    ),
    ("whole-gpus-replicas-fill-free", {}, 6, {**EIGHT_GPUS, "gpus": 1}, 2, True, None),
    (
        "whole-gpus-replicas-over-free",
        {},
        7,
        {**EIGHT_GPUS, "gpus": 1},
        2,
        False,
        "needs 2 GPUs in all but pool p has 1 free",
    ),
    ("mig-slices-of-free-gpus", MIG, 5, SLICES, 6, True, None),  # 3 free GPUs x 2 slices
    (
        "mig-slices-over-free",
        MIG,
        5,
        SLICES,
        7,
        False,
        "needs 7 3g.40gb slices in all but pool p has 6 free",
    ),
    ("shares-of-free-gpus", TS, 6, SHARES, 8, True, None),  # 2 free GPUs x 4 replicas
    ("shares-over-free", TS, 6, SHARES, 9, False, "needs 9 shares in all but pool p has 8 free"),
    ("mps-over-free", MPS, 8, MPS_PODS, 1, False, "needs 1 shares in all but pool p has 0 free"),
]


@pytest.mark.parametrize(
    ("extra", "in_use", "fields", "replicas", "fits", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_capacity_rejections_count_gpus_in_use(extra, in_use, fields, replicas, fits, message):
    f = fleet(pool("p", in_use, **extra))
    workload = W(name="w", replicas=replicas, **fields)
    if fits:
        assert gk.plan(workload, f).choice.pool == "p"
        return
    with pytest.raises(NoFeasiblePlan) as info:
        gk.plan(workload, f)
    (rejection,) = [r for r in info.value.rejections if r.code == "NOT_ENOUGH_CAPACITY"]
    assert rejection.message == message


@pytest.mark.parametrize("in_use", [0, 3, 8], ids=["none", "some", "all"])
def test_pool_facts_read_free_gpus(in_use):
    f = fleet(pool("p", in_use))
    assert fleet_facts(f).by_name["p"].free_gpus == f.pool("p").free_gpus == 8 - in_use


@pytest.mark.parametrize(
    ("in_use_a", "in_use_b", "winner"),
    [(0, 0, "a"), (6, 0, "b"), (0, 6, "a"), (4, 2, "b")],
    ids=["tie-goes-by-name", "a-busier", "b-busier", "a-slightly-busier"],
)
def test_free_capacity_score_prefers_the_emptier_pool(in_use_a, in_use_b, winner):
    # Same GPU and price: the share of free capacity the job takes decides.
    f = fleet(pool("a", in_use_a), pool("b", in_use_b))
    p = gk.plan(W(name="w", kind="training", gpus=2), f)
    assert p.choice.pool == winner
    scores = {o.pool: o.score for o in (p.choice, *p.alternatives)}
    free = {"a": 8 - in_use_a, "b": 8 - in_use_b}
    # score = 100 - 15 x cost share (1 here) - 5 x wanted / free - 4 x waste (0: no memory need)
    for name in ("a", "b"):
        assert scores[name] == round(100 - 15 - 5 * min(1.0, 2 / free[name]), 2)


def test_gpu_model_cost_reason_names_free_capacity():
    f = Fleet.model_validate(
        {
            "name": "two-models",
            "node_pools": [
                pool("a100", 5),
                {"name": "h100", "gpu": "H100-80GB", "gpus_per_node": 8, "nodes": 1},
            ],
        }
    )
    p = gk.plan(W(name="w", kind="training", gpus=1), f)
    (reason,) = [r for r in p.reasons if r.code == "GPU_MODEL_COST"]
    free = f.pool(p.choice.pool).free_gpus
    assert f"it takes 1 of {free} free GPUs in pool {p.choice.pool}" in reason.message


def test_a_fleet_with_more_in_use_is_planned_afresh():
    # Fleets are frozen values; a copy with GPUs taken must not reuse the first one's decision.
    free = fleet(pool("p", 0))
    full = fleet(pool("p", 8))
    assert gk.plan(W(name="w", **EIGHT_GPUS), free).choice.pool == "p"
    with pytest.raises(NoFeasiblePlan):
        gk.plan(W(name="w", **EIGHT_GPUS), full)
