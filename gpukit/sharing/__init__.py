"""Quantitative sharing advice: predicted throughput and latency of N replicas on one GPU, per mode.

>>> from gpukit.sharing import predict
>>> p = predict("time-slicing", 8, gpu_boundness=1.0, gpu_fill=1.0)
>>> p.aggregate_throughput < 1.0   # GPU-bound work gains nothing from time-slicing
True
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
