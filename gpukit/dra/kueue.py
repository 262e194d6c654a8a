"""Kueue's DRA integration: ``deviceClassMappings`` in its Configuration, quotas on the mapped names.

Kueue 0.18+ (``KueueDRAIntegration``, beta, on by default; kubernetes-sigs/kueue KEP
2941-DRA) counts the devices a pod's ResourceClaimTemplates request against a ClusterQueue
quota, through the Configuration field ``resources.deviceClassMappings`` (``name``: the quota
resource, ``deviceClassNames``: the DeviceClasses it counts). A workload whose template names
an unmapped DeviceClass is inadmissible, so every class gpukit's claims use is mapped.

Kueue counts a request's ``count`` (devices), whatever capacity it asks for: a share claim
counts 1. So a pool whose GPUs are shared by consumable capacity gets ``shares x GPUs`` of
quota (one per share claim the GPUs hold), the others one per device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpukit.dra.names import GPU_DEVICE_CLASS, MIG_DEVICE_CLASS

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.fleet import Fleet, NodePool
    from gpukit.platform.files import PlatformFile
    from gpukit.platform.model import PlatformPlan

__all__ = [
    "DRA_GPU_RESOURCE",
    "DRA_MIG_RESOURCE",
    "KUEUE_CONFIG_API",
    "config_files",
    "configuration",
    "device_class_mappings",
    "pool_devices",
]

Obj = dict[str, Any]

#: Quota names Kueue counts the driver's DeviceClasses under (gpukit's choice of names).
DRA_GPU_RESOURCE = "nvidia.com/dra-gpu"
DRA_MIG_RESOURCE = "nvidia.com/dra-mig"
KUEUE_CONFIG_API = "config.kueue.x-k8s.io/v1beta2"
CONFIG_PATH = "helm/kueue-dra-configuration.yaml"


def device_class_mappings() -> list[Obj]:
    """One mapping per DeviceClass gpukit's claims name (Kueue forbids a class in two)."""
    return [
        {"name": DRA_GPU_RESOURCE, "deviceClassNames": [GPU_DEVICE_CLASS]},
        {"name": DRA_MIG_RESOURCE, "deviceClassNames": [MIG_DEVICE_CLASS]},
    ]


def pool_devices(pool: NodePool, fleet: Fleet) -> dict[str, int]:
    """What the pool holds, counted as Kueue counts claims: MIG devices of its layout under
    the MIG class, else GPUs (times the driver's shares on a shared pool with consumable
    shares) under the GPU class."""
    gpus = pool.nodes * pool.gpus_per_node
    if pool.mig is not None and pool.mig.layout:
        return {DRA_MIG_RESOURCE: gpus * sum(pool.mig.layout.values())}
    shares = fleet.dra.share_count if pool.sharing is not None else None
    return {DRA_GPU_RESOURCE: gpus * (shares or 1)}


def configuration() -> Obj:
    """The part of Kueue's Configuration gpukit needs: the device class mappings."""
    return {
        "apiVersion": KUEUE_CONFIG_API,
        "kind": "Configuration",
        "resources": {"deviceClassMappings": device_class_mappings()},
    }


def quota_note(pp: PlatformPlan) -> list[str]:
    """The Kueue file's header lines about DRA quotas."""
    if not pp.dra:
        return []
    return [
        f"  DRA claims (Kueue 0.18+, deviceClassMappings in {CONFIG_PATH}):",
        f"  {GPU_DEVICE_CLASS} devices count as {DRA_GPU_RESOURCE}, {MIG_DEVICE_CLASS} as {DRA_MIG_RESOURCE};",
        "  a claim counts its device count, a share claim 1 (quota: GPUs x shares on shared pools).",
    ]


def config_files(pp: PlatformPlan) -> list[PlatformFile]:
    """Kueue's deviceClassMappings, for a DRA fleet whose workloads Kueue queues."""
    from gpukit.manifests.yaml import to_yaml
    from gpukit.platform.files import PlatformFile

    if not pp.dra or not pp.fleet.installed.kueue or not pp.cluster_queues:
        return []
    return [
        PlatformFile(
            CONFIG_PATH,
            "Kueue Configuration for DRA: the DeviceClasses its quotas count.",
            (
                "Kueue 0.18+ admits a workload whose ResourceClaimTemplates name a DeviceClass only",
                "if the class is mapped here; the ClusterQueues' quotas use the mapped names.",
                "A fragment of Kueue's Configuration, not a Kubernetes object: merge resources: into",
                "the controller_manager_config.yaml of ConfigMap kueue-manager-config (kueue-system),",
                "or the chart's managerConfig.controllerManagerConfigYaml.",
            ),
            (
                f"merge {CONFIG_PATH} into Kueue's configuration (kueue-config.yaml), then",
                (
                    "helm upgrade kueue <kueue chart> -n kueue-system --reuse-values "
                    "--set-file managerConfig.controllerManagerConfigYaml=kueue-config.yaml"
                ),
            ),
            text=to_yaml(configuration()),
        )
    ]
