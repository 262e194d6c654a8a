"""A cluster for the kube tests: the default fleet's nodes, served by gpukit's API double."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

from gpukit import kube
from gpukit.testing import FakeApiServer, component_crds, gpu_node, namespace

BALANCED = {
    "mig_strategy": "mixed",
    "mig_config": "all-balanced",
    "mig_layout": {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1},
}
TEAMS = ("team-nlp", "team-vision", "team-research")


def default_cluster_nodes() -> list[dict]:
    """Nodes that mirror the embedded default fleet, labelled as GFD labels them."""
    control_plane = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "control-plane",
            "labels": {
                "kubernetes.io/hostname": "control-plane",
                "node-role.kubernetes.io/control-plane": "",
            },
        },
        "spec": {
            "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
        },
        "status": {
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    return [
        control_plane,
        *(
            gpu_node(f"h100-{i}", "NVIDIA-H100-80GB-HBM3", 8, **BALANCED, cpu="192", memory="2Ti")
            for i in range(2)
        ),
        *(
            gpu_node(f"a100-{i}", "NVIDIA-A100-SXM4-80GB", 8, mig_strategy="mixed")
            for i in range(4)
        ),
        *(
            gpu_node(
                f"l4-ts-{i}",
                "NVIDIA-L4",
                4,
                sharing="time-slicing",
                replicas=4,
                device_plugin_config="l4-time-slicing",
                cpu="48",
                memory="192Gi",
            )
            for i in range(3)
        ),
        *(
            gpu_node(
                f"l4-mps-{i}",
                "NVIDIA-L4",
                4,
                sharing="mps",
                replicas=4,
                device_plugin_config="l4-mps",
                cpu="48",
                memory="192Gi",
            )
            for i in range(2)
        ),
    ]


def queue_objects() -> list[dict]:
    objects: list[dict] = [namespace(team) for team in TEAMS]
    objects += [
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "LocalQueue",
            "metadata": {"name": team, "namespace": team},
            "spec": {"clusterQueue": "gpu-shared"},
        }
        for team in TEAMS
    ]
    objects += [
        {
            "apiVersion": "scheduling.volcano.sh/v1beta1",
            "kind": "Queue",
            "metadata": {"name": name},
            "spec": {"weight": 1},
            "status": {"state": "Open"},
        }
        for name in ("default", "team-research", "team-nlp")
    ]
    return objects


@pytest.fixture
def api() -> Iterator[FakeApiServer]:
    with FakeApiServer(
        [*default_cluster_nodes(), *component_crds("kueue", "volcano", "gpu-operator")]
    ) as server:
        server.add(*queue_objects())
        yield server


@pytest.fixture
def kubeconfig(api: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = api.write_kubeconfig(tmp_path / "kubeconfig", context="lab")
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


@pytest.fixture
def cluster(kubeconfig: Path) -> Iterator[kube.Cluster]:
    with kube.connect(kubeconfig=kubeconfig) as connected:
        yield connected
