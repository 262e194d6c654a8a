"""Lint rules GPU028 (no topology constraint) and GPU029 (a required level no domain holds)."""

from __future__ import annotations

import copy

import pytest

import gpukit as gk
from gpukit.lint import lint
from gpukit.topology.render import KUEUE_REQUIRED_ANNOTATION

RACK = "cloud.google.com/gce-topology-subblock"


def _rendered(fleet, workers: int, **installed: bool) -> tuple[gk.Fleet, list[dict]]:
    f = fleet("topology", **installed)
    workload = gk.Workload(
        name="t", kind="training", gpus=8, workers=workers, gpu_memory="60Gi", team="research"
    )
    return f, gk.render(gk.plan(workload, f))


def _rules(findings, *ids: str) -> list[tuple[str, str]]:
    return [(f.rule, f.path) for f in findings if f.rule in ids]


def _strip(objects: list[dict]) -> list[dict]:
    """The objects without any topology field (as a hand-written manifest would be)."""
    objects = copy.deepcopy(objects)

    def walk(node):
        if isinstance(node, dict):
            node.pop("networkTopology", None)
            annotations = node.get("annotations")
            if isinstance(annotations, dict):
                for key in [k for k in annotations if "topology" in k]:
                    del annotations[key]
                if not annotations:
                    del node["annotations"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(objects)
    return objects


@pytest.mark.parametrize(
    "installed",
    [{"volcano": False}, {}, {"volcano": False, "kueue": False, "kai": True}],
    ids=["kueue", "volcano", "kai"],
)
def test_planned_gangs_are_clean_and_stripped_ones_warn(fleet, installed):
    f, objects = _rendered(fleet, 4, **installed)
    assert _rules(lint(objects, fleet=f), "GPU028", "GPU029") == []
    findings = _rules(lint(_strip(objects), fleet=f), "GPU028", "GPU029")
    assert [rule for rule, _ in findings] == ["GPU028"]


def test_no_topology_in_the_fleet_no_finding(fleet):
    f, objects = _rendered(fleet, 4, volcano=False)
    bare = f.model_copy(update={"topology": None})
    assert _rules(lint(_strip(objects), fleet=bare), "GPU028", "GPU029") == []


def test_required_rack_for_a_gang_bigger_than_a_rack_is_an_error(fleet):
    f, objects = _rendered(fleet, 16, volcano=False)
    for obj in objects:
        for job in obj.get("spec", {}).get("replicatedJobs", []):
            meta = job["template"]["spec"]["template"]["metadata"]
            meta["annotations"] = {KUEUE_REQUIRED_ANNOTATION: RACK}
    findings = [f for f in lint(objects, fleet=f) if f.rule == "GPU029"]
    assert len(findings) == 1
    assert findings[0].severity == "error"
    assert "16 pods of 8 GPUs fit in no single rack" in findings[0].message
    assert "16 nodes needed, 4 per rack" in findings[0].message


def test_required_label_the_fleet_does_not_have(fleet):
    f, objects = _rendered(fleet, 4, volcano=False, kueue=False, kai=True)
    (top,) = [
        o for o in objects if "kai.scheduler/topology" in o["metadata"].get("annotations", {})
    ]
    top["metadata"]["annotations"]["kai.scheduler/topology-required-placement"] = "example.com/row"
    (finding,) = [f for f in lint(objects, fleet=f) if f.rule == "GPU029"]
    assert "example.com/row: no level of the fleet's topology is that" in finding.message


@pytest.mark.parametrize(("tier", "hit"), [(1, False), (2, False), (3, True)])
def test_volcano_hard_tier_beyond_the_fleet(fleet, tier, hit):
    f, objects = _rendered(fleet, 4)
    (job,) = [o for o in objects if o["kind"] == "Job"]
    job["spec"]["networkTopology"] = {"mode": "hard", "highestTierAllowed": tier}
    found = [x for x in lint(objects, fleet=f) if x.rule == "GPU029"]
    assert bool(found) is hit


def test_a_job_on_a_pool_outside_the_topology_is_left_alone(fleet):
    f, objects = _rendered(fleet, 4, volcano=False)
    stripped = _strip(objects)
    for pod in [t for o in stripped for t in _pod_specs(o)]:
        pod["nodeSelector"] = {"nodegroup": "l4-shared"}
    assert _rules(lint(stripped, fleet=f), "GPU028") == []


def _pod_specs(node):
    if isinstance(node, dict):
        if "containers" in node:
            yield node
        for value in node.values():
            yield from _pod_specs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pod_specs(value)
