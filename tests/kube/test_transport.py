"""The transport seam: Cluster turns ApiResponses and TransportErrors into gpukit's errors,
whichever transport carries them, and the in-process double answers as the HTTP one does."""

from __future__ import annotations

import json
import re

import pytest

from gpukit import kube
from gpukit.errors import ClusterError
from gpukit.kube import ApiRequest, ApiResponse, MockTransport, TransportError
from gpukit.testing import FakeApi, FakeApiServer, gpu_node

NODES = kube.Resource("", "v1", "Node", "nodes", namespaced=False)
JOBS = kube.Resource("batch", "v1", "Job", "jobs", namespaced=True)


def answering(*responses: ApiResponse) -> tuple[kube.Cluster, list[ApiRequest]]:
    """A Cluster whose transport answers with ``responses`` in turn, and what it was sent."""
    sent: list[ApiRequest] = []
    queue = list(responses)

    def handler(request: ApiRequest) -> ApiResponse:
        sent.append(request)
        return queue.pop(0)

    return kube.Cluster(MockTransport(handler, server="https://lab:6443"), context="lab"), sent


def status(code: int, reason: str, message: str, **details: object) -> dict:
    body = {"kind": "Status", "status": "Failure", "code": code, "reason": reason}
    body["message"] = message
    if details:
        body["details"] = details
    return body


@pytest.mark.parametrize(
    ("response", "message"),
    [
        pytest.param(
            ApiResponse(401, status(401, "Unauthorized", "Unauthorized")),
            "the Kubernetes API at https://lab:6443 rejected the credentials of context 'lab' "
            "(401 Unauthorized) to get jobs.batch 'train' in namespace 'team'; log in again",
            id="401",
        ),
        pytest.param(
            ApiResponse(403, status(403, "Forbidden", 'jobs.batch "train" is forbidden: no')),
            "RBAC forbids get jobs.batch 'train' in namespace 'team': jobs.batch \"train\" is "
            "forbidden: no; ask a cluster admin for a Role or ClusterRole granting 'get' on "
            "'jobs.batch'",
            id="403",
        ),
        pytest.param(
            ApiResponse(500, status(500, "InternalError", "etcd\n  is   down")),
            "get jobs.batch 'train' in namespace 'team' failed (500 InternalError): etcd is down",
            id="500-status-body",
        ),
        pytest.param(
            ApiResponse(502, None, "Bad Gateway"),
            "get jobs.batch 'train' in namespace 'team' failed (502 Bad Gateway): Bad Gateway",
            id="502-not-json",
        ),
        pytest.param(
            ApiResponse(304, None, "Not Modified"),
            "get jobs.batch 'train' in namespace 'team' failed (304 Not Modified): Not Modified",
            id="304-not-a-success",
        ),
    ],
)
def test_failure_statuses_become_one_line_errors(response, message):
    cluster, _ = answering(response)
    with pytest.raises(kube.ApiStatusError) as caught:
        cluster.get(JOBS, "train", "team")
    assert str(caught.value).startswith(message)
    assert caught.value.code == response.status


def test_status_details_and_causes_are_kept():
    causes = [{"field": "spec.template.spec.containers[0].image", "reason": "FieldValueRequired"}]
    body = status(422, "Invalid", 'Job.batch "train" is invalid', name="train", causes=causes)
    cluster, _ = answering(ApiResponse(422, body))
    with pytest.raises(kube.ApiStatusError) as caught:
        cluster.apply(JOBS, {"metadata": {"name": "train", "namespace": "team"}}, dry_run=True)
    assert (caught.value.reason, caught.value.causes) == ("Invalid", causes)
    assert caught.value.details["name"] == "train"


def test_a_404_on_get_is_none_and_requests_carry_what_was_asked():
    cluster, sent = answering(ApiResponse(404, status(404, "NotFound", "not found")))
    assert cluster.get(JOBS, "train", "team") is None
    assert sent == [ApiRequest("GET", "/apis/batch/v1/namespaces/team/jobs/train")]


@pytest.mark.parametrize(
    ("maybe_sent", "cause"), [(False, "connection refused"), (True, "connection reset")]
)
def test_no_answer_is_unreachable_naming_the_server(maybe_sent, cause):
    def handler(request: ApiRequest) -> ApiResponse:
        raise TransportError(cause, maybe_sent=maybe_sent)

    cluster = kube.Cluster(MockTransport(handler, server="https://lab:6443"), context="lab")
    with pytest.raises(kube.Unreachable) as caught:
        cluster.list(NODES)
    assert str(caught.value).startswith(
        f"cannot reach the Kubernetes API at https://lab:6443 (context 'lab') to list nodes: "
        f"{cause}; check that the cluster is up"
    )
    assert caught.value.maybe_sent is maybe_sent


def test_a_success_that_is_not_json_is_named():
    cluster, _ = answering(ApiResponse(200, None))
    with pytest.raises(ClusterError, match=r"did not answer with JSON; is this a Kubernetes API"):
        cluster.list(NODES)


def test_bodies_cross_as_json_so_no_object_is_shared():
    kept: list[object] = []

    def handler(request: ApiRequest) -> ApiResponse:
        kept.append(request.body)
        return ApiResponse(201, {"metadata": {"name": "train"}})

    obj = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "train"}}
    cluster = kube.Cluster(MockTransport(handler))
    code, _ = cluster.apply(JOBS, obj, dry_run=True)
    assert (code, kept) == (201, [obj])
    assert kept[0] is not obj


def test_lists_follow_continue_tokens():
    first = {"metadata": {"continue": "2"}, "items": [{"metadata": {"name": "a"}}]}
    last = {"metadata": {"resourceVersion": "9"}, "items": [{"metadata": {"name": "b"}}]}
    cluster, sent = answering(ApiResponse(200, first), ApiResponse(200, last))
    items, version = cluster.list(NODES, labels="gpu=true")
    assert [i["metadata"]["name"] for i in items] == ["a", "b"]
    assert version == "9" and items[0]["kind"] == "Node"
    assert [r.param("continue") for r in sent] == [None, "2"]
    assert all(r.param("labelSelector") == "gpu=true" for r in sent)


def watching(lines) -> kube.Cluster:
    def handler(request: ApiRequest) -> ApiResponse:
        assert request.stream and request.param("watch") == "true"
        return ApiResponse(200, {}, lines=lines)

    return kube.Cluster(MockTransport(handler))


def event(kind: str, name: str) -> bytes:
    return json.dumps({"type": kind, "object": {"metadata": {"name": name}}}).encode()


def test_watch_events_and_the_ways_a_stream_ends():
    cluster = watching(iter([event("ADDED", "a"), event("MODIFIED", "a")]))
    seen = [(k, o["metadata"]["name"]) for k, o in cluster.watch(NODES, resource_version="1")]
    assert seen == [("ADDED", "a"), ("MODIFIED", "a")]

    def cut():
        yield event("ADDED", "a")
        raise TransportError("connection closed mid-response", maybe_sent=True)

    with pytest.raises(kube.WatchDropped, match=r"was cut: connection closed mid-response"):
        list(watching(cut()).watch(NODES, resource_version="1"))
    expired = json.dumps({"type": "ERROR", "object": {"code": 410, "message": "too old"}})
    with pytest.raises(kube.WatchDropped, match=r"expired: too old"):
        list(watching(iter([expired.encode()])).watch(NODES, resource_version="1"))
    with pytest.raises(kube.WatchDropped, match=r"a line that is not JSON"):
        list(watching(iter([b"<html>"])).watch(NODES, resource_version="1"))


def test_leaving_a_watch_early_closes_its_stream():
    closed = []

    def lines():
        try:
            yield event("ADDED", "a")
            yield event("ADDED", "b")
        finally:
            closed.append(True)

    stream = watching(lines()).watch(NODES, resource_version="1")
    assert next(stream)[0] == "ADDED"
    stream.close()
    assert closed == [True]


def test_a_cluster_still_takes_an_api_client(api_server):
    client = pytest.importorskip("kubernetes").client
    with kube.Cluster(client.ApiClient(api_server.configuration())) as cluster:
        assert isinstance(cluster.transport, kube.KubernetesTransport)
        assert cluster.api_client is cluster.transport.api_client
        assert cluster.server == api_server.url
        assert cluster.get(NODES, "h100-0")["metadata"]["name"] == "h100-0"
    with pytest.raises(AttributeError, match="MockTransport has no kubernetes ApiClient"):
        _ = kube.Cluster(FakeApi().transport()).api_client


# -- the in-process double answers as the HTTP one does --------------------------------------

REQUESTS = [
    pytest.param(("GET", "/api/v1/nodes", [("limit", 2)], None, None), id="list-page"),
    pytest.param(("GET", "/api/v1/nodes/gpu-1", [], None, None), id="get"),
    pytest.param(("GET", "/api/v1/nodes/ghost", [], None, None), id="get-404"),
    pytest.param(("GET", "/apis/example.com/v1", [], None, None), id="group-404"),
    pytest.param(
        ("GET", "/api/v1/pods", [("fieldSelector", "spec.bogus=1")], None, None), id="400"
    ),
    pytest.param(
        (
            "PATCH",
            "/api/v1/namespaces/default/configmaps/settings",
            [("fieldManager", "gpukit"), ("dryRun", "All")],
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}},
            "application/apply-patch+yaml",
        ),
        id="apply-dry-run",
    ),
    pytest.param(
        (
            "PATCH",
            "/api/v1/namespaces/default/configmaps/settings",
            [],
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}},
            "application/apply-patch+yaml",
        ),
        id="apply-without-manager",
    ),
]


def _comparable(body):
    """An answer without what differs by nature: uids, timestamps, the server's address."""
    text = json.dumps(body, sort_keys=True)
    for volatile in ("creationTimestamp", "uid"):
        text = re.sub(rf'"{volatile}": "[^"]*"', f'"{volatile}": "-"', text)
    return json.loads(text)


@pytest.mark.parametrize("call", REQUESTS)
def test_in_process_and_http_doubles_give_the_same_answers(call):
    pytest.importorskip("kubernetes")
    method, path, query, body, content_type = call
    objects = [gpu_node(f"gpu-{i}", "NVIDIA-L4", 4) for i in range(3)]
    answers = []
    with FakeApi(objects) as in_process, FakeApiServer(objects) as over_http:
        for api, cluster in (
            (in_process, kube.Cluster(in_process.transport())),
            (over_http, kube.connect(configuration=over_http.configuration())),
        ):
            try:
                answers.append(
                    cluster.request(
                        method,
                        path,
                        verb="test",
                        resource=path,
                        query=query,
                        body=body,
                        content_type=content_type,
                    )
                )
            except kube.ApiStatusError as exc:
                answers.append((exc.code, exc.reason, exc.api_message, exc.details))
            finally:
                cluster.close()
            assert api.requests[-1].path == path
    assert _comparable(answers[0]) == _comparable(answers[1])


def test_the_in_process_double_plays_faults_and_stops(api, cluster):
    api.reset(verb="list", resource="nodes")
    with pytest.raises(kube.Unreachable, match="connection closed without a response") as caught:
        cluster.list(NODES)
    assert caught.value.maybe_sent
    api.drop_watches(after=1, resource="nodes")
    with pytest.raises(kube.WatchDropped, match="was cut: connection closed mid-response"):
        list(cluster.watch(NODES, resource_version="0", timeout_seconds=1))
    api.stop()
    with pytest.raises(kube.Unreachable, match="connection refused") as caught:
        cluster.list(NODES)
    assert not caught.value.maybe_sent


def test_docstring_examples_run():
    import doctest

    import gpukit.kube._transport
    import gpukit.testing._api

    for module in (gpukit.kube._transport, gpukit.testing._api):
        assert doctest.testmod(module).failed == 0
