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
from gpukit.dra.settings import KUEUE_GATES, _version

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.fleet import Fleet, NodePool
    from gpukit.platform.files import PlatformFile
    from gpukit.platform.model import PlatformPlan

__all__ = [
    "DRA_GPU_RESOURCE",
    "DRA_MIG_RESOURCE",
    "KUEUE_CONFIG_API",
    "KUEUE_DRA_SINCE",
    "config_files",
    "configuration",
    "device_class_mappings",
    "feature_gates",
    "helm_values",
    "pool_devices",
]

Obj = dict[str, Any]

#: Quota names Kueue counts the driver's DeviceClasses under (gpukit's choice of names).
DRA_GPU_RESOURCE = "nvidia.com/dra-gpu"
DRA_MIG_RESOURCE = "nvidia.com/dra-mig"
KUEUE_CONFIG_API = "config.kueue.x-k8s.io/v1beta2"
CONFIG_PATH = "helm/kueue-values.yaml"
#: The Kueue release whose DRA integration (KEP 2941) is on by default: deviceClassMappings.
KUEUE_DRA_SINCE = "0.18"
#: The chart's default ``integrations.frameworks`` (kubernetes-sigs/kueue charts/kueue/values.yaml).
CHART_FRAMEWORKS = (
    "batch/job",
    "kubeflow.org/mpijob",
    "ray.io/rayjob",
    "ray.io/raycluster",
    "jobset.x-k8s.io/jobset",
    "trainer.kubeflow.org/trainjob",
    "kubeflow.org/paddlejob",
    "kubeflow.org/pytorchjob",
    "kubeflow.org/tfjob",
    "kubeflow.org/xgboostjob",
    "kubeflow.org/jaxjob",
    "workload.codeflare.dev/appwrapper",
    "pod",
    "deployment",
    "statefulset",
    "leaderworkerset.x-k8s.io/leaderworkerset",
)


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
    """Kueue's whole Configuration (controller_manager_config.yaml): the chart's defaults
    (kubernetes-sigs/kueue charts/kueue/values.yaml) plus the device class mappings. Whole,
    because the chart writes ``managerConfig.controllerManagerConfigYaml`` as given."""
    return {
        "apiVersion": KUEUE_CONFIG_API,
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "integrations": {"frameworks": list(CHART_FRAMEWORKS)},
        "resources": {"deviceClassMappings": device_class_mappings()},
    }


def feature_gates(fleet: Fleet) -> list[Obj]:
    """The chart's ``controllerManager.featureGates``: Kueue's DRA gates as the fleet sets them."""
    return [{"name": gate, "enabled": fleet.dra.kueue_gate(gate)} for gate in KUEUE_GATES]


def helm_values(fleet: Fleet) -> Obj:
    """Values for the Kueue chart: its feature gates and the whole manager Configuration."""
    from gpukit.manifests.yaml import to_yaml

    return {
        "controllerManager": {"featureGates": feature_gates(fleet)},
        "managerConfig": {"controllerManagerConfigYaml": to_yaml(configuration())},
    }


def quota_note(pp: PlatformPlan) -> list[str]:
    """The Kueue file's header lines about DRA quotas."""
    if not pp.dra:
        return []
    return [
        f"  DRA claims (Kueue {KUEUE_DRA_SINCE}+, deviceClassMappings in {CONFIG_PATH}):",
        f"  {GPU_DEVICE_CLASS} devices count as {DRA_GPU_RESOURCE}, {MIG_DEVICE_CLASS} as {DRA_MIG_RESOURCE};",
        "  a claim counts its device count, a share claim 1 (quota: GPUs x shares on shared pools).",
    ]


def config_files(pp: PlatformPlan) -> list[PlatformFile]:
    """Kueue's Helm values with deviceClassMappings, for a DRA fleet whose workloads Kueue queues."""
    from gpukit.manifests.yaml import to_yaml
    from gpukit.platform.files import PlatformFile

    if not pp.dra or not pp.fleet.installed.kueue or not pp.cluster_queues:
        return []
    fleet = pp.fleet
    runs = fleet.version("kueue")
    purpose = [
        f"Kueue {KUEUE_DRA_SINCE}+ (its DRA integration, gate KueueDRAIntegration, is on from",
        "there) admits a workload whose ResourceClaimTemplates name a DeviceClass only if the",
        "class is mapped in resources.deviceClassMappings; the ClusterQueues' quotas use the",
        "mapped names. The chart writes managerConfig.controllerManagerConfigYaml whole into",
        "ConfigMap kueue-manager-config (controller_manager_config.yaml), so it is the whole",
        "Configuration: the chart's defaults plus the mappings (keep your own changes in it).",
        "controllerManager.featureGates becomes the manager's --feature-gates.",
    ]
    if runs is not None and runs < _version(KUEUE_DRA_SINCE):
        purpose.append(
            f"The fleet runs Kueue {fleet.versions['kueue']}: upgrade to {KUEUE_DRA_SINCE}+ "
            "first, older releases do not count DRA claims."
        )
    return [
        PlatformFile(
            CONFIG_PATH,
            "Kueue Helm values for DRA: the DeviceClasses its quotas count, its DRA gates.",
            tuple(purpose),
            (
                (
                    "helm upgrade --install kueue <kueue chart> "
                    f"-n kueue-system --create-namespace -f {CONFIG_PATH}"
                ),
                "without Helm: put managerConfig.controllerManagerConfigYaml into ConfigMap",
                "kueue-manager-config (key controller_manager_config.yaml), restart the manager",
            ),
            text=to_yaml(helm_values(fleet)),
        )
    ]
