"""A cluster for the kube tests: the default fleet's nodes, served by gpukit's API double.

Most tests talk to the double in-process (``kube.Cluster(api.transport())``: no socket,
and no kubernetes package needed).
A test that asks for ``kubeconfig`` (the CLI, connecting, the e2e suite) gets the same
objects behind the HTTP server instead, so the real kubernetes client is exercised too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gpukit import kube
from gpukit.testing import FakeApi, FakeApiServer, component_crds, gpu_node, namespace

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


def _fill(api: FakeApi) -> FakeApi:
    api.add(*default_cluster_nodes(), *component_crds("kueue", "volcano", "gpu-operator"))
    api.add(*queue_objects())
    return api


@pytest.fixture
def api_server() -> Iterator[FakeApiServer]:
    """The double over HTTP on 127.0.0.1, for the real client (the kube extra)."""
    pytest.importorskip("kubernetes")
    with _fill(FakeApiServer()) as server:
        yield server


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[FakeApi]:
    """The double: in-process, or the HTTP server when the test also uses ``kubeconfig``."""
    if "kubeconfig" in request.fixturenames:
        yield request.getfixturevalue("api_server")
        return
    with _fill(FakeApi()) as in_process:
        yield in_process


@pytest.fixture
def kubeconfig(api_server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = api_server.write_kubeconfig(tmp_path / "kubeconfig", context="lab")
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


@pytest.fixture
def cluster(request: pytest.FixtureRequest, api: FakeApi) -> Iterator[kube.Cluster]:
    """A Cluster on the double: through the transport seam, or the kubeconfig when asked."""
    if "kubeconfig" in request.fixturenames:
        with kube.connect(kubeconfig=request.getfixturevalue("kubeconfig")) as connected:
            yield connected
        return
    with kube.Cluster(api.transport(), context="lab") as connected:
        yield connected
