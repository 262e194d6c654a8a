"""Planner: a value change re-plans and re-renders; bad input lands in the widget as one line."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import yaml

pytest.importorskip("ipywidgets")

import gpukit as gk
from gpukit.errors import ClusterError, InputError
from gpukit.widgets import Planner
from gpukit.widgets._cluster import ClusterAccess, detect_cluster

NO_CLUSTER = ClusterAccess(False, "no cluster configured (test)")
BERT = gk.Workload(name="bert-serve", kind="inference", gpu_memory="6Gi", isolation="strict")


@pytest.fixture
def planner() -> Planner:
    return Planner(BERT, cluster=NO_CLUSTER)


def test_initial_plan_is_the_core_plan(planner):
    expected = gk.plan(BERT)
    assert planner.error is None
    assert planner.plan == expected
    assert planner.yaml == gk.to_yaml(gk.render(expected))
    assert expected.choice.label in planner.decision.value
    assert "nvidia.com/mig-1g.10gb" in planner.yaml_view.value


# (form values, what the plan must become, a string the YAML must now contain)
CHANGES = [
    pytest.param({"kind": "training"}, "dedicated", "kind: Job", id="kind-training"),
    pytest.param({"gpu_memory": "30Gi"}, "mig", "nvidia.com/mig-3g.40gb", id="memory-30Gi"),
    pytest.param(
        {"memory_from": "model", "params": "70B", "precision": "bf16", "mode": "inference"},
        "dedicated", "nvidia.com/gpu: 4", id="model-70B",
    ),
    pytest.param({"name": "other-name"}, "mig", "name: other-name", id="rename"),
    pytest.param(
        {"kind": "fine-tuning", "gpus": 8, "workers": 2, "team": "team-research"},
        "dedicated", "volcano", id="gang",
    ),
]


@pytest.mark.parametrize(("values", "sharing", "in_yaml"), CHANGES)
def test_a_value_change_replans_and_rerenders(planner, values, sharing, in_yaml):
    before_yaml, before_text = planner.yaml, planner.status.value + planner.decision.value
    for key, value in values.items():  # one control at a time, as a user would
        planner.controls[key].value = value
    assert planner.error is None, planner.error
    assert planner.plan.sharing == sharing
    assert planner.yaml != before_yaml and in_yaml in planner.yaml
    assert planner.status.value + planner.decision.value != before_text
    expected = gk.plan(planner.workload())
    assert planner.plan == expected
    assert planner.yaml == gk.to_yaml(gk.render(expected))
    assert gk.to_yaml(gk.render(expected)).splitlines()[0] in planner.yaml_view.value


# (form values, a fragment the one-line error must contain)
BAD_INPUT = [
    pytest.param({"gpu_memory": "6Gx"}, "'gpu_memory'", id="bad-quantity"),
    pytest.param({"gpus": -1}, "'gpus'", id="negative-gpus"),
    pytest.param({"workers": 0}, "'workers'", id="zero-workers"),
    pytest.param({"name": "Bad_Name"}, "not a valid Kubernetes name", id="bad-name"),
    pytest.param({"team": "Team NLP"}, "not a valid Kubernetes name", id="bad-team"),
    pytest.param({"memory_from": "model", "params": "lots"}, "'model.params'", id="bad-params"),
    pytest.param({"kind": "ci", "workers": 3}, "workers=3", id="ci-with-workers"),
    pytest.param({"fleet": "file", "fleet_file": ""}, "fleet file", id="fleet-file-empty"),
    pytest.param({"fleet": "file", "fleet_file": "no/such/fleet.yaml"}, "no such file", id="fleet-file-missing"),
    pytest.param({"fleet": "live"}, "no cluster configured (test)", id="live-without-cluster"),
    pytest.param({"gpu_memory": "5000Gi"}, "no option in fleet", id="no-feasible-plan"),
]


@pytest.mark.parametrize(("values", "fragment"), BAD_INPUT)
def test_bad_input_is_shown_in_the_widget_not_raised(planner, values, fragment):
    planner.set(**values)
    assert planner.error is not None and fragment in planner.error
    assert "\n" not in planner.error and "Traceback" not in planner.error
    assert "gpukit-error" in planner.status.value
    assert fragment.replace("'", "&#x27;") in planner.status.value
    assert planner.plan is None and planner.yaml == "" and planner.download.value == ""
    assert "no plan" in planner.yaml_view.value
    # Fixing the input brings the plan back.
    planner.set(gpu_memory="6Gi", gpus=0, workers=1, name="bert-serve", team="", kind="inference",
                memory_from="memory", fleet="embedded")
    assert planner.error is None and planner.plan == gk.plan(BERT)


def test_no_feasible_plan_lists_every_rejection(planner):
    planner.set(gpu_memory="5000Gi")
    expected = _rejections(BERT.model_copy(update={"gpu_memory": "5000Gi"}))
    assert expected and planner.rejections.value.count("<tr>") - 1 == len(expected)


def _rejections(workload):
    with pytest.raises(gk.NoFeasiblePlan) as info:
        gk.plan(workload)
    return info.value.rejections


def test_alternatives_and_rejections_come_from_the_plan(planner):
    plan = planner.plan
    assert planner.alternatives.value.count("<tr>") - 1 == len(plan.alternatives)
    assert planner.rejections.value.count("<tr>") - 1 == len(plan.rejections)
    for rejection in plan.rejections:
        assert rejection.code in planner.rejections.value


def test_warnings_are_shown(planner):
    planner.set(kind="ci", isolation="auto", gpu_memory="2Gi")
    assert planner.plan.warnings, "this case is meant to warn"
    for warning in planner.plan.warnings:
        assert warning.code in planner.warnings.value


def test_download_link_holds_the_yaml(planner):
    match = re.search(r'download="([^"]+)" href="data:application/x-yaml;base64,([^"]+)"', planner.download.value)
    assert match and match[1] == "bert-serve.yaml"
    assert base64.b64decode(match[2]).decode() == planner.yaml
    assert list(yaml.safe_load_all(planner.yaml))


def test_fields_the_form_does_not_show_are_kept():
    base = BERT.model_copy(update={"image": "registry.example/serve:1.2", "preemptible": True})
    planner = Planner(base, cluster=NO_CLUSTER)
    planner.set(replicas=3)
    assert planner.workload() == base.model_copy(update={"replicas": 3})
    assert "registry.example/serve:1.2" in planner.yaml


def test_model_size_form_keeps_model_details():
    base = gk.Workload(
        name="llm", kind="inference",
        model={"params": "7B", "precision": "fp16", "mode": "inference", "kv_cache": "4Gi"},
    )
    planner = Planner(base, cluster=NO_CLUSTER)
    assert planner.values["memory_from"] == "model" and planner.values["params"] == "7B"
    assert planner.workload() == base
    planner.set(precision="int8")
    assert planner.workload().model.kv_cache == "4Gi" and planner.workload().model.precision == "int8"


def test_given_fleet_and_fleet_file(tmp_path: Path):
    fleet = gk.Fleet(name="tiny", node_pools=[{"name": "l4", "gpu": "L4", "gpus_per_node": 1, "nodes": 1}])
    planner = Planner(BERT, fleet, cluster=NO_CLUSTER)
    assert planner.values["fleet"] == "given"
    assert planner.plan.fleet == fleet and planner.plan.choice.pool == "l4"
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet.model_dump(mode="json")))
    planner.set(fleet="file", fleet_file=str(path))
    assert planner.error is None and planner.plan.fleet == gk.load_fleet(path)
    planner.set(fleet="embedded")
    assert planner.plan.fleet == gk.default_fleet()


def test_set_rejects_unknown_fields(planner):
    with pytest.raises(InputError, match="did you mean 'gpus'"):
        planner.set(gpu=2)


class FakeCluster:
    """Records what the widget asks the cluster to do."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[list[dict], bool]] = []
        self.fail = fail

    def apply(self, objects, *, dry_run):
        if self.fail:
            raise ClusterError("the API server refused: forbidden (test)")
        self.calls.append((objects, dry_run))
        return [f"{o['kind']}/{o['metadata']['name']} {'dry-run ' if dry_run else ''}applied" for o in objects]


def test_cluster_buttons_are_off_with_a_note_when_no_cluster(planner):
    assert planner.dry_run_button.disabled and planner.submit_button.disabled
    assert "no cluster configured (test)" in planner.cluster_note.value


def test_dry_run_then_submit_only_after_confirmation():
    fake = FakeCluster()
    planner = Planner(BERT, cluster=ClusterAccess(True, "test cluster", apply_fn=fake.apply))
    assert not planner.dry_run_button.disabled and not planner.submit_button.disabled
    planner.dry_run_button.click()
    assert fake.calls == [(planner.objects, True)]
    assert "dry-run apply" in planner.action_result.value
    planner.submit_button.click()
    assert len(fake.calls) == 1, "submit must wait for confirmation"
    assert planner.confirm_box.layout.display is None
    assert "Deployment/bert-serve" in planner.confirm_text.value
    planner.cancel_button.click()
    assert len(fake.calls) == 1 and planner.confirm_box.layout.display == "none"
    planner.submit_button.click()
    planner.confirm_button.click()
    assert fake.calls[-1] == (planner.objects, False)


def test_a_change_withdraws_a_pending_confirmation():
    fake = FakeCluster()
    planner = Planner(BERT, cluster=ClusterAccess(True, "test cluster", apply_fn=fake.apply))
    planner.submit_button.click()
    planner.set(gpu_memory="30Gi")
    assert planner.confirm_box.layout.display == "none"


def test_cluster_errors_are_shown_in_the_widget():
    fake = FakeCluster(fail=True)
    planner = Planner(BERT, cluster=ClusterAccess(True, "test cluster", apply_fn=fake.apply))
    planner.dry_run_button.click()
    assert "forbidden (test)" in planner.action_result.value and "gpukit-error" in planner.action_result.value


def test_invalid_input_disables_cluster_buttons():
    planner = Planner(BERT, cluster=ClusterAccess(True, "test cluster", apply_fn=FakeCluster().apply))
    planner.set(gpu_memory="nonsense")
    assert planner.dry_run_button.disabled and planner.submit_button.disabled


def test_detect_cluster_without_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-config"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cluster = detect_cluster()
    assert not cluster.ready and cluster.note
    with pytest.raises(ClusterError):
        cluster.apply([], dry_run=True)


def shown(planner: Planner) -> set[str]:
    hidden = {k for k, c in planner.controls.items() if c.layout.display == "none"}
    if planner._model_box.layout.display == "none":
        hidden |= {"params", "precision", "mode"}
    return set(planner.controls) - hidden


def test_only_the_relevant_fields_are_shown(planner):
    always = {"name", "kind", "gpus", "workers", "replicas", "memory_from", "isolation",
              "priority", "team", "queue", "fleet"}
    assert shown(planner) == always | {"gpu_memory"}
    planner.set(memory_from="model")
    assert shown(planner) == always | {"params", "precision", "mode"}
    planner.set(fleet="file")
    assert shown(planner) == always | {"params", "precision", "mode", "fleet_file"}
    assert len({id(c.layout) for c in planner.controls.values()}) == len(planner.controls)
