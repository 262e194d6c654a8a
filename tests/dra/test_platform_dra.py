"""The platform side of DRA: the driver's Helm values carry the gates the plans need; Kueue's
deviceClassMappings map every class the claims use, and quotas count the mapped names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import gpukit as gk
from gpukit.dra.kueue import DRA_GPU_RESOURCE, DRA_MIG_RESOURCE, pool_devices
from gpukit.platform import platform_plan, render_platform
from gpukit.validate import validate_objects

WORKLOADS = Path(__file__).parents[2] / "examples" / "workloads"
MPS = gk.Workload(
    name="mps-serve",
    kind="inference",
    gpu_memory="3Gi",
    isolation="process",
    priority="throughput",
    replicas=2,
)


def _files(f: gk.Fleet, workloads=None):
    ws = gk.load_workloads(WORKLOADS) if workloads is None else workloads
    return {file.path: file for file in render_platform(f, ws)}


def _body(file) -> list[dict]:
    return [d for d in yaml.safe_load_all(file.content()) if d]


def _kueue_config(files) -> dict:
    """The Configuration the Kueue chart writes into ConfigMap kueue-manager-config."""
    (values,) = _body(files["helm/kueue-values.yaml"])
    return yaml.safe_load(values["managerConfig"]["controllerManagerConfigYaml"])


def test_kueue_values_carry_the_whole_manager_configuration(fleet):
    files = _files(fleet("dra"))
    (values,) = _body(files["helm/kueue-values.yaml"])
    assert set(values) == {"controllerManager", "managerConfig"}
    config = _kueue_config(files)
    assert config["kind"] == "Configuration"
    # the chart writes the string whole: the defaults it would otherwise have stay in it
    assert config["leaderElection"] == {
        "leaderElect": True,
        "resourceName": "c1f6bfd2.kueue.x-k8s.io",
    }
    assert config["health"] == {"healthProbeBindAddress": ":8081"}
    frameworks = config["integrations"]["frameworks"]
    for framework in (
        "batch/job",
        "jobset.x-k8s.io/jobset",
        "leaderworkerset.x-k8s.io/leaderworkerset",
    ):
        assert framework in frameworks
    assert "Kueue 0.18+" in files["helm/kueue-values.yaml"].content()


@pytest.mark.parametrize("gate", [False, True])
def test_kueue_feature_gates_follow_the_fleet(dra_fleet, gate):
    settings = {"kueue_feature_gates": {"KueueDRAIntegrationPrioritizedList": gate}}
    (values,) = _body(_files(dra_fleet(**settings))["helm/kueue-values.yaml"])
    assert values["controllerManager"]["featureGates"] == [
        {"name": "KueueDRAIntegration", "enabled": True},
        {"name": "KueueDRAIntegrationPrioritizedList", "enabled": gate},
    ]


@pytest.mark.parametrize(("runs", "told"), [("0.17", True), ("0.18", False), (None, False)])
def test_an_older_kueue_is_told_to_upgrade(fleet, runs, told):
    data = fleet("dra").model_dump()
    data["versions"] = {} if runs is None else {"kueue": runs}
    content = _files(gk.Fleet.model_validate(data))["helm/kueue-values.yaml"].content()
    assert ("upgrade to 0.18+" in content) is told


def test_driver_values_turn_on_the_gates_the_plans_need(dra_fleet):
    f = dra_fleet("default")  # no gates set: MPS needs MPSSupport
    files = _files(f, [MPS])
    values = files["helm/nvidia-dra-driver-values.yaml"]
    (body,) = _body(values)
    assert body["featureGates"] == {"MPSSupport": True}
    assert "MPSSupport: needed by mps-serve" in values.content()
    assert body["resources"] == {"gpus": {"enabled": True}}


def test_driver_values_keep_the_fleets_gates_and_shares(fleet):
    (body,) = _body(_files(fleet("dra"))["helm/nvidia-dra-driver-values.yaml"])
    assert body["featureGates"] == {"MPSSupport": True, "ConsumableShares": True}
    assert body["consumableShares"] == 4


def test_a_gate_the_driver_refuses_beside_another_stays_off(dra_fleet):
    f = dra_fleet("default", feature_gates={"DynamicMIG": True})
    (body,) = _body(_files(f, [MPS])["helm/nvidia-dra-driver-values.yaml"])
    assert body["featureGates"] == {"DynamicMIG": True}  # MPSSupport would stop the driver
    assert "DRA_GATE_OFF" in [r.code for r in gk.plan(MPS, f).warnings]


def test_no_dra_files_off_dra(fleet):
    paths = set(_files(fleet("no-volcano")))
    assert "helm/nvidia-dra-driver-values.yaml" not in paths
    assert "helm/kueue-values.yaml" not in paths


def test_kueue_maps_every_device_class_the_queued_claims_use(fleet):
    f = fleet("dra")
    files = _files(f)
    config = _kueue_config(files)
    assert config["apiVersion"] == "config.kueue.x-k8s.io/v1beta2"
    mappings = {
        c: m["name"]
        for m in config["resources"]["deviceClassMappings"]
        for c in m["deviceClassNames"]
    }
    cqs = [d for d in _body(files["manifests/30-kueue.yaml"]) if d["kind"] == "ClusterQueue"]
    queued = [
        p for p in (gk.plan(w, f) for w in gk.load_workloads(WORKLOADS)) if p.scheduler == "kueue"
    ]
    assert queued
    for p in queued:
        for claim in (o for o in gk.render(p) if o["kind"] == "ResourceClaimTemplate"):
            for request in claim["spec"]["spec"]["devices"]["requests"]:
                for sub in request.get("firstAvailable", [request.get("exactly")]):
                    resource = mappings[sub["deviceClassName"]]  # unmapped: inadmissible
                    for cq in cqs:
                        assert resource in cq["spec"]["resourceGroups"][0]["coveredResources"]


def test_quotas_on_mapped_names_add_up_to_the_pools_devices(fleet):
    f = fleet("dra")
    files = _files(f)
    docs = _body(files["manifests/30-kueue.yaml"])
    assert validate_objects(docs) == []
    totals: dict[tuple[str, str], int] = {}
    for cq in (d for d in docs if d["kind"] == "ClusterQueue"):
        for flavor in cq["spec"]["resourceGroups"][0]["flavors"]:
            for r in flavor["resources"]:
                key = (flavor["name"], r["name"])
                totals[key] = totals.get(key, 0) + int(
                    gk.quantity.parse_quantity(r["nominalQuota"])
                )
    expected = {
        "h100-mig": {DRA_MIG_RESOURCE: 2 * 8 * 4},  # 4 MIG devices per GPU in the layout
        "h100": {DRA_GPU_RESOURCE: 4 * 8},
        "l40s-shared": {DRA_GPU_RESOURCE: 2 * 4 * 4},  # 4 consumable shares per GPU
    }
    for pool in f.node_pools:
        assert pool_devices(pool, f) == expected[pool.name]
        for resource, amount in expected[pool.name].items():
            assert totals[(pool.name, resource)] == amount
    assert "GPU quota is NOT enforced" not in files["manifests/30-kueue.yaml"].content()
    assert not any("not enforced" in w for w in platform_plan(f, []).warnings)


@pytest.mark.parametrize("on", [True, False])
def test_kueue_without_its_dra_integration_says_quota_is_not_enforced(dra_fleet, fleet, on):
    settings = fleet("dra").dra.model_dump()
    settings["kueue_feature_gates"] = {"KueueDRAIntegration": on}
    pp = platform_plan(dra_fleet(**settings), gk.load_workloads(WORKLOADS))
    assert any(w.startswith("GPU quota is not enforced by Kueue") for w in pp.warnings) is not on


def test_dynamic_mig_sets_no_layout_ahead_and_stops_the_mig_manager(dra_fleet, fleet):
    settings = fleet("dra").dra.model_dump()
    settings["feature_gates"] = {"ConsumableShares": True, "DynamicMIG": True}
    f = dra_fleet(**settings)
    files = _files(f)
    assert platform_plan(f, []).mig_configs == {}
    (values,) = _body(files["helm/gpu-operator-values.yaml"])
    assert values["migManager"] == {"enabled": False}
    # with a fixed layout (no DynamicMIG) the MIG manager applies gpukit's mig-parted config
    (fixed,) = _body(_files(fleet("dra"))["helm/gpu-operator-values.yaml"])
    assert fixed["migManager"]["enabled"] is True
