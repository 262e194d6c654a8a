"""Talking to one cluster: requests, failure Statuses as one-line errors, discovery, verbs.

Every call gpukit makes to a Kubernetes API goes through :class:`Cluster`, which sends it
through a :class:`~gpukit.kube.Transport` (the official ``kubernetes`` client in real use,
an in-process handler in tests) and turns failures into one-line ClusterErrors that name
the verb and the resource. Connecting (kubeconfig, in-cluster) lives in ``_connect``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

from gpukit.errors import ClusterError, did_you_mean
from gpukit.kube._transport import (
    TIMEOUT,
    ApiRequest,
    KubernetesTransport,
    Transport,
    TransportError,
)

__all__ = ["ApiStatusError", "Cluster", "Resource", "Unreachable", "WatchDropped"]

Obj = dict[str, Any]

FIELD_MANAGER = "gpukit"
APPLY_PATCH = "application/apply-patch+yaml"
PAGE_SIZE = 500

#: API groups and the component that serves them, for "not installed" messages.
COMPONENTS = {
    "batch.volcano.sh": "Volcano",
    "scheduling.volcano.sh": "Volcano",
    "kueue.x-k8s.io": "Kueue",
    "trainer.kubeflow.org": "Kubeflow Trainer",
    "kubeflow.org": "the Kubeflow Training Operator",
    "jobset.x-k8s.io": "JobSet",
    "leaderworkerset.x-k8s.io": "LeaderWorkerSet",
    "scheduling.run.ai": "the KAI Scheduler",
    "nvidia.com": "the NVIDIA GPU Operator",
    "ray.io": "KubeRay",
    "resource.k8s.io": "dynamic resource allocation (Kubernetes 1.34 or later)",
}


class ApiStatusError(ClusterError):
    """The API answered a request with a failure Status (403, 404, 409, 422, ...)."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        reason: str = "",
        api_message: str = "",
        causes: Sequence[Obj] = (),
        details: Obj | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.api_message = api_message
        self.causes = list(causes)
        self.details = details or {}


class Unreachable(ClusterError):
    """The API could not be reached; ``maybe_sent`` when the request may have arrived."""

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class WatchDropped(ClusterError):
    """A watch stream ended mid-way (connection cut, or its resourceVersion expired)."""


@dataclass(frozen=True)
class Resource:
    """A served resource: where its objects live and whether they sit in a namespace."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """'jobs.batch' ('pods' in the core group): the name RBAC rules and kubectl use."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return base + (f"/{name}" if name else "")


#: Kinds that several API groups define, and the group a bare name means.
_SHARED_KINDS = {"Job": "batch", "Queue": None, "PodGroup": None, "Topology": None}


def object_ref(kind: str, api_version: str, name: str, namespace: str | None) -> str:
    """'Kind/namespace/name', the kind qualified by its group where the bare name is ambiguous
    ('Job.batch.volcano.sh/team/ddp', but 'Job/team/train' for batch/v1)."""
    group = api_version.rpartition("/")[0]
    if kind in _SHARED_KINDS and group != _SHARED_KINDS[kind]:
        kind = f"{kind}.{group}"
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _target(verb: str, resource: str, namespace: str | None, name: str | None) -> str:
    text = f"{verb} {resource}"
    if name:
        text += f" {name!r}"
    if namespace == ALL_NAMESPACES:
        text += " in all namespaces"
    elif namespace:
        text += f" in namespace {namespace!r}"
    return text


#: Marks a list or watch across every namespace in messages.
ALL_NAMESPACES = "*"


def _scope(res: Resource, namespace: str | None) -> str | None:
    if not res.namespaced:
        return None
    return namespace or ALL_NAMESPACES


class Cluster:
    """One connection to one cluster: its context, default namespace and discovery cache.

    Build it with :func:`connect`; close it (or use ``with``) to release connections.
    """

    def __init__(
        self,
        transport: Transport | Any,
        *,
        namespace: str = "default",
        context: str | None = None,
    ) -> None:
        # An ApiClient of the kubernetes package (what this took before transports) still works.
        if not isinstance(transport, Transport):
            transport = KubernetesTransport(transport)
        self.transport: Transport = transport
        self.namespace = namespace
        self.context = context
        self._groups: dict[str, list[str]] | None = None
        self._resources: dict[str, list[Resource]] = {}

    @property
    def server(self) -> str:
        return self.transport.server

    @property
    def api_client(self) -> Any:
        """The kubernetes ApiClient underneath, for calls gpukit does not make itself."""
        client = getattr(self.transport, "api_client", None)
        if client is None:
            raise AttributeError(f"{type(self.transport).__name__} has no kubernetes ApiClient")
        return client

    def __repr__(self) -> str:
        return f"Cluster(context={self.context!r}, server={self.server!r}, namespace={self.namespace!r})"

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        resource: str,
        namespace: str | None = None,
        name: str | None = None,
        query: Sequence[tuple[str, Any]] = (),
        body: Any = None,
        content_type: str | None = None,
        stream: bool = False,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> tuple[int, Any]:
        """(HTTP status, parsed JSON) of one call; ``stream`` gives the body's lines instead."""
        target = _target(verb, resource, namespace, name)
        try:
            response = self.transport.send(
                ApiRequest(method, path, tuple(query), body, content_type, stream, timeout)
            )
        except TransportError as exc:
            raise self._unreachable(exc, target) from None
        if not 200 <= response.status < 300:
            raise self._status_error(
                response.status, response.body, response.reason, verb, resource, target
            )
        if stream:
            return response.status, response.lines
        if response.body is None:
            raise ClusterError(
                f"{target}: the server at {self.server} did not answer with JSON; is this a "
                "Kubernetes API server?"
            )
        return response.status, response.body

    def _unreachable(self, exc: TransportError, target: str) -> Unreachable:
        context = f" (context {self.context!r})" if self.context else ""
        return Unreachable(
            f"cannot reach the Kubernetes API at {self.server}{context} to {target}: "
            f"{exc.cause}; check that the cluster is up and that the kubeconfig's "
            "server address is right (kubectl cluster-info)",
            maybe_sent=exc.maybe_sent,
        )

    def _status_error(
        self, code: int, status: Any, http_reason: str, verb: str, resource: str, target: str
    ) -> ClusterError:
        if not isinstance(status, dict):
            status = {}
        api_message = " ".join(str(status.get("message") or http_reason or "").split())
        details = status.get("details") or {}
        common = {
            "code": code,
            "reason": status.get("reason", ""),
            "api_message": api_message,
            "causes": details.get("causes") or (),
            "details": details,
        }
        if code == 401:
            return ApiStatusError(
                f"the Kubernetes API at {self.server} rejected the credentials of context "
                f"{self.context!r} (401 Unauthorized) to {target}; log in again to refresh "
                "them, or pick another context with --context",
                **common,
            )
        if code == 403:
            return ApiStatusError(
                f"RBAC forbids {target}: {api_message}; ask a cluster admin for a Role or "
                f"ClusterRole granting '{verb}' on '{resource}'",
                **common,
            )
        return ApiStatusError(
            f"{target} failed ({code} {status.get('reason') or http_reason}): {api_message}",
            **common,
        )

    # -- discovery -----------------------------------------------------------------

    def forget_discovery(self) -> None:
        """Drop cached API groups and resources (after CRDs were created or removed)."""
        self._groups = None
        self._resources.clear()

    def api_groups(self) -> dict[str, list[str]]:
        """API group -> served versions, preferred first ('' is the core group)."""
        if self._groups is None:
            _, core = self.request("GET", "/api", verb="get", resource="/api")
            _, apis = self.request("GET", "/apis", verb="get", resource="/apis")
            groups = {"": list(core.get("versions") or ["v1"])}
            for group in apis.get("groups") or []:
                preferred = (group.get("preferredVersion") or {}).get("version")
                versions = [v["version"] for v in group.get("versions") or []]
                if preferred in versions:
                    versions.remove(preferred)
                    versions.insert(0, preferred)
                groups[group["name"]] = versions
            self._groups = groups
        return self._groups

    def resources(self, group: str, version: str) -> list[Resource]:
        """What ``group/version`` serves (empty when it is not served)."""
        key = f"{group}/{version}"
        if key not in self._resources:
            if version not in self.api_groups().get(group, []):
                self._resources[key] = []
            else:
                path = f"/apis/{group}/{version}" if group else f"/api/{version}"
                try:
                    _, doc = self.request("GET", path, verb="get", resource=path)
                except ApiStatusError as exc:
                    if exc.code != 404:
                        raise
                    doc = {}
                self._resources[key] = [
                    Resource(group, version, r["kind"], r["name"], bool(r.get("namespaced")))
                    for r in doc.get("resources") or []
                    if "/" not in r["name"]
                ]
        return self._resources[key]

    def resource(self, api_version: str, kind: str) -> Resource:
        """The resource serving ``kind`` in ``api_version``; ClusterError naming what to install."""
        group, _, version = api_version.rpartition("/")
        groups = self.api_groups()
        component = COMPONENTS.get(group)
        if group not in groups:
            install = f"{component} is not installed" if component else "its CRD is not installed"
            raise ClusterError(
                f"the cluster does not serve {kind} ({api_version}): {install} (no {group} API "
                "group); install it first, or plan against the live fleet (--fleet live) so "
                "gpukit only uses what the cluster has"
            )
        if version not in groups[group]:
            raise ClusterError(
                f"the cluster serves {group or 'the core group'} in {', '.join(groups[group])}, "
                f"not {version}; {kind} needs apiVersion {group}/{groups[group][0]}"
                f"{' (upgrade ' + component + ')' if component else ''}"
            )
        for res in self.resources(group, version):
            if res.kind == kind:
                return res
        kinds = [r.kind for r in self.resources(group, version)]
        raise ClusterError(
            f"the cluster serves {api_version} but no kind {kind!r} in it"
            f"{did_you_mean(kind, kinds)}; kinds there: {', '.join(sorted(kinds)) or 'none'}"
        )

    def find(self, group: str, plural: str) -> Resource | None:
        """``plural`` in ``group``'s preferred version that serves it, or None."""
        for version in self.api_groups().get(group, []):
            for res in self.resources(group, version):
                if res.plural == plural:
                    return res
        return None

    # -- verbs ---------------------------------------------------------------------

    def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj | None:
        """The object, or None when it does not exist."""
        namespace = (namespace or self.namespace) if res.namespaced else None
        try:
            _, obj = self.request(
                "GET",
                res.path(namespace, name),
                verb="get",
                resource=res.qualified,
                namespace=namespace,
                name=name,
            )
        except ApiStatusError as exc:
            if exc.code == 404:
                return None
            raise
        return obj

    def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        labels: str | None = None,
        fields: str | None = None,
    ) -> tuple[list[Obj], str]:
        """(items, resourceVersion) across pages; namespace None lists all namespaces."""
        namespace = namespace if res.namespaced else None
        items: list[Obj] = []
        token = None
        while True:
            query: list[tuple[str, Any]] = [("limit", PAGE_SIZE)]
            if labels:
                query.append(("labelSelector", labels))
            if fields:
                query.append(("fieldSelector", fields))
            if token:
                query.append(("continue", token))
            _, doc = self.request(
                "GET",
                res.path(namespace),
                verb="list",
                resource=res.qualified,
                namespace=_scope(res, namespace),
                query=query,
            )
            for item in doc.get("items") or []:
                # Built-in lists omit each item's apiVersion and kind.
                item.setdefault("apiVersion", res.api_version)
                item.setdefault("kind", res.kind)
                items.append(item)
            meta = doc.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return items, str(meta.get("resourceVersion") or "")

    def watch(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        resource_version: str,
        timeout_seconds: int = 30,
        labels: str | None = None,
        fields: str | None = None,
    ) -> Iterator[tuple[str, Obj]]:
        """(event type, object) until the server ends the stream after ``timeout_seconds``.

        Raises WatchDropped when the stream is cut mid-way or its resourceVersion expired
        (410): the caller lists again and resumes.
        """
        namespace = namespace if res.namespaced else None
        query: list[tuple[str, Any]] = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", int(timeout_seconds)),
            ("allowWatchBookmarks", "true"),
        ]
        if labels:
            query.append(("labelSelector", labels))
        if fields:
            query.append(("fieldSelector", fields))
        target = _target("watch", res.qualified, _scope(res, namespace), None)
        _, lines = self.request(
            "GET",
            res.path(namespace),
            verb="watch",
            resource=res.qualified,
            namespace=_scope(res, namespace),
            query=query,
            stream=True,
            timeout=(TIMEOUT[0], timeout_seconds + 10),
        )
        try:
            for line in lines:
                yield self._watch_event(line, target)
        except TransportError as exc:
            raise WatchDropped(f"the watch ({target}) was cut: {exc.cause}") from None
        finally:
            close = getattr(lines, "close", None)
            if close is not None:
                close()  # a stream left mid-way drops its connection

    @staticmethod
    def _watch_event(line: bytes, target: str) -> tuple[str, Obj]:
        try:
            event = json.loads(line)
        except ValueError:
            raise WatchDropped(f"the watch ({target}) sent a line that is not JSON") from None
        kind, obj = event.get("type", ""), event.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise WatchDropped(f"the watch ({target}) expired: {obj.get('message')}")
            raise ApiStatusError(
                f"{target} failed ({code} {obj.get('reason')}): {obj.get('message')}",
                code=int(code or 0),
                reason=obj.get("reason", ""),
                api_message=obj.get("message", ""),
            )
        return kind, obj

    def apply(
        self,
        res: Resource,
        obj: Obj,
        *,
        dry_run: bool,
        force: bool = False,
        field_manager: str = FIELD_MANAGER,
    ) -> tuple[int, Obj]:
        """Server-side apply of one object: (201 created | 200 updated, the object)."""
        meta = obj["metadata"]
        namespace = meta.get("namespace") if res.namespaced else None
        query: list[tuple[str, Any]] = [("fieldManager", field_manager)]
        if force:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        return self.request(
            "PATCH",
            res.path(namespace, meta["name"]),
            verb="patch",
            resource=res.qualified,
            namespace=namespace,
            name=meta["name"],
            query=query,
            body=obj,
            content_type=APPLY_PATCH,
        )
