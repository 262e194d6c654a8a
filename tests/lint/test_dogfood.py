"""gpukit's own rendered manifests pass its own lint (no errors; warnings are listed)."""

from __future__ import annotations

from pathlib import Path

import pytest

import gpukit
from gpukit.fleet import default_fleet
from gpukit.lint import lint
from gpukit.workload import load_workloads


def _workloads(examples_dir: Path) -> list[gpukit.Workload]:
    return load_workloads(examples_dir / "workloads")


def test_rendered_example_workloads_have_no_lint_errors(examples_dir: Path) -> None:
    workloads = _workloads(examples_dir)
    objects = [obj for w in workloads for obj in gpukit.render(gpukit.plan(w))]
    findings = lint(objects, fleet=default_fleet(), workloads=workloads)
    assert [f for f in findings if f.severity == "error"] == []
    # The advisor leaves CI jobs without a team out of Kueue; lint points that out.
    assert {f.rule for f in findings} <= {"GPU016"}


@pytest.mark.parametrize("rule", ["GPU007", "GPU010", "GPU014", "GPU015"])
def test_rendered_manifests_do_not_trip_rules_the_advisor_encodes(examples_dir: Path, rule: str) -> None:
    workloads = _workloads(examples_dir)
    objects = [obj for w in workloads for obj in gpukit.render(gpukit.plan(w))]
    assert rule not in {f.rule for f in lint(objects, fleet=default_fleet(), workloads=workloads)}
