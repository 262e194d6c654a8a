"""FleetView: every pool with a used/free bar, MIG layouts drawn per GPU; errors in the widget."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("ipywidgets")

import gpukit as gk
from gpukit.hardware.mig import MigLayout
from gpukit.widgets import FleetView
from gpukit.widgets.fleet_view import MAX_GPUS_DRAWN, gpus_in_use


def pool_html(view: FleetView, name: str) -> str:
    (html,) = [c.value for c in view.children if "gpukit-pool" in c._dom_classes and f"<b>{name}</b>" in c.value]
    return html


def test_every_pool_is_shown_with_its_capacity():
    fleet = gk.default_fleet()
    view = FleetView(fleet)
    assert view.error is None
    for pool in fleet.node_pools:
        html = pool_html(view, pool.name)
        assert f"0 used / {pool.total_gpus} free of {pool.total_gpus} GPUs" in html


def test_mig_pool_draws_each_gpu_with_the_pool_layout():
    fleet = gk.default_fleet()
    (pool,) = [p for p in fleet.node_pools if p.mig]
    html = pool_html(FleetView(fleet), pool.name)
    placement = MigLayout.from_counts(pool.gpu, pool.mig.layout).placement()
    shown = min(pool.total_gpus, MAX_GPUS_DRAWN)
    blocks = re.findall(r'data-profile="([^"]+)" data-start="(\d+)"', html)
    assert len(blocks) == shown * len(placement.instances)
    assert sorted(set(blocks)) == sorted({(i.profile, str(i.start)) for i in placement.instances})
    assert f"{pool.total_gpus - shown} more GPUs" in html


def test_plans_fill_the_bars():
    fleet = gk.default_fleet()
    train = gk.plan(gk.Workload(name="ddp", kind="training", gpus=8, workers=2), fleet)
    serve = gk.plan(gk.Workload(name="bert", kind="inference", gpu_memory="6Gi", isolation="strict", replicas=8), fleet)
    view = FleetView(fleet, plans=[train, serve], used={"l4-shared": 3})
    assert view.pool_usage(train.pool) == 16
    # 8 replicas of a 1-of-8-memory-slot profile = one GPU's worth of slots.
    assert view.pool_usage(serve.pool) == pytest.approx(8 / 8)
    assert "16 used / 16 free of 32 GPUs" in pool_html(view, train.pool.name)
    assert "3 used / 9 free of 12 GPUs" in pool_html(view, "l4-shared")


def test_shared_pool_usage_counts_replicas():
    fleet = gk.default_fleet()
    ci = gk.plan(gk.Workload(name="ci", kind="ci", gpu_memory="2Gi", replicas=6), fleet)
    assert ci.sharing in ("time-slicing", "mps")
    assert gpus_in_use(ci.pool, [ci]) == pytest.approx(6 / ci.pool.sharing.replicas)


def test_missing_fleet_file_is_an_error_in_the_widget(tmp_path):
    view = FleetView(tmp_path / "nope.yaml")
    assert view.fleet is None and "no such file" in view.error
    assert "gpukit-error" in view.children[1].value


def test_packing_is_drawn_per_gpu_with_changes_marked():
    from gpukit.hardware.packing import MigDemand, pack, slots_from_fleet

    fleet = gk.default_fleet()
    slots = [s for s in slots_from_fleet(fleet) if s.node.startswith("h100-mig-")]
    packing = pack([MigDemand(name="nb", profile="1g.10gb", count=12, gpu="H100-80GB")], slots)
    view = FleetView(fleet, packing=packing)
    html = pool_html(view, "h100-mig")
    used = [g for g in packing.gpus if g.used]
    assert view.pool_usage(fleet.pool("h100-mig")) == len(used) == packing.gpus_used
    # Used and changed GPUs are drawn first, each with its own layout from the packing.
    for g in sorted(used, key=lambda g: (g.node, g.index))[:MAX_GPUS_DRAWN]:
        label = f"{g.node.removeprefix('h100-mig-')}/gpu{g.index}"
        assert label in html
        assert f"{label} hosts nb 1g.10gb x" in html
    changed = sum(1 for g in packing.gpus if g.changed)
    assert (f"layout changes on {changed} GPU(s)" in html) == bool(changed)
    # Pools the packing did not touch keep their plain picture.
    assert "gpukit-instance" not in pool_html(view, "a100-train")
