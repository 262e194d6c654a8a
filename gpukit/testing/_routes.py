"""What the API double answers, whatever carries the request: routing, verbs, watches.

:func:`handle` takes one request already taken apart (method, path, query, content type,
parsed body) and gives a :class:`Reply`: a status and a JSON body, or a stream of watch
events. The HTTP server and the in-process transport both call it, so the two answer alike.

A strategic merge patch is answered as a JSON merge patch (its lists replaced whole): gpukit
sends server-side apply, never strategic merge patches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gpukit.testing._selectors import field_matcher, label_matcher
from gpukit.testing._types import ApiError, Obj, ResourceType

if TYPE_CHECKING:
    from gpukit.testing._api import FakeApi, Fault, RecordedRequest

__all__ = ["APPLY_PATCH", "Reply", "Reset", "handle"]

APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCHES = ("application/merge-patch+json", "application/strategic-merge-patch+json")

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


@dataclass
class Reply:
    """An answer: ``code`` and a JSON ``body``, or ``events`` for a watch (status 200)."""

    code: int
    body: Obj | None = None
    events: Iterator[Obj] | None = None


def handle(
    api: FakeApi,
    method: str,
    path: str,
    query: dict[str, str],
    content_type: str | None,
    body: Any,
    record: RecordedRequest,
    *,
    authorized: bool = True,
) -> Reply:
    """The answer to one request; raises Reset when the connection should close unanswered.

    ``body`` is the parsed body, or the exception parsing it raised.
    """
    try:
        if not authorized:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if isinstance(body, Exception):
            raise ApiError(
                400,
                "BadRequest",
                f"the body of the request was in an unknown "
                f"format - accepted media types include: application/json, "
                f"{APPLY_PATCH}: {body}",
            )
        return _route(api, method, path, query, content_type, body, record)
    except ApiError as exc:
        return Reply(exc.code, exc.status())


def _route(
    api: FakeApi,
    method: str,
    path: str,
    query: dict[str, str],
    content_type: str | None,
    body: Any,
    record: RecordedRequest,
) -> Reply:
    store = api.store
    parts = [p for p in path.split("/") if p]
    if method == "GET" and parts == ["version"]:
        return Reply(
            200,
            {
                "major": "1",
                "minor": "34",
                "gitVersion": "v1.34.0-gpukit-fake",
                "platform": "linux/amd64",
            },
        )
    if method == "GET" and parts == ["api"]:
        return Reply(
            200,
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": api.address}
                ],
            },
        )
    if method == "GET" and parts == ["apis"]:
        groups = store.groups()
        return Reply(
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
        return Reply(
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
        return Reply(
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
    fault = api._fault_for(verb, rt, namespace, name, query.get("dryRun") == "All")
    if fault is not None and fault.drop_after is None:
        if fault.reset:
            raise Reset()
        assert fault.code is not None
        message = fault.message
        if message is None:
            message = (
                api.forbidden_message(verb, rt, namespace, name)
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
            return _watch(api, rt, namespace, query, fault)
        if name:
            return Reply(200, store.get(rt, namespace, name))
        return _list(api, rt, namespace, query)
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
        return Reply(200, store.delete(rt, namespace, name))
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the request body must be an object")
    if method == "POST":
        _check_identity(rt, body, namespace, None)
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
        return Reply(code, obj)
    assert name is not None
    if method == "PUT":
        _check_identity(rt, body, namespace, name)
        if sub == "status":
            return Reply(200, store.set_status(rt, namespace, name, body.get("status") or {}))
        store.get(rt, namespace, name)
        code, obj = store.put(
            rt, body, manager or "unknown", namespace, validate=True, dry_run=dry_run
        )
        return Reply(code, obj)
    # PATCH
    if content_type == APPLY_PATCH:
        if not manager:
            raise ApiError(
                400,
                "BadRequest",
                'PatchOptions.meta.k8s.io "" is invalid: '
                "fieldManager: Required value: is required for apply patch",
            )
        _check_identity(rt, body, namespace, name)
        force = _parse_bool(query.get("force"))
        code, obj = store.apply(rt, namespace, name, body, manager, force=force, dry_run=dry_run)
        return Reply(code, obj)
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
            return Reply(200, store.set_status(rt, namespace, name, merged))
        code, obj = store.put(
            rt,
            _merge(current, body),
            manager or "unknown",
            namespace,
            validate=True,
            dry_run=dry_run,
        )
        return Reply(200, obj)
    raise ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media "
        f"types include: {APPLY_PATCH}, {', '.join(MERGE_PATCHES)}",
    )


def _check_identity(rt: ResourceType, body: Obj, namespace: str | None, name: str | None) -> None:
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
            "the namespace of the provided object does not match the namespace sent on the request",
        )


def _list(api: FakeApi, rt: ResourceType, namespace: str | None, query: dict[str, str]) -> Reply:
    start = 0
    token = query.get("continue")
    if token:
        try:
            start = int(token)
        except ValueError:
            raise ApiError(400, "BadRequest", "continue key is not valid") from None
    limit = int(query.get("limit") or 0)
    items, rv, total = api.store.list(
        rt, namespace, query.get("labelSelector"), query.get("fieldSelector"), start, limit
    )
    meta: Obj = {"resourceVersion": str(rv)}
    if limit and start + limit < total:
        meta["continue"] = str(start + limit)
        meta["remainingItemCount"] = total - start - limit
    return Reply(
        200,
        {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.group_version,
            "metadata": meta,
            "items": items,
        },
    )


def _watch(
    api: FakeApi,
    rt: ResourceType,
    namespace: str | None,
    query: dict[str, str],
    fault: Fault | None,
) -> Reply:
    store = api.store
    labels_ok = label_matcher(query.get("labelSelector"))
    fields_ok = field_matcher(rt, query.get("fieldSelector"))
    deadline = time.monotonic() + float(query.get("timeoutSeconds") or 30)
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

    def more(after: int) -> list[tuple[int, str, Obj]]:
        """Events after ``after``, waiting for them until the deadline (or a stop)."""
        with store.changed:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or api.stopping.is_set():
                    return []
                try:
                    pending = store.events_after(rt, namespace, after, labels_ok, fields_ok)
                except ApiError as exc:
                    return [(after, "ERROR", exc.status())]
                if pending:
                    return pending
                store.changed.wait(timeout=min(remaining, 0.1))

    def events() -> Iterator[Obj]:
        drop_after = fault.drop_after if fault is not None else None
        sent, last, pending = 0, rv, backlog
        while True:
            for event_rv, kind, obj in pending:
                if drop_after is not None and sent >= drop_after:
                    raise Reset()
                yield {"type": kind, "object": obj}
                sent += 1
                last = max(last, event_rv)
                if kind == "ERROR":
                    return
            if drop_after is not None and sent >= drop_after:
                raise Reset()
            pending = more(last)
            if not pending:
                return

    return Reply(200, events=events())


class Reset(Exception):
    """Close the connection without an answer (or cut a watch stream mid-way)."""


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
