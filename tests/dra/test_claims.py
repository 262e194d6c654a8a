"""DRA claims share as planned: the sharing count, capacity, fallback order and gates per case."""

from __future__ import annotations

from typing import Any

import pytest

import gpukit as gk
from gpukit.dra.claims import claim_mode, fallbacks, gpus_shared_by
from gpukit.quantity import MIB
from gpukit.validate import validate_objects

CONSUMABLE = {"feature_gates": {"ConsumableShares": True}, "consumable_shares": 4}
NOTEBOOK = {"kind": "interactive", "isolation": "none", "namespace": "team-vision"}
MIG_SERVE = {"kind": "inference", "gpu_memory": "6Gi", "isolation": "strict", "replicas": 3}
COST_SERVE = {"kind": "inference", "replicas": 3, "gpu_memory": "4Gi", "priority": "cost"}
MPS_SERVE = {
    "kind": "inference",
    "gpu_memory": "3Gi",
    "isolation": "process",
    "priority": "throughput",
    "replicas": 2,
}


def _claims(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["apiVersion"] == "resource.k8s.io/v1"]


def _devices(claim: dict[str, Any]) -> dict[str, Any]:
    spec = claim["spec"]
    return spec["spec"]["devices"] if claim["kind"] == "ResourceClaimTemplate" else spec["devices"]


def _pods_per_claim(objects: list[dict[str, Any]]) -> dict[str, int]:
    """How many running pods reference each ResourceClaim (by name), read from the objects."""
    count: dict[str, int] = {}
    for obj in objects:
        if obj["kind"] == "Pod":
            pods, spec = 1, obj["spec"]
        elif obj["kind"] == "Deployment":
            pods, spec = obj["spec"]["replicas"], obj["spec"]["template"]["spec"]
        else:
            continue
        for ref in spec.get("resourceClaims", []):
            if "resourceClaimName" in ref:
                count[ref["resourceClaimName"]] = count.get(ref["resourceClaimName"], 0) + pods
    return count


@pytest.mark.parametrize(
    ("fleet_name", "settings", "workload", "mode", "kind", "shared_by"),
    [
        # consumable shares: each pod a template asking for 1 of the GPU's 4 shares
        ("dra", CONSUMABLE, NOTEBOOK, "capacity", "ResourceClaimTemplate", 4),
        # no consumable shares: one claim, its pods (here one) alone on a whole GPU
        ("dra", {}, NOTEBOOK, "shared", "ResourceClaim", 1),
        ("dra", {}, {**NOTEBOOK, **COST_SERVE}, "shared", "ResourceClaim", 3),
        # MPS cannot use consumable capacity: always one claim the replicas share
        ("default", CONSUMABLE, MPS_SERVE, "shared", "ResourceClaim", 2),
        # MIG devices and whole GPUs: a device per claim
        ("dra", CONSUMABLE, MIG_SERVE, "template", "ResourceClaimTemplate", 1),
    ],
)
def test_sharing_count_is_what_the_cluster_gives(
    dra_fleet, fleet_name, settings, workload, mode, kind, shared_by
):
    p = gk.plan(gk.Workload(name="w", **workload), dra_fleet(fleet_name, **settings))
    assert claim_mode(p.choice, p.fleet) == mode
    assert gpus_shared_by(p) == shared_by
    objects = gk.render(p)
    (claim,) = _claims(objects)
    assert claim["kind"] == kind
    if kind == "ResourceClaim":
        # the pods that share: exactly the plan's pods reference the one claim
        assert _pods_per_claim(objects) == {claim["metadata"]["name"]: p.pods}
    else:
        assert _pods_per_claim(objects) == {}
    assert validate_objects(objects) == []


def test_consumable_share_asks_for_its_fraction_and_a_whole_gpu_for_all(dra_fleet):
    f = dra_fleet(**CONSUMABLE)
    share = gk.plan(gk.Workload(name="nb", **NOTEBOOK), f)
    (request,) = _devices(_claims(gk.render(share))[0])["requests"]
    assert request["exactly"]["capacity"] == {"requests": {"shares": "1"}}
    whole = gk.plan(gk.Workload(name="t", kind="training", gpus=8, team="team-nlp"), f)
    (request,) = _devices(_claims(gk.render(whole))[0])["requests"]
    # all 4 shares of each of its 8 GPUs: no share claim lands beside a dedicated one
    assert request["exactly"]["count"] == 8
    assert request["exactly"]["capacity"] == {"requests": {"shares": "4"}}


def test_memory_shares_ask_for_the_plans_memory(dra_fleet):
    f = dra_fleet(feature_gates={"ConsumableShares": True}, consumable_shares="memory")
    p = gk.plan(gk.Workload(name="nb", **NOTEBOOK), f)
    (request,) = _devices(_claims(gk.render(p))[0])["requests"]
    asked = p.choice.memory_bytes // MIB
    assert request["exactly"]["capacity"] == {"requests": {"memory": f"{asked}Mi"}}
    assert gpus_shared_by(p) == gk.get_gpu(p.choice.gpu_model).memory_bytes // (asked * MIB)


@pytest.mark.parametrize(("gate", "configured"), [(False, False), (True, True)])
def test_time_slicing_config_only_where_the_gate_allows_it(dra_fleet, gate, configured):
    f = dra_fleet(feature_gates={"TimeSlicingSettings": gate})
    claim = _claims(gk.render(gk.plan(gk.Workload(name="nb", **NOTEBOOK), f)))[0]
    config = _devices(claim).get("config", [])
    assert bool(config) is configured
    if configured:
        assert config[0]["opaque"]["parameters"]["sharing"]["strategy"] == "TimeSlicing"


def test_prioritized_list_follows_gpukits_ranking(dra_fleet):
    p = gk.plan(gk.Workload(name="serve", **MIG_SERVE), dra_fleet(**CONSUMABLE))
    assert p.scheduler != "kueue"
    ranked = [o.mig_profile for o in [p.choice, *p.alternatives] if o.pool == p.choice.pool]
    (request,) = _devices(_claims(gk.render(p))[0])["requests"]
    subrequests = request["firstAvailable"]
    assert [s["name"] for s in subrequests] == [f"mig-{m}".replace(".", "-") for m in ranked]
    for sub, profile in zip(subrequests, ranked, strict=True):
        assert sub["deviceClassName"] == "mig.nvidia.com"
        assert sub["selectors"][0]["cel"]["expression"].endswith(f"profile == '{profile}'")
    assert [o.mig_profile for o in fallbacks(p)] == ranked


@pytest.mark.parametrize("gate", [False, True])
def test_kueue_gets_a_prioritized_list_only_with_its_gate(dra_fleet, gate):
    settings = {**CONSUMABLE, "kueue_feature_gates": {"KueueDRAIntegrationPrioritizedList": gate}}
    w = gk.Workload(
        name="emb", kind="batch-inference", gpu_memory="6Gi", isolation="strict", team="team-nlp"
    )
    p = gk.plan(w, dra_fleet(**settings))
    assert p.scheduler == "kueue" and p.sharing == "mig"
    (request,) = _devices(_claims(gk.render(p))[0])["requests"]
    assert ("firstAvailable" in request) is gate
    codes = [r.code for r in p.warnings]
    assert ("DRA_NO_FALLBACK_LIST" in codes) is not gate


@pytest.mark.parametrize(
    ("fleet_name", "settings", "workload", "gate_warned"),
    [
        ("default", {}, MPS_SERVE, "MPSSupport"),
        ("default", {"feature_gates": {"MPSSupport": True}}, MPS_SERVE, None),
        ("dra", {}, NOTEBOOK, None),  # default time-slice: no gate needed
        ("dra", CONSUMABLE, NOTEBOOK, None),
    ],
)
def test_a_plan_says_which_gate_it_needs_off(
    dra_fleet, fleet_name, settings, workload, gate_warned
):
    p = gk.plan(gk.Workload(name="w", **workload), dra_fleet(fleet_name, **settings))
    gates = [r for r in p.warnings if r.code == "DRA_GATE_OFF"]
    if gate_warned is None:
        assert gates == []
    else:
        (warning,) = gates
        assert f"dra.feature_gates.{gate_warned}: true" in warning.message


def test_shared_claim_says_its_gpu_is_not_shared_with_other_workloads(dra_fleet):
    p = gk.plan(gk.Workload(name="nb", **NOTEBOOK), dra_fleet())
    (warning,) = [r for r in p.warnings if r.code == "DRA_SHARED_CLAIM_ONLY"]
    assert "dra.consumable_shares" in warning.message
    consumable = gk.plan(gk.Workload(name="nb", **NOTEBOOK), dra_fleet(**CONSUMABLE))
    assert "DRA_SHARED_CLAIM_ONLY" not in [r.code for r in consumable.warnings]


def test_dynamic_mig_reports_fragmentation_risk(dra_fleet):
    p = gk.plan(gk.Workload(name="s", **MIG_SERVE), dra_fleet(feature_gates={"DynamicMIG": True}))
    assert "DRA_DYNAMIC_MIG" in [r.code for r in p.warnings]
    off = gk.plan(gk.Workload(name="s", **MIG_SERVE), dra_fleet())
    assert "DRA_DYNAMIC_MIG" not in [r.code for r in off.warnings]


def test_no_dra_warnings_off_dra(fleet):
    p = gk.plan(gk.Workload(name="nb", **NOTEBOOK), fleet("default"))
    assert not [r for r in p.warnings if r.code.startswith("DRA_")]


@pytest.mark.parametrize(
    "settings",
    [{}, CONSUMABLE, {"feature_gates": {"ConsumableShares": True}, "consumable_shares": "memory"}],
    ids=["shared-claims", "shares", "memory"],
)
def test_every_example_workload_renders_valid_claims_on_the_dra_fleet(dra_fleet, settings):
    f = dra_fleet(**settings)
    for w in gk.load_workloads(gk.__path__[0] + "/../examples/workloads"):
        objects = gk.render(gk.plan(w, f))
        assert _claims(objects), w.name
        assert validate_objects(objects) == [], w.name


def test_a_time_sliced_mig_slice_is_one_shared_claim_even_with_consumable_shares(dra_fleet):
    f = dra_fleet(**CONSUMABLE)
    p = gk.plan(gk.Workload(name="nb", **NOTEBOOK), f)
    assert claim_mode(p.choice, f) == "capacity"
    slice_share = p.choice.model_copy(update={"mig_profile": "1g.10gb"})
    assert claim_mode(slice_share, f) == "shared"
