"""Reason and Rejection values, the stable codes they carry, and the one GiB formatter.

Every code the advisor emits is a member of :class:`ReasonCode`, a ``StrEnum``: a member is
its own string, so plan JSON, ``explain()`` and code that compares with plain strings see
exactly the text they saw before the enum existed.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from gpukit.quantity import format_gib_float

__all__ = ["Reason", "ReasonCode", "Rejection", "gib", "reason", "rejection"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ReasonCode(StrEnum):
    """Stable reason, warning and rejection codes (tests and tools match on them)."""

    # preference: the first reason of a plan, and a rejection of mechanisms that do not suit
    DISTRIBUTED_DEDICATED = "DISTRIBUTED_DEDICATED"
    TRAINING_WHOLE_GPU = "TRAINING_WHOLE_GPU"
    WHOLE_GPUS_ASKED = "WHOLE_GPUS_ASKED"
    LARGE_MODEL_DEDICATED = "LARGE_MODEL_DEDICATED"
    NO_SHARING_IN_FLEET = "NO_SHARING_IN_FLEET"  # also the waste warning's code
    ISOLATION_STRICT_MIG = "ISOLATION_STRICT_MIG"
    THROUGHPUT_MPS = "THROUGHPUT_MPS"
    LATENCY_MIG = "LATENCY_MIG"
    COST_CHEAPEST_SHARE = "COST_CHEAPEST_SHARE"
    DEV_TIME_SLICING = "DEV_TIME_SLICING"
    # why the chosen option won
    FALLBACK = "FALLBACK"
    SMALLEST_PROFILE = "SMALLEST_PROFILE"
    SHARE_FITS = "SHARE_FITS"
    TENSOR_PARALLEL = "TENSOR_PARALLEL"
    SHARDED_TRAINING = "SHARDED_TRAINING"
    MULTI_NODE = "MULTI_NODE"
    GPU_MODEL_COST = "GPU_MODEL_COST"
    MPS_OVER_TIME_SLICING = "MPS_OVER_TIME_SLICING"
    LATENCY_TARGET_MET = "LATENCY_TARGET_MET"
    REPLICAS_PER_GPU = "REPLICAS_PER_GPU"
    # memory
    MEMORY_GIVEN = "MEMORY_GIVEN"
    MEMORY_ESTIMATED = "MEMORY_ESTIMATED"
    ENGINE_SETTINGS = "ENGINE_SETTINGS"
    MEMORY_UNKNOWN = "MEMORY_UNKNOWN"
    # scheduler
    GANG_KAI = "GANG_KAI"
    QUEUE_KAI = "QUEUE_KAI"
    SCHEDULER_KAI = "SCHEDULER_KAI"
    GANG_VOLCANO = "GANG_VOLCANO"
    GANG_KUEUE = "GANG_KUEUE"
    QUEUE_KUEUE = "QUEUE_KUEUE"
    DEFAULT_SCHEDULER = "DEFAULT_SCHEDULER"
    PREEMPTIBLE_LOW_PRIORITY = "PREEMPTIBLE_LOW_PRIORITY"
    # topology (gpukit.topology): the level that must or should hold a gang
    TOPOLOGY_REQUIRED = "TOPOLOGY_REQUIRED"
    TOPOLOGY_PREFERRED = "TOPOLOGY_PREFERRED"
    TOPOLOGY_NVLINK_DOMAIN = "TOPOLOGY_NVLINK_DOMAIN"
    # rejections (the preference codes above also reject shares for whole-GPU work)
    ONE_SHARED_GPU_PER_CONTAINER = "ONE_SHARED_GPU_PER_CONTAINER"
    MIG_PROFILE_UNKNOWN = "MIG_PROFILE_UNKNOWN"
    MEMORY_NEED_UNKNOWN = "MEMORY_NEED_UNKNOWN"  # also a warning
    MEMORY_DOES_NOT_FIT = "MEMORY_DOES_NOT_FIT"
    EXCEEDS_NODE = "EXCEEDS_NODE"
    MULTI_NODE_SERVING_NEEDS_LWS = "MULTI_NODE_SERVING_NEEDS_LWS"
    NO_ISOLATION = "NO_ISOLATION"
    MPS_NOT_STRICT = "MPS_NOT_STRICT"
    LATENCY_AVOIDS_TIME_SLICING = "LATENCY_AVOIDS_TIME_SLICING"
    MPS_CLIENT_LIMIT = "MPS_CLIENT_LIMIT"
    NOT_ENOUGH_CAPACITY = "NOT_ENOUGH_CAPACITY"
    NOT_SUITED = "NOT_SUITED"
    PRECISION_NOT_SUPPORTED = "PRECISION_NOT_SUPPORTED"
    PRECISION_NOT_NATIVE = "PRECISION_NOT_NATIVE"  # also a warning when chosen anyway
    # rejections from the sharing model (gpukit.sharing)
    CPU_DOES_NOT_FIT = "CPU_DOES_NOT_FIT"
    TIME_SLICING_NO_THROUGHPUT = "TIME_SLICING_NO_THROUGHPUT"
    MPS_LIMITS_COST = "MPS_LIMITS_COST"  # also a warning when MPS is chosen anyway
    LATENCY_TARGET_MISSED = "LATENCY_TARGET_MISSED"
    LATENCY_TARGET_UNKNOWN = "LATENCY_TARGET_UNKNOWN"
    # warnings
    TIME_SLICING_NO_ISOLATION = "TIME_SLICING_NO_ISOLATION"
    MPS_SHARED_FAULTS = "MPS_SHARED_FAULTS"
    WHOLE_GPU_FOR_SMALL_WORK = "WHOLE_GPU_FOR_SMALL_WORK"
    MIG_LAYOUT_NEEDED = "MIG_LAYOUT_NEEDED"
    NO_GANG = "NO_GANG"
    NO_QUEUE_FOR_TEAM = "NO_QUEUE_FOR_TEAM"
    NO_QUOTA = "NO_QUOTA"
    QUEUE_NOT_IN_FLEET = "QUEUE_NOT_IN_FLEET"
    QUEUE_NAMESPACE_MISMATCH = "QUEUE_NAMESPACE_MISMATCH"
    KAI_BYPASSED = "KAI_BYPASSED"
    TEAM_QUEUE_BYPASSED = "TEAM_QUEUE_BYPASSED"
    NO_DCGM_MONITORING = "NO_DCGM_MONITORING"
    # warnings on DRA fleets (gpukit.dra.warnings)
    DRA_GATE_OFF = "DRA_GATE_OFF"
    DRA_SHARED_CLAIM_ONLY = "DRA_SHARED_CLAIM_ONLY"
    DRA_KUEUE_SHARED_CLAIM = "DRA_KUEUE_SHARED_CLAIM"
    DRA_SHARES_DIFFER = "DRA_SHARES_DIFFER"
    DRA_NO_FALLBACK_LIST = "DRA_NO_FALLBACK_LIST"
    DRA_DYNAMIC_MIG = "DRA_DYNAMIC_MIG"
    DRA_SCHEDULER_UNSUPPORTED = "DRA_SCHEDULER_UNSUPPORTED"
    DRA_SCHEDULER_LIMIT = "DRA_SCHEDULER_LIMIT"
    # warnings of what the cluster around the plan does (gpukit.advisor.platform_rules)
    KAI_FRACTION_NO_ISOLATION = "KAI_FRACTION_NO_ISOLATION"
    KAI_DEFAULT_QUEUE_NO_QUOTA = "KAI_DEFAULT_QUEUE_NO_QUOTA"
    KARPENTER_NO_SCALE_UP = "KARPENTER_NO_SCALE_UP"
    KUEUE_QUOTA_OVERLAP = "KUEUE_QUOTA_OVERLAP"
    COMPONENT_VERSION = "COMPONENT_VERSION"
    TOPOLOGY_UNPLACEABLE = "TOPOLOGY_UNPLACEABLE"
    TOPOLOGY_NOT_ENFORCED = "TOPOLOGY_NOT_ENFORCED"
    TOPOLOGY_NEEDS_COMPUTE_DOMAIN = "TOPOLOGY_NEEDS_COMPUTE_DOMAIN"


class Reason(BaseModel):
    """A rule that fired: a stable code and the sentence a platform engineer would write."""

    model_config = _FROZEN

    code: str
    message: str


class Rejection(BaseModel):
    """An option that was considered and turned down, with why."""

    model_config = _FROZEN

    option: str
    code: str
    message: str


@lru_cache(maxsize=8192)
def reason(code: str, message: str) -> Reason:
    """The Reason for ``code`` and ``message``, built once: most sentences recur between plans."""
    return Reason(code=code, message=message)


@lru_cache(maxsize=8192)
def rejection(option: str, code: str, message: str) -> Rejection:
    """The Rejection of ``option`` (its label), built once like :func:`reason`."""
    return Rejection(option=option, code=code, message=message)


#: Bytes as GiB in explanations: '10 GiB', '9.5 GiB' (gpukit.quantity's one helper).
gib = format_gib_float
