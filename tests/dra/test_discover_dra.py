"""Live DRA fleets: GPUs from the NVIDIA driver's ResourceSlices, not only from node labels."""

from __future__ import annotations

from typing import Any

from gpukit import kube
from gpukit.dra.slices import read_slices
from gpukit.testing import FakeApi, gpu_node

DEVICE_CLASS = {
    "apiVersion": "resource.k8s.io/v1",
    "kind": "DeviceClass",
    "metadata": {"name": "gpu.nvidia.com"},
    "spec": {},
}


def _node(name: str) -> dict[str, Any]:
    """A node GPU Feature Discovery never labelled (no device plugin either)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {
            "allocatable": {"cpu": "48", "memory": "384Gi"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _gpu(index: int, product: str, *, shares: int | None = None) -> dict[str, Any]:
    device: dict[str, Any] = {
        "name": f"gpu-{index}",
        "attributes": {"type": {"string": "gpu"}, "productName": {"string": product}},
        "capacity": {"memory": {"value": "46068Mi"}},
    }
    if shares is not None:
        device["allowMultipleAllocations"] = True
        device["capacity"]["shares"] = {"value": str(shares)}
    return device


def _mig(index: int, parent: int, profile: str) -> dict[str, Any]:
    return {
        "name": f"gpu-{parent}-mig-{index}",
        "attributes": {
            "type": {"string": "mig"},
            "productName": {"string": "NVIDIA H100 80GB HBM3"},
            "profile": {"string": profile},
            "parentUUID": {"string": f"GPU-{parent}"},
        },
    }


def _slice(node: str, devices: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceSlice",
        "metadata": {"name": f"{node}-gpu.nvidia.com"},
        "spec": {
            "driver": "gpu.nvidia.com",
            "nodeName": node,
            "pool": {"name": node, "generation": 1, "resourceSliceCount": 1},
            "devices": devices,
            **spec,
        },
    }


def test_a_node_without_gfd_labels_is_read_from_its_slices():
    slices = [_slice(n, [_gpu(i, "NVIDIA L40S", shares=4) for i in range(4)]) for n in ("l1", "l2")]
    with (
        FakeApi([_node("l1"), _node("l2"), DEVICE_CLASS, *slices]) as api,
        kube.Cluster(api.transport()) as cluster,
    ):
        fleet = kube.discover(cluster=cluster)
    (pool,) = fleet.node_pools
    assert (pool.gpu, pool.gpus_per_node, pool.nodes) == ("L40S", 4, 2)
    assert fleet.installed.dra
    assert fleet.dra.consumable_shares == 4 and fleet.dra.gate("ConsumableShares")


def test_mig_devices_in_slices_give_the_layout():
    devices = [
        _mig(i, parent, profile)
        for parent in range(2)
        for i, profile in enumerate(["1g.10gb", "1g.10gb", "2g.20gb", "3g.40gb"])
    ]
    findings = read_slices([_slice("h1", devices)])
    labels = findings.labels["h1"]
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
    assert labels["nvidia.com/gpu.count"] == "2"  # two parents
    assert labels["nvidia.com/mig-1g.10gb.count"] == "4"
    with (
        FakeApi([_node("h1"), DEVICE_CLASS, _slice("h1", devices)]) as api,
        kube.Cluster(api.transport()) as cluster,
    ):
        (pool,) = kube.discover(cluster=cluster).node_pools
    assert pool.mig is not None
    assert pool.mig.layout == {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}


def test_slices_of_other_drivers_and_dynamic_mig():
    other = _slice("x", [_gpu(0, "NVIDIA L40S")])
    other["spec"]["driver"] = "gpu.example.com"
    assert read_slices([other]).labels == {}
    dynamic = _slice("h1", [_gpu(0, "NVIDIA H100 80GB HBM3")], sharedCounters=[{"name": "c"}])
    findings = read_slices([dynamic])
    assert findings.dynamic_mig and findings.settings() == {"feature_gates": {"DynamicMIG": True}}
    memory = _gpu(0, "NVIDIA L40S")
    memory["allowMultipleAllocations"] = True
    assert read_slices([_slice("l", [memory])]).consumable_shares == "memory"


def test_gfd_labels_win_over_slices():
    node = gpu_node("g", "NVIDIA-L4", 1)
    with (
        FakeApi([node, DEVICE_CLASS, _slice("g", [_gpu(0, "NVIDIA L40S")])]) as api,
        kube.Cluster(api.transport()) as cluster,
    ):
        (pool,) = kube.discover(cluster=cluster).node_pools
    assert pool.gpu == "L4"
