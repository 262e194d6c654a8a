"""A MIG pool that also time-slices: each slice is offered as time-sliced shares, never as an
isolated slice; memory and cost per pod divide by the replicas; time-slicing rules apply."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest

import gpukit as gk
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet
from gpukit.sizing import check_plan, size

W = gk.Workload

A100_MIG_TS = {
    "name": "a100-mig-ts",
    "gpu": "A100-40GB",
    "gpus_per_node": 8,
    "nodes": 1,
    "mig": {"strategy": "mixed", "layout": {"1g.5gb": 7}},
    "sharing": {"mode": "time-slicing", "replicas": 4},
}
A100_MIG_TS_RENAMED = {
    **A100_MIG_TS,
    "name": "a100-mig-ts-shared",
    "sharing": {"mode": "time-slicing", "replicas": 4, "rename_by_default": True},
}
A100_MIXED_TS = {
    **A100_MIG_TS,
    "name": "a100-mixed-ts",
    "mig": {"strategy": "mixed", "layout": {"1g.5gb": 4, "3g.20gb": 1}},
}
H100_SINGLE_TS = {
    "name": "h100-single-ts",
    "gpu": "H100-80GB",
    "gpus_per_node": 8,
    "nodes": 1,
    "mig": {"strategy": "single", "layout": {"1g.10gb": 7}},
    "sharing": {"mode": "time-slicing", "replicas": 2},
}
H100_ANY_TS = {
    "name": "h100-any-ts",
    "gpu": "H100-80GB",
    "gpus_per_node": 8,
    "nodes": 1,
    "mig": {"strategy": "mixed"},
    "sharing": {"mode": "time-slicing", "replicas": 2},
}
L4 = {"name": "l4", "gpu": "L4", "gpus_per_node": 4, "nodes": 1}


def fleet(*pools: dict[str, Any]) -> Fleet:
    return Fleet.model_validate({"name": "mig-ts", "node_pools": [*pools, L4]})


NOTEBOOK = {"kind": "interactive", "isolation": "none", "gpu_memory": "1Gi"}


@dataclass
class Expect:
    sharing: str
    profile: str | None = None
    resource: str | None = None
    pool: str | None = None
    reasons: set[str] = field(default_factory=set)
    warnings: set[str] = field(default_factory=set)
    rejections: set[str] = field(default_factory=set)  # codes on the time-sliced MIG options


CASES = [
    (
        "notebook-gets-a-time-sliced-slice",
        NOTEBOOK,
        fleet(A100_MIG_TS),
        Expect(
            "time-slicing",
            "1g.5gb",
            "nvidia.com/mig-1g.5gb",
            "a100-mig-ts",
            {"DEV_TIME_SLICING", "SHARE_FITS"},
            {"TIME_SLICING_NO_ISOLATION"},
        ),
    ),
    (
        "rename-by-default-adds-shared",
        NOTEBOOK,
        fleet(A100_MIG_TS_RENAMED),
        Expect("time-slicing", "1g.5gb", "nvidia.com/mig-1g.5gb.shared", "a100-mig-ts-shared"),
    ),
    (
        "single-strategy-slices-nvidia-gpu",
        NOTEBOOK,
        fleet(H100_SINGLE_TS),
        Expect("time-slicing", "1g.10gb", "nvidia.com/gpu", "h100-single-ts"),
    ),
    (
        "no-layout-smallest-slice-and-layout-warning",
        NOTEBOOK,
        fleet(H100_ANY_TS),
        Expect(
            "time-slicing",
            "1g.10gb",
            "nvidia.com/mig-1g.10gb",
            "h100-any-ts",
            warnings={"MIG_LAYOUT_NEEDED", "TIME_SLICING_NO_ISOLATION"},
        ),
    ),
    (
        "unknown-memory-allowed-for-dev-with-warning",
        {"kind": "interactive", "isolation": "none"},
        fleet(A100_MIG_TS),
        Expect("time-slicing", "1g.5gb", pool="a100-mig-ts", warnings={"MEMORY_NEED_UNKNOWN"}),
    ),
    (
        "strict-isolation-is-not-a-slice",
        {"kind": "inference", "isolation": "strict", "gpu_memory": "1Gi"},
        fleet(A100_MIG_TS),
        Expect("dedicated", pool="l4", rejections={"NO_ISOLATION"}),
    ),
    (
        "process-isolation-refused",
        {"kind": "inference", "isolation": "process", "gpu_memory": "1Gi"},
        fleet(A100_MIG_TS),
        Expect("dedicated", pool="l4", rejections={"NO_ISOLATION"}),
    ),
    (
        "latency-serving-avoids-it",
        {"kind": "inference", "isolation": "none", "priority": "latency", "gpu_memory": "1Gi"},
        fleet(A100_MIG_TS),
        Expect("dedicated", pool="l4", rejections={"LATENCY_AVOIDS_TIME_SLICING"}),
    ),
    (
        "need-above-the-small-share-takes-a-bigger-slice",
        {**NOTEBOOK, "gpu_memory": "2Gi"},
        fleet(A100_MIXED_TS),
        Expect(
            "time-slicing", "3g.20gb", "nvidia.com/mig-3g.20gb", rejections={"MEMORY_DOES_NOT_FIT"}
        ),
    ),
    (
        "need-above-every-share-is-large",
        {**NOTEBOOK, "gpu_memory": "2Gi"},
        fleet(A100_MIG_TS),
        Expect("dedicated", pool="l4", rejections={"LARGE_MODEL_DEDICATED"}),
    ),
    (
        "two-shares-in-one-container",
        {"kind": "ci", "isolation": "none", "gpus": 2},
        fleet(A100_MIG_TS),
        Expect("dedicated", pool="l4", rejections={"ONE_SHARED_GPU_PER_CONTAINER"}),
    ),
    # 8 GPUs x 7 slices x 4 replicas = 224 shares; L4 has 4 GPUs, so both refuse 225 pods
    (
        "more-pods-than-shares",
        {**NOTEBOOK, "kind": "batch-inference", "replicas": 225},
        fleet(A100_MIG_TS),
        None,
    ),
    (
        "all-shares",
        {**NOTEBOOK, "kind": "batch-inference", "replicas": 224},
        fleet(A100_MIG_TS),
        Expect("time-slicing", "1g.5gb", pool="a100-mig-ts"),
    ),
]


@pytest.mark.parametrize(
    ("fields", "on", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_time_sliced_mig(fields: dict[str, Any], on: Fleet, expect: Expect | None):
    if expect is None:
        with pytest.raises(NoFeasiblePlan) as info:
            gk.plan(W(name="w", **fields), on)
        assert {r.code for r in info.value.rejections} == {"NOT_ENOUGH_CAPACITY"}
        assert (
            "needs 225 time-slicing shares of 1g.5gb slices in all but pool a100-mig-ts has 224 free"
            in str(info.value)
        )
        return
    p = gk.plan(W(name="w", **fields), on)
    c = p.choice
    assert (c.sharing, c.mig_profile) == (expect.sharing, expect.profile), p.explain()
    if expect.pool:
        assert c.pool == expect.pool
    if expect.resource:
        assert c.resource_name == expect.resource
    assert expect.reasons <= {r.code for r in p.reasons}, p.explain()
    assert expect.warnings <= {r.code for r in p.warnings}, p.explain()
    sliced = {r.code for r in p.rejections if r.option.startswith("time-sliced MIG ")}
    assert expect.rejections <= sliced, p.explain()
    assert check_plan(p) == []


@pytest.mark.parametrize(
    ("pool", "profile"),
    [(A100_MIG_TS, "1g.5gb"), (A100_MIG_TS_RENAMED, "1g.5gb"), (H100_SINGLE_TS, "1g.10gb")],
    ids=["a100-mixed", "a100-renamed", "h100-single"],
)
def test_memory_and_cost_divide_by_the_replicas(pool: dict[str, Any], profile: str):
    f = fleet(pool)
    p = gk.plan(W(name="nb", **NOTEBOOK), f)
    c, node_pool = p.choice, f.pool(pool["name"])
    replicas = pool["sharing"]["replicas"]
    slice_ = node_pool.model.profile(profile)
    geometry = node_pool.model.mig
    slice_share = max(
        slice_.compute_slices / geometry.compute_slices,
        slice_.memory_slices / geometry.memory_slices,
    )
    assert c.memory_bytes == slice_.memory_bytes // replicas
    assert math.isclose(c.gpu_share, slice_share / replicas)
    assert math.isclose(c.cost_per_hour, node_pool.price * slice_share / replicas)
    assert p.to_dict()["memory_per_pod_bytes"] == c.memory_bytes
    text = p.explain()
    assert (
        f"Decision: time-sliced MIG {profile} on {node_pool.model.key}, pool {pool['name']}" in text
    )
    assert f"each of the {replicas} time-slicing replicas of a {profile} slice" in text


def test_an_isolated_slice_is_never_offered_by_a_time_slicing_pool():
    # Strict isolation with only a time-sliced MIG pool: nothing fits, and the pool's slices
    # are turned down as time-slicing, not offered as MIG.
    with pytest.raises(NoFeasiblePlan) as info:
        gk.plan(
            W(name="w", kind="inference", isolation="strict", gpu_memory="1Gi"),
            Fleet.model_validate({"name": "x", "node_pools": [A100_MIG_TS]}),
        )
    assert {r.code for r in info.value.rejections} == {"NO_ISOLATION"}
    assert all(r.option.startswith("time-sliced MIG 1g.5gb") for r in info.value.rejections)


def test_render_requests_the_sliced_resource_on_the_pool():
    p = gk.plan(W(name="nb", **NOTEBOOK), fleet(A100_MIG_TS_RENAMED))
    (pod,) = [o for o in gk.render(p) if o["kind"] == "Pod"]
    limits = pod["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/mig-1g.5gb.shared"] == 1


@pytest.mark.parametrize(
    ("notebooks", "gpus"),
    [(1, 1), (28, 1), (29, 2), (56, 2)],  # 4 replicas x 7 slices = 28 pods per GPU
    ids=["one", "one-gpu-full", "spills-to-two", "two-full"],
)
def test_sizing_packs_shares_into_slices(notebooks: int, gpus: int):
    f = Fleet.model_validate({"name": "x", "node_pools": [A100_MIG_TS]})
    report = size([W(name=f"nb{i}", **NOTEBOOK) for i in range(notebooks)], f)
    (line,) = report.lines
    assert report.violations == ()
    assert (line.gpukit_gpus, line.naive_gpus) == (gpus, notebooks)
    assert line.by_sharing == {"time-slicing": gpus}
