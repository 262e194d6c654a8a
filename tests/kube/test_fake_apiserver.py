"""FakeApiServer speaks what the real client expects: typed APIs deserialize its answers."""

from __future__ import annotations

import json
import threading

import pytest
import yaml

import gpukit.testing
from gpukit.testing import FakeApiServer, component_crds, crd, event, gpu_node, namespace, pod
from tests._reference import crd_text

k8s = pytest.importorskip("kubernetes").client
ApiException = k8s.exceptions.ApiException

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "train", "namespace": "default", "labels": {"team": "nlp"}},
    "spec": {
        "parallelism": 1,
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}
        },
    },
}


@pytest.fixture
def server():
    with FakeApiServer([gpu_node("gpu-1", "NVIDIA-L4", 4), *component_crds("kueue")]) as api:
        yield api


@pytest.fixture
def api_client(server):
    with k8s.ApiClient(server.configuration()) as api_client:
        yield api_client
        api_client.rest_client.pool_manager.clear()


def _call(api_client, method, path, **kwargs):
    response, code, _ = api_client.call_api(
        path, method, auth_settings=["BearerToken"], _preload_content=False, **kwargs
    )
    return code, json.loads(response.data)


def _apply(api_client, obj, *, manager="gpukit", force=False, dry_run=False, path=None):
    query = [("fieldManager", manager)]
    if force:
        query.append(("force", "true"))
    if dry_run:
        query.append(("dryRun", "All"))
    path = path or f"/apis/batch/v1/namespaces/default/jobs/{obj['metadata']['name']}"
    return _call(
        api_client,
        "PATCH",
        path,
        query_params=query,
        body=obj,
        header_params={"Content-Type": "application/apply-patch+yaml"},
    )


def test_public_names_are_sorted_and_complete():
    assert gpukit.testing.__all__ == sorted(gpukit.testing.__all__)
    assert all(hasattr(gpukit.testing, n) for n in gpukit.testing.__all__)


def test_typed_clients_read_nodes_and_namespaces(api_client):
    nodes = k8s.CoreV1Api(api_client).list_node()
    assert [n.metadata.name for n in nodes.items] == ["gpu-1"]
    assert nodes.items[0].status.allocatable["nvidia.com/gpu"] == "4"
    names = [n.metadata.name for n in k8s.CoreV1Api(api_client).list_namespace().items]
    assert names == ["default", "kube-public", "kube-system"]


def test_discovery_documents(api_client):
    _, apis = _call(api_client, "GET", "/apis")
    kueue = next(g for g in apis["groups"] if g["name"] == "kueue.x-k8s.io")
    assert kueue["preferredVersion"] == {
        "groupVersion": "kueue.x-k8s.io/v1beta2",
        "version": "v1beta2",
    }
    _, resources = _call(api_client, "GET", "/apis/kueue.x-k8s.io/v1beta1")
    names = {r["name"]: r for r in resources["resources"]}
    assert names["clusterqueues"]["namespaced"] is False
    assert names["localqueues"]["namespaced"] is True
    assert "localqueues/status" in names
    groups = k8s.ApisApi(api_client).get_api_versions()
    assert "kueue.x-k8s.io" in [g.name for g in groups.groups]


def test_builtin_list_items_have_no_kind_but_custom_ones_do(server, api_client):
    server.add(
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "ClusterQueue",
            "metadata": {"name": "cq"},
            "spec": {},
        }
    )
    _, nodes = _call(api_client, "GET", "/api/v1/nodes")
    assert nodes["kind"] == "NodeList" and "kind" not in nodes["items"][0]
    _, cqs = _call(api_client, "GET", "/apis/kueue.x-k8s.io/v1beta1/clusterqueues")
    assert cqs["items"][0]["apiVersion"] == "kueue.x-k8s.io/v1beta1"
    listed = k8s.CustomObjectsApi(api_client).list_cluster_custom_object(
        "kueue.x-k8s.io", "v1beta2", "clusterqueues"
    )
    assert [i["metadata"]["name"] for i in listed["items"]] == ["cq"]


def test_real_crds_from_the_reference_are_served(api_client, server):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = [
        yaml.load(crd_text(name), Loader=loader)
        for name in ("trainer.kubeflow.org_trainjobs.yaml", "batch.volcano.sh_jobs.yaml")
    ]
    server.add(*docs)
    _, trainer = _call(api_client, "GET", "/apis/trainer.kubeflow.org/v1alpha1")
    assert [r["kind"] for r in trainer["resources"] if "/" not in r["name"]] == ["TrainJob"]
    crds = k8s.ApiextensionsV1Api(api_client).list_custom_resource_definition()
    assert "trainjobs.trainer.kubeflow.org" in [c.metadata.name for c in crds.items]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=a", ["p1"]),
        ("app!=a", ["p2", "p3"]),
        ("app in (a,b)", ["p1", "p2"]),
        ("app notin (a)", ["p2", "p3"]),
        ("tier", ["p3"]),
        ("!tier", ["p1", "p2"]),
        ("app=b,tier", []),
    ],
    ids=["equals", "not-equals", "in", "notin", "exists", "not-exists", "and"],
)
def test_label_selectors(server, api_client, selector, expected):
    server.add(
        pod("p1", labels={"app": "a"}),
        pod("p2", labels={"app": "b"}),
        pod("p3", labels={"tier": "x"}),
    )
    pods = k8s.CoreV1Api(api_client).list_namespaced_pod("default", label_selector=selector)
    assert [p.metadata.name for p in pods.items] == expected


def test_field_selectors_and_unsupported_ones(server, api_client):
    server.add(
        pod("run", node="gpu-1"),
        pod("done", node="gpu-1", phase="Succeeded"),
        pod("wait", unschedulable="0/1 nodes are available"),
    )
    core = k8s.CoreV1Api(api_client)
    bound = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=gpu-1")
    assert [p.metadata.name for p in bound.items] == ["done", "run"]
    live = core.list_pod_for_all_namespaces(
        field_selector="status.phase!=Succeeded,status.phase!=Failed"
    )
    assert [p.metadata.name for p in live.items] == ["run", "wait"]
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("default", field_selector="spec.containers=x")
    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == "field label not supported: spec.containers"


def test_pagination_with_limit_and_continue(server, api_client):
    server.add(*(pod(f"p{i:02d}") for i in range(7)))
    core = k8s.CoreV1Api(api_client)
    first = core.list_namespaced_pod("default", limit=3)
    assert len(first.items) == 3 and first.metadata.remaining_item_count == 4
    rest = core.list_namespaced_pod("default", limit=10, _continue=first.metadata._continue)
    assert [p.metadata.name for p in first.items + rest.items] == [f"p{i:02d}" for i in range(7)]
    assert rest.metadata._continue is None


def test_apply_creates_then_updates_and_records_the_field_manager(server, api_client):
    code, created = _apply(api_client, JOB)
    assert code == 201 and created["metadata"]["resourceVersion"]
    assert created["metadata"]["managedFields"][0]["manager"] == "gpukit"
    changed = {**JOB, "spec": {**JOB["spec"], "parallelism": 2}}
    code, updated = _apply(api_client, changed)
    assert code == 200 and updated["spec"]["parallelism"] == 2
    assert updated["metadata"]["generation"] == 2
    job = k8s.BatchV1Api(api_client).read_namespaced_job("train", "default")
    assert job.spec.parallelism == 2 and job.metadata.managed_fields[0].operation == "Apply"


def test_apply_dry_run_persists_nothing(server, api_client):
    code, answer = _apply(api_client, JOB, dry_run=True)
    assert code == 201 and answer["metadata"]["name"] == "train"
    assert server.get("batch/v1", "Job", "train") is None


def test_apply_removes_fields_the_manager_no_longer_sets(server, api_client):
    _apply(api_client, JOB)
    without_labels = {**JOB, "metadata": {"name": "train", "namespace": "default"}}
    _, obj = _apply(api_client, without_labels)
    assert "labels" not in obj["metadata"]


def test_apply_conflicts_with_another_manager_unless_forced(server, api_client):
    server.add(JOB, manager="kubectl-client-side-apply")
    changed = {**JOB, "spec": {**JOB["spec"], "parallelism": 3}}
    with pytest.raises(ApiException) as caught:
        _apply(api_client, changed)
    status = json.loads(caught.value.body)
    assert caught.value.status == 409 and status["reason"] == "Conflict"
    assert status["message"] == (
        "Apply failed with 1 conflict: conflict with "
        '"kubectl-client-side-apply" using batch/v1: .spec.parallelism'
    )
    assert status["details"]["causes"][0]["field"] == ".spec.parallelism"
    code, forced = _apply(api_client, changed, force=True)
    assert code == 200 and forced["spec"]["parallelism"] == 3
    # The same values are shared ownership, not a conflict.
    assert _apply(api_client, changed, manager="other")[0] == 200


def test_apply_needs_a_field_manager_and_matching_identity(api_client):
    with pytest.raises(ApiException) as caught:
        _call(
            api_client,
            "PATCH",
            "/apis/batch/v1/namespaces/default/jobs/train",
            body=JOB,
            header_params={"Content-Type": "application/apply-patch+yaml"},
        )
    assert caught.value.status == 400
    assert "fieldManager: Required value" in json.loads(caught.value.body)["message"]
    with pytest.raises(ApiException) as caught:
        _apply(api_client, JOB, path="/apis/batch/v1/namespaces/default/jobs/other")
    assert "does not match the name on the URL" in json.loads(caught.value.body)["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metadata": {"name": "Bad_Name", "namespace": "default"}}, "metadata.name"),
        (
            {"spec": {"template": {"spec": {"containers": [{"name": "main"}]}}}},
            "spec.template.spec.containers[0].image",
        ),
        (
            {"metadata": {"name": "train", "namespace": "default", "labels": {"a": "b c"}}},
            "metadata.labels",
        ),
    ],
    ids=["name", "image", "label-value"],
)
def test_invalid_objects_get_422_with_causes(api_client, change, field):
    bad = {**JOB, **change}
    with pytest.raises(ApiException) as caught:
        _apply(
            api_client,
            bad,
            path=f"/apis/batch/v1/namespaces/default/jobs/{bad['metadata']['name']}",
        )
    status = json.loads(caught.value.body)
    assert caught.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == field
    assert status["message"].startswith(
        f'Job.batch "{bad["metadata"]["name"]}" is invalid: {field}'
    )


def test_missing_namespace_is_404_even_in_dry_run(api_client):
    ghost = {**JOB, "metadata": {"name": "train", "namespace": "ghost"}}
    with pytest.raises(ApiException) as caught:
        _apply(api_client, ghost, dry_run=True, path="/apis/batch/v1/namespaces/ghost/jobs/train")
    assert caught.value.status == 404
    assert json.loads(caught.value.body)["details"] == {"name": "ghost", "kind": "namespaces"}


def test_wrong_token_is_401(server):
    config = server.configuration()
    config.api_key = {"authorization": "Bearer nope"}
    with k8s.ApiClient(config) as api_client:
        with pytest.raises(ApiException) as caught:
            k8s.CoreV1Api(api_client).list_node()
        api_client.rest_client.pool_manager.clear()
    assert caught.value.status == 401


def test_forbid_uses_the_real_rbac_message(server, api_client):
    server.forbid("list", "pods", namespace="default")
    with pytest.raises(ApiException) as caught:
        k8s.CoreV1Api(api_client).list_namespaced_pod("default")
    assert json.loads(caught.value.body)["message"] == (
        'pods is forbidden: User "gpukit-test" cannot list resource "pods" in API group "" in '
        'the namespace "default"'
    )
    # Other namespaces are still allowed.
    k8s.CoreV1Api(api_client).list_namespaced_pod("kube-system")


def test_fault_times_and_dry_run_filter(server, api_client):
    server.fail(409, verb="patch", resource="jobs.batch", dry_run=False, times=1)
    assert _apply(api_client, JOB, dry_run=True)[0] == 201
    with pytest.raises(ApiException):
        _apply(api_client, JOB)
    assert _apply(api_client, JOB)[0] == 201


def test_watch_streams_changes_and_ends_at_its_timeout(server, api_client):
    core = k8s.CoreV1Api(api_client)
    start = core.list_namespaced_pod("default").metadata.resource_version
    threading.Timer(0.1, lambda: server.add(pod("late"))).start()
    response = core.list_namespaced_pod(
        "default", watch=True, resource_version=start, timeout_seconds=1, _preload_content=False
    )
    lines = [json.loads(line) for line in response.read().splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "late")]
    assert lines[0]["object"]["kind"] == "Pod"


def test_watch_from_an_expired_version_gets_410(server, api_client):
    core = k8s.CoreV1Api(api_client)
    start = core.list_namespaced_pod("default").metadata.resource_version
    server.add(pod("p"))
    server.compact()
    response = core.list_namespaced_pod(
        "default", watch=True, resource_version=start, timeout_seconds=1, _preload_content=False
    )
    (line,) = response.read().splitlines()
    event_ = json.loads(line)
    assert event_["type"] == "ERROR" and event_["object"]["code"] == 410


def test_deleting_a_namespace_removes_what_is_inside(server, api_client):
    server.add(
        namespace("scratch"),
        pod("p", "scratch"),
        event(pod("p", "scratch"), "Scheduled", "ok", type="Normal"),
    )
    k8s.CoreV1Api(api_client).delete_namespace("scratch")
    assert server.list("v1", "Pod", "scratch") == []
    assert server.list("v1", "Event", "scratch") == []


def test_stop_makes_the_server_unreachable(server):
    config = server.configuration()
    server.stop()
    with (
        k8s.ApiClient(config) as api_client,
        pytest.raises(Exception, match="(?i)refused|Max retries"),
    ):
        k8s.CoreV1Api(api_client).list_node(_request_timeout=2)


def test_crd_builder_scopes(server, api_client):
    server.add(crd("example.com", "Widget", versions=("v1", "v1beta1"), namespaced=False))
    _, doc = _call(api_client, "GET", "/apis/example.com/v1beta1")
    assert doc["resources"][0] == {
        "name": "widgets",
        "singularName": "widget",
        "namespaced": False,
        "kind": "Widget",
        "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
    }
