"""NVIDIA GPU Operator: its Helm values and the ConfigMaps it reads (device plugin, mig-parted)."""

from __future__ import annotations

from typing import Any

from gpukit.manifests.yaml import to_yaml
from gpukit.platform.mig import mig_parted_configmap
from gpukit.platform.model import PlatformPlan
from gpukit.vocab import managed_by

__all__ = [
    "DEFAULT_DEVICE_PLUGIN_CONFIG",
    "device_plugin_configmap",
    "helm_values",
    "operator_configmaps",
]

#: Key of the device-plugin config nodes without a ``nvidia.com/device-plugin.config``
#: label get: whole GPUs, no sharing. The operator does not fall back to another key.
DEFAULT_DEVICE_PLUGIN_CONFIG = "default"


def device_plugin_configmap(pp: PlatformPlan) -> dict[str, Any] | None:
    """One named config per sharing set-up the fleet's pools use, plus the plain default."""
    if not pp.device_plugin:
        return None
    data = {DEFAULT_DEVICE_PLUGIN_CONFIG: to_yaml({"version": "v1"})}
    for config in pp.device_plugin:
        data[config.name] = to_yaml(config.spec())
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": pp.options.device_plugin_configmap,
            "namespace": pp.options.operator_namespace,
            "labels": managed_by(),
        },
        "data": data,
    }


def operator_configmaps(pp: PlatformPlan) -> list[dict[str, Any]]:
    """The ConfigMaps the operator's Helm values point at; they must exist before install."""
    objects = []
    device_plugin = device_plugin_configmap(pp)
    if device_plugin is not None:
        objects.append(device_plugin)
    mig = mig_parted_configmap(pp.fleet, pp.options.mig_configmap, pp.options.operator_namespace)
    if mig is not None:
        mig["metadata"]["labels"] = managed_by()
        objects.append(mig)
    return objects


def helm_values(pp: PlatformPlan) -> dict[str, Any]:
    """Values for the ``gpu-operator`` Helm chart.

    Driver and toolkit from the operator; the device plugin reads gpukit's named sharing
    configs (unless DRA allocates the GPUs, then it is off); DCGM exporter on with a
    Prometheus ServiceMonitor (GPU metrics are how sharing gets tuned); one MIG strategy
    and the MIG manager reading gpukit's mig-parted ConfigMap.
    """
    options = pp.options
    values: dict[str, Any] = {
        "driver": {"enabled": True},
        "toolkit": {"enabled": True},
    }
    if pp.dra:
        # The NVIDIA DRA driver allocates GPUs through ResourceClaims; two allocators on one
        # node would hand out the same GPU twice.
        values["devicePlugin"] = {"enabled": False}
    else:
        plugin: dict[str, Any] = {"enabled": True}
        if pp.device_plugin:
            plugin["config"] = {
                "name": options.device_plugin_configmap,
                "default": DEFAULT_DEVICE_PLUGIN_CONFIG,
            }
        values["devicePlugin"] = plugin
    values["dcgmExporter"] = {
        "enabled": True,
        "serviceMonitor": {"enabled": True, "interval": "15s"},
    }
    values["mig"] = {"strategy": pp.mig_strategy}
    if pp.dra and pp.fleet.dra.gate("DynamicMIG"):
        # The DRA driver creates and deletes MIG devices per claim (dynamic MIG): a MIG manager
        # applying a fixed layout would undo them (gpukit.dra.settings).
        values["migManager"] = {"enabled": False}
    elif pp.mig_configs:
        values["migManager"] = {
            "enabled": True,
            "config": {"name": options.mig_configmap, "default": "all-disabled"},
        }
    else:
        values["migManager"] = {"enabled": True}  # keeps MIG-capable GPUs at all-disabled
    return values
