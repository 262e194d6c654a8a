"""The DRA claims a plan's pods reference, and how many pods share one GPU through them.

Under DRA, sharing happens among the consumers of one allocated device. Two pods with two
claims get two devices unless the devices allow multiple allocations. So a shared plan is
rendered one of two ways:

- ``shared``: one ResourceClaim the workload's pods all reference (user-mediated sharing:
  time-slicing without consumable shares, and MPS, which consumable capacity does not
  support). The pods share one GPU; nothing else does.
- ``capacity``: a ResourceClaimTemplate per pod that asks for a share of a GPU's capacity
  (``shares``, or ``memory``) when the driver runs with consumable shares: the scheduler
  counts the capacity and packs claims of any workload onto one GPU.

Whole GPUs and MIG devices are ``template``: a claim per pod, a device per claim. With
consumable shares on, a whole-GPU claim asks for all of its GPU's capacity, so no share
claim lands beside it.

When the plan has ranked alternatives on the same pool that the same claim can express,
the request becomes a prioritized list (``firstAvailable``) in gpukit's ranking order.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from gpukit.dra.names import (
    DRA_API,
    DRIVER,
    GPU_CONFIG_API,
    GPU_DEVICE_CLASS,
    MIG_DEVICE_CLASS,
    SHARES_CAPACITY,
)
from gpukit.dra.settings import KUEUE_PRIORITIZED_LIST, TIME_SLICING_SETTINGS
from gpukit.errors import InputError
from gpukit.hardware import get_gpu
from gpukit.manifests.pods import DRA_CLAIM, dra_claim_name
from gpukit.quantity import MIB

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.option import Option
    from gpukit.advisor.plan import Plan
    from gpukit.fleet import Fleet

__all__ = [
    "ClaimMode",
    "claim_mode",
    "claim_objects",
    "fallbacks",
    "gpus_shared_by",
    "share_request",
]

Obj = dict[str, Any]
ClaimMode = Literal["template", "capacity", "shared"]


def claim_mode(option: Option, fleet: Fleet) -> ClaimMode:
    """How the option's pods get their devices (see the module docstring)."""
    if option.sharing == "mps":
        return "shared"
    if option.sharing == "time-slicing":
        # consumable shares are counted on whole GPUs; a time-sliced MIG slice is one claim
        whole = option.mig_profile is None
        return "capacity" if fleet.dra.consumable and whole else "shared"
    return "template"


def _gpu_memory(option: Option) -> int:
    return get_gpu(option.gpu_model).memory_bytes


def share_request(option: Option, fleet: Fleet) -> Obj | None:
    """The capacity one device of the option's claim asks for, or None (no capacity asked).

    A share claim asks for its fraction of a GPU in the driver's unit (``shares`` of
    ``consumable_shares``, or ``memory``); a whole-GPU claim on a consumable fleet asks for
    all of it, so it keeps its GPU to itself.
    """
    dra = fleet.dra
    if not dra.consumable or option.mig_profile is not None:
        return None
    mode = claim_mode(option, fleet)
    if mode == "template" and option.sharing != "dedicated":
        return None
    fraction = 1.0 if mode == "template" else min(1.0, option.gpu_share * option.gpus)
    if dra.share_count is not None:
        return {SHARES_CAPACITY: str(max(1, round(fraction * dra.share_count)))}
    if dra.consumable_shares == "memory":
        memory = _gpu_memory(option) if mode == "template" else option.memory_bytes
        return {"memory": f"{memory // MIB}Mi"}
    return None  # unlimited: the driver counts nothing, so nothing to ask for


def gpus_shared_by(plan: Plan) -> int | None:
    """How many pods of this plan's shape one allocated GPU (or MIG device) holds at most:
    1 for a claim of its own, the workload's pods for a shared claim, the shares that fit for
    consumable capacity (None when the driver's shares are unlimited)."""
    mode = claim_mode(plan.choice, plan.fleet)
    if mode == "template":
        return 1
    if mode == "shared":
        return plan.pods
    ask = share_request(plan.choice, plan.fleet)
    if ask is None:
        return None
    if SHARES_CAPACITY in ask:
        return int(plan.fleet.dra.share_count or 0) // int(ask[SHARES_CAPACITY])
    return _gpu_memory(plan.choice) // (int(ask["memory"].removesuffix("Mi")) * MIB)


def _exact(option: Option, fleet: Fleet) -> Obj:
    mode = claim_mode(option, fleet)
    count = 1 if mode != "template" else option.gpus
    if option.mig_profile is not None:
        request: Obj = {
            "deviceClassName": MIG_DEVICE_CLASS,
            "count": count,
            "selectors": [
                {
                    "cel": {
                        "expression": f"device.attributes['{DRIVER}'].profile == "
                        f"'{option.mig_profile}'"
                    }
                }
            ],
        }
    else:
        request = {"deviceClassName": GPU_DEVICE_CLASS, "count": count}
    ask = share_request(option, fleet)
    if ask is not None:
        request["capacity"] = {"requests": ask}
    return request


def fallbacks(plan: Plan) -> list[Option]:
    """The options the claim asks for, best first: the choice, then the ranked alternatives
    one claim can also express (same pool and pod count, same kind of claim). Only the
    choice where Kueue admits the workload without its prioritized-list gate (it does not
    count ``firstAvailable`` requests otherwise) or for consumable capacity (Kueue rejects
    capacity-backed alternatives)."""
    choice, fleet = plan.choice, plan.fleet
    mode = claim_mode(choice, fleet)
    kueue = plan.scheduler == "kueue"
    if kueue and (mode == "capacity" or not fleet.dra.kueue_gate(KUEUE_PRIORITIZED_LIST)):
        return [choice]
    chosen = [choice]
    for alt in plan.alternatives:
        expressible = (
            alt.pool == choice.pool
            and alt.workers == choice.workers
            and claim_mode(alt, fleet) == mode
            and (mode == "template" or alt.sharing == choice.sharing)
        )
        if expressible and _exact(alt, fleet) not in [_exact(c, fleet) for c in chosen]:
            chosen.append(alt)
    return chosen


def _subrequest_name(option: Option, taken: set[str]) -> str:
    base = option.mig_profile and f"mig-{option.mig_profile}" or f"gpu-{option.gpus}"
    name = re.sub(r"[^a-z0-9-]", "-", base.lower())
    while name in taken:
        name += "-x"
    taken.add(name)
    return name


def _request(plan: Plan) -> Obj:
    options = fallbacks(plan)
    if len(options) == 1:
        return {"name": DRA_CLAIM, "exactly": _exact(plan.choice, plan.fleet)}
    taken: set[str] = set()
    return {
        "name": DRA_CLAIM,
        "firstAvailable": [
            {"name": _subrequest_name(o, taken), **_exact(o, plan.fleet)} for o in options
        ],
    }


def _sharing_config(plan: Plan) -> list[Obj]:
    dra = plan.fleet.dra
    if plan.sharing == "time-slicing":
        if not dra.gate(TIME_SLICING_SETTINGS):
            return []  # the driver's default time-slice: no config, so no gate needed
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
    devices: Obj = {"requests": [_request(plan)]}
    config = _sharing_config(plan)
    if config:
        devices["config"] = config
    metadata = {"name": dra_claim_name(plan), "namespace": plan.namespace, "labels": labels}
    if claim_mode(plan.choice, plan.fleet) == "shared":
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
