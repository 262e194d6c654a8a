"""Planner against a live cluster: the real kubernetes client via gpukit.kube, talking to
gpukit.testing's FakeApiServer (no patching): live fleet, dry-run apply, confirmed submit."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("kubernetes")
testing = pytest.importorskip("gpukit.testing")

import gpukit as gk
from gpukit.widgets import FleetView, Planner
from gpukit.widgets._cluster import detect_cluster

BERT = gk.Workload(name="bert-serve", kind="inference", gpu_memory="6Gi", isolation="none",
                   priority="cost")


@pytest.fixture
def api(monkeypatch, tmp_path):
    nodes = [testing.gpu_node(f"l4-{i}", "NVIDIA-L4", gpus=4) for i in range(2)]
    with testing.FakeApiServer([*nodes, testing.namespace("default")]) as server:
        config = server.write_kubeconfig(tmp_path / "kubeconfig")
        monkeypatch.setenv("KUBECONFIG", str(config))
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        yield server


def test_cluster_is_detected_and_the_buttons_are_on(api):
    cluster = detect_cluster()
    assert cluster.ready, cluster.note
    planner = Planner(BERT)
    assert not planner.dry_run_button.disabled and not planner.submit_button.disabled


def test_live_fleet_is_discovered_and_planned_on(api):
    planner = Planner(BERT)
    planner.set(fleet="live")
    assert planner.error is None, planner.error
    assert planner.plan.fleet == gk.kube.discover()
    assert planner.plan.choice.gpu_model == "L4"
    assert FleetView("live").fleet == planner.plan.fleet


def test_dry_run_writes_nothing_and_submit_applies_after_confirmation(api):
    planner = Planner(BERT)
    planner.dry_run_button.click()
    assert "server-side dry run" in planner.action_result.value, planner.action_result.value
    assert "gpukit-ok" in planner.action_result.value
    names = [(o["kind"], o["metadata"]["name"]) for o in planner.objects]
    for kind, name in names:
        api_version = next(o["apiVersion"] for o in planner.objects if o["kind"] == kind)
        assert api.get(api_version, kind, name, "default") is None
    planner.submit_button.click()
    planner.confirm_button.click()
    assert "applied" in planner.action_result.value, planner.action_result.value
    for obj in planner.objects:
        assert api.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], "default") is not None


def test_a_refusing_cluster_is_reported_in_the_widget(api):
    api.forbid("patch", "deployments")
    planner = Planner(BERT)
    planner.dry_run_button.click()
    assert "gpukit-error" in planner.action_result.value
    assert "1 of 2 objects rejected" in planner.action_result.value
    assert "RBAC forbids patch deployments" in planner.action_result.value


def test_planner_can_start_on_the_live_fleet(api):
    planner = Planner(BERT, "live")
    assert planner.values["fleet"] == "live" and planner.error is None
    assert planner.plan.fleet.name == gk.kube.discover().name
