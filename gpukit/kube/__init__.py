"""The live cluster: discover a Fleet, take inventory, apply, submit, and follow jobs.

This package is the only part of gpukit that talks to a cluster. It uses the official
``kubernetes`` client (``pip install 'gpukit[kube]'``), imported only when a function here
is called, so ``import gpukit.kube`` is cheap and works without it.

- :func:`discover` / :func:`discover_cluster`: node pools from GPU Feature Discovery labels,
  installed schedulers and operators, queues.
- :func:`inventory`: per node allocatable, allocated and free GPU resources; queue quotas.
- :func:`apply`: server-side apply (field manager ``gpukit``), dry run by default, never
  deletes; :func:`submit` plans, renders and applies a workload.
- :func:`status` / :func:`wait`: a job's phase, pods, events, and what to do when stuck.
- :func:`connect`: kubeconfig contexts or in-cluster config; :class:`Cluster`.

Errors are ClusterError (an :class:`ApiStatusError` when the API answered with a failure).
"""

from __future__ import annotations

from gpukit.kube._apply import ApplyResult, ObjectResult, apply, load_manifests
from gpukit.kube._client import (
    ApiStatusError,
    Cluster,
    Resource,
    Unreachable,
    WatchDropped,
    connect,
)
from gpukit.kube._discover import Discovery, discover, discover_cluster, fleet_from_option
from gpukit.kube._inventory import Inventory, NodeInventory, QueueUsage, ResourceUse, inventory
from gpukit.kube._scheduling import Advice, explain_scheduling
from gpukit.kube._status import JobStatus, PodState, WaitTimeout, status, wait
from gpukit.kube._submit import Submission, submit

__all__ = [
    "Advice",
    "ApiStatusError",
    "ApplyResult",
    "Cluster",
    "Discovery",
    "Inventory",
    "JobStatus",
    "NodeInventory",
    "ObjectResult",
    "PodState",
    "QueueUsage",
    "Resource",
    "ResourceUse",
    "Submission",
    "Unreachable",
    "WaitTimeout",
    "WatchDropped",
    "apply",
    "connect",
    "discover",
    "discover_cluster",
    "explain_scheduling",
    "fleet_from_option",
    "inventory",
    "load_manifests",
    "status",
    "submit",
    "wait",
]
