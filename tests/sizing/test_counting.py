"""How sizing counts: one plan per shape, MIG at the packer's optimum, shares, whole nodes."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gpukit as gk
from gpukit.advisor.rules import Context
from gpukit.fleet import Fleet
from gpukit.memory import memory_need
from gpukit.sizing import _core, size

W = gk.Workload
GIB = 1024**3


def test_one_plan_per_decision_shape(monkeypatch):
    calls = []
    real = _core.plan

    def counting(workload, fleet=None):
        calls.append(workload.name)
        return real(workload, fleet)

    monkeypatch.setattr(_core, "plan", counting)
    mix = [
        W(
            name=f"s{i}",
            kind="inference",
            gpu_memory="6Gi",
            isolation="strict",
            team="a" if i % 2 else None,
        )
        for i in range(300)
    ]
    mix += [W(name=f"t{i}", kind="training", gpus=2) for i in range(200)]
    mix += [W(name=f"n{i}", kind="interactive") for i in range(100)]
    report = size(mix)
    assert len(calls) == report.shapes == 3 and report.workloads == 600
    assert report.gpukit_gpus == 43 + 400 + 25  # 300/7 slices, 200 x 2, 100 notebooks / 4


_KINDS = st.sampled_from(["inference", "batch-inference", "interactive", "ci", "training"])


@st.composite
def _workload(draw, i):
    kind = draw(_KINDS)
    return W(
        name=f"w{i}",
        kind=kind,
        gpu_memory=draw(st.sampled_from([None, "1Gi", "6Gi", "6Gi", "20Gi", "70Gi"])),
        isolation=draw(st.sampled_from([None, "strict", "process", "none"])),
        replicas=draw(st.integers(1, 3)) if kind != "training" else 1,
        priority=draw(st.sampled_from([None, "latency", "cost"])),
        team=draw(st.sampled_from([None, "a", "b"])),
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=25).flatmap(
        lambda seeds: st.tuples(*(_workload(i) for i in range(len(seeds))))
    )
)
def test_workloads_of_one_shape_get_the_same_choice(mix):
    # What sizing relies on: the advisor decides alike for one shape, whatever else differs.
    fleet = _core._unbounded(gk.default_fleet())
    first: dict[tuple[object, ...], gk.Plan] = {}
    for w in mix:
        shape = Context(w, fleet, memory_need(w)).shape
        try:
            p = gk.plan(w, fleet)
        except gk.NoFeasiblePlan:
            continue
        ref = first.setdefault(shape, p)
        assert p.choice == ref.choice and p.pods == ref.pods
    assert size(mix).gpukit_gpus == size(list(reversed(mix))).gpukit_gpus


@pytest.mark.parametrize(
    ("workers", "gpus", "per_node", "nodes"),
    [(2, 8, 8, 2), (2, 4, 8, 1), (3, 4, 8, 2), (4, 2, 8, 1), (2, 16, 8, 4), (5, 1, 4, 2)],
    ids=[
        "node-each",
        "two-per-node",
        "three-halves",
        "four-quarters",
        "two-nodes-each",
        "small-nodes",
    ],
)
def test_gang_jobs_take_whole_nodes(workers, gpus, per_node, nodes):
    assert _core._job_nodes(workers, gpus, per_node) == nodes


@pytest.mark.parametrize(
    ("pods", "per_node", "nodes"),
    [({1: 3, 2: 2, 4: 1}, 8, 2), ({8: 3}, 8, 3), ({1: 9}, 8, 2), ({3: 5}, 8, 3), ({}, 8, 0)],
    ids=["mixed-divisors", "whole-nodes", "spill", "non-divisor", "none"],
)
def test_single_node_pods_pack_onto_nodes(pods, per_node, nodes):
    assert _core._pod_nodes(pods, per_node) == nodes


@pytest.mark.parametrize(
    ("pods", "memory", "gpus"),
    [(10, 10 * GIB, 3), (8, 8 * GIB, 2), (2, 2 * 50 * GIB, 2), (0, 0, 0), (3, 0, 1)],
    ids=["by-count", "exactly-full", "by-memory", "none", "unknown-memory"],
)
def test_shares_by_replicas_and_memory(pods, memory, gpus):
    assert _core._share_gpus(pods, memory, 80 * GIB, 4) == gpus


def test_gangs_keep_their_nodes_and_single_pods_share_theirs():
    mix = [
        W(name="ddp", kind="training", workers=2, gpus=4),
        W(name="ft", kind="fine-tuning", gpus=1),
        W(name="ft2", kind="fine-tuning", gpus=2),
    ]
    report = size(mix)
    (pool,) = report.pools
    assert (pool.pool, pool.gpukit_gpus, pool.gpukit_nodes) == ("a100-train", 11, 2)
    assert pool.gpukit_node_cost_per_hour == pytest.approx(
        2 * 8 * gk.default_fleet().pool("a100-train").price
    )


def test_mig_counts_sit_at_the_lower_bound_on_a_production_shaped_mix():
    rng = random.Random(7)
    fractions = (0.81, 0.47, 0.32, 0.65, 0.23)
    mix = [
        W(
            name=f"s{i}",
            kind="inference",
            isolation="strict",
            gpu_memory=f"{max(1, round(rng.choice(fractions) * 80 * rng.uniform(0.5, 1)))}Gi",
        )
        for i in range(1500)
    ]
    report = size(mix)
    assert report.mig_lower_bound > 100
    assert report.mig_lower_bound <= report.mig_gpus <= 1.01 * report.mig_lower_bound
    assert report.mig_gpus == sum(p.by_sharing.get("mig", 0) for p in report.pools)


def test_savings_name_the_biggest_first():
    mix = [
        W(name=f"s{i}", kind="inference", gpu_memory="6Gi", isolation="strict") for i in range(70)
    ]
    mix += [W(name=f"b{i}", kind="batch-inference", gpu_memory="3Gi") for i in range(8)]
    report = size(mix)
    first, second = report.savings[:2]
    assert (first.kind, first.option, first.pods, first.freed_gpus) == (
        "inference",
        "MIG 1g.10gb",
        70,
        60,
    )
    assert first.sentence == (
        "these 70 inference pods need at most 6 GiB each: MIG 1g.10gb on H100-80GB (pool h100-mig) "
        "would free 60 GPUs"
    )
    assert second.freed_gpus < first.freed_gpus


def test_bounded_sizing_reports_what_does_not_fit():
    fleet = Fleet.model_validate(
        {
            "name": "tiny",
            "node_pools": [{"name": "l4", "gpu": "L4", "gpus_per_node": 1, "nodes": 1}],
        }
    )
    report = size(
        [W(name=f"big{i}", kind="training", gpus=4) for i in range(2)], fleet, bounded=True
    )
    assert [u.workload for u in report.unplaced] == ["big0", "big1"]
    assert all(
        u.message == f"no option in fleet 'tiny' can run {u.workload!r}" for u in report.unplaced
    )
