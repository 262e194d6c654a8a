"""Integrations: one module per component gpukit plans for, registered in :data:`REGISTRY`.

Each module defines ``INTEGRATION`` (an :class:`Integration`): how kube discovery detects
the component, the CRDs it owns, the object kinds gpukit renders for it, its renderer and
platform hooks and the kinds lint reads. Adding a component is one new module here and one
line in :data:`REGISTRY`; the renderer dispatch, discovery's detection table and the platform
bundle iterate the registry.

The registry holds module paths and loads them on first use: integration modules import the
renderers' building blocks (``gpukit.manifests.pods``, ...), and the dispatchers in
``gpukit.manifests`` and ``gpukit.platform`` import this package, so loading late keeps the
import graph free of circles whatever module is imported first.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Collection, Mapping

from gpukit.integrations._base import Detection, Integration, PlatformHook, Renderer, WireKind

__all__ = [
    "REGISTRY",
    "Detection",
    "Integration",
    "PlatformHook",
    "Renderer",
    "WireKind",
    "detect",
    "get",
    "installed_flags",
    "integrations",
    "renderer_for",
    "requirements",
    "versions_from_api",
]

#: One line per integration, in the order the platform bundle writes their files.
REGISTRY: tuple[str, ...] = (
    "gpukit.integrations.gpu_operator",
    "gpukit.integrations.nvidia_dra",
    "gpukit.integrations.kueue",
    "gpukit.integrations.volcano",
    "gpukit.integrations.kai",
    "gpukit.integrations.trainer",
    "gpukit.integrations.training_operator",
    "gpukit.integrations.jobset",
    "gpukit.integrations.lws",
    "gpukit.integrations.karpenter",
    "gpukit.integrations.vllm",
    "gpukit.integrations.sglang",
    "gpukit.integrations.kserve",
)


@functools.cache
def _load(paths: tuple[str, ...]) -> tuple[Integration, ...]:
    loaded = tuple(importlib.import_module(path).INTEGRATION for path in paths)
    names = [i.name for i in loaded]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"integration names must be unique; repeated: {', '.join(repeated)}")
    return loaded


def integrations() -> tuple[Integration, ...]:
    """Every registered integration, in registry order."""
    return _load(tuple(REGISTRY))


def get(name: str) -> Integration:
    for integration in integrations():
        if integration.name == name:
            return integration
    known = ", ".join(i.name for i in integrations())
    raise KeyError(f"no integration {name!r}; registered: {known}")


def renderer_for(kind: str) -> Renderer | None:
    """The renderer an integration registers for object kind ``kind``, or None."""
    for integration in integrations():
        renderer = integration.renderers.get(kind)
        if renderer is not None:
            return renderer
    return None


def requirements(obj: dict) -> list[str]:  # type: ignore[type-arg]
    """What the integrations say ``obj`` needs installed (minimum versions), in registry order."""
    found = (i.requires(obj) for i in integrations() if i.requires is not None)
    return [text for text in found if text]


def versions_from_api(groups: Mapping[str, list[str]]) -> dict[str, str]:
    """Integration name -> version, where the API versions a cluster serves tell it (a Fleet's
    ``versions``); ``groups`` maps each API group to its served versions."""
    out = {}
    for i in integrations():
        if i.version_from_api is None or not i.detection.groups:
            continue
        served = [v for g in i.detection.groups for v in groups.get(g, [])]
        version = i.version_from_api(served) if served else None
        if version is not None:
            out[i.name] = version
    return out


def detect(groups: Collection[str], serves: Callable[[str, str], bool]) -> dict[str, bool]:
    """Integration name -> installed, from the API groups a cluster serves and a
    ``serves(group, plural)`` probe; integrations without API detection are left out."""
    return {
        i.name: i.detection.installed(groups, serves)
        for i in integrations()
        if i.detection.groups or i.detection.resources
    }


def installed_flags(groups: Collection[str], serves: Callable[[str, str], bool]) -> dict[str, bool]:
    """``Installed`` field -> value for every integration that sets one and is detected from
    the API alone (``Installed(**installed_flags(groups, serves), ...)`` in discovery)."""
    found = detect(groups, serves)
    return {i.installed: found[i.name] for i in integrations() if i.installed and i.name in found}
