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
