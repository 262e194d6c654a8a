"""What an integration declares: how discovery sees it, the CRDs and kinds it owns, its hooks."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan
    from gpukit.platform.files import PlatformFile
    from gpukit.platform.model import PlatformPlan

__all__ = ["Detection", "Integration", "PlatformHook", "Renderer", "WireKind"]

Obj = dict[str, Any]
#: Renders the objects that run a plan (the workload object and what it needs beside it).
Renderer = Callable[["Plan"], list[Obj]]
#: The platform bundle's files for the component (queues, node pools, ...); [] for none.
PlatformHook = Callable[["PlatformPlan"], list["PlatformFile"]]


@dataclass(frozen=True)
class Detection:
    """How kube discovery tells that the component is installed.

    ``groups``: any one of these API groups served is enough. ``resources``: every one of
    these ``(group, plural)`` must be served (a group alone is ambiguous: ``kubeflow.org``
    serves both the training operator and other Kubeflow parts). ``note``: what discovery
    must check beyond the API (e.g. the DRA driver's DeviceClasses), or None.
    """

    groups: tuple[str, ...] = ()
    resources: tuple[tuple[str, str], ...] = ()
    note: str | None = None

    def installed(self, groups: Collection[str], serves: Callable[[str, str], bool]) -> bool:
        if self.resources:
            return all(serves(group, plural) for group, plural in self.resources)
        return any(group in groups for group in self.groups)


@dataclass(frozen=True, order=True)
class WireKind:
    """An object kind on the wire: ``apiVersion`` and ``kind``."""

    api_version: str
    kind: str

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]


@dataclass(frozen=True)
class Integration:
    """One component gpukit plans for (a scheduler, a job controller, a node provisioner).

    - ``name``: the registry key; ``title``: the component's own name.
    - ``installed``: the ``Installed`` field of a Fleet this component sets, or None.
    - ``detection``: what discovery reads to set that field.
    - ``crds``: the CustomResourceDefinitions it owns (``<plural>.<group>``).
    - ``kinds``: the objects gpukit renders for it (workloads, queues, node pools).
    - ``renderers``: object kind (as :func:`gpukit.manifests.object_kind` names it) ->
      the renderer of the objects that run a plan as that kind.
    - ``lint_kinds``: the objects lint finds pod templates in (or GPU settings of).
    - ``platform``: the platform bundle's files for it, or None.
    - ``requires``: the minimum version of the component an object rendered for it needs
      (``"Kueue 0.15 or later (kueue.x-k8s.io/v1beta2)"``), or None; written in the header
      of each file ``gpukit render`` writes.
    - ``version_from_api``: the component's version as far as the API versions its group
      serves tell (``["v1beta1"]`` -> ``"0.14"``), or None where they do not tell.
    - ``platform_warnings``: what would stay Pending or mislead in the bundle for it (one
      line each), or None; :attr:`PlatformPlan.warnings` collects them.
    """

    name: str
    title: str
    installed: str | None = None
    detection: Detection = Detection()
    crds: tuple[str, ...] = ()
    kinds: tuple[WireKind, ...] = ()
    renderers: Mapping[str, Renderer] = field(default_factory=lambda: MappingProxyType({}))
    lint_kinds: tuple[WireKind, ...] = ()
    platform: PlatformHook | None = None
    platform_warnings: Callable[[PlatformPlan], list[str]] | None = None
    requires: Callable[[Obj], str | None] | None = None
    version_from_api: Callable[[list[str]], str | None] | None = None
