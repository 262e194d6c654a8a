"""Platform plan details: renamed time-sliced MIG resources, and which plans get LocalQueues."""

from __future__ import annotations

import gpukit as gk
from gpukit.platform.model import _gpu_resources, platform_plan


def test_time_sliced_mig_pool_with_rename_advertises_shared_mig_names():
    pool = gk.NodePool.model_validate(
        {
            "name": "a100",
            "gpu": "A100-80GB",
            "gpus_per_node": 8,
            "nodes": 1,
            "mig": {"strategy": "mixed", "layout": {"1g.10gb": 7}},
            "sharing": {"mode": "time-slicing", "replicas": 2, "rename_by_default": True},
        }
    )
    assert _gpu_resources(pool) == {"nvidia.com/mig-1g.10gb.shared": 7 * 8 * 2}


def test_only_plans_that_queue_through_kueue_create_local_queues():
    fleet = gk.default_fleet()
    workloads = [
        gk.Workload(name="gang", kind="training", workers=2, gpus=8, team="team-new"),  # Volcano
        gk.Workload(name="solo", kind="training", team="team-nlp"),  # Kueue
    ]
    plan = platform_plan(fleet, workloads)
    names = {(q.namespace, q.name) for q in plan.local_queues}
    assert ("team-nlp", "team-nlp") in names
    assert not any(name == "team-new" for _, name in names)
