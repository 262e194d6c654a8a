"""inventory(): allocatable, allocated and free per node; queue quotas and usage."""

from __future__ import annotations

import pytest

from gpukit import kube
from gpukit.kube._inventory import pod_requests
from gpukit.testing import pod


def uses(found, node: str) -> dict[str, tuple]:
    entry = next(n for n in found.nodes if n.name == node)
    return {u.resource: (u.allocatable, u.allocated, u.free) for u in entry.resources}


def test_allocated_counts_bound_unfinished_pods(api, cluster):
    api.add(
        pod("a", "team-nlp", node="a100-0", limits={"nvidia.com/gpu": 4}),
        pod("b", "team-nlp", node="a100-0", limits={"nvidia.com/gpu": 2}, phase="Pending"),
        pod("done", "team-nlp", node="a100-0", limits={"nvidia.com/gpu": 8}, phase="Succeeded"),
        pod(
            "waiting",
            "team-nlp",
            limits={"nvidia.com/gpu": 8},
            unschedulable="0/11 nodes are available",
        ),
        pod("slice", "team-vision", node="h100-1", limits={"nvidia.com/mig-1g.10gb": 3}),
    )
    found = kube.inventory(cluster=cluster)
    assert uses(found, "a100-0") == {"nvidia.com/gpu": (8, 6, 2)}
    assert uses(found, "h100-1") == {
        "nvidia.com/mig-1g.10gb": (16, 3, 13),
        "nvidia.com/mig-2g.20gb": (8, 0, 8),
        "nvidia.com/mig-3g.40gb": (8, 0, 8),
    }
    h100 = next(n for n in found.nodes if n.name == "h100-1")
    assert (h100.pool, h100.gpu, h100.gpus, h100.mig_config) == (
        "h100-80gb-all-balanced",
        "H100-80GB",
        8,
        "all-balanced",
    )
    assert [n.name for n in found.nodes][:2] == ["a100-0", "a100-1"]
    assert "control-plane" not in [n.name for n in found.nodes]
    assert found.context == "lab"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {
                "containers": [
                    {"resources": {"limits": {"nvidia.com/gpu": "2"}}},
                    {"resources": {"limits": {"nvidia.com/gpu": "1"}}},
                ]
            },
            {"nvidia.com/gpu": 3},
        ),
        (
            {
                "containers": [{"resources": {"limits": {"nvidia.com/gpu": "1"}}}],
                "initContainers": [{"resources": {"limits": {"nvidia.com/gpu": "4"}}}],
            },
            {"nvidia.com/gpu": 4},
        ),
        (
            {
                "containers": [
                    {
                        "resources": {
                            "requests": {"nvidia.com/mig-1g.10gb": "1"},
                            "limits": {"memory": "1Gi"},
                        }
                    }
                ]
            },
            {"nvidia.com/mig-1g.10gb": 1},
        ),
        ({"containers": [{"name": "cpu-only"}]}, {}),
    ],
    ids=["sum-containers", "init-container-max", "requests", "no-gpu"],
)
def test_pod_requests(spec, expected):
    assert pod_requests({"spec": spec}) == expected


def test_forbidden_pod_list_leaves_allocation_unknown(api, cluster):
    api.forbid("list", "pods")
    found = kube.inventory(cluster=cluster)
    assert uses(found, "a100-0") == {"nvidia.com/gpu": (8, None, None)}
    assert found.notes[0].startswith("allocation unknown: RBAC forbids list pods in all namespaces")


def test_queue_quotas_and_usage(api, cluster):
    api.add(
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "ClusterQueue",
            "metadata": {"name": "gpu-shared"},
            "spec": {
                "resourceGroups": [
                    {
                        "coveredResources": ["nvidia.com/gpu"],
                        "flavors": [
                            {
                                "name": "a100",
                                "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 32}],
                            }
                        ],
                    }
                ]
            },
            "status": {
                "pendingWorkloads": 2,
                "admittedWorkloads": 3,
                "flavorsUsage": [
                    {"name": "a100", "resources": [{"name": "nvidia.com/gpu", "total": "24"}]}
                ],
            },
        },
        {
            "apiVersion": "scheduling.volcano.sh/v1beta1",
            "kind": "Queue",
            "metadata": {"name": "research"},
            "spec": {"capability": {"nvidia.com/gpu": "16", "cpu": "128"}},
            "status": {
                "state": "Open",
                "running": 2,
                "pending": 1,
                "allocated": {"nvidia.com/gpu": "8", "cpu": "10"},
            },
        },
    )
    found = kube.inventory(cluster=cluster)
    rows = {
        (q.kind, q.name, q.resource): (q.quota, q.used, q.pending, q.admitted) for q in found.queues
    }
    assert rows[("ClusterQueue", "gpu-shared", "nvidia.com/gpu")] == ("32", "24", 2, 3)
    assert rows[("Queue", "research", "nvidia.com/gpu")] == ("16", "8", 1, 2)
    assert rows[("Queue", "research", "cpu")] == ("128", "10", 1, 2)
    assert rows[("LocalQueue", "team-nlp", None)] == (None, None, None, None)


def test_table_and_json(api, cluster):
    api.add(pod("a", "team-nlp", node="l4-ts-0", limits={"nvidia.com/gpu": 1}))
    found = kube.inventory(cluster=cluster)
    table = found.table()
    assert table.splitlines()[0].split() == [
        "NODE",
        "POOL",
        "GPU",
        "GPUS",
        "STATE",
        "RESOURCE",
        "ALLOCATABLE",
        "ALLOCATED",
        "FREE",
        "MIG",
        "PER",
        "GPU",
    ]
    assert any(
        line.split()[:9]
        == ["l4-ts-0", "l4-time-slicing", "L4", "4", "Ready", "nvidia.com/gpu", "16", "1", "15"]
        for line in table.splitlines()
    )
    data = found.to_dict()
    node = next(n for n in data["nodes"] if n["name"] == "l4-ts-0")
    assert node["resources"] == [
        {"resource": "nvidia.com/gpu", "allocatable": 16, "allocated": 1, "free": 15}
    ]
    assert node["state"] == "Ready" and node["sharing"] == "time-slicing x4"
