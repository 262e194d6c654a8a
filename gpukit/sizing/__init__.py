"""Fleet sizing: the GPUs and nodes a workload mix needs, gpukit's plans against whole GPUs.

- :func:`size`: workloads -> :class:`SizingReport` (per GPU model and node pool, with cost and
  the biggest savings); pure, one plan per decision shape.
- :func:`workloads_from_pods` (:mod:`gpukit.sizing.pods`): a PodList (``kubectl get pods -A
  -o json``) or a live cluster's pods -> workloads.
- :func:`read_usage` (:mod:`gpukit.sizing.usage`): GPU memory each pod uses, from DCGM
  exporter metrics (a Prometheus server or a metrics file).
"""

from __future__ import annotations

from gpukit.sizing._core import (
    Driver,
    PoolSizing,
    Saving,
    SizingLine,
    SizingReport,
    Unplaced,
    check_plan,
    mig_gpus_needed,
    mig_packing,
    size,
)
from gpukit.sizing._load import stream_workloads
from gpukit.sizing.pods import PodWorkloads, live_pods, load_pods, workloads_from_pods
from gpukit.sizing.usage import PodUsage, parse_metrics, query_prometheus, read_usage

__all__ = [
    "Driver",
    "PodUsage",
    "PodWorkloads",
    "PoolSizing",
    "Saving",
    "SizingLine",
    "SizingReport",
    "Unplaced",
    "check_plan",
    "live_pods",
    "load_pods",
    "mig_gpus_needed",
    "mig_packing",
    "parse_metrics",
    "query_prometheus",
    "read_usage",
    "size",
    "stream_workloads",
    "workloads_from_pods",
]
