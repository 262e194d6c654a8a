"""KAI as the plan's scheduler: choose_scheduler's rule, its codes, and what rendering reads."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest

import gpukit as gk
from gpukit.fleet import Fleet
from gpukit.vocab import KAI_GPUKIT_QUEUE

W = gk.Workload

A100 = {"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 4}
L4_TS = {"name": "l4-ts", "gpu": "L4", "gpus_per_node": 4, "nodes": 2,
         "sharing": {"mode": "time-slicing", "replicas": 4}}


def kai_fleet(*queues: dict[str, Any], **installed: bool) -> Fleet:
    return Fleet.model_validate(
        {
            "name": "kai-test",
            "node_pools": [A100, L4_TS],
            "installed": {"kai": True, **installed},
            "queues": list(queues),
        }
    )


def default_with_kai(**installed: bool) -> Fleet:
    base = gk.default_fleet().model_dump()
    base["installed"] |= {"kai": True, **installed}
    base["queues"] = [q for q in base["queues"] if base["installed"][q["scheduler"]]]
    return Fleet.model_validate(base)


KAI_ONLY = kai_fleet()
KAI_LISTED = kai_fleet({"name": "research-q", "scheduler": "kai", "team": "research"})
KAI_KUEUE = kai_fleet(
    {"name": "vision", "scheduler": "kueue", "team": "vision", "namespace": "vision"}, kueue=True
)
DEFAULT_KAI = default_with_kai()  # Volcano, Kueue and KAI; Kueue and Volcano team queues

GANG = {"kind": "training", "workers": 2, "gpus": 8}
SINGLE = {"kind": "training", "gpus": 1}


@dataclass
class Expect:
    scheduler: str
    queue: str | None
    reasons: set[str] = field(default_factory=set)
    warnings: set[str] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)  # codes that must not fire


CASES = [
    # (id, workload fields, fleet, expect)
    ("gang-team-kai-only", {**GANG, "team": "research"}, KAI_ONLY,
     Expect("kai", "research", {"GANG_KAI"}, absent={"NO_GANG", "QUEUE_NOT_IN_FLEET"})),
    ("single-team-kai-only", {**SINGLE, "team": "research"}, KAI_ONLY,
     Expect("kai", "research", {"QUEUE_KAI"}, absent={"NO_QUOTA", "DEFAULT_SCHEDULER"})),
    # KAI's default-queue has GPU quota 0: work of no team goes to gpukit's queue (issue 14).
    ("no-team-goes-to-gpukit-queue", {"kind": "interactive", "isolation": "none"}, KAI_ONLY,
     Expect("kai", KAI_GPUKIT_QUEUE, {"SCHEDULER_KAI"}, absent={"DEFAULT_SCHEDULER"})),
    ("gang-without-team-gpukit-queue", GANG, KAI_ONLY,
     Expect("kai", KAI_GPUKIT_QUEUE, {"GANG_KAI"}, absent={"NO_GANG"})),
    ("named-queue-unlisted-fleet-lists-none", {**SINGLE, "queue": "adhoc"}, KAI_ONLY,
     Expect("kai", "adhoc", {"QUEUE_KAI"}, absent={"QUEUE_NOT_IN_FLEET"})),
    ("fleet-kai-queue-for-the-team", {**GANG, "team": "research"}, KAI_LISTED,
     Expect("kai", "research-q", {"GANG_KAI"}, absent={"QUEUE_NOT_IN_FLEET"})),
    ("named-kai-queue-in-fleet", {**SINGLE, "queue": "research-q"}, KAI_LISTED,
     Expect("kai", "research-q", {"QUEUE_KAI"}, absent={"QUEUE_NOT_IN_FLEET"})),
    ("team-not-among-listed-kai-queues", {**SINGLE, "team": "vision"}, KAI_LISTED,
     Expect("kai", "vision", {"QUEUE_KAI"}, {"QUEUE_NOT_IN_FLEET"})),
    ("kai-over-volcano-for-a-team-gang", {**GANG, "team": "team-research"}, DEFAULT_KAI,
     Expect("kai", "team-research", {"GANG_KAI"}, {"TEAM_QUEUE_BYPASSED"},
            absent={"GANG_VOLCANO", "KAI_BYPASSED"})),
    ("kai-over-kueue-for-a-team", {**SINGLE, "team": "team-vision"}, DEFAULT_KAI,
     Expect("kai", "team-vision", {"QUEUE_KAI"}, {"TEAM_QUEUE_BYPASSED"}, absent={"QUEUE_KUEUE"})),
    ("kai-over-kueue-gang-no-volcano", {**GANG, "team": "vision"}, KAI_KUEUE,
     Expect("kai", "vision", {"GANG_KAI"}, {"TEAM_QUEUE_BYPASSED"}, absent={"GANG_KUEUE"})),
    ("named-volcano-queue-takes-a-gang-to-volcano", {**GANG, "queue": "team-research"}, DEFAULT_KAI,
     Expect("volcano", "team-research", {"GANG_VOLCANO"}, {"KAI_BYPASSED"}, absent={"GANG_KAI"})),
    ("named-kueue-queue-takes-single-work-to-kueue", {**SINGLE, "queue": "team-vision"}, DEFAULT_KAI,
     Expect("kueue", "team-vision", {"QUEUE_KUEUE"}, {"KAI_BYPASSED"}, absent={"QUEUE_KAI"})),
    ("named-kueue-queue-takes-a-gang-to-kueue", {**GANG, "queue": "vision"}, KAI_KUEUE,
     Expect("kueue", "vision", {"GANG_KUEUE"}, {"KAI_BYPASSED"}, absent={"NO_GANG"})),
    ("named-kai-queue-beats-same-named-kueue", {**SINGLE, "queue": "vision"},
     kai_fleet({"name": "vision", "scheduler": "kueue", "team": "vision", "namespace": "vision"},
               {"name": "vision", "scheduler": "kai"}, kueue=True),
     Expect("kai", "vision", {"QUEUE_KAI"}, absent={"KAI_BYPASSED"})),
    ("no-kai-gang-stays-volcano", {**GANG, "team": "team-research"}, gk.default_fleet(),
     Expect("volcano", "team-research", {"GANG_VOLCANO"}, absent={"KAI_BYPASSED", "GANG_KAI"})),
    ("no-kai-team-stays-kueue", {**SINGLE, "team": "team-vision"}, gk.default_fleet(),
     Expect("kueue", "team-vision", {"QUEUE_KUEUE"}, absent={"QUEUE_KAI"})),
    ("kai-preemptible-priority-class", {**SINGLE, "team": "research", "preemptible": True}, KAI_ONLY,
     Expect("kai", "research", {"QUEUE_KAI", "PREEMPTIBLE_LOW_PRIORITY"})),
]


@pytest.mark.parametrize(("fields", "fleet", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_scheduler_choice(fields: dict[str, Any], fleet: Fleet, expect: Expect):
    p = gk.plan(W(name="w", **fields), fleet)
    assert (p.scheduler, p.queue) == (expect.scheduler, expect.queue), p.explain()
    reasons = {r.code for r in p.reasons}
    warnings = {r.code for r in p.warnings}
    assert expect.reasons <= reasons, p.explain()
    assert expect.warnings <= warnings, p.explain()
    assert not (expect.absent & (reasons | warnings)), p.explain()


@pytest.mark.parametrize(("fields", "fleet", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rendering_follows_the_plans_scheduler(fields: dict[str, Any], fleet: Fleet, expect: Expect):
    p = gk.plan(W(name="w", **fields), fleet)
    objects = gk.render(p)
    pods = list(_pod_specs(objects))
    assert pods
    names = {pod["spec"].get("schedulerName") for pod in pods}
    kai_labels = {pod["metadata"].get("labels", {}).get("kai.scheduler/queue") for pod in pods}
    if expect.scheduler == "kai":
        assert names == {"kai-scheduler"}
        assert kai_labels == {expect.queue}
        assert not any("kueue.x-k8s.io/queue-name" in o["metadata"].get("labels", {}) for o in objects)
    else:
        # KAI installed but not chosen: nothing names KAI
        assert "kai-scheduler" not in names and kai_labels == {None}
        everywhere = set(_values(objects, "schedulerName"))
        assert everywhere == ({"volcano"} if expect.scheduler == "volcano" else set())


def _values(node: Any, key: str):
    """Every value of ``key`` anywhere in the objects (a Volcano Job names it on its spec)."""
    if isinstance(node, dict):
        if key in node:
            yield node[key]
        for value in node.values():
            yield from _values(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item, key)


def _pod_specs(node: Any):
    """Every pod template (metadata + spec holding containers) anywhere in the objects."""
    if isinstance(node, dict):
        spec = node.get("spec")
        if isinstance(spec, dict) and "containers" in spec:
            yield {"metadata": node.get("metadata", {}), "spec": spec}
        for value in node.values():
            yield from _pod_specs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pod_specs(item)


def test_explain_and_json_name_kai_and_its_queue():
    p = gk.plan(W(name="ddp", team="research", **GANG), KAI_ONLY)
    assert "scheduler kai (queue research)" in p.explain()
    assert "[GANG_KAI]" in p.explain()
    d = p.to_dict()
    assert (d["scheduler"], d["queue"], d["gang"]) == ("kai", "research", True)


def test_the_rule_is_written_in_choose_schedulers_docstring():
    from gpukit.advisor.rules import choose_scheduler

    doc = choose_scheduler.__doc__ or ""
    for code in ("GANG_KAI", "QUEUE_KAI", "SCHEDULER_KAI", "TEAM_QUEUE_BYPASSED", "KAI_BYPASSED"):
        assert code in doc


def test_cli_plan_shows_the_kai_scheduler(repo_root, tmp_path):
    workload = tmp_path / "ddp.yaml"
    workload.write_text("name: ddp\nkind: training\nworkers: 2\ngpus: 8\nteam: research\n")
    fleet = repo_root / "examples" / "fleets" / "kai.yaml"
    out = subprocess.run(
        [sys.executable, "-m", "gpukit", "plan", str(workload), "--fleet", str(fleet), "--output", "json"],
        capture_output=True, text=True, check=True, cwd=repo_root,
    ).stdout
    row = json.loads(out.splitlines()[0])
    assert (row["scheduler"], row["queue"]) == ("kai", "research")
