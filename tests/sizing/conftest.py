"""Pods as the API server returns them, for the sizing-from-pods tests."""

from __future__ import annotations

from typing import Any

import pytest


def gpu_pod(
    name: str,
    namespace: str = "team-a",
    *,
    owner: tuple[str, str] | None = None,
    limits: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    phase: str = "Running",
    qos: str = "Burstable",
    priority_class: str | None = None,
    priority: int | None = None,
) -> dict[str, Any]:
    """A Pod with ownerReferences, GPU limits, QoS and priority as the API returns them."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
    if owner is not None:
        kind, owner_name = owner
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1" if kind in ("ReplicaSet", "StatefulSet") else "batch/v1",
                "kind": kind,
                "name": owner_name,
                "uid": f"uid-{owner_name}",
                "controller": True,
            }
        ]
        if kind == "ReplicaSet":
            meta["labels"]["pod-template-hash"] = owner_name.rsplit("-", 1)[1]
    container: dict[str, Any] = {"name": "main", "image": "repo/app:1"}
    if limits:
        container["resources"] = {"limits": {k: str(v) for k, v in limits.items()}}
    spec: dict[str, Any] = {"containers": [container]}
    if priority_class:
        spec["priorityClassName"] = priority_class
    if priority is not None:
        spec["priority"] = priority
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": spec,
        "status": {"phase": phase, "qosClass": qos},
    }


@pytest.fixture
def make_pod():
    return gpu_pod
