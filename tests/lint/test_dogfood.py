"""gpukit's own rendered manifests pass its own lint, on every example fleet and the default.

Lint and the planner read the same facts: what the planner chose (a team-less CI job on the
default scheduler, a single-strategy MIG slice requested as nvidia.com/gpu) is not a finding
at warning level or above when linted with the fleet it was planned on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gpukit
from gpukit.cli import main
from gpukit.fleet import default_fleet, load_fleet
from gpukit.lint import at_or_above, lint
from gpukit.workload import load_workloads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FLEETS = ["default", *sorted(p.stem for p in (EXAMPLES / "fleets").glob("*.yaml"))]


def _fleet(name: str) -> gpukit.Fleet:
    return default_fleet() if name == "default" else load_fleet(EXAMPLES / "fleets" / f"{name}.yaml")


def _workloads() -> list[gpukit.Workload]:
    return load_workloads(EXAMPLES / "workloads")


def _rendered(fleet: gpukit.Fleet) -> list[dict]:
    objects = []
    for w in _workloads():
        try:
            plan = gpukit.plan(w, fleet)
        except gpukit.GpukitError:
            continue  # a workload this fleet cannot run renders nothing to lint
        objects.extend(gpukit.render(plan))
    return objects


def test_every_example_fleet_is_checked():
    assert len(FLEETS) >= 5 and "default" in FLEETS


@pytest.mark.parametrize("name", FLEETS)
def test_rendered_examples_lint_clean_on_the_fleet_they_were_planned_on(name: str) -> None:
    fleet = _fleet(name)
    objects = _rendered(fleet)
    assert objects, f"fleet {name} plans none of the example workloads"
    findings = lint(objects, fleet=fleet, workloads=_workloads())
    assert [(f.rule, f.name, f.message) for f in at_or_above(findings, "warning")] == []


@pytest.mark.parametrize("rule", ["GPU007", "GPU010", "GPU014", "GPU015"])
def test_rendered_manifests_do_not_trip_rules_the_advisor_encodes(rule: str) -> None:
    objects = _rendered(default_fleet())
    assert rule not in {f.rule for f in lint(objects, fleet=default_fleet(), workloads=_workloads())}


def test_cli_lint_with_no_fleet_reads_the_fleet_plan_used(tmp_path: Path, capsys) -> None:
    # `gpukit render` with no --fleet plans on the default fleet; `gpukit lint` with no
    # --fleet must know that fleet's LocalQueues (team-vision, team-nlp) and agree with the
    # planner that a CI job of no team runs on the default scheduler.
    for i, obj in enumerate(_rendered(default_fleet())):
        folder = tmp_path / "out" / obj["metadata"]["name"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:02d}.yaml").write_text(gpukit.to_yaml([obj]))
    try:
        main(["lint", str(tmp_path / "out"), "--output", "json", "--fail-on", "warning"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 0, findings
    assert {f["rule"] for f in findings} <= {"GPU016"}
    assert all(f["severity"] == "info" for f in findings)
