"""Label and field selectors, as the API server parses and applies them."""

from __future__ import annotations

import re
from typing import Any

from gpukit.testing._types import ApiError, Obj, ResourceType

__all__ = ["FIELD_SELECTORS", "field_matcher", "label_matcher"]

_SET_REQ = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def label_matcher(selector: str | None):
    """A predicate over a labels dict for a Kubernetes label selector string."""
    if not selector:
        return lambda labels: True
    tests = []
    for req in _split_top(selector):
        set_match = _SET_REQ.match(req)
        if set_match:
            key, op, values = (
                set_match[1],
                set_match[2],
                {v.strip() for v in set_match[3].split(",")},
            )
            if op == "in":
                tests.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
            else:
                tests.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
        elif "!=" in req:
            key, value = (s.strip() for s in req.split("!=", 1))
            tests.append(lambda lb, k=key, v=value: lb.get(k) != v)
        elif "=" in req:
            key, value = (s.strip() for s in req.replace("==", "=").split("=", 1))
            tests.append(lambda lb, k=key, v=value: lb.get(k) == v)
        elif req.startswith("!"):
            absent = req[1:].strip()
            tests.append(lambda lb, k=absent: k not in lb)
        else:
            tests.append(lambda lb, k=req: k in lb)
    return lambda labels: all(t(labels) for t in tests)


#: Field selectors the real API server accepts, beyond metadata.name and metadata.namespace.
FIELD_SELECTORS = {
    ("", "pods"): {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    },
    ("", "events"): {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    },
    ("", "nodes"): {"spec.unschedulable"},
    ("", "namespaces"): {"status.phase"},
    ("", "secrets"): {"type"},
    ("batch", "jobs"): {"status.successful"},
}


def field_matcher(rt: ResourceType, selector: str | None):
    if not selector:
        return lambda obj: True
    allowed = {"metadata.name", "metadata.namespace"} | FIELD_SELECTORS.get(
        (rt.group, rt.plural), set()
    )
    tests = []
    for req in _split_top(selector):
        negate = "!=" in req
        key, value = (
            s.strip()
            for s in (req.split("!=", 1) if negate else req.replace("==", "=").split("=", 1))
        )
        if key not in allowed:
            raise ApiError(400, "BadRequest", f"field label not supported: {key}")
        tests.append((key.split("."), value, negate))

    def match(obj: Obj) -> bool:
        for parts, value, negate in tests:
            current: Any = obj
            for part in parts:
                current = current.get(part) if isinstance(current, dict) else None
            text = (
                ""
                if current is None
                else str(current).lower()
                if isinstance(current, bool)
                else str(current)
            )
            if (text == value) == negate:
                return False
        return True

    return match
