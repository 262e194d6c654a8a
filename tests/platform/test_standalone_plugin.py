"""Pools served by a standalone NVIDIA device plugin: its chart values, the operator gates, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import gpukit as gk
from gpukit.platform import platform_plan, render_platform
from gpukit.platform.labels import label_plan
from gpukit.platform.standalone import standalone_values
from gpukit.validate import validate_objects

WORKLOADS = Path(__file__).resolve().parents[2] / "examples" / "workloads"
MPS_VALUES = "helm/nvidia-device-plugin-l4-mps-values.yaml"
GATES = {
    "nvidia.com/gpu.deploy.device-plugin": "false",
    "nvidia.com/gpu.deploy.gpu-feature-discovery": "false",
}

#: Every values key gpukit writes, each checked against NVIDIA/k8s-device-plugin
#: deployments/helm/nvidia-device-plugin: values.yaml (and values.schema.json), the DaemonSet
#: templates daemonset-device-plugin.yml / daemonset-gfd.yml / daemonset-mps-control-daemon.yml,
#: and Chart.yaml (nfd dependency condition "nfd.enabled,gfd.enabled").
VERIFIED_KEYS = {
    "config.map",  # values.yaml: named configs of an embedded ConfigMap
    "config.default",  # values.yaml: DEFAULT_CONFIG of the config-manager containers
    "gfd.enabled",  # values.yaml, daemonset-gfd.yml
    "nfd.enabled",  # Chart.yaml: condition of the node-feature-discovery dependency
    "mps.root",  # values.yaml, MPS_ROOT and hostPath in the plugin and MPS daemon
    "nvidiaDriverRoot",  # values.yaml, NVIDIA_DRIVER_ROOT and driver-root hostPath
    "runtimeClassName",  # values.yaml, pod spec of all three DaemonSets
    "nodeSelector",  # values.yaml, pod spec of all three DaemonSets
    "tolerations",  # values.yaml, pod spec of all three DaemonSets
}


def _keys(values: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted paths down to the chart's own keys (config.map's keys are config names)."""
    out = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in ("config.map", "nodeSelector"):
            out |= _keys(value, f"{path}.")
        else:
            out.add(path)
    return out


def _files(fleet: gk.Fleet, workloads=()):
    return {f.path: f for f in render_platform(fleet, list(workloads))}


def _pool(**fields: Any) -> dict[str, Any]:
    return {"gpu": "H100-80GB", "gpus_per_node": 8, "nodes": 1, **fields}


MIXED_MIG = _pool(name="mig", mig={"strategy": "mixed", "layout": {"1g.10gb": 2, "3g.40gb": 1}})


def _mps(**fields: Any) -> dict[str, Any]:
    return _pool(
        name="mps",
        gpu="L4",
        gpus_per_node=4,
        sharing={"mode": "mps", "replicas": 4, "config_name": "l4-mps"},
        **fields,
    )


# -- the default fleet --------------------------------------------------------------------


def test_default_fleet_renders_with_its_mps_pool_on_a_standalone_plugin():
    fleet = gk.default_fleet()
    assert fleet.pool("l4-mps").device_plugin == "standalone"
    files = _files(fleet, gk.load_workloads(WORKLOADS))
    paths = list(files)
    assert (
        paths.index("helm/gpu-operator-values.yaml")
        < paths.index(MPS_VALUES)
        < paths.index("scripts/label-nodes.sh")
    )
    assert yaml.safe_load(files["helm/gpu-operator-values.yaml"].content())["mig"] == {
        "strategy": "mixed"
    }
    objects = [o for f in files.values() for o in f.objects]
    assert [str(i) for i in validate_objects(objects)] == []


def test_standalone_values_have_exactly_the_verified_keys_and_the_pool_config():
    files = _files(gk.default_fleet())
    values = yaml.safe_load(files[MPS_VALUES].content())
    assert _keys(values) == VERIFIED_KEYS
    assert values["config"]["default"] == "l4-mps"
    (name,) = values["config"]["map"]
    assert name == "l4-mps"
    assert yaml.safe_load(values["config"]["map"][name]) == {
        "version": "v1",
        "flags": {"migStrategy": "none"},
        "sharing": {
            "mps": {
                "renameByDefault": False,
                "failRequestsGreaterThanOne": True,
                "resources": [{"name": "nvidia.com/gpu", "replicas": 4}],
            }
        },
    }
    assert values["gfd"] == {"enabled": True} and values["nfd"] == {"enabled": False}
    assert values["mps"] == {"root": "/run/nvidia/mps"}
    assert values["nvidiaDriverRoot"] == "/run/nvidia/driver"
    assert values["nodeSelector"] == {"nvidia.com/device-plugin.config": "l4-mps"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values[
        "tolerations"
    ]
    header = files[MPS_VALUES].content()
    assert (
        "# helm upgrade -i nvdp-l4-mps nvdp/nvidia-device-plugin -n nvidia-device-plugin "
        f"--create-namespace -f {MPS_VALUES}\n" in header.replace("#   ", "# ")
    )


def test_the_operator_configmap_leaves_the_standalone_config_out():
    files = _files(gk.default_fleet())
    (configmap,) = [
        o for o in files["manifests/10-gpu-operator-config.yaml"].objects if "default" in o["data"]
    ]
    assert set(configmap["data"]) == {"default", "l4-time-slicing"}


def test_standalone_nodes_carry_the_selector_label_and_the_operator_gates_off():
    fleet = gk.default_fleet()
    pp = platform_plan(fleet, [])
    labels = {e.pool: dict(e.labels) for e in label_plan(pp)}
    values = yaml.safe_load(_files(fleet)[MPS_VALUES].content())
    assert values["nodeSelector"].items() <= labels["l4-mps"].items()
    assert GATES.items() <= labels["l4-mps"].items()
    for pool in ("h100-mig", "l4-shared"):  # the operator still serves these
        assert not GATES.keys() & labels[pool].keys()
    (nodepool,) = [
        o
        for o in _files(fleet)["karpenter/nodepools.yaml"].objects
        if o["metadata"]["name"] == "gpukit-l4-mps"
    ]
    assert (GATES | values["nodeSelector"]).items() <= nodepool["spec"]["template"]["metadata"][
        "labels"
    ].items()


# -- other fleets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pools", "selector", "map_file"),
    [
        (
            [MIXED_MIG, _mps(labels={"pool": "mps"})],
            {"pool": "mps"},
            {"version": "v1", "flags": {"migStrategy": "none"}},
        ),
        (
            [
                _pool(name="mig", mig={"strategy": "mixed", "layout": {"3g.40gb": 2}}),
                _pool(name="whole", gpu="L4", device_plugin="standalone"),
            ],
            {"nvidia.com/device-plugin.config": "whole"},
            {"version": "v1", "flags": {"migStrategy": "none"}},
        ),
        (
            [
                _pool(
                    name="mig",
                    device_plugin="standalone",
                    mig={"strategy": "mixed", "layout": {"3g.40gb": 2}},
                )
            ],
            {"nvidia.com/device-plugin.config": "mig"},
            {"version": "v1", "flags": {"migStrategy": "mixed"}},
        ),
    ],
    ids=["pool-labels-select", "whole-gpus", "mig-pool-keeps-its-strategy"],
)
def test_standalone_pools_beyond_mps(pools, selector, map_file):
    pools = [p | {"device_plugin": "standalone"} if p["name"] == "mps" else p for p in pools]
    fleet = gk.Fleet(name="t", node_pools=pools)
    (spec,) = platform_plan(fleet, []).standalone
    values = yaml.safe_load(
        _files(fleet)[f"helm/nvidia-device-plugin-{spec.pool}-values.yaml"].content()
    )
    assert values["nodeSelector"] == selector
    (text,) = values["config"]["map"].values()
    loaded = yaml.safe_load(text)
    assert {k: loaded[k] for k in ("version", "flags")} == map_file
    assert ("mps" in values) is (spec.config is not None and spec.config.mode == "mps")


def test_no_driver_root_when_the_operator_does_not_install_the_driver():
    pp = platform_plan(gk.default_fleet(), [])
    (spec,) = pp.standalone
    assert "nvidiaDriverRoot" not in standalone_values(pp, spec, driver_managed=False)
    assert standalone_values(pp, spec, driver_managed=True)["nvidiaDriverRoot"] == (
        "/run/nvidia/driver"
    )


@pytest.mark.parametrize(
    ("pools", "installed", "match"),
    [
        (
            [MIXED_MIG, _mps()],
            {},
            (
                r"^MPS pool\(s\) mps cannot run beside mixed-strategy MIG pool\(s\) mig[^\n]*; "
                r"set `device_plugin: standalone` on the MPS pool\(s\)[^\n]*$"
            ),
        ),
        (
            [
                _mps(device_plugin="standalone"),
                _pool(
                    name="ts",
                    gpu="L4",
                    sharing={"mode": "mps", "replicas": 4, "config_name": "l4-mps"},
                ),
            ],
            {},
            (
                r"^pool 'mps' runs a standalone device plugin, but its device-plugin config name "
                r"'l4-mps' is also used by pool\(s\) ts; give 'mps' a sharing.config_name of its own$"
            ),
        ),
    ],
    ids=["mps-beside-mixed-mig-on-the-operator", "shared-config-name"],
)
def test_fleets_a_standalone_plugin_cannot_fix_are_refused_in_one_line(pools, installed, match):
    fleet = gk.Fleet(name="bad", node_pools=pools, installed=installed)
    with pytest.raises(gk.FleetError, match=match):
        render_platform(fleet, [])


def test_on_a_dra_fleet_no_device_plugin_runs_and_standalone_is_warned_about():
    fleet = gk.Fleet(
        name="dra",
        node_pools=[MIXED_MIG, _mps(device_plugin="standalone")],
        installed={"dra": True},
    )
    pp = platform_plan(fleet, [])
    assert pp.standalone == () and pp.device_plugin == ()
    assert any(
        w.startswith("pool(s) mps: device_plugin standalone is ignored") for w in pp.warnings
    )
    assert not [f for f in render_platform(fleet, []) if "nvidia-device-plugin" in f.path]
    assert all(not GATES.keys() & dict(e.labels).keys() for e in label_plan(pp))
