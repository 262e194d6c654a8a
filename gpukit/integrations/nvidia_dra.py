"""The NVIDIA DRA driver: its DRA (resource.k8s.io/v1) claims for whole GPUs, MIG devices, shares.

The driver publishes two DeviceClasses for GPUs: ``gpu.nvidia.com`` (a whole GPU) and
``mig.nvidia.com`` (a MIG device; its ``gpu.nvidia.com`` attribute ``profile`` names the
profile). Sharing is among the consumers of one claim (``GpuConfig``, strategy
``TimeSlicing`` or ``MPS``), or through consumable capacity when the driver runs with
consumable shares. The claims are rendered by :mod:`gpukit.dra.claims`; the driver's Helm
values by :mod:`gpukit.dra.platform`.
"""

from __future__ import annotations

from gpukit.dra.claims import claim_objects
from gpukit.dra.names import (
    DEVICE_CLASS_DOMAIN,
    DRA_API,
    DRIVER,
    GPU_CONFIG_API,
    GPU_DEVICE_CLASS,
    MIG_DEVICE_CLASS,
)
from gpukit.dra.platform import platform_files
from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.manifests.pods import shares_claim

__all__ = [
    "DEVICE_CLASS_DOMAIN",
    "DRA_API",
    "DRIVER",
    "GPU_CONFIG_API",
    "GPU_DEVICE_CLASS",
    "INTEGRATION",
    "MIG_DEVICE_CLASS",
    "claim_objects",
    "shares_claim",
]

INTEGRATION = Integration(
    name="nvidia-dra",
    title="NVIDIA DRA driver",
    installed="dra",
    detection=Detection(
        note=f"a DeviceClass (resource.k8s.io deviceclasses) named *{DEVICE_CLASS_DOMAIN}"
    ),
    kinds=(WireKind(DRA_API, "ResourceClaim"), WireKind(DRA_API, "ResourceClaimTemplate")),
    platform=platform_files,
)
