"""Every example workload renders to exactly its saved YAML (golden files).

Regenerate on purpose with GPUKIT_REGENERATE_GOLDEN=1; CI never sets it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

import gpukit as gk

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "workloads"
EXAMPLES = sorted((ROOT / "examples" / "workloads").glob("*.yaml"))
REGENERATE = os.environ.get("GPUKIT_REGENERATE_GOLDEN") == "1"


def test_there_are_at_least_seven_examples():
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_manifests_match_golden(example):
    (workload,) = gk.load_workloads(example)
    text = gk.to_yaml(gk.render(gk.plan(workload)))
    golden = GOLDEN / f"{workload.name}.yaml"
    if REGENERATE:
        golden.write_text(text)
    assert golden.exists(), (
        f"no golden file for {workload.name}; run with GPUKIT_REGENERATE_GOLDEN=1"
    )
    assert text == golden.read_text()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_rendering_is_deterministic_and_reparses(example):
    (workload,) = gk.load_workloads(example)
    first = gk.to_yaml(gk.render(gk.plan(workload)))
    assert first == gk.to_yaml(gk.render(gk.plan(workload)))
    docs = list(yaml.safe_load_all(first))
    assert docs == gk.render(gk.plan(workload))
    assert "&id" not in first and "*id" not in first


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_gpu_resources_are_in_limits_with_the_gpu_toleration(example):
    (workload,) = gk.load_workloads(example)
    p = gk.plan(workload)
    for pod in _pod_specs(gk.render(p)):
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
            "tolerations"
        ]
        assert pod["nodeSelector"]["nvidia.com/gpu.product"].startswith(p.pool.gpu_product)
        for c in pod["containers"]:
            assert c["resources"]["limits"][p.choice.resource_name] == p.choice.gpus
            assert not any(k.startswith("nvidia.com/") for k in c["resources"]["requests"])


def _pod_specs(objects):
    for obj in objects:
        spec = obj.get("spec", {})
        if obj["kind"] == "Pod":
            yield spec
        elif "template" in spec:
            yield spec["template"]["spec"]
        for task in spec.get("tasks", []):
            yield task["template"]["spec"]


def test_mig_plan_requests_the_mixed_strategy_resource():
    p = gk.plan(gk.Workload(name="a", kind="inference", gpu_memory="6Gi", isolation="strict"))
    (deployment,) = [o for o in gk.render(p) if o["kind"] == "Deployment"]
    limits = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/mig-1g.10gb"] == 1


def test_kueue_job_carries_queue_label_and_starts_suspended():
    p = gk.plan(gk.Workload(name="a", kind="fine-tuning", team="team-nlp", gpu_memory="20Gi"))
    (job,) = gk.render(p)
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-nlp"
    assert job["metadata"]["namespace"] == "team-nlp"
    assert job["spec"]["suspend"] is True


def test_volcano_job_is_a_gang_of_all_workers():
    p = gk.plan(gk.Workload(name="a", kind="training", workers=3, gpus=8, team="team-research"))
    (job,) = gk.render(p)
    assert job["apiVersion"] == "batch.volcano.sh/v1alpha1"
    assert job["spec"]["minAvailable"] == 3
    assert sum(t["replicas"] for t in job["spec"]["tasks"]) == 3
    assert job["spec"]["queue"] == "team-research"


def test_time_sliced_pod_selects_the_shared_product_label():
    p = gk.plan(gk.Workload(name="a", kind="interactive"))
    (pod,) = gk.render(p)
    assert pod["spec"]["nodeSelector"]["nvidia.com/gpu.product"] == "NVIDIA-L4-SHARED"
    assert pod["spec"]["nodeSelector"]["nvidia.com/gpu.sharing-strategy"] == "time-slicing"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_manifests_pass_the_schemas(example):
    from gpukit.validate import validate_objects

    (workload,) = gk.load_workloads(example)
    assert [str(i) for i in validate_objects(gk.render(gk.plan(workload)))] == []
