"""Server-side apply in the API double merges keyed lists by key, as the API server does.

Keyed lists (``+listType=map``): containers and initContainers by name, env by name, ports
by containerPort and protocol, volumes by name, volumeMounts by mountPath. Other lists
(tolerations, args) stay atomic. Custom resources follow their CRD's schema.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gpukit import kube
from gpukit.testing import FakeApi, crd
from tests._reference import crd_text

DEPLOYMENTS = kube.Resource("apps", "v1", "Deployment", "deployments", namespaced=True)


def deployment(*containers: dict, **pod: object) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "serve", "namespace": "default"},
        "spec": {"template": {"spec": {"containers": list(containers), **pod}}},
    }


def container(name: str, image: str = "vllm", **fields: object) -> dict:
    return {"name": name, "image": image, **fields}


@pytest.fixture
def cluster():
    with FakeApi() as api, kube.Cluster(api.transport()) as connected:
        yield connected


def apply(cluster, obj, manager="gpukit", force=False):
    return cluster.apply(DEPLOYMENTS, obj, dry_run=False, force=force, field_manager=manager)[1]


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def names(items):
    return [i["name"] for i in items]


def test_two_managers_own_different_containers(cluster):
    apply(cluster, deployment(container("main")))
    merged = apply(cluster, deployment(container("sidecar", "envoy")), manager="mesh")
    assert names(pod_spec(merged)["containers"]) == ["main", "sidecar"]
    owned = {
        m["manager"]: m["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        for m in merged["metadata"]["managedFields"]
    }
    assert list(owned["gpukit"]) == ['k:{"name":"main"}']
    assert list(owned["mesh"]) == ['k:{"name":"sidecar"}']
    assert owned["mesh"]['k:{"name":"sidecar"}'] == {".": {}, "f:image": {}, "f:name": {}}


def test_dropping_an_item_removes_only_that_item(cluster):
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    apply(cluster, deployment(container("main", env=env)))
    apply(cluster, deployment(container("main", env=[{"name": "C", "value": "3"}])), "ops")
    after = apply(cluster, deployment(container("main", env=env[:1])))
    assert pod_spec(after)["containers"][0]["env"] == [
        {"name": "A", "value": "1"},
        {"name": "C", "value": "3"},
    ]
    # ops still owns its env var and its copy of the container's name and image
    assert [c["name"] for c in pod_spec(after)["containers"]] == ["main"]


def test_a_manager_that_drops_its_container_leaves_the_others(cluster):
    apply(cluster, deployment(container("main"), container("metrics", "exporter")))
    apply(cluster, deployment(container("sidecar", "envoy")), manager="mesh")
    after = apply(cluster, deployment(container("main")))
    assert names(pod_spec(after)["containers"]) == ["main", "sidecar"]


def test_conflicts_name_the_item_by_its_key(cluster):
    apply(cluster, deployment(container("main", "vllm:0.9")), manager="ops")
    with pytest.raises(kube.ApiStatusError) as caught:
        apply(cluster, deployment(container("main", "vllm:0.10")))
    assert caught.value.code == 409
    assert [c["field"] for c in caught.value.causes] == [
        '.spec.template.spec.containers[name="main"].image'
    ]
    forced = apply(cluster, deployment(container("main", "vllm:0.10")), force=True)
    assert pod_spec(forced)["containers"] == [container("main", "vllm:0.10")]


def test_ports_are_keyed_by_port_and_defaulted_protocol(cluster):
    apply(cluster, deployment(container("main", ports=[{"containerPort": 8000}])))
    after = apply(
        cluster,
        deployment(container("main", ports=[{"containerPort": 9090, "name": "metrics"}])),
        manager="monitoring",
    )
    assert [p["containerPort"] for p in pod_spec(after)["containers"][0]["ports"]] == [8000, 9090]
    gpukit = next(m for m in after["metadata"]["managedFields"] if m["manager"] == "gpukit")
    ports = gpukit["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"][
        'k:{"name":"main"}'
    ]["f:ports"]
    assert list(ports) == ['k:{"containerPort":8000,"protocol":"TCP"}']


def test_volumes_and_mounts_merge_by_name_and_path(cluster):
    mount = {"name": "cache", "mountPath": "/cache"}
    apply(
        cluster,
        deployment(
            container("main", volumeMounts=[mount]), volumes=[{"name": "cache", "emptyDir": {}}]
        ),
    )
    after = apply(
        cluster,
        deployment(
            container("main", volumeMounts=[{"name": "shm", "mountPath": "/dev/shm"}]),
            volumes=[{"name": "shm", "emptyDir": {"medium": "Memory"}}],
        ),
        manager="tuning",
    )
    assert names(pod_spec(after)["volumes"]) == ["cache", "shm"]
    mounts = pod_spec(after)["containers"][0]["volumeMounts"]
    assert [m["mountPath"] for m in mounts] == ["/cache", "/dev/shm"]


def test_atomic_lists_stay_whole(cluster):
    gpu = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    apply(cluster, deployment(container("main", args=["--port", "8000"]), tolerations=gpu))
    with pytest.raises(kube.ApiStatusError) as caught:
        apply(cluster, deployment(container("main"), tolerations=[{"operator": "Exists"}]), "ops")
    assert [c["field"] for c in caught.value.causes] == [".spec.template.spec.tolerations"]
    after = apply(cluster, deployment(container("main", args=["--port", "9000"])))
    assert pod_spec(after)["containers"][0]["args"] == ["--port", "9000"]
    assert "tolerations" not in pod_spec(after)


def job_set(*containers: dict) -> dict:
    return {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "metadata": {"name": "train", "namespace": "default"},
        "spec": {
            "replicatedJobs": [
                {
                    "name": "workers",
                    "template": {"spec": {"template": {"spec": {"containers": list(containers)}}}},
                }
            ]
        },
    }


def test_custom_resources_follow_their_crd_schema():
    """The real JobSet CRD keys replicatedJobs and containers; a schemaless CRD keys nothing."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    real = yaml.load(crd_text("jobset.x-k8s.io_jobsets"), Loader=loader)
    bare = crd("jobset.x-k8s.io", "JobSet", "jobsets", ("v1alpha2",))
    for definition, merged in ((real, True), (bare, False)):
        with FakeApi([definition]) as api, kube.Cluster(api.transport()) as cluster:
            res = cluster.resource("jobset.x-k8s.io/v1alpha2", "JobSet")
            cluster.apply(res, job_set(container("trainer")), dry_run=False)
            try:
                _, obj = cluster.apply(
                    res, job_set(container("sidecar")), dry_run=False, field_manager="mesh"
                )
            except kube.ApiStatusError as exc:
                assert not merged, exc
                assert [c["field"] for c in exc.causes] == [".spec.replicatedJobs"]
                continue
            assert merged
            template = obj["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]
            assert names(template["spec"]["containers"]) == ["trainer", "sidecar"]


ENV_NAMES = st.lists(st.sampled_from("ABCDEF"), unique=True, max_size=5)


@settings(max_examples=40, deadline=None)
@given(first=ENV_NAMES, second=ENV_NAMES, other=ENV_NAMES)
def test_a_manager_ends_with_exactly_what_it_applied_last(first, second, other):
    """Whatever env vars gpukit applied before, and whatever another manager owns, after
    gpukit applies ``second`` the env holds ``second`` plus the other manager's, once each."""
    other = [n.lower() for n in other]  # never the same name: no conflicts

    def with_env(env_names):
        return deployment(container("main", env=[{"name": n, "value": n} for n in env_names]))

    with FakeApi() as api, kube.Cluster(api.transport()) as cluster:
        apply(cluster, with_env(first))
        apply(cluster, with_env(other), manager="ops")
        before = copy.deepcopy(apply(cluster, with_env(second)))
        again = apply(cluster, with_env(second))
    env = pod_spec(before)["containers"][0].get("env", [])
    assert sorted(e["name"] for e in env) == sorted([*second, *other])
    assert all(e["value"] == e["name"] for e in env)
    assert again["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
