"""NVIDIA GPU Operator: detection and the CRD it owns.

Its Helm values and the ConfigMaps it reads (device plugin, mig-parted) are the core of the
platform bundle and stay in :mod:`gpukit.platform.gpu_operator`, which the bundle calls
in its fixed place (before the queues' consumers, after the namespaces).
"""

from __future__ import annotations

from gpukit.integrations._base import Detection, Integration, WireKind

__all__ = ["API", "GROUP", "INTEGRATION"]

GROUP = "nvidia.com"
API = f"{GROUP}/v1"

INTEGRATION = Integration(
    name="gpu-operator",
    title="NVIDIA GPU Operator",
    installed="gpu_operator",
    detection=Detection(resources=((GROUP, "clusterpolicies"),)),
    crds=(f"clusterpolicies.{GROUP}",),
    lint_kinds=(WireKind(API, "ClusterPolicy"),),
)
