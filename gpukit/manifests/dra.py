"""Moved to :mod:`gpukit.integrations.nvidia_dra`; this path re-exports it for one release."""

from __future__ import annotations

from gpukit.integrations.nvidia_dra import (
    DRA_API,
    DRIVER,
    GPU_CONFIG_API,
    GPU_DEVICE_CLASS,
    MIG_DEVICE_CLASS,
    claim_objects,
)
from gpukit.manifests.pods import shares_claim

__all__ = [
    "DRA_API",
    "DRIVER",
    "GPU_CONFIG_API",
    "GPU_DEVICE_CLASS",
    "MIG_DEVICE_CLASS",
    "claim_objects",
    "shares_claim",
]
