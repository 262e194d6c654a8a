"""The Kubernetes vocabulary gpukit reads and writes: label keys, annotations, resource names,
scheduler names. One definition each; every module imports them from here.

Plain strings and no gpukit imports, so any module may use it without an import circle.
Each group names who defines the key (the project whose controller reads or writes it).
"""

from __future__ import annotations

__all__ = [
    "APP_NAME_LABEL",
    "DEPLOY_DCGM_EXPORTER_LABEL",
    "DEPLOY_DEVICE_PLUGIN_LABEL",
    "DEPLOY_GFD_LABEL",
    "DEVICE_PLUGIN_CONFIG_LABEL",
    "GPU",
    "GPUKIT",
    "GPUKIT_POOL_LABEL",
    "GPUKIT_SHARING_LABEL",
    "GPUKIT_TEAM_LABEL",
    "GPU_COUNT_LABEL",
    "GPU_PRODUCT_LABEL",
    "GPU_REPLICAS_LABEL",
    "GPU_SHARED",
    "GPU_SHARING_STRATEGY_LABEL",
    "GPU_TAINT",
    "INDEXED_JOB_NAME_LABEL",
    "KAI_DEFAULT_QUEUE",
    "KAI_GPUKIT_QUEUE",
    "KAI_GPU_FRACTION_ANNOTATION",
    "KAI_GPU_MEMORY_ANNOTATION",
    "KAI_QUEUE_LABEL",
    "KAI_SCHEDULER",
    "KUEUE_PRIORITY_LABEL",
    "KUEUE_QUEUE_LABEL",
    "LWS_NAME_LABEL",
    "MANAGED_BY_LABEL",
    "MIG_CONFIG_LABEL",
    "MIG_CONFIG_STATE_LABEL",
    "MIG_RESOURCE_PREFIX",
    "VOLCANO_GROUP_ANNOTATION",
    "VOLCANO_QUEUE_ANNOTATION",
    "VOLCANO_SCHEDULER",
    "managed_by",
    "mig_resource",
]

# -- extended resources (NVIDIA k8s-device-plugin) -------------------------------------------

#: Whole GPUs, and under the single MIG strategy MIG devices too.
GPU = "nvidia.com/gpu"
#: What the device plugin advertises for time-sliced or MPS shares when renameByDefault is set.
GPU_SHARED = "nvidia.com/gpu.shared"
#: MIG devices under the mixed strategy: ``nvidia.com/mig-<profile>`` (e.g. mig-1g.10gb).
MIG_RESOURCE_PREFIX = "nvidia.com/mig-"
#: The taint gpukit's fleets (and the GPU Operator's docs) put on GPU nodes.
GPU_TAINT = "nvidia.com/gpu"


def mig_resource(profile: str) -> str:
    """The mixed-strategy resource name of a MIG profile: ``nvidia.com/mig-1g.10gb``."""
    return f"{MIG_RESOURCE_PREFIX}{profile}"


# -- node labels: GPU Feature Discovery and the GPU Operator ---------------------------------

#: GFD: the GPU model (``-MIG-<profile>`` under single MIG, ``-SHARED`` on shared GPUs).
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
#: GFD: none, time-slicing or mps.
GPU_SHARING_STRATEGY_LABEL = "nvidia.com/gpu.sharing-strategy"
#: GFD: GPUs per node, and shares per GPU.
GPU_COUNT_LABEL = "nvidia.com/gpu.count"
GPU_REPLICAS_LABEL = "nvidia.com/gpu.replicas"
#: GPU Operator MIG manager: the mig-parted config a node applies.
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
#: GPU Operator MIG manager: where applying that config stands (pending, success, failed).
MIG_CONFIG_STATE_LABEL = "nvidia.com/mig.config.state"
#: GPU Operator: the named device-plugin config a node uses.
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
#: GPU Operator per-operand gates ("false" keeps that operand off the node).
DEPLOY_DEVICE_PLUGIN_LABEL = "nvidia.com/gpu.deploy.device-plugin"
DEPLOY_GFD_LABEL = "nvidia.com/gpu.deploy.gpu-feature-discovery"
DEPLOY_DCGM_EXPORTER_LABEL = "nvidia.com/gpu.deploy.dcgm-exporter"

# -- schedulers and queueing systems ---------------------------------------------------------

#: Kueue: the LocalQueue a workload is submitted to, and its WorkloadPriorityClass.
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
KUEUE_PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
#: Volcano: its schedulerName, the PodGroup a plain pod joins, the queue of a PodGroup's owner.
VOLCANO_SCHEDULER = "volcano"
VOLCANO_GROUP_ANNOTATION = "scheduling.k8s.io/group-name"
VOLCANO_QUEUE_ANNOTATION = "scheduling.volcano.sh/queue-name"
#: KAI scheduler: its schedulerName, the queue label, and its GPU-sharing pod annotations.
KAI_SCHEDULER = "kai-scheduler"
KAI_QUEUE_LABEL = "kai.scheduler/queue"
KAI_GPU_FRACTION_ANNOTATION = "gpu-fraction"
KAI_GPU_MEMORY_ANNOTATION = "gpu-memory"
#: The queue KAI's quick start creates, with GPU quota 0: only preemptible work runs there.
KAI_DEFAULT_QUEUE = "default-queue"
#: gpukit's KAI queue for work of no team or queue: a child of gpukit's parent queue with a
#: GPU quota, since KAI runs a Deployment (inference priority, non-preemptible) in quota only.
KAI_GPUKIT_QUEUE = "gpukit-default"
#: LeaderWorkerSet: the label its controller puts on every pod of a set.
LWS_NAME_LABEL = "leaderworkerset.sigs.k8s.io/name"
#: batch/v1: the label the Job controller puts on its pods.
INDEXED_JOB_NAME_LABEL = "batch.kubernetes.io/job-name"

# -- gpukit's own and the recommended app labels ---------------------------------------------

GPUKIT = "gpukit"
APP_NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
GPUKIT_SHARING_LABEL = "gpukit.io/sharing"
GPUKIT_POOL_LABEL = "gpukit.io/pool"
GPUKIT_TEAM_LABEL = "gpukit.io/team"


def managed_by() -> dict[str, str]:
    """A fresh ``app.kubernetes.io/managed-by: gpukit`` label map."""
    return {MANAGED_BY_LABEL: GPUKIT}
