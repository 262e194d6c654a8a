"""The Kubernetes Job that runs `python -m gpukit.calibrate` on one whole GPU of a node pool."""

from __future__ import annotations

import re
from typing import Any

from gpukit import __version__
from gpukit.errors import FleetError, InputError
from gpukit.fleet import Fleet, NodePool

__all__ = ["IMAGE_HOWTO", "calibration_job", "job_name"]

#: What to do when no image is given: gpukit is not on a package index, so the Job cannot
#: install it at start; the repository's Containerfile builds an image that has it.
IMAGE_HOWTO = (
    "the calibration Job needs an image with gpukit and PyTorch, and gpukit is not on a "
    "package index to install at start: build one from the repository "
    f"(podman build -f Containerfile -t REGISTRY/gpukit:{__version__} . && "
    f"podman push REGISTRY/gpukit:{__version__}) and give --image REGISTRY/gpukit:{__version__}"
)

#: CPU cores the Job asks for beyond one per replica (the orchestrator and MPS server).
_EXTRA_CORES = 1


def job_name(pool: str) -> str:
    """gpukit-calibrate-<pool>, as a DNS-1123 label (at most 63 characters)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", pool.lower()).strip("-") or "pool"
    return f"gpukit-calibrate-{slug}"[:63].rstrip("-")


def _whole_gpu_pool(fleet: Fleet, name: str) -> NodePool:
    pool = fleet.pool(name)
    if pool.mig is not None or pool.sharing is not None:
        what = "MIG slices" if pool.mig is not None else f"{pool.sharing.mode} shares"  # type: ignore[union-attr]
        raise FleetError(
            f"pool {name!r} offers {what}, not whole GPUs; calibration measures sharing on one whole "
            "GPU, so run it on a pool of whole GPUs of the same model (or one node taken out of "
            "the sharing config)"
        )
    if pool.nodes < 1:
        raise FleetError(f"pool {name!r} has no nodes to run the calibration on; scale it up first")
    return pool


def calibration_job(
    fleet: Fleet,
    pool_name: str,
    *,
    namespace: str = "default",
    image: str | None = None,
    replicas: tuple[int, ...] = (1, 2, 4, 8, 16),
    window: float = 5.0,
    warmup: float = 2.0,
) -> dict[str, Any]:
    """A batch/v1 Job on one whole GPU of ``pool_name``; its log ends with the result as JSON.

    ``image`` must hold gpukit and PyTorch (the repository's ``Containerfile`` builds one);
    the Job runs ``python -m gpukit.calibrate run`` in it as rendered, installing nothing.
    With no image it raises InputError saying how to build one. Read the result with
    ``kubectl logs job/NAME | gpukit calibrate import - --out calibration/``.
    """
    from gpukit.manifests.pods import pool_node_selector, tolerations

    pool = _whole_gpu_pool(fleet, pool_name)
    if not image:
        raise InputError(IMAGE_HOWTO)
    cores = max(replicas) + _EXTRA_CORES
    if pool.cpu_per_node is not None and cores > pool.cpu_per_node:
        cores = pool.cpu_per_node
        replicas = tuple(n for n in replicas if n <= max(1, cores - _EXTRA_CORES))
    run = [
        "python", "-m", "gpukit.calibrate", "run",
        "--gpu", pool.model.key,
        "--replicas", ",".join(str(n) for n in replicas),
        "--window", f"{window:g}", "--warmup", f"{warmup:g}",
        "--out", "/tmp/calibration.yaml", "--log-json",
    ]
    command = run
    name = job_name(pool_name)
    labels = {"app.kubernetes.io/name": "gpukit-calibrate", "app.kubernetes.io/instance": name}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 3600,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "nodeSelector": pool_node_selector(pool),
                    "tolerations": tolerations(pool),
                    "containers": [
                        {
                            "name": "calibrate",
                            "image": image,
                            "command": command,
                            "env": [
                                # nvidia-smi and nvidia-cuda-mps-control come with 'utility'.
                                {"name": "NVIDIA_DRIVER_CAPABILITIES", "value": "compute,utility"},
                                {"name": "PYTHONUNBUFFERED", "value": "1"},
                            ],
                            "resources": {
                                "requests": {"cpu": str(cores), "memory": "32Gi", "nvidia.com/gpu": 1},
                                "limits": {"cpu": str(cores), "memory": "32Gi", "nvidia.com/gpu": 1},
                            },
                            "volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"}],
                        }
                    ],
                    "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}}],
                },
            },
        },
    }
