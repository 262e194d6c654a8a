"""What a plan predicts the cluster will do with a workload: the expectation verify checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gpukit import vocab
from gpukit.advisor import Plan

__all__ = ["Admission", "Expectation", "expect"]

Obj = dict[str, Any]
Admission = Literal["kueue", "volcano", "kai", "none"]

#: Objects that come with a workload but are not the workload (their pods are not its pods).
_SUPPORT_KINDS = frozenset(
    {"Service", "ResourceClaimTemplate", "ResourceClaim", "PodGroup", "ConfigMap", "Secret"}
)
_MANAGED_BY = vocab.MANAGED_BY_LABEL
_NAME = vocab.APP_NAME_LABEL


@dataclass(frozen=True)
class Expectation:
    """One workload as planned: where it is admitted, which pods run where, with what."""

    name: str
    namespace: str
    kind: str
    api_version: str
    admission: Admission
    queue: str | None
    pool: str
    #: Node labels that select the planned pool's nodes.
    node_labels: Mapping[str, str]
    #: Extended resource each pod asks for, and how many (None under DRA: claims instead).
    resource: str | None
    amount: int
    pods: int
    gang: bool
    #: ResourceClaimTemplates the pods' claims come from (DRA fleets).
    claim_templates: tuple[str, ...] = ()
    #: Label selector that finds the workload's pods (gpukit labels every pod it renders).
    selector: str = ""
    objects: tuple[Obj, ...] = field(default=(), repr=False)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


def _main_object(plan: Plan, objects: list[Obj]) -> Obj:
    for obj in objects:
        meta = obj.get("metadata") or {}
        if meta.get("name") == plan.name and obj.get("kind") not in _SUPPORT_KINDS:
            return obj
    raise ValueError(f"the rendered objects of {plan.name!r} hold no workload object")


def expect(plan: Plan, objects: list[Obj] | None = None) -> Expectation:
    """The expectation of ``plan``; ``objects`` are its rendered manifests (rendered here
    when not given)."""
    if objects is None:
        from gpukit.manifests import render

        objects = render(plan)
    from gpukit.manifests.pods import node_selector

    main = _main_object(plan, objects)
    dra = plan.fleet.installed.dra
    admission: Admission = plan.scheduler if plan.scheduler != "default" else "none"
    templates = tuple(
        o["metadata"]["name"] for o in objects if o.get("kind") == "ResourceClaimTemplate"
    )
    return Expectation(
        name=plan.name,
        namespace=plan.namespace,
        kind=str(main.get("kind")),
        api_version=str(main.get("apiVersion")),
        admission=admission,
        queue=plan.queue,
        pool=plan.choice.pool,
        node_labels=dict(node_selector(plan)),
        resource=None if dra else plan.choice.resource_name,
        amount=plan.choice.gpus,
        pods=plan.pods,
        gang=plan.gang,
        claim_templates=templates,
        selector=f"{_NAME}={plan.name},{_MANAGED_BY}=gpukit",
        objects=tuple(objects),
    )
