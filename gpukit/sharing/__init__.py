"""Quantitative sharing advice: predicted throughput and latency of N replicas on one GPU, per mode.

>>> from gpukit.sharing import predict
>>> p = predict("time-slicing", 8, gpu_boundness=1.0, gpu_fill=1.0)
>>> p.aggregate_throughput < 1.0   # GPU-bound work gains nothing from time-slicing
True

For the advisor (pure calls, no I/O beyond reading the shipped data once):

- ``predict(mode, replicas, gpu_boundness, kind=..., gpu=pool GPU, mig_profile=...)`` for the
  option being scored; the Kubernetes device plugin's MPS share is mode ``"mps-limits"`` (the
  plugin always sets 100 // N % of SMs and memory / N), ``"mps"`` is an unlimited MPS daemon.
- ``replicas_for_target(mode, ..., p99_target=, cpu_cores=, gpu_memory_mib=,
  replica_memory_mib=)`` for replicas per GPU; it raises NoFeasiblePlan with every rejection.
- ``compare_modes(N, ...)`` for the table a plan shows; every Prediction carries ``source`` and
  ``assumptions`` (MIG and GPUs other than the calibrated one are assumptions and say so).
- Calibrations: ``load_calibration(gpu, search=[folder])`` (a fleet's calibration folder
  first, then the shipped H200 reference).
"""

from gpukit.sharing.calibration import (
    Calibration,
    calibration_files,
    dump_calibration,
    kind_defaults,
    load_calibration,
    read_calibration,
)
from gpukit.sharing.choose import ReplicaChoice, compare_modes, replicas_for_target
from gpukit.sharing.model import MODES, Prediction, WorkloadProfile, predict, workload_profile

__all__ = [
    "MODES",
    "Calibration",
    "Prediction",
    "ReplicaChoice",
    "WorkloadProfile",
    "calibration_files",
    "compare_modes",
    "dump_calibration",
    "kind_defaults",
    "load_calibration",
    "predict",
    "read_calibration",
    "replicas_for_target",
    "workload_profile",
]
