"""End-to-end checks against a real cluster: run only with KUBECONFIG and GPUKIT_E2E=1.

Everything happens in a fresh namespace (created here, deleted at the end), or in an existing
one named by GPUKIT_E2E_NAMESPACE (left in place; what the suite applied there is deleted).
Objects are checked with server-side dry runs; GPUKIT_E2E_APPLY=1 also applies them for real
inside that namespace. Nothing outside it is written; only what this suite created is deleted.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from gpukit import kube
from gpukit.advisor import plan
from gpukit.errors import ClusterError
from gpukit.fleet import Fleet, Installed, default_fleet
from gpukit.manifests import render
from gpukit.workload import Workload

ENABLED = bool(os.environ.get("KUBECONFIG")) and os.environ.get("GPUKIT_E2E") == "1"
APPLY = os.environ.get("GPUKIT_E2E_APPLY") == "1"
MANAGER = "gpukit-e2e"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not ENABLED,
        reason="end-to-end suite: set KUBECONFIG and GPUKIT_E2E=1 to run it against a real cluster",
    ),
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[kube.Cluster]:
    with kube.connect() as connected:
        yield connected


#: Objects applied for real in a namespace this suite did not create, removed at the end.
CREATED: list[tuple[kube.Resource, str]] = []


@pytest.fixture(scope="module")
def namespace(cluster: kube.Cluster) -> Iterator[str]:
    given = os.environ.get("GPUKIT_E2E_NAMESPACE")
    if given:
        yield given
        for res, name in CREATED:
            cluster.request(
                "DELETE",
                res.path(given, name),
                verb="delete",
                resource=res.qualified,
                namespace=given,
                name=name,
                query=[("propagationPolicy", "Background")],
            )
        return
    name = f"gpukit-e2e-{secrets.token_hex(3)}"
    # The one write outside a dry run: server-side dry runs need their namespace to exist.
    created = kube.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": MANAGER}},
            }
        ],
        dry_run=False,
        cluster_scope=True,
        cluster=cluster,
        field_manager=MANAGER,
    )
    created.raise_for_failure()
    try:
        yield name
    finally:
        from kubernetes import client

        client.CoreV1Api(cluster.api_client).delete_namespace(name)


@pytest.fixture(scope="module")
def fleet(cluster: kube.Cluster) -> Fleet:
    """The cluster's fleet when it has GPU nodes, else the default one; core kinds only."""
    try:
        found = kube.discover(cluster=cluster)
    except kube.ApiStatusError as exc:
        if exc.code != 403:
            raise
        found = default_fleet()  # RBAC hides the nodes: render for the default fleet
    except ClusterError as exc:
        assert "no GPU nodes" in str(exc), str(exc)
        found = default_fleet()
    return found.model_copy(update={"installed": Installed(), "queues": ()})


def _skip_if_forbidden(exc: kube.ApiStatusError) -> None:
    if exc.code == 403:
        pytest.skip(f"this identity may not read nodes: {exc}")


def test_discover_reads_the_cluster(cluster: kube.Cluster) -> None:
    try:
        found = kube.discover_cluster(cluster=cluster)
    except kube.ApiStatusError as exc:
        _skip_if_forbidden(exc)
        raise
    except ClusterError as exc:
        assert str(exc).startswith("no GPU nodes in "), str(exc)
        return
    assert found.fleet.node_pools
    assert set(found.node_pools.values()) == {p.name for p in found.fleet.node_pools}


def test_inventory_is_consistent(cluster: kube.Cluster) -> None:
    try:
        found = kube.inventory(cluster=cluster)
    except kube.ApiStatusError as exc:
        _skip_if_forbidden(exc)
        raise
    for node in found.nodes:
        for use in node.resources:
            assert use.allocatable >= 0
            if use.allocated is not None:
                assert use.free == max(use.allocatable - use.allocated, 0)


def _objects(fleet: Fleet, namespace: str) -> list[dict]:
    workload = Workload(
        name="gpukit-e2e-job",
        kind="batch-inference",
        gpu_memory="4Gi",
        namespace=namespace,
        image="busybox:1.36",
        command=["true"],
    )
    return render(plan(workload, fleet))


def test_dry_run_apply_writes_nothing(cluster: kube.Cluster, namespace: str, fleet: Fleet) -> None:
    objects = _objects(fleet, namespace)
    result = kube.apply(objects, cluster=cluster)
    assert result.ok, result.table()
    assert result.dry_run and not result.applied
    for obj in objects:
        res = cluster.resource(obj["apiVersion"], obj["kind"])
        assert cluster.get(res, obj["metadata"]["name"], namespace) is None


def test_unknown_objects_are_reported_not_raised(cluster: kube.Cluster, namespace: str) -> None:
    found = pytest.raises(
        ClusterError, kube.status, "gpukit-e2e-absent", namespace, cluster=cluster
    )
    assert "nothing named 'gpukit-e2e-absent'" in str(found.value)


@pytest.mark.skipif(not APPLY, reason="set GPUKIT_E2E_APPLY=1 to apply for real")
def test_apply_for_real_then_follow(cluster: kube.Cluster, namespace: str, fleet: Fleet) -> None:
    objects = _objects(fleet, namespace)
    result = kube.apply(objects, dry_run=False, cluster=cluster)
    CREATED.extend((cluster.resource(o.api_version, o.kind), o.name) for o in result.applied)
    assert result.ok, result.table()
    assert {o.action for o in result.objects} == {"created"}
    again = kube.apply(objects, dry_run=False, cluster=cluster)
    assert {o.action for o in again.objects} == {"configured"}
    found = kube.status("gpukit-e2e-job", namespace, cluster=cluster)
    assert found.kind == "Job"
    assert found.phase in ("pending", "queued", "running", "succeeded", "failed")


@pytest.mark.skipif(not APPLY, reason="set GPUKIT_E2E_APPLY=1 to apply for real")
def test_conflicts_are_reported(cluster: kube.Cluster, namespace: str) -> None:
    def config(value: str) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "gpukit-e2e-owned", "namespace": namespace},
            "data": {"key": value},
        }

    first = kube.apply(
        [config("a")], dry_run=False, cluster=cluster, field_manager=f"{MANAGER}-other"
    ).raise_for_failure()
    CREATED.extend((cluster.resource(o.api_version, o.kind), o.name) for o in first.applied)
    result = kube.apply([config("b")], dry_run=False, cluster=cluster)
    (conflict,) = result.objects
    assert (conflict.action, conflict.code) == ("failed", 409)
    assert f'conflict with "{MANAGER}-other"' in (conflict.message or "")
