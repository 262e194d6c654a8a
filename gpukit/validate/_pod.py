"""Pod spec rules the API server enforces in Go code, not in its schema (core/validation).

Only rules that a schema cannot say and that GPU manifests break in practice: container
and volume names, volume mounts that name no volume, and resource requests and limits
(extended resources such as ``nvidia.com/gpu`` must be whole numbers, may not be
overcommitted, and need a limit).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from gpukit.quantity import parse_quantity
from gpukit.validate import _names
from gpukit.validate._check import QUANTITY, Checker, Path, show
from gpukit.vocab import GPU

__all__ = ["check_podspec"]

_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})


def _quantity(value: Any) -> Fraction | None:
    """Exact value of a quantity, or None when it is not one (the schema reports that).

    parse_quantity refuses exponents beyond +-64 itself, so 10**999999999 is never built.
    """
    if isinstance(value, str) and not QUANTITY.fullmatch(value):
        return None
    try:
        return parse_quantity(value)
    except (ValueError, ZeroDivisionError):
        return None


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended(name: str) -> bool:
    # core/helper.IsExtendedResourceName: fully qualified, outside kubernetes.io, not a quota key.
    return not _is_native(name) and not name.startswith("requests.")


def _overcommit_allowed(name: str) -> bool:
    # core/helper.IsOvercommitAllowed: native resources except hugepages.
    return _is_native(name) and not name.startswith("hugepages-")


def _check_resource_name(checker: Checker, name: str, at: Path) -> None:
    if "/" not in name:
        if name not in _CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            checker.add(
                "pod",
                at,
                f"resource {name!r} is not a standard resource; use cpu, memory, "
                f"ephemeral-storage, hugepages-<size>, or a fully qualified name like {GPU}",
            )
        return
    why = _names.check_qualified_name(name)
    if why:
        checker.add("pod", at, f"resource name {show(name)}: {why}")


def _check_resources(checker: Checker, resources: Any, path: Path) -> None:
    if not isinstance(resources, dict):
        return
    parsed: dict[str, dict[str, Fraction]] = {}
    for section in ("limits", "requests"):
        values = resources.get(section)
        parsed[section] = {}
        if not isinstance(values, dict):
            continue
        for name, raw in values.items():
            at = ((path, section), (name,))
            _check_resource_name(checker, str(name), at)
            amount = _quantity(raw)
            if amount is None:
                continue
            parsed[section][name] = amount
            if amount < 0:
                checker.add("pod", at, f"must be greater than or equal to 0 (got {show(raw)})")
            elif _is_extended(str(name)) and amount.denominator != 1:
                checker.add(
                    "pod",
                    at,
                    f"{name} must be a whole number (got {show(raw)}); devices are not divisible",
                )
    limits, requests = parsed["limits"], parsed["requests"]
    for name, request in requests.items():
        at = ((path, "requests"), (name,))
        limit = limits.get(name)
        if not _overcommit_allowed(str(name)):
            if limit is None:
                checker.add(
                    "pod",
                    ((path, "limits"), (name,)),
                    f"a limit is required for {name}: it cannot be overcommitted, and a pod "
                    "that requests it without a limit is rejected; set limits (requests default to them)",
                )
            elif request != limit:
                checker.add(
                    "pod", at, f"must equal the limit for {name}: it cannot be overcommitted"
                )
        elif limit is not None and request > limit:
            checker.add("pod", at, f"request for {name} must be less than or equal to its limit")


def check_podspec(checker: Checker, spec: dict[str, Any], path: Path, core: bool) -> None:
    """Record Go-validation problems of one pod spec on ``checker``.

    ``core`` is False for pod templates inlined in custom resources: their controllers may
    add volumes (JobSet volumeClaimPolicies, Trainer initializers), so mounts are not
    matched against the template's own volumes there.
    """
    volumes: set[str] = set()
    raw_volumes = spec.get("volumes")
    if isinstance(raw_volumes, list):
        for index, volume in enumerate(raw_volumes):
            name = volume.get("name") if isinstance(volume, dict) else None
            if not isinstance(name, str):
                continue
            at = (((path, "volumes"), index), "name")
            why = _names.check_name(name, "dns-label")
            if why:
                checker.add("pod", at, f"volume name {show(name)} {why}")
            if name in volumes:
                checker.add("pod", at, f"duplicate volume name {show(name)}")
            volumes.add(name)
    containers: set[str] = set()
    for group in ("initContainers", "containers", "ephemeralContainers"):
        items = spec.get(group)
        if not isinstance(items, list):
            continue
        for index, container in enumerate(items):
            if not isinstance(container, dict):
                continue
            here = ((path, group), index)
            name = container.get("name")
            if isinstance(name, str):
                why = _names.check_name(name, "dns-label")
                if why:
                    checker.add("pod", (here, "name"), f"container name {show(name)} {why}")
                if name in containers:
                    checker.add("pod", (here, "name"), f"duplicate container name {show(name)}")
                containers.add(name)
            mounts = container.get("volumeMounts")
            if core and isinstance(mounts, list):
                for m_index, mount in enumerate(mounts):
                    ref = mount.get("name") if isinstance(mount, dict) else None
                    if isinstance(ref, str) and ref not in volumes:
                        checker.add(
                            "pod",
                            (((here, "volumeMounts"), m_index), "name"),
                            f"no volume named {show(ref)} in the pod's volumes",
                        )
            _check_resources(checker, container.get("resources"), (here, "resources"))
