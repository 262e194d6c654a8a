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
- :class:`Transport`: the one call a Cluster makes (:class:`ApiRequest` in,
  :class:`ApiResponse` out); :class:`KubernetesTransport` on the official client, and
  :class:`MockTransport`, an in-process handler for tests: ``Cluster(MockTransport(fn))``.

Errors are ClusterError (an :class:`ApiStatusError` when the API answered with a failure,
:class:`Unreachable` when it did not answer, :class:`WatchDropped` when a watch was cut).
"""

from __future__ import annotations

from gpukit.kube._apply import ApplyResult, ObjectResult, apply, load_manifests
from gpukit.kube._client import ApiStatusError, Cluster, Resource, Unreachable, WatchDropped
from gpukit.kube._connect import connect
from gpukit.kube._discover import Discovery, discover, discover_cluster, fleet_from_option
from gpukit.kube._inventory import Inventory, NodeInventory, QueueUsage, ResourceUse, inventory
from gpukit.kube._scheduling import Advice, explain_scheduling
from gpukit.kube._status import JobStatus, PodState, WaitTimeout, status, wait
from gpukit.kube._submit import Submission, submit
from gpukit.kube._transport import (
    ApiRequest,
    ApiResponse,
    KubernetesTransport,
    MockTransport,
    Transport,
    TransportError,
)

__all__ = [
    "Advice",
    "ApiRequest",
    "ApiResponse",
    "ApiStatusError",
    "ApplyResult",
    "Cluster",
    "Discovery",
    "Inventory",
    "JobStatus",
    "KubernetesTransport",
    "MockTransport",
    "NodeInventory",
    "ObjectResult",
    "PodState",
    "QueueUsage",
    "Resource",
    "ResourceUse",
    "Submission",
    "Transport",
    "TransportError",
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
