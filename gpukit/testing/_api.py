"""FakeApi: the Kubernetes API double's state, faults and request log, served in-process.

Tests talk to it through :meth:`FakeApi.transport` (``kube.Cluster(api.transport())``): no
socket, no kubernetes package. :class:`~gpukit.testing.FakeApiServer` serves the same double
over HTTP for tests that exercise the real client.
"""

from __future__ import annotations

import http
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from gpukit.testing._routes import Reply, Reset, handle
from gpukit.testing._state import Store
from gpukit.testing._types import Obj, ResourceType

if TYPE_CHECKING:
    from gpukit.kube import ApiRequest, ApiResponse, MockTransport

__all__ = ["FakeApi", "Fault", "RecordedRequest"]

#: Where the in-process double says it lives (a reserved name: nothing resolves it).
IN_PROCESS_URL = "http://fake-apiserver.invalid"


@dataclass
class RecordedRequest:
    """One request the server received, for assertions ('no write without dryRun')."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: Any
    verb: str | None = None
    resource: str | None = None


@dataclass
class Fault:
    """A failure the server injects into matching requests (``times`` None: every time).

    ``code`` answers with a Status object; ``reset`` closes the connection without an answer;
    ``drop_after`` cuts a watch stream after that many events without ending it cleanly;
    ``dry_run`` True or False limits a fault to requests with or without dryRun=All.
    """

    code: int | None = None
    verb: str | None = None
    resource: str | None = None
    namespace: str | None = None
    name: str | None = None
    times: int | None = 1
    message: str | None = None
    reason: str | None = None
    details: Obj | None = None
    reset: bool = False
    drop_after: int | None = None
    dry_run: bool | None = None
    hits: int = 0

    def matches(
        self,
        verb: str,
        rt: ResourceType | None,
        namespace: str | None,
        name: str | None,
        dry_run: bool = False,
    ) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.dry_run is not None and self.dry_run != dry_run:
            return False
        if self.drop_after is not None and verb != "watch":
            return False
        if self.verb and self.verb != verb:
            return False
        if self.resource and (rt is None or self.resource not in (rt.plural, rt.qualified)):
            return False
        if self.namespace and self.namespace != namespace:
            return False
        return not (self.name and self.name != name)


class FakeApi:
    """A Kubernetes API server double in memory, answering in the calling thread.

    It keeps objects and answers with the real JSON shapes: discovery (/api, /apis),
    get/list/watch with label and field selectors, create, update, merge patch, server-side
    apply (application/apply-patch+yaml with fieldManager, force and dryRun=All, field
    ownership and conflicts, lists merged by key as the API server merges them), delete,
    metav1.Status errors. CRDs added to it are served. No controllers run: tests set status
    and events themselves. Faults: :meth:`fail`, :meth:`forbid`, :meth:`reset`,
    :meth:`drop_watches`, :meth:`stop` (unreachable).

    >>> from gpukit import kube
    >>> from gpukit.testing import FakeApi, gpu_node
    >>> api = FakeApi([gpu_node("gpu-1", "NVIDIA-L4", gpus=4)])
    >>> cluster = kube.Cluster(api.transport())
    >>> [n["metadata"]["name"] for n in cluster.list(cluster.resource("v1", "Node"))[0]]
    ['gpu-1']
    """

    def __init__(
        self,
        objects: Iterable[Obj] = (),
        *,
        token: str = "gpukit-test-token",
        user: str = "gpukit-test",
    ) -> None:
        self.store = Store()
        self.token = token
        self.user = user
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        #: Set while the double is stopped: watches end, requests find it unreachable.
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        for namespace in ("default", "kube-system", "kube-public"):
            self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        self.add(*objects)

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        self.stopping.clear()
        return self

    def stop(self) -> None:
        """Stop answering and end open watches: clients then find the API unreachable."""
        self.stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return IN_PROCESS_URL

    @property
    def address(self) -> str:
        """host:port, as discovery's serverAddressByClientCIDRs gives it."""
        return self.url.split("://", 1)[-1]

    # -- in-process transport ------------------------------------------------------------

    def transport(self) -> MockTransport:
        """A transport that answers from this double in the calling thread, for kube.Cluster."""
        from gpukit.kube import MockTransport

        return MockTransport(self._answer, server=self.url)

    def _answer(self, request: ApiRequest) -> ApiResponse:
        from gpukit.kube import ApiResponse, TransportError

        if self.stopping.is_set():
            raise TransportError("connection refused", maybe_sent=False)
        query = {key: _query_text(value) for key, value in request.query}
        content_type = (request.content_type or "").split(";")[0].strip() or None
        record = RecordedRequest(request.method, request.path, query, content_type, request.body)
        self.requests.append(record)
        try:
            reply = handle(
                self, request.method, request.path, query, content_type, request.body, record
            )
        except Reset:
            raise TransportError("connection closed without a response", maybe_sent=True) from None
        if reply.events is not None:
            return ApiResponse(200, {}, "OK", _lines(reply))
        return ApiResponse(reply.code, reply.body, http.HTTPStatus(reply.code).phrase)

    # -- state, from the test's side ---------------------------------------------------

    def _type(self, api_version: str, kind: str) -> ResourceType:
        return self.store.by_kind(api_version, kind)

    def add(self, *objects: Obj, manager: str = "kubectl-client-side-apply") -> None:
        """Create or replace objects as ``manager`` would with an update (status included)."""
        for obj in objects:
            self.store.put(self._type(obj["apiVersion"], obj["kind"]), obj, manager)

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> Obj | None:
        rt = self._type(api_version, kind)
        return self.store.find(rt, namespace or ("default" if rt.namespaced else None), name)

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[Obj]:
        rt = self._type(api_version, kind)
        return [
            self.store.find(rt, o["metadata"].get("namespace"), o["metadata"]["name"])
            for o in self.store.list(rt, namespace)[0]
        ]  # type: ignore[misc]

    def set_status(
        self, api_version: str, kind: str, name: str, status: Obj, namespace: str | None = "default"
    ) -> Obj:
        """Replace an object's status, as its controller would (watchers see MODIFIED)."""
        rt = self._type(api_version, kind)
        return self.store.set_status(rt, namespace, name, status)

    def delete(
        self, api_version: str, kind: str, name: str, namespace: str | None = "default"
    ) -> None:
        self.store.delete(self._type(api_version, kind), namespace, name)

    def compact(self) -> None:
        """Expire all resourceVersions seen so far (a later watch from them gets 410 Gone)."""
        self.store.compact()

    # -- faults ------------------------------------------------------------------------

    def fail(
        self,
        code: int,
        *,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        times: int | None = 1,
        message: str | None = None,
        reason: str | None = None,
        details: Obj | None = None,
        dry_run: bool | None = None,
    ) -> Fault:
        """Answer matching requests with a Status of ``code`` (verbs as RBAC names them)."""
        fault = Fault(
            code=code,
            verb=verb,
            resource=resource,
            namespace=namespace,
            name=name,
            times=times,
            message=message,
            reason=reason,
            details=details,
            dry_run=dry_run,
        )
        self.faults.append(fault)
        return fault

    def forbid(
        self, verb: str, resource: str, *, namespace: str | None = None, times: int | None = None
    ) -> Fault:
        """RBAC denies ``verb`` on ``resource`` ('nodes', 'jobs.batch'): the real 403 text."""
        return self.fail(403, verb=verb, resource=resource, namespace=namespace, times=times)

    def reset(
        self,
        *,
        verb: str | None = None,
        resource: str | None = None,
        name: str | None = None,
        times: int | None = 1,
        dry_run: bool | None = None,
    ) -> Fault:
        """Close the connection of matching requests without answering."""
        fault = Fault(
            verb=verb, resource=resource, name=name, times=times, reset=True, dry_run=dry_run
        )
        self.faults.append(fault)
        return fault

    def drop_watches(
        self, *, after: int = 0, resource: str | None = None, times: int | None = 1
    ) -> Fault:
        """Cut matching watch streams after ``after`` events, mid-stream."""
        fault = Fault(verb="watch", resource=resource, times=times, drop_after=after)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    def _fault_for(
        self,
        verb: str,
        rt: ResourceType | None,
        namespace: str | None,
        name: str | None,
        dry_run: bool,
    ) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(verb, rt, namespace, name, dry_run):
                    fault.hits += 1
                    return fault
        return None

    def forbidden_message(
        self, verb: str, rt: ResourceType, namespace: str | None, name: str | None
    ) -> str:
        subject = f'{rt.qualified} "{name}"' if name else rt.qualified
        where = (
            f'in the namespace "{namespace}"'
            if namespace and rt.namespaced
            else "at the cluster scope"
        )
        return (
            f'{subject} is forbidden: User "{self.user}" cannot {verb} resource '
            f'"{rt.plural}" in API group "{rt.group}" {where}'
        )

    # -- request log -------------------------------------------------------------------

    def writes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method not in ("GET", "HEAD")]


def _query_text(value: Any) -> str:
    """A query value as the wire carries it (the kubernetes client writes bools as Python does)."""
    return str(value)


def _lines(reply: Reply) -> Iterator[bytes]:
    from gpukit.kube import TransportError

    assert reply.events is not None
    try:
        for event in reply.events:
            yield json.dumps(event).encode()
    except Reset:
        raise TransportError("connection closed mid-response", maybe_sent=True) from None
