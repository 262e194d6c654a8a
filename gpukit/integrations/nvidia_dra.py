"""The NVIDIA DRA driver: its DRA (resource.k8s.io/v1) claims for whole GPUs, MIG devices, shares.

The driver publishes two DeviceClasses for GPUs: ``gpu.nvidia.com`` (a whole GPU) and
``mig.nvidia.com`` (a MIG device; its ``gpu.nvidia.com`` attribute ``profile`` names the
profile). Sharing is opaque driver config on the claim (``GpuConfig``, strategy
``TimeSlicing`` or ``MPS``) and applies to the pods that reference the same claim.

- dedicated and MIG: a ResourceClaimTemplate, so every pod gets its own devices.
- time-slicing and MPS: one ResourceClaim that the workload's pods share: a template would
  give each pod a whole GPU of its own, which is no sharing at all. The shared claim pins
  those pods to the one GPU it is allocated, so they must fit in its shares.
"""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.errors import InputError
from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.manifests.pods import DRA_CLAIM, dra_claim_name, shares_claim
from gpukit.quantity import MIB

__all__ = [
    "DEVICE_CLASS_DOMAIN",
    "DRA_API",
    "GPU_CONFIG_API",
    "GPU_DEVICE_CLASS",
    "INTEGRATION",
    "MIG_DEVICE_CLASS",
    "claim_objects",
    "shares_claim",
]

DRA_API = "resource.k8s.io/v1"
GPU_DEVICE_CLASS = "gpu.nvidia.com"
MIG_DEVICE_CLASS = "mig.nvidia.com"
#: The driver's name, which also names its attribute domain and opaque-config driver.
DRIVER = "gpu.nvidia.com"
GPU_CONFIG_API = "resource.nvidia.com/v1beta1"
#: Discovery counts the driver installed when a DeviceClass name ends in this domain.
DEVICE_CLASS_DOMAIN = "nvidia.com"

Obj = dict[str, Any]


def _request(plan: Plan) -> Obj:
    choice = plan.choice
    if choice.sharing == "mig":
        return {
            "deviceClassName": MIG_DEVICE_CLASS,
            "count": 1,
            "selectors": [
                {
                    "cel": {
                        "expression": f"device.attributes['{DRIVER}'].profile == '{choice.mig_profile}'"
                    }
                }
            ],
        }
    return {"deviceClassName": GPU_DEVICE_CLASS, "count": 1 if shares_claim(plan) else choice.gpus}


def _sharing_config(plan: Plan) -> list[Obj]:
    if plan.sharing == "time-slicing":
        sharing: Obj = {"strategy": "TimeSlicing", "timeSlicingConfig": {"interval": "Default"}}
    elif plan.sharing == "mps":
        replicas = plan.pool.sharing.replicas if plan.pool.sharing else max(plan.pods, 2)
        sharing = {
            "strategy": "MPS",
            "mpsConfig": {
                # What the device plugin's MPS daemon sets: an equal split of SMs and memory.
                "defaultActiveThreadPercentage": 100 // replicas,
                "defaultPinnedDeviceMemoryLimit": f"{plan.choice.memory_bytes // MIB}Mi",
            },
        }
    else:
        return []
    return [
        {
            "requests": [DRA_CLAIM],
            "opaque": {
                "driver": DRIVER,
                "parameters": {
                    "apiVersion": GPU_CONFIG_API,
                    "kind": "GpuConfig",
                    "sharing": sharing,
                },
            },
        }
    ]


def claim_objects(plan: Plan, labels: dict[str, str]) -> list[Obj]:
    """The claim (template) the plan's pods reference, or [] when the fleet has no DRA."""
    if not plan.fleet.installed.dra:
        return []
    devices: Obj = {"requests": [{"name": DRA_CLAIM, "exactly": _request(plan)}]}
    config = _sharing_config(plan)
    if config:
        devices["config"] = config
    metadata = {"name": dra_claim_name(plan), "namespace": plan.namespace, "labels": labels}
    if shares_claim(plan):
        replicas = plan.pool.sharing.replicas if plan.pool.sharing else None
        if replicas is not None and plan.pods > replicas:
            raise InputError(
                f"{plan.name}: with DRA, {plan.sharing} pods share one claim and so one GPU, "
                f"which has {replicas} shares, but the workload runs {plan.pods} pods; "
                f"lower replicas to {replicas} or fewer, or split the workload"
            )
        return [
            {
                "apiVersion": DRA_API,
                "kind": "ResourceClaim",
                "metadata": metadata,
                "spec": {"devices": devices},
            }
        ]
    return [
        {
            "apiVersion": DRA_API,
            "kind": "ResourceClaimTemplate",
            "metadata": metadata,
            "spec": {"spec": {"devices": devices}},
        }
    ]


INTEGRATION = Integration(
    name="nvidia-dra",
    title="NVIDIA DRA driver",
    installed="dra",
    detection=Detection(
        note=f"a DeviceClass (resource.k8s.io deviceclasses) named *{DEVICE_CLASS_DOMAIN}"
    ),
    kinds=(WireKind(DRA_API, "ResourceClaim"), WireKind(DRA_API, "ResourceClaimTemplate")),
)
