"""`gpukit verify --submit --until scheduled` on the example workloads against a real cluster.

Runs only with KUBECONFIG and GPUKIT_E2E=1. Everything namespaced goes into one fresh
namespace (created here, deleted at the end with all it holds): the platform bundle's
LocalQueues, then every example workload (their namespaces overridden). The bundle's
cluster-scoped objects (ResourceFlavors, ClusterQueues, Volcano queues, priority classes) are
applied only with GPUKIT_E2E_CLUSTER_SCOPE=1, and then deleted one by one at the end: only
what this suite created. On a cluster shaped as the fleet says (GPUKIT_E2E_SHAPED=1: Kueue
and Volcano installed, GPU nodes, real or fake, labelled like the fleet's pools), every
example must be scheduled as planned; otherwise the suite checks that each gets a verdict.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpukit import kube
from gpukit.errors import ClusterError
from gpukit.fleet import default_fleet
from gpukit.platform import render_platform
from gpukit.verify import verify
from gpukit.workload import load_workloads

ENABLED = bool(os.environ.get("KUBECONFIG")) and os.environ.get("GPUKIT_E2E") == "1"
CLUSTER_SCOPE = os.environ.get("GPUKIT_E2E_CLUSTER_SCOPE") == "1"
SHAPED = os.environ.get("GPUKIT_E2E_SHAPED") == "1"
MANAGER = "gpukit-e2e"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "workloads"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not ENABLED,
        reason="end-to-end suite: set KUBECONFIG and GPUKIT_E2E=1 to run it against a real cluster",
    ),
]


def _delete(cluster: kube.Cluster, res: kube.Resource, name: str, namespace: str | None) -> None:
    cluster.request(
        "DELETE",
        res.path(namespace, name),
        verb="delete",
        resource=res.qualified,
        namespace=namespace,
        name=name,
        query=[("propagationPolicy", "Background")],
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[kube.Cluster]:
    with kube.connect() as connected:
        yield connected


@pytest.fixture(scope="module")
def namespace(cluster: kube.Cluster) -> Iterator[str]:
    name = f"gpukit-verify-{secrets.token_hex(3)}"
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": MANAGER}},
    }
    kube.apply(
        [ns], dry_run=False, cluster_scope=True, cluster=cluster, field_manager=MANAGER
    ).raise_for_failure()
    try:
        yield name
    finally:
        _delete(cluster, cluster.resource("v1", "Namespace"), name, None)


@pytest.fixture(scope="module")
def platform(cluster: kube.Cluster, namespace: str) -> Iterator[None]:
    workloads = load_workloads(EXAMPLES)
    teams = {w.namespace for w in workloads if w.namespace}
    objects = [o for f in render_platform(default_fleet(), workloads) for o in f.objects]
    namespaced = []
    cluster_scoped = []
    for obj in objects:
        where = obj["metadata"].get("namespace")
        if obj.get("kind") == "Namespace":
            continue
        if where in teams:  # the workloads' namespaces (LocalQueues): moved into the suite's
            namespaced.append({**obj, "metadata": {**obj["metadata"], "namespace": namespace}})
        elif where is None:
            cluster_scoped.append(obj)
    created: list[tuple[kube.Resource, str]] = []
    if CLUSTER_SCOPE:
        served = []
        for obj in cluster_scoped:
            try:
                res = cluster.resource(obj["apiVersion"], obj["kind"])
            except ClusterError:
                continue  # a component this cluster does not run (Karpenter, say)
            served.append(obj)
            if cluster.get(res, obj["metadata"]["name"]) is None:
                created.append((res, obj["metadata"]["name"]))
        kube.apply(
            served, dry_run=False, cluster_scope=True, cluster=cluster, field_manager=MANAGER
        )
    kube.apply(namespaced, dry_run=False, cluster=cluster, field_manager=MANAGER)
    try:
        yield
    finally:
        for res, name in reversed(created):
            _delete(cluster, res, name, None)


def test_verify_submit_until_scheduled(cluster, namespace, platform) -> None:
    report = verify(
        load_workloads(EXAMPLES),
        default_fleet(),
        cluster=cluster,
        namespace=namespace,
        submit=True,
        until="scheduled",
        timeout=float(os.environ.get("GPUKIT_E2E_TIMEOUT", "300")),
    )
    print(report.table())
    assert {w.name for w in report.workloads} == {w.name for w in load_workloads(EXAMPLES)}
    assert all(w.steps or w.error for w in report.workloads)
    if SHAPED:
        assert report.ok, report.table()
