"""Multi-node serving: one model across several pods runs as a LeaderWorkerSet, which needs LWS.

The one place the constraint is stated: the advisor rejects such options on a fleet without
LWS (MULTI_NODE_SERVING_NEEDS_LWS), and gpukit.manifests.kinds refuses to render a plan
built around the advisor that still asks for it.
"""

from __future__ import annotations

from gpukit.fleet import Installed

__all__ = ["lws_missing", "runs_as_leader_worker_set"]


def runs_as_leader_worker_set(kind: str, workers: int) -> bool:
    """Serving (``inference``) with several workers per replica: one model over several nodes."""
    return kind == "inference" and workers > 1


def lws_missing(kind: str, workers: int, installed: Installed) -> bool:
    """The workload must run as a LeaderWorkerSet, and the fleet has no LWS."""
    return runs_as_leader_worker_set(kind, workers) and not installed.lws
