"""Context: what a lint rule may look at besides the document at hand (files, fleet, workloads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from gpukit.fleet import Fleet, NodePool
from gpukit.lint._objects import Doc
from gpukit.workload import Workload

__all__ = ["Context"]


@dataclass
class Context:
    """Everything rules may look at besides the document at hand."""

    docs: list[Doc]
    fleet: Fleet | None = None
    workloads: tuple[Workload, ...] = ()
    fleet_label: str = "<fleet>"
    extra: dict[str, Any] = field(default_factory=dict)
    #: The fleet is gpukit's default, standing in for a cluster nobody described: its facts
    #: inform the checks, as they do the planner's, but no fix is built from them.
    fleet_assumed: bool = False

    @cached_property
    def local_queues(self) -> list[tuple[str | None, str]]:
        """(namespace, name) of every LocalQueue in the files and Kueue queue in the fleet."""
        out: list[tuple[str | None, str]] = []
        for doc in self.docs:
            if doc.kind == "LocalQueue" and doc.group == "kueue.x-k8s.io" and doc.name:
                out.append((doc.namespace, doc.name))
        if self.fleet is not None:
            for queue in self.fleet.queues:
                if queue.scheduler == "kueue":
                    out.append((queue.namespace, queue.name))
        return out

    @cached_property
    def kueue_present(self) -> bool:
        if self.fleet is not None and self.fleet.installed.kueue:
            return True
        return any(d.group == "kueue.x-k8s.io" for d in self.docs)

    @cached_property
    def volcano_present(self) -> bool:
        if self.fleet is not None and self.fleet.installed.volcano:
            return True
        return any(d.group.endswith("volcano.sh") for d in self.docs)

    def queues_for(self, namespace: str | None) -> list[str]:
        """LocalQueue names usable from ``namespace`` (a queue with no namespace fits all)."""
        names = {
            n for ns, n in self.local_queues if ns is None or namespace is None or ns == namespace
        }
        return sorted(names)

    def workload_for(self, doc: Doc) -> Workload | None:
        return next((w for w in self.workloads if w.name == doc.name), None)

    def find(self, kind: str, name: str | None) -> Doc | None:
        return next((d for d in self.docs if d.kind == kind and d.name == name), None)

    @property
    def pools(self) -> tuple[NodePool, ...]:
        return self.fleet.node_pools if self.fleet is not None else ()
