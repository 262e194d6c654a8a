"""RolloutView draws a rollout plan: one accordion page per wave, the evictions and why it is safe."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from gpukit.rollout import Consumer, NodeChange, PodDemand, plan_rollout
from gpukit.widgets import RolloutView

G1, G3 = "nvidia.com/mig-1g.10gb", "nvidia.com/mig-3g.40gb"


def node(name: str) -> NodeChange:
    labels = {"nvidia.com/mig.config": "all-balanced"}
    return NodeChange(name, labels, "all-balanced", {G1: 16, G3: 8}, "all-1g.10gb", {G1: 56})


def test_waves_are_drawn():
    work = [Consumer("ns/p", (PodDemand("p", {G1: 4}, "a"),))]
    plan = plan_rollout([node("a"), node("b")], work)
    view = RolloutView(plan)
    assert "2 wave(s)" in view.summary.value  # one node at a time
    assert len(view.waves.children) == len(plan.waves)
    titles = [view.waves.get_title(i) for i in range(len(plan.waves))]
    assert titles[0].startswith("wave 1: ")
    assert any("ns/p" in page.value for page in view.waves.children)
    assert all("why it is safe" in page.value for page in view.waves.children)


def test_blocked_plan_says_what_blocks():
    work = [Consumer(f"ns/big-{i}", (PodDemand(f"big-{i}", {G3: 1}, "a"),)) for i in range(8)]
    work += [Consumer(f"ns/b-{i}", (PodDemand(f"b-{i}", {G3: 1}, "b"),)) for i in range(8)]
    view = RolloutView(plan_rollout([node("a"), node("b")], work))
    assert "no safe order" in view.summary.value
    assert "What blocks the rest" in view.children[-1].value
