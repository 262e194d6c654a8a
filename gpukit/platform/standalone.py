"""Standalone NVIDIA device plugin: Helm values of the nvdp/nvidia-device-plugin chart per pool."""

from __future__ import annotations

from typing import Any

from gpukit.fleet import NodePool
from gpukit.manifests.yaml import to_yaml
from gpukit.platform.model import PlatformPlan, StandalonePlugin

__all__ = [
    "CHART",
    "NAMESPACE",
    "OPERATOR_DRIVER_ROOT",
    "release_name",
    "standalone_values",
    "values_path",
]

CHART = "nvdp/nvidia-device-plugin"
NAMESPACE = "nvidia-device-plugin"
#: Where the GPU Operator's driver container puts the driver on the host.
OPERATOR_DRIVER_ROOT = "/run/nvidia/driver"
#: Host folder of the MPS pipes, logs and shm (the chart's and the operator's default).
MPS_ROOT = "/run/nvidia/mps"
#: The RuntimeClass the GPU Operator's container toolkit installs.
RUNTIME_CLASS = "nvidia"


def release_name(plugin: StandalonePlugin) -> str:
    return f"nvdp-{plugin.pool}"


def values_path(plugin: StandalonePlugin) -> str:
    return f"helm/nvidia-device-plugin-{plugin.pool}-values.yaml"


def _tolerations(pool: NodePool) -> list[dict[str, Any]]:
    # Setting tolerations replaces the chart's list: keep its CriticalAddonsOnly entry and
    # tolerate whatever taints the pool's nodes carry.
    out: list[dict[str, Any]] = [{"key": "CriticalAddonsOnly", "operator": "Exists"}]
    out += [{"key": t.key, "operator": "Exists", "effect": t.effect} for t in pool.taints]
    return out


def standalone_values(
    pp: PlatformPlan, plugin: StandalonePlugin, driver_managed: bool
) -> dict[str, Any]:
    """Values for one pool's release of the standalone chart.

    Only keys the chart's values.yaml and templates define: ``config`` (an embedded ConfigMap
    with this pool's one config, also the default), ``gfd.enabled`` (the operator's GFD is off
    on these nodes, and GFD writes the mps.capable label the MPS daemon's DaemonSet selects
    on), ``nfd.enabled: false`` (the operator already runs Node Feature Discovery; the chart
    would otherwise install a second one with GFD), ``mps.root``, ``nodeSelector`` and
    ``tolerations`` (used by all three DaemonSets), ``runtimeClassName`` and
    ``nvidiaDriverRoot`` (the driver the operator installed, when it installs one).
    """
    pool = pp.fleet.pool(plugin.pool)
    values: dict[str, Any] = {
        "config": {
            "map": {plugin.config_name: to_yaml(plugin.config_file())},
            "default": plugin.config_name,
        },
        "gfd": {"enabled": True},
        "nfd": {"enabled": False},
    }
    if plugin.config is not None and plugin.config.mode == "mps":
        values["mps"] = {"root": MPS_ROOT}
    if driver_managed:
        values["nvidiaDriverRoot"] = OPERATOR_DRIVER_ROOT
    values["runtimeClassName"] = RUNTIME_CLASS
    values["nodeSelector"] = dict(plugin.selector)
    values["tolerations"] = _tolerations(pool)
    return values
