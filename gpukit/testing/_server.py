"""FakeApiServer: an in-process Kubernetes API server double that the real client talks to."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import yaml

from gpukit.testing._state import (
    ApiError,
    Obj,
    ResourceType,
    Store,
    field_matcher,
    label_matcher,
)

__all__ = ["FakeApiServer", "Fault", "RecordedRequest"]

APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCHES = ("application/merge-patch+json", "application/strategic-merge-patch+json")


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


_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


class FakeApiServer:
    """A Kubernetes API server double on 127.0.0.1 (ephemeral port), plain HTTP, one token.

    It keeps objects in memory and answers with the real JSON shapes: discovery (/api, /apis),
    get/list/watch with label and field selectors, create, update, merge patch, server-side
    apply (application/apply-patch+yaml with fieldManager, force and dryRun=All, field
    ownership and conflicts), delete, metav1.Status errors. CRDs added to it are served.
    No controllers run: tests set status and events themselves. Faults: :meth:`fail`,
    :meth:`forbid`, :meth:`reset`, :meth:`drop_watches`, :meth:`stop` (unreachable).

    >>> with FakeApiServer() as api:                        # doctest: +SKIP
    ...     api.add(gpu_node("gpu-1", "NVIDIA-H100-80GB-HBM3", gpus=8))
    ...     kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
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
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.port: int | None = None
        for namespace in ("default", "kube-system", "kube-public"):
            self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        self.add(*objects)

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port or 0), _Handler)
        httpd.daemon_threads = True
        httpd.api = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"fake-apiserver-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open connections: clients then find the API unreachable."""
        if self._httpd is None:
            return
        self._stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeApiServer is not started; use it as a context manager")
        return f"http://127.0.0.1:{self.port}"

    # -- client configuration --------------------------------------------------------

    def kubeconfig(
        self,
        context: str = "gpukit-fake",
        namespace: str = "default",
        extra_contexts: Iterable[tuple[str, str]] = (),
    ) -> Obj:
        """A kubeconfig document pointing at this server, with a bearer token."""
        contexts = [(context, namespace), *extra_contexts]
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "gpukit-fake", "cluster": {"server": self.url}}],
            "users": [{"name": self.user, "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": name,
                    "context": {"cluster": "gpukit-fake", "user": self.user, "namespace": ns},
                }
                for name, ns in contexts
            ],
            "current-context": context,
        }

    def write_kubeconfig(self, path: str | Path, **kwargs: Any) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            yaml.safe_dump(self.kubeconfig(**kwargs), sort_keys=False), encoding="utf-8"
        )
        return path

    def configuration(self) -> Any:
        """A kubernetes.client.Configuration for this server (needs the kubernetes package)."""
        from kubernetes import client

        config = client.Configuration(host=self.url)
        config.api_key = {"authorization": f"Bearer {self.token}"}
        return config

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gpukit-fake-apiserver/1"

    @property
    def api(self) -> FakeApiServer:
        return self.server.api  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK stall every response by tens of milliseconds.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        with self.api._lock:
            self.api._connections.add(self.connection)
        try:
            super().handle()
        except (ConnectionError, OSError):
            pass
        finally:
            with self.api._lock:
                self.api._connections.discard(self.connection)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- plumbing ------------------------------------------------------------------

    def _send(self, code: int, body: Obj) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self._read_body()
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip() or None
        body: Any = None
        if raw:
            try:
                body = yaml.safe_load(raw) if content_type == APPLY_PATCH else json.loads(raw)
            except (ValueError, yaml.YAMLError) as exc:
                body = exc
        record = RecordedRequest(method, url.path, query, content_type, body)
        self.api.requests.append(record)
        try:
            if self.headers.get("Authorization") != f"Bearer {self.api.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if isinstance(body, Exception):
                raise ApiError(
                    400,
                    "BadRequest",
                    f"the body of the request was in an unknown "
                    f"format - accepted media types include: application/json, "
                    f"{APPLY_PATCH}: {body}",
                )
            self._route(method, url.path, query, content_type, body, record)
        except ApiError as exc:
            self._send(exc.code, exc.status())
        except _Reset:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        content_type: str | None,
        body: Any,
        record: RecordedRequest,
    ) -> None:
        store = self.api.store
        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts == ["version"]:
            return self._send(
                200,
                {
                    "major": "1",
                    "minor": "34",
                    "gitVersion": "v1.34.0-gpukit-fake",
                    "platform": "linux/amd64",
                },
            )
        if method == "GET" and parts == ["api"]:
            return self._send(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.api.port}"}
                    ],
                },
            )
        if method == "GET" and parts == ["apis"]:
            groups = store.groups()
            return self._send(
                200,
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [_group_doc(g, vs) for g, vs in groups.items() if g],
                },
            )
        if method == "GET" and len(parts) == 2 and parts[0] == "apis":
            versions = store.groups().get(parts[1])
            if not versions:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send(
                200, {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(parts[1], versions)}
            )
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        types = [t for t in store.types() if (t.group, t.version) == (group, version)]
        if not types:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method")
            gv = f"{group}/{version}" if group else version
            return self._send(
                200,
                {
                    "kind": "APIResourceList",
                    "apiVersion": "v1",
                    "groupVersion": gv,
                    "resources": [e for t in types for e in t.discovery()],
                },
            )
        namespace: str | None = None
        plurals = {t.plural: t for t in types}
        if (
            rest[0] == "namespaces"
            and len(rest) >= 3
            and rest[2] in plurals
            and plurals[rest[2]].namespaced
        ):
            namespace, rest = rest[1], rest[2:]
        rt = plurals.get(rest[0])
        if rt is None or len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and not (sub == "status" and rt.status):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        watch = _parse_bool(query.get("watch"))
        verb = {
            "GET": "watch" if watch else ("get" if name else "list"),
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete",
        }[method]
        record.verb, record.resource = verb, rt.qualified
        fault = self.api._fault_for(verb, rt, namespace, name, query.get("dryRun") == "All")
        if fault is not None and fault.drop_after is None:
            if fault.reset:
                raise _Reset()
            assert fault.code is not None
            message = fault.message
            if message is None:
                message = (
                    self.api.forbidden_message(verb, rt, namespace, name)
                    if fault.code == 403
                    else f"injected failure {fault.code}"
                )
            details = fault.details
            if details is None and name:
                details = {"name": name, "group": rt.group, "kind": rt.plural}
            raise ApiError(
                fault.code, fault.reason or _REASONS.get(fault.code, "Unknown"), message, details
            )
        if not rt.namespaced:
            namespace = None
        if method == "GET":
            if watch:
                return self._watch(rt, namespace, query, fault)
            if name:
                return self._send(200, store.get(rt, namespace, name))
            return self._list(rt, namespace, query)
        dry_run = query.get("dryRun") == "All"
        if "dryRun" in query and not dry_run:
            raise ApiError(
                400,
                "BadRequest",
                f'unsupported dry run value "{query["dryRun"]}"; supported: "All"',
            )
        manager = query.get("fieldManager")
        if method == "DELETE":
            if name is None:
                raise ApiError(405, "MethodNotAllowed", "deletecollection is not supported")
            return self._send(200, store.delete(rt, namespace, name))
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be an object")
        if method == "POST":
            self._check_identity(rt, body, namespace, None)
            if store.find(rt, namespace, body["metadata"]["name"]) is not None:
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'{rt.qualified} "{body["metadata"]["name"]}" already exists',
                    {"name": body["metadata"]["name"], "group": rt.group, "kind": rt.plural},
                )
            code, obj = store.put(
                rt, body, manager or "unknown", namespace, validate=True, dry_run=dry_run
            )
            return self._send(code, obj)
        assert name is not None
        if method == "PUT":
            self._check_identity(rt, body, namespace, name)
            if sub == "status":
                return self._send(
                    200, store.set_status(rt, namespace, name, body.get("status") or {})
                )
            store.get(rt, namespace, name)
            code, obj = store.put(
                rt, body, manager or "unknown", namespace, validate=True, dry_run=dry_run
            )
            return self._send(code, obj)
        # PATCH
        if content_type == APPLY_PATCH:
            if not manager:
                raise ApiError(
                    400,
                    "BadRequest",
                    'PatchOptions.meta.k8s.io "" is invalid: '
                    "fieldManager: Required value: is required for apply patch",
                )
            self._check_identity(rt, body, namespace, name)
            force = _parse_bool(query.get("force"))
            code, obj = store.apply(
                rt, namespace, name, body, manager, force=force, dry_run=dry_run
            )
            return self._send(code, obj)
        if content_type in MERGE_PATCHES:
            current = store.find(rt, namespace, name)
            if current is None:
                raise ApiError(
                    404,
                    "NotFound",
                    f'{rt.qualified} "{name}" not found',
                    {"name": name, "group": rt.group, "kind": rt.plural},
                )
            if sub == "status":
                merged = _merge(current.get("status") or {}, body.get("status") or {})
                return self._send(200, store.set_status(rt, namespace, name, merged))
            code, obj = store.put(
                rt,
                _merge(current, body),
                manager or "unknown",
                namespace,
                validate=True,
                dry_run=dry_run,
            )
            return self._send(200, obj)
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media "
            f"types include: {APPLY_PATCH}, {', '.join(MERGE_PATCHES)}",
        )

    def _check_identity(
        self, rt: ResourceType, body: Obj, namespace: str | None, name: str | None
    ) -> None:
        if body.get("apiVersion") != rt.group_version or body.get("kind") != rt.kind:
            raise ApiError(
                400,
                "BadRequest",
                f"the API version in the data ({body.get('apiVersion')}) does not "
                f"match the expected API version ({rt.group_version})"
                if body.get("apiVersion") != rt.group_version
                else f"the kind in the data ({body.get('kind')}) does not match the "
                f"expected kind ({rt.kind})",
            )
        meta = body.get("metadata")
        if not isinstance(meta, dict):
            raise ApiError(400, "BadRequest", "metadata is required")
        if name is not None and meta.get("name") != name:
            raise ApiError(
                400,
                "BadRequest",
                f"the name of the object ({meta.get('name')}) "
                f"does not match the name on the URL ({name})",
            )
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not "
                "match the namespace sent on the request",
            )

    def _list(self, rt: ResourceType, namespace: str | None, query: dict[str, str]) -> None:
        start = 0
        token = query.get("continue")
        if token:
            try:
                start = int(token)
            except ValueError:
                raise ApiError(400, "BadRequest", "continue key is not valid") from None
        limit = int(query.get("limit") or 0)
        items, rv, total = self.api.store.list(
            rt, namespace, query.get("labelSelector"), query.get("fieldSelector"), start, limit
        )
        meta: Obj = {"resourceVersion": str(rv)}
        if limit and start + limit < total:
            meta["continue"] = str(start + limit)
            meta["remainingItemCount"] = total - start - limit
        self._send(
            200,
            {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.group_version,
                "metadata": meta,
                "items": items,
            },
        )

    def _watch(
        self, rt: ResourceType, namespace: str | None, query: dict[str, str], fault: Fault | None
    ) -> None:
        store = self.api.store
        labels_ok = label_matcher(query.get("labelSelector"))
        fields_ok = field_matcher(rt, query.get("fieldSelector"))
        timeout = float(query.get("timeoutSeconds") or 30)
        rv_text = query.get("resourceVersion") or "0"
        with store.lock:
            if rv_text == "0":
                items, rv, _ = store.list(
                    rt, namespace, query.get("labelSelector"), query.get("fieldSelector")
                )
                backlog = [(rv, "ADDED", store.present_event(rt, i)) for i in items]
            else:
                rv = int(rv_text)
                try:
                    backlog = store.events_after(rt, namespace, rv, labels_ok, fields_ok)
                except ApiError as exc:
                    backlog = [(rv, "ERROR", exc.status())]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        deadline = time.monotonic() + timeout
        pending = backlog
        while True:
            for event_rv, kind, obj in pending:
                if fault is not None and fault.drop_after is not None and sent >= fault.drop_after:
                    raise _Reset()
                line = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                sent += 1
                rv = max(rv, event_rv)
                if kind == "ERROR":
                    pending = []
                    deadline = 0
                    break
            if fault is not None and fault.drop_after is not None and sent >= fault.drop_after:
                raise _Reset()
            with store.changed:
                pending = []
                while not pending:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self.api._stopping.is_set():
                        break
                    try:
                        pending = store.events_after(rt, namespace, rv, labels_ok, fields_ok)
                    except ApiError as exc:
                        pending = [(rv, "ERROR", exc.status())]
                    if not pending:
                        store.changed.wait(timeout=min(remaining, 0.1))
            if not pending:
                break
        self.wfile.write(b"0\r\n\r\n")


class _Reset(Exception):
    """Internal: close the connection without an answer."""


def _parse_bool(value: str | None) -> bool:
    """Go's strconv.ParseBool, which the API server uses for query flags."""
    return value in ("1", "t", "T", "TRUE", "true", "True")


def _group_doc(group: str, versions: list[str]) -> Obj:
    return {
        "name": group,
        "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
    }


def _merge(base: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out
