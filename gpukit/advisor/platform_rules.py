"""Warnings about what the cluster around a plan does with it: node autoscaling, a second
queueing system on the same GPUs, component versions. Read per plan, after the scheduler is
chosen (the fleet's installed components are not part of the cached decision).

- KARPENTER_NO_SCALE_UP: Karpenter's cloud providers advertise only ``nvidia.com/gpu`` for
  an instance type (aws/karpenter-provider-aws pkg/providers/instancetype/types.go fills the
  capacity from the instance's GPU count; its maintainers: the AWS provider "doesn't natively
  support MIG", pull request 8710), so a pod asking for ``nvidia.com/mig-*`` or
  ``nvidia.com/gpu.shared`` never fits a node Karpenter could launch: it never triggers a
  scale-up.
- KUEUE_QUOTA_OVERLAP: Kueue's ClusterQueues count every pool's GPUs, but a Volcano Job is
  not admitted through Kueue (Kueue integrates no Volcano kind: its integrations are
  registered in kubernetes-sigs/kueue pkg/controller/jobs/jobs.go), so Kueue admits work
  into GPUs that Volcano already holds, and that work stays Pending.
- COMPONENT_VERSION: what gpukit renders needs a minimum version it cannot see: Kueue
  objects are kueue.x-k8s.io/v1beta2 (Kueue 0.15+), a TrainJob uses runtimePatches (Trainer
  2.2+). Said when the fleet gives no version; with one, the renderers follow it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gpukit.advisor.reasons import Reason, ReasonCode, reason
from gpukit.vocab import GPU, GPU_SHARED, MIG_RESOURCE_PREFIX

if TYPE_CHECKING:
    from gpukit.advisor.option import Option
    from gpukit.advisor.scheduler import SchedulerChoice
    from gpukit.fleet import Fleet

__all__ = [
    "karpenter_warning",
    "kueue_overlap_warning",
    "platform_warnings",
    "version_warning",
]


def karpenter_warning(fleet: Fleet, choice: Option) -> Reason | None:
    resource = choice.resource_name
    if not fleet.installed.karpenter or fleet.installed.dra or resource == GPU:
        return None
    if not (resource.startswith(MIG_RESOURCE_PREFIX) or resource == GPU_SHARED):
        return None
    return reason(
        ReasonCode.KARPENTER_NO_SCALE_UP,
        f"the pods ask for {resource}, but Karpenter's providers advertise only {GPU} for an "
        f"instance type, so a pending pod of this plan never makes Karpenter launch a node: "
        f"it runs only on pool {choice.pool}'s nodes already up; keep them provisioned (a "
        "static node group, or Karpenter's NodePool with a floor of whole-GPU capacity), or "
        "plan whole GPUs",
    )


def kueue_overlap_warning(fleet: Fleet, choice: Option, sched: SchedulerChoice) -> Reason | None:
    if sched.scheduler != "volcano" or not fleet.installed.kueue:
        return None
    if not any(q.scheduler == "kueue" for q in fleet.queues):
        return None
    return reason(
        ReasonCode.KUEUE_QUOTA_OVERLAP,
        f"pool {choice.pool} is in Kueue's quota (the ClusterQueues count every pool), but "
        "this Volcano job is not admitted through Kueue (Kueue has no Volcano integration): "
        "Kueue then admits work into GPUs Volcano holds, and that work stays Pending; keep "
        "Volcano's pools out of Kueue's ClusterQueues, or run the gang as a kind Kueue admits "
        "as a whole (JobSet, PyTorchJob or TrainJob with a LocalQueue: set queue to one)",
    )


def version_warning(fleet: Fleet, choice: Option, sched: SchedulerChoice) -> Reason | None:
    if sched.scheduler == "kueue" and "kueue" not in fleet.versions:
        return reason(
            ReasonCode.COMPONENT_VERSION,
            "gpukit renders Kueue's queues as kueue.x-k8s.io/v1beta2, served from Kueue 0.15 "
            "on; the fleet gives no Kueue version, so set versions: {kueue: <version>} (or "
            "discover the fleet from the cluster) if it runs an older one",
        )
    return None


def platform_warnings(fleet: Fleet, choice: Option, sched: SchedulerChoice) -> list[Reason]:
    """Every warning of this module that applies to the plan, in the order above."""
    found = (
        karpenter_warning(fleet, choice),
        kueue_overlap_warning(fleet, choice, sched),
        version_warning(fleet, choice, sched),
    )
    return [r for r in found if r is not None]
