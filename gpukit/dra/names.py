"""Names the NVIDIA DRA driver and resource.k8s.io define (kubernetes-sigs/dra-driver-nvidia-gpu:
its DeviceClasses, attribute domain, opaque config API; its chart publishes both classes)."""

from __future__ import annotations

__all__ = [
    "DEVICE_CLASS_DOMAIN",
    "DRA_API",
    "DRIVER",
    "GPU_CONFIG_API",
    "GPU_DEVICE_CLASS",
    "MIG_DEVICE_CLASS",
    "SHARES_CAPACITY",
]

DRA_API = "resource.k8s.io/v1"
#: A whole GPU; with consumable shares on, several claims may hold one.
GPU_DEVICE_CLASS = "gpu.nvidia.com"
#: A MIG device; its attribute ``profile`` (domain gpu.nvidia.com) names the profile.
MIG_DEVICE_CLASS = "mig.nvidia.com"
#: The driver's name, which also names its attribute domain and opaque-config driver.
DRIVER = "gpu.nvidia.com"
GPU_CONFIG_API = "resource.nvidia.com/v1beta1"
#: Discovery counts the driver installed when a DeviceClass name ends in this domain.
DEVICE_CLASS_DOMAIN = "nvidia.com"
#: The capacity an integer consumableShares publishes on each GPU (memory is always there).
SHARES_CAPACITY = "shares"
