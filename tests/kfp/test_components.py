"""Components: compiled YAML in sync with the sources; run for real with KFP's local runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# kfp.local warns that our image is not a plain Python image; running in this interpreter,
# where gpukit is installed, is exactly what the image provides.
pytestmark = pytest.mark.filterwarnings("ignore:You may be attemping to run a task:RuntimeWarning")


def test_compiled_yaml_is_in_sync_with_the_sources():
    result = subprocess.run(
        [sys.executable, "components/build.py", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


def test_components_do_not_reinstall_kfp_at_run_time():
    for path in ROOT.glob("components/*.yaml"):
        text = path.read_text()
        assert "pip install" not in text, f"{path.name} installs packages when it starts"


def test_plan_component_runs_locally_and_outputs_plan_and_manifests(kfp_local):
    from components.plan_gpu_workload import plan_gpu_workload

    task = plan_gpu_workload(name="bert", kind="inference", gpu_memory="6Gi", isolation="strict", replicas=2)
    plan = json.loads(task.outputs["Output"])
    assert (plan["sharing"], plan["mig_profile"], plan["replicas"]) == ("mig", "1g.10gb", 2)
    objects = list(yaml.safe_load_all(Path(task.outputs["manifests"].path).read_text()))
    assert {o["kind"] for o in objects} == {"Deployment", "Service"}


def test_plan_component_takes_a_fleet_and_a_model(kfp_local):
    from components.plan_gpu_workload import plan_gpu_workload

    fleet = "name: tiny\nnode_pools:\n  - {name: a100, gpu: A100-80GB, gpus_per_node: 8, nodes: 1}\n"
    task = plan_gpu_workload(name="llm", kind="inference", model_params="70B", fleet_yaml=fleet)
    plan = json.loads(task.outputs["Output"])
    assert (plan["pool"], plan["sharing"], plan["memory_source"]) == ("a100", "dedicated", "estimated")


def test_plan_component_fails_the_step_on_bad_input(kfp_local):
    from components.plan_gpu_workload import plan_gpu_workload

    with pytest.raises(RuntimeError):
        plan_gpu_workload(name="Bad_Name", kind="inference")


def test_mig_layout_component_packs_and_writes_configmap_and_labels(kfp_local):
    from components.plan_mig_layout import plan_mig_layout

    fleet = "- {model: H100-80GB, count: 8, gpus_per_node: 8, node: h100}\n"
    demands = "demands:\n  - {name: notebooks, profile: 1g.10gb, count: 10}\n  - {name: serve, profile: 3g.40gb, count: 2}\n"
    task = plan_mig_layout(fleet_yaml=fleet, demands_yaml=demands)
    summary = json.loads(task.outputs["Output"])
    assert summary["gpus_used"] == summary["lower_bound"] == 3
    configmap = yaml.safe_load(Path(task.outputs["configmap"].path).read_text())
    assert configmap["kind"] == "ConfigMap" and "config.yaml" in configmap["data"]
    script = Path(task.outputs["node_labels"].path).read_text()
    assert "kubectl label node h100" in script and "nvidia.com/mig.config=" in script


def test_mig_layout_component_fails_when_demand_cannot_be_placed(kfp_local):
    from components.plan_mig_layout import plan_mig_layout

    fleet = "- {model: H100-80GB, count: 1}\n"
    with pytest.raises(RuntimeError):
        plan_mig_layout(fleet_yaml=fleet, demands_yaml="- {profile: 7g.80gb, count: 3}\n")


BAD_POD = """apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      image: cuda:latest
      resources:
        limits: {nvidia.com/gpu: "0.5"}
"""


def test_gpukit_manifests_pass_gpukit_lint_in_a_pipeline(kfp_local):
    from tests.kfp._pipelines import plan_then_lint

    run = plan_then_lint()
    assert run.output == 0


def test_lint_component_counts_findings_below_the_threshold(kfp_local):
    from tests.kfp._pipelines import lint_text

    run = lint_text(text=BAD_POD, fail_on="none")
    assert run.output >= 2


def test_lint_component_fails_the_step_at_the_threshold(kfp_local):
    from tests.kfp._pipelines import lint_text

    with pytest.raises(RuntimeError):
        lint_text(text=BAD_POD, fail_on="error")


def test_example_pipeline_plans_lints_and_launches_in_that_order():
    spec = yaml.safe_load((ROOT / "components" / "example_pipeline.yaml").read_text())
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {"plan-gpu-workload", "lint-manifests", "launch-gpu-workload"}
    assert "lint-manifests" in tasks["launch-gpu-workload"]["dependentTasks"]
    assert spec["root"]["inputDefinitions"]["parameters"]["dry_run"]["defaultValue"] is True
