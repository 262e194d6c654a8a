"""The 422s the API double answers: the subset of validation gpukit's objects can meet."""

from __future__ import annotations

import re
from collections.abc import Iterator

from gpukit.testing._types import Obj, ResourceType

__all__ = ["validation_causes"]

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _pod_specs(rt: ResourceType, obj: Obj) -> Iterator[tuple[str, Obj]]:
    spec = obj.get("spec") or {}
    if (rt.group, rt.plural) == ("", "pods"):
        yield "spec", spec
    elif (rt.group, rt.plural) in {
        ("batch", "jobs"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
    }:
        yield "spec.template.spec", (spec.get("template") or {}).get("spec") or {}
    elif (rt.group, rt.plural) == ("batch.volcano.sh", "jobs"):
        for i, task in enumerate(spec.get("tasks") or []):
            yield f"spec.tasks[{i}].template.spec", (task.get("template") or {}).get("spec") or {}


def validation_causes(rt: ResourceType, obj: Obj) -> list[Obj]:
    causes: list[Obj] = []
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    if not name:
        causes.append(
            {
                "reason": "FieldValueRequired",
                "message": "Required value: name or generateName is required",
                "field": "metadata.name",
            }
        )
    elif len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "field": "metadata.name",
                "message": f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must '
                "consist of lower case alphanumeric characters, '-' or '.', and must "
                "start and end with an alphanumeric character",
            }
        )
    for key, value in sorted((meta.get("labels") or {}).items()):
        text = str(value)
        if len(text) > 63 or not _LABEL_VALUE.match(text):
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "field": "metadata.labels",
                    "message": f'Invalid value: "{text}": a valid label must be an empty '
                    "string or consist of alphanumeric characters, '-', '_' or '.', and "
                    "must start and end with an alphanumeric character (at most 63)",
                }
            )
    for where, pod in _pod_specs(rt, obj):
        containers = pod.get("containers") or []
        if not containers:
            causes.append(
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value",
                    "field": f"{where}.containers",
                }
            )
        for i, container in enumerate(containers):
            for required in ("name", "image"):
                if not container.get(required):
                    causes.append(
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value",
                            "field": f"{where}.containers[{i}].{required}",
                        }
                    )
    return causes
