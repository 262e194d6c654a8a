"""Karpenter scale-up and Kueue/Volcano overlap (issue 14, cases 3 and 4).

Facts: Karpenter's providers advertise only nvidia.com/gpu for an instance type
(aws/karpenter-provider-aws pkg/providers/instancetype/types.go; pull request 8710: the AWS
provider does not support MIG natively). Kueue registers no Volcano integration
(kubernetes-sigs/kueue pkg/controller/jobs/jobs.go), so a Volcano Job is never in its quota.
"""

from __future__ import annotations

import pytest

import gpukit as gk
from gpukit.fleet import Fleet
from gpukit.integrations.karpenter import nodepools, platform_files, skipped_pools
from gpukit.platform import platform_plan

POOLS = [
    {"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 1},
    {
        "name": "h100-mig",
        "gpu": "H100-80GB",
        "gpus_per_node": 8,
        "nodes": 1,
        "mig": {"strategy": "mixed", "layout": {"1g.10gb": 7}},
    },
    {
        "name": "l4-shared",
        "gpu": "L4",
        "gpus_per_node": 4,
        "nodes": 1,
        "sharing": {"mode": "time-slicing", "replicas": 4, "rename_by_default": True},
    },
    {
        "name": "l4-ts",
        "gpu": "L4",
        "gpus_per_node": 4,
        "nodes": 1,
        "sharing": {"mode": "time-slicing", "replicas": 4},
    },
]


def _fleet(**installed: bool) -> Fleet:
    return Fleet.model_validate({"name": "k", "node_pools": POOLS, "installed": installed})


SMALL_STRICT = gk.Workload(
    name="s", kind="inference", image="x", gpu_memory="6Gi", isolation="strict"
)
DEV = gk.Workload(name="dev", kind="interactive", image="x", gpu_memory="4Gi", isolation="none")


@pytest.mark.parametrize(
    ("workload", "pool", "warned"),
    [
        (SMALL_STRICT, "h100-mig", True),  # nvidia.com/mig-1g.10gb
        (gk.Workload(name="t", kind="training", image="x", gpus=8), "a100", False),
    ],
)
def test_a_plan_on_karpenter_warns_when_its_pods_cannot_trigger_a_scale_up(workload, pool, warned):
    p = gk.plan(workload, _fleet(karpenter=True))
    assert p.choice.pool == pool
    codes = {w.code for w in p.warnings}
    assert ("KARPENTER_NO_SCALE_UP" in codes) is warned
    # Without Karpenter nothing is said.
    assert "KARPENTER_NO_SCALE_UP" not in {w.code for w in gk.plan(workload, _fleet()).warnings}


def test_renamed_shares_warn_too():
    fleet = Fleet.model_validate({"node_pools": [POOLS[2]], "installed": {"karpenter": True}})
    p = gk.plan(DEV, fleet)
    assert p.choice.resource_name == "nvidia.com/gpu.shared"
    (w,) = [w for w in p.warnings if w.code == "KARPENTER_NO_SCALE_UP"]
    assert "nvidia.com/gpu.shared" in w.message and "keep them provisioned" in w.message


def test_nodepools_only_for_pools_karpenter_can_scale_up():
    pp = platform_plan(_fleet(karpenter=True), [SMALL_STRICT])
    names = [o["metadata"]["name"] for o in nodepools(pp)]
    assert names == ["gpukit-a100", "gpukit-l4-ts"]
    assert [p.name for p in skipped_pools(pp)] == ["h100-mig", "l4-shared"]
    (f,) = platform_files(pp)
    assert "No NodePool for h100-mig, l4-shared" in f.content()
    assert any("pool h100-mig: Karpenter never launches" in w for w in pp.warnings)


def test_karpenter_is_discovered_from_its_api_group():
    from gpukit.integrations import installed_flags

    flags = installed_flags({"karpenter.sh"}, lambda group, plural: False)
    assert flags["karpenter"] is True


# -- Kueue quota and Volcano gangs on the same pools -------------------------------------------

GANG = gk.Workload(name="ddp", kind="training", image="x", gpus=8, workers=2)


def _kueue_volcano_fleet() -> Fleet:
    return Fleet.model_validate(
        {
            "node_pools": [{"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 4}],
            "installed": {"kueue": True, "volcano": True},
            "queues": [{"name": "team-a", "scheduler": "kueue", "team": "team-a"}],
        }
    )


def test_a_volcano_gang_on_pools_kueue_quotas_warns_of_the_overlap():
    p = gk.plan(GANG, _kueue_volcano_fleet())
    assert p.scheduler == "volcano"
    (w,) = [w for w in p.warnings if w.code == "KUEUE_QUOTA_OVERLAP"]
    assert "no Volcano integration" in w.message and "LocalQueue" in w.message


def test_no_overlap_warning_when_the_gang_goes_through_kueue_or_kueue_has_no_queues():
    fleet = _kueue_volcano_fleet()
    no_queues = fleet.model_copy(update={"queues": ()})
    assert "KUEUE_QUOTA_OVERLAP" not in {w.code for w in gk.plan(GANG, no_queues).warnings}
    named = GANG.model_copy(update={"queue": "team-a"})
    p = gk.plan(
        named,
        fleet.model_copy(
            update={"installed": fleet.installed.model_copy(update={"volcano": False})}
        ),
    )
    assert p.scheduler == "kueue"
    assert "KUEUE_QUOTA_OVERLAP" not in {w.code for w in p.warnings}
