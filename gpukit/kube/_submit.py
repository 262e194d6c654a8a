"""submit(): plan a workload on the live fleet, render it, and apply it (dry run first)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from gpukit.advisor import Plan, plan
from gpukit.fleet import Fleet
from gpukit.kube._apply import ApplyResult, apply
from gpukit.kube._client import Cluster
from gpukit.kube._connect import use_cluster
from gpukit.kube._discover import discover
from gpukit.manifests import render
from gpukit.workload import Workload

__all__ = ["Submission", "submit"]


class Submission(BaseModel):
    """A submitted workload: its plan, the objects rendered from it, and the apply result."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    plan: Plan
    objects: tuple[dict[str, Any], ...]
    result: ApplyResult

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "apply": self.result.to_dict()}


def submit(
    workload: Workload,
    fleet: Fleet | None = None,
    dry_run: bool = True,
    *,
    namespace: str | None = None,
    cluster_scope: bool = False,
    force: bool = False,
    context: str | None = None,
    kubeconfig: str | None = None,
    cluster: Cluster | None = None,
) -> Submission:
    """Plan ``workload`` (on ``fleet``, default: the cluster's own, discovered), render it and
    apply the objects: a server-side dry run unless ``dry_run=False``.

    ``namespace`` overrides the workload's namespace before planning, so the plan's queue
    checks see the namespace the objects will live in.
    """
    cluster, owned = use_cluster(cluster, context, kubeconfig)
    try:
        if namespace is not None:
            workload = Workload.model_validate({**workload.model_dump(), "namespace": namespace})
        chosen = plan(workload, fleet if fleet is not None else discover(cluster=cluster))
        objects = render(chosen)
        result = apply(
            objects, dry_run=dry_run, cluster_scope=cluster_scope, force=force, cluster=cluster
        )
        return Submission(plan=chosen, objects=tuple(objects), result=result)
    finally:
        if owned:
            cluster.close()
