"""Volcano and KAI get DRA work only from the releases that handle ResourceClaims (1.12, 0.13)."""

from __future__ import annotations

from typing import Any

import pytest

import gpukit as gk
from gpukit.dra.schedulers import DRA_SCHEDULERS, schedules_dra

GANG = {"kind": "training", "workers": 2, "gpus": 8, "team": "team-research"}
CONSUMABLE = {"feature_gates": {"ConsumableShares": True}, "consumable_shares": 4}
MIG_SERVE = {"kind": "inference", "gpu_memory": "6Gi", "isolation": "strict", "replicas": 3}
NOTEBOOK = {"kind": "interactive", "isolation": "none", "namespace": "team-vision"}


def _fleet(*, dra: bool = True, settings: dict[str, Any] | None = None, **extra: Any) -> gk.Fleet:
    """The DRA example fleet with Volcano/KAI installed and their versions as given."""
    data = gk.load_fleet("examples/fleets/dra.yaml").model_dump()
    data["installed"].update(extra.pop("installed", {}), dra=dra)
    data["versions"] = extra.pop("versions", {})
    if settings is not None:
        data["dra"] = settings
    return gk.Fleet.model_validate(data)


def _codes(plan: gk.Plan, prefix: str = "DRA_SCHEDULER") -> list[str]:
    return [r.code for r in plan.warnings if r.code.startswith(prefix)]


@pytest.mark.parametrize(
    ("installed", "versions", "scheduler", "codes"),
    [
        # Volcano: a DRA plugin on the beta/v1 API from 1.12, on by default from 1.15
        ({"volcano": True}, {}, "volcano", []),
        ({"volcano": True}, {"volcano": "1.11"}, "kueue", ["DRA_SCHEDULER_UNSUPPORTED"]),
        ({"volcano": True}, {"volcano": "1.12"}, "volcano", ["DRA_SCHEDULER_LIMIT"]),
        ({"volcano": True}, {"volcano": "1.14.2"}, "volcano", ["DRA_SCHEDULER_LIMIT"]),
        ({"volcano": True}, {"volcano": "1.15"}, "volcano", []),
        # KAI: DRA GPU claims counted in its queues from 0.13
        ({"kai": True}, {}, "kai", []),
        ({"kai": True}, {"kai": "0.12"}, "kueue", ["DRA_SCHEDULER_UNSUPPORTED"]),
        ({"kai": True}, {"kai": "0.13"}, "kai", []),
        ({"kai": True}, {"kai": "0.17"}, "kai", []),
        # both too old: Kueue (the example fleet's queue) gangs instead, each says why
        (
            {"kai": True, "volcano": True},
            {"kai": "0.10", "volcano": "1.10"},
            "kueue",
            ["DRA_SCHEDULER_UNSUPPORTED", "DRA_SCHEDULER_UNSUPPORTED"],
        ),
    ],
)
def test_gang_goes_to_a_scheduler_that_handles_claims(installed, versions, scheduler, codes):
    p = gk.plan(gk.Workload(name="ddp", **GANG), _fleet(installed=installed, versions=versions))
    assert p.scheduler == scheduler
    assert _codes(p) == codes


def test_unsupported_warning_names_the_version_and_the_fix():
    p = gk.plan(
        gk.Workload(name="ddp", **GANG),
        _fleet(installed={"volcano": True}, versions={"volcano": "1.11"}),
    )
    (warning,) = [r for r in p.warnings if r.code == "DRA_SCHEDULER_UNSUPPORTED"]
    assert "Volcano 1.11" in warning.message and "goes to Kueue" in warning.message
    assert "upgrade Volcano to 1.12+ and set versions.volcano" in warning.message


def test_volcano_before_115_says_how_to_turn_dra_on():
    p = gk.plan(
        gk.Workload(name="ddp", **GANG),
        _fleet(installed={"volcano": True}, versions={"volcano": "1.13"}),
    )
    (warning,) = [r for r in p.warnings if r.code == "DRA_SCHEDULER_LIMIT"]
    assert "predicate.DynamicResourceAllocationEnable: true" in warning.message
    assert "--feature-gates=DynamicResourceAllocation=true" in warning.message


def test_old_kai_is_skipped_for_single_pods_too():
    fleet = _fleet(installed={"kai": True}, versions={"kai": "0.12"})
    p = gk.plan(gk.Workload(name="nb", **NOTEBOOK), fleet)
    assert p.scheduler != "kai"
    assert _codes(p) == ["DRA_SCHEDULER_UNSUPPORTED"]
    assert all("schedulerName: kai" not in gk.to_yaml(o) for o in gk.render(p))


def test_old_volcano_is_not_mentioned_for_single_pods():
    fleet = _fleet(installed={"volcano": True}, versions={"volcano": "1.11"})
    p = gk.plan(gk.Workload(name="nb", **NOTEBOOK), fleet)
    assert _codes(p) == []


@pytest.mark.parametrize(
    ("workload", "settings", "what"),
    [
        (NOTEBOOK, {}, "a shared ResourceClaim"),  # no consumable shares: one shared claim
        (MIG_SERVE, CONSUMABLE, "a firstAvailable list"),  # ranked MIG slices
        (NOTEBOOK, CONSUMABLE, None),  # a template per pod, one device: counted
    ],
)
def test_kai_says_which_claims_its_quota_does_not_count(workload, settings, what):
    fleet = _fleet(installed={"kai": True}, versions={"kai": "0.13"}, settings=settings)
    p = gk.plan(gk.Workload(name="w", **workload), fleet)
    assert p.scheduler == "kai"
    limits = [r for r in p.warnings if r.code == "DRA_SCHEDULER_LIMIT"]
    if what is None:
        assert limits == []
    else:
        (warning,) = limits
        assert what in warning.message and "queue quota" in warning.message


def test_off_dra_the_versions_do_not_matter():
    fleet = _fleet(dra=False, installed={"volcano": True}, versions={"volcano": "1.11"})
    assert schedules_dra(fleet, "volcano")
    p = gk.plan(gk.Workload(name="ddp", **GANG), fleet)
    assert p.scheduler == "volcano" and _codes(p) == [] and _codes(p, "DRA_") == []


def test_every_fact_has_a_version_and_a_source():
    for support in DRA_SCHEDULERS.values():
        assert support.since <= support.on_by_default
        assert support.source and support.lacks
