"""`gpukit calibrate`: measure GPU sharing on a real GPU, render the Job that does it, import results.

``python -m gpukit.calibrate`` (or ``gpukit calibrate run``) runs N replica processes of small
synthetic workloads per sharing mode on one CUDA GPU with PyTorch and writes a calibration file
for gpukit.sharing. PyTorch is imported only by the replica processes; gpukit does not depend
on it. ``--fake`` runs the same orchestration with synthetic replicas and no GPU.
"""

from gpukit.calibrate.importer import (
    LOG_MARKER,
    calibration_from_run,
    import_calibration,
    parse_calibration_source,
    parse_measurements_markdown,
)
from gpukit.calibrate.job import calibration_job
from gpukit.calibrate.runner import WORKLOADS, run_calibration

__all__ = [
    "LOG_MARKER",
    "WORKLOADS",
    "calibration_from_run",
    "calibration_job",
    "import_calibration",
    "parse_calibration_source",
    "parse_measurements_markdown",
    "run_calibration",
]
