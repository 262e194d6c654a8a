"""Decisions the calibrated sharing model changes: throughput, MPS limits, latency targets, fit.

Each case is a workload on a small fleet; the measured data (gpukit/sharing) decides which
option wins and which are rejected, with the codes and figures the plan shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gpukit as gk
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet
from gpukit.sharing import dump_calibration, load_calibration

W = gk.Workload


def fleet(*pools: dict[str, Any], calibration: str | None = None) -> Fleet:
    return Fleet.model_validate(
        {"name": "sharing-test", "node_pools": list(pools), "calibration": calibration}
    )


def shared(name: str, mode: str, replicas: int, gpu: str = "H200", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "gpu": gpu,
        "gpus_per_node": 8,
        "nodes": 2,
        "sharing": {"mode": mode, "replicas": replicas},
        **extra,
    }


H200_TS4 = shared("h200-ts4", "time-slicing", 4)
H200_TS8 = shared("h200-ts8", "time-slicing", 8)
H200_MPS4 = shared("h200-mps4", "mps", 4)
H200_MPS8 = shared("h200-mps8", "mps", 8)
H200_MIG = {
    "name": "h200-mig",
    "gpu": "H200",
    "gpus_per_node": 8,
    "nodes": 1,
    "mig": {"strategy": "mixed", "layout": {"1g.18gb": 7}},
}
A100 = {"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 2}
L4_TS4 = shared("l4-ts4", "time-slicing", 4, gpu="L4")

TS_ONLY = fleet(H200_TS4, A100)
SMALL_KERNEL = fleet(H200_TS8, H200_MPS8, A100)
LATENCY = fleet(H200_TS4, H200_MPS4, A100)
SATURATING = fleet(H200_MPS8, H200_MIG, A100)


@dataclass
class Case:
    id: str
    workload: W
    fleet: Fleet
    sharing: str | None  # None: NoFeasiblePlan
    pool: str | None = None
    rejected: dict[str, str] = field(default_factory=dict)  # pool -> code
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    aggregate: float | None = None  # the chosen option's predicted aggregate throughput


CASES = [
    Case(
        "gpu-bound-batch-throughput-rejects-time-slicing",
        W(
            name="embed",
            kind="batch-inference",
            gpu_memory="3Gi",
            isolation="none",
            priority="throughput",
            replicas=4,
        ),
        TS_ONLY,
        "dedicated",
        "a100",
        rejected={"h200-ts4": "TIME_SLICING_NO_THROUGHPUT"},
    ),
    Case(
        "launch-bound-work-keeps-time-slicing-for-throughput",
        W(
            name="embed",
            kind="batch-inference",
            gpu_memory="3Gi",
            isolation="none",
            priority="throughput",
            replicas=4,
            gpu_boundness=0.24,
            gpu_fill=0.31,
        ),
        TS_ONLY,
        "time-slicing",
        "h200-ts4",
    ),
    Case(
        "small-kernel-inference-mps-6.9x-at-8",
        W(
            name="serve",
            kind="inference",
            gpu_memory="4Gi",
            isolation="process",
            priority="throughput",
            replicas=8,
        ),
        SMALL_KERNEL,
        "mps",
        "h200-mps8",
        reasons=("THROUGHPUT_MPS", "MPS_OVER_TIME_SLICING"),
        aggregate=6.93,
    ),
    Case(
        "no-latency-target-time-slicing-for-ci",
        W(name="tests", kind="ci", gpu_memory="2Gi", replicas=4, gpu_boundness=0.5, gpu_fill=0.3),
        LATENCY,
        "time-slicing",
        "h200-ts4",
    ),
    Case(
        "latency-target-1.2-rejects-time-slicing-at-4-accepts-mps",
        W(
            name="tests",
            kind="ci",
            gpu_memory="2Gi",
            replicas=4,
            gpu_boundness=0.5,
            gpu_fill=0.3,
            latency_target=1.2,
        ),
        LATENCY,
        "mps",
        "h200-mps4",
        rejected={"h200-ts4": "LATENCY_TARGET_MISSED"},
        reasons=("LATENCY_TARGET_MET", "REPLICAS_PER_GPU"),
    ),
    Case(
        "saturating-work-mps-limits-cost-prefers-mig",
        W(
            name="crunch",
            kind="batch-inference",
            gpu_memory="8Gi",
            isolation="process",
            priority="throughput",
            replicas=8,
            gpu_boundness=1.0,
            gpu_fill=1.0,
        ),
        SATURATING,
        "mig",
        "h200-mig",
        rejected={"h200-mps8": "MPS_LIMITS_COST"},
    ),
    Case(
        "saturating-work-cost-priority-warns-mps-limits-cost",
        W(
            name="crunch",
            kind="batch-inference",
            gpu_memory="8Gi",
            isolation="process",
            priority="cost",
            replicas=8,
            gpu_boundness=1.0,
            gpu_fill=1.0,
        ),
        fleet(H200_MPS8, A100),
        "mps",
        "h200-mps8",
        warnings=("MPS_LIMITS_COST",),
    ),
    Case(
        "one-core-per-replica-must-fit-the-node",
        W(
            name="serve",
            kind="inference",
            gpu_memory="4Gi",
            isolation="process",
            priority="throughput",
            replicas=8,
        ),
        fleet({**H200_MPS8, "cpu_per_node": 32}, A100),
        "dedicated",
        "a100",
        rejected={"h200-mps8": "CPU_DOES_NOT_FIT"},
    ),
    Case(
        "replica-memory-overhead-counted-in-the-share",
        # 5Gi x 1.1 = 5.5 GiB fits an L4 quarter (5.62 GiB); 5Gi + 693 MiB of context does not.
        W(name="tests", kind="ci", gpu_memory="5Gi"),
        fleet(L4_TS4, A100),
        "dedicated",
        "a100",
        rejected={"l4-ts4": "MEMORY_DOES_NOT_FIT"},
    ),
    Case(
        "mig-slice-misses-a-tight-latency-target",
        W(
            name="serve",
            kind="inference",
            gpu_memory="4Gi",
            isolation="strict",
            latency_target=1.05,
        ),
        fleet(H200_MIG, A100),
        "dedicated",
        "a100",
        rejected={"h200-mig": "LATENCY_TARGET_MISSED"},
    ),
]


H200_MIG_TS = {
    **H200_MIG,
    "name": "h200-mig-ts",
    "sharing": {"mode": "time-slicing", "replicas": 2},
}
CASES.append(
    Case(
        "time-sliced-mig-is-not-modelled-so-a-target-rejects-it",
        W(name="tests", kind="ci", gpu_memory="2Gi", latency_target=3.0),
        fleet(H200_MIG_TS, A100),
        "dedicated",
        "a100",
        rejected={"h200-mig-ts": "LATENCY_TARGET_UNKNOWN"},
    )
)
CASES.append(
    Case(
        "time-sliced-mig-without-a-target-is-still-offered",
        W(name="tests", kind="ci", gpu_memory="2Gi"),
        fleet(H200_MIG_TS, A100),
        "time-slicing",
        "h200-mig-ts",
    )
)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sharing_decision(case: Case) -> None:
    if case.sharing is None:
        with pytest.raises(NoFeasiblePlan):
            gk.plan(case.workload, case.fleet)
        return
    p = gk.plan(case.workload, case.fleet)
    assert p.sharing == case.sharing
    if case.pool:
        assert p.choice.pool == case.pool
    rejected = {r.option.rsplit("pool ", 1)[-1]: r.code for r in p.rejections}
    for pool, code in case.rejected.items():
        assert rejected.get(pool) == code, p.explain()
    assert set(case.reasons) <= {r.code for r in p.reasons}, p.explain()
    assert set(case.warnings) <= {r.code for r in p.warnings}, p.explain()
    if case.aggregate is not None:
        assert p.to_dict()["prediction"]["aggregate_throughput"] == pytest.approx(
            case.aggregate, abs=0.01
        )


def test_rejection_quotes_the_predicted_figures() -> None:
    p = gk.plan(CASES[0].workload, TS_ONLY)
    (r,) = [r for r in p.rejections if r.code == "TIME_SLICING_NO_THROUGHPUT"]
    assert "4 time-slicing replicas" in r.message and "0.92x together" in r.message


def test_latency_rejection_names_the_replicas_that_would_meet_it() -> None:
    p = gk.plan(CASES[4].workload, LATENCY)
    (r,) = [r for r in p.rejections if r.code == "LATENCY_TARGET_MISSED"]
    assert "p99 1.45x solo exceeds the latency target 1.2x" in r.message
    assert "replicas per GPU would meet it" in r.message


def test_plan_shows_predictions_with_source_and_assumptions() -> None:
    p = gk.plan(CASES[2].workload, SMALL_KERNEL)
    d = p.to_dict()["prediction"]
    assert d["mode"] == "mps-limits" and d["replicas"] == 8
    assert "h200-141gb-reference" in d["source"] and "shipped with gpukit" in d["source"]
    assert any("12% of the SMs" in a for a in d["assumptions"])
    text = p.explain()
    assert "Predicted under sharing" in text
    assert "source: " in text and "assumptions:" in text
    assert p.predictions[0].option == p.choice.label


def test_mig_prediction_says_it_is_an_assumption() -> None:
    p = gk.plan(
        W(name="serve", kind="inference", gpu_memory="4Gi", isolation="strict"),
        fleet(H200_MIG, A100),
    )
    assert p.sharing == "mig"
    d = p.to_dict()["prediction"]
    assert d["mode"] == "mig" and d["source"].startswith("assumption")
    assert any("MIG not measured" in a for a in d["assumptions"])


def test_uncalibrated_gpu_says_the_figures_come_from_another(tmp_path) -> None:
    p = gk.plan(W(name="tests", kind="ci", gpu_memory="2Gi"), fleet(L4_TS4, A100))
    assert any("not L4" in a for a in p.to_dict()["prediction"]["assumptions"])


def test_fleet_calibration_folder_is_used(tmp_path) -> None:
    own = load_calibration().model_copy(update={"gpu": "L4", "name": "l4-lab"})
    (tmp_path / "L4.yaml").write_text(dump_calibration(own))
    p = gk.plan(
        W(name="tests", kind="ci", gpu_memory="2Gi"), fleet(L4_TS4, A100, calibration=str(tmp_path))
    )
    d = p.to_dict()["prediction"]
    assert "l4-lab" in d["source"] and "fleet calibration folder" in d["source"]
    assert not any("not L4" in a for a in d["assumptions"])


def test_same_shape_different_character_is_not_served_from_cache() -> None:
    launch = CASES[1].workload
    bound = CASES[0].workload
    assert gk.plan(launch, TS_ONLY).sharing == "time-slicing"
    assert gk.plan(bound, TS_ONLY).sharing == "dedicated"
    assert gk.plan(launch, TS_ONLY).sharing == "time-slicing"


# -- invariant ----------------------------------------------------------------------------

ANY_SHARING = fleet(H200_TS4, H200_MPS8, H200_MIG, A100, L4_TS4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["inference", "batch-inference", "ci", "interactive"]),
    memory=st.sampled_from(["1Gi", "2Gi", "4Gi", "8Gi", "15Gi"]),
    isolation=st.sampled_from([None, "none", "process", "strict"]),
    priority=st.sampled_from([None, "latency", "throughput", "cost"]),
    replicas=st.integers(1, 12),
    boundness=st.none() | st.floats(0.05, 1.0),
    fill=st.none() | st.floats(0.05, 1.0),
    target=st.none() | st.floats(1.0, 6.0),
)
def test_chosen_shared_option_meets_the_latency_target(
    kind, memory, isolation, priority, replicas, boundness, fill, target
) -> None:
    w = W(
        name="w",
        kind=kind,
        gpu_memory=memory,
        isolation=isolation,
        priority=priority,
        replicas=replicas,
        gpu_boundness=boundness,
        gpu_fill=fill,
        latency_target=target,
    )
    try:
        p = gk.plan(w, ANY_SHARING)
    except NoFeasiblePlan:
        return
    prediction = p.to_dict()["prediction"]
    if p.sharing == "dedicated":
        return
    assert prediction is not None, p.explain()
    if target is not None:
        assert prediction["p99_inflation"] <= target, p.explain()
    if p.sharing == "time-slicing" and p.workload.effective_priority == "throughput":
        assert prediction["aggregate_throughput"] >= 1.05
