"""gpukit.kfp: a Plan on a KFP task, checked in the compiled pipeline spec."""

# No `from __future__ import annotations` here: kfp reads component annotations as types.


import pytest
import yaml
from kfp import compiler, dsl

import gpukit as gk
from gpukit import kfp as gk_kfp


@dsl.component(base_image="python:3.11")
def step() -> str:
    return "ok"


def compile_pipeline(tmp_path, build):
    @dsl.pipeline(name="p")
    def pipeline():
        build(step())

    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    spec, platform = yaml.safe_load_all(path.read_text())
    (executor,) = spec["deploymentSpec"]["executors"].values()
    (k8s,) = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"].values()
    return executor["container"], k8s


def test_apply_plan_puts_mig_resource_selector_and_toleration(tmp_path):
    plan = gk.plan(gk.Workload(name="bert", kind="inference", gpu_memory="6Gi", isolation="strict"))
    container, k8s = compile_pipeline(tmp_path, lambda t: gk_kfp.apply_plan(t, plan))
    assert container["resources"]["accelerator"]["resourceType"] == "nvidia.com/mig-1g.10gb"
    assert container["resources"]["accelerator"]["resourceCount"] == "1"
    assert k8s["nodeSelector"]["labels"]["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in k8s["tolerations"]


def test_apply_plan_adds_queue_label_and_dev_shm_for_queued_training(tmp_path):
    plan = gk.plan(gk.Workload(name="ft", kind="fine-tuning", gpu_memory="20Gi", team="team-nlp"))
    container, k8s = compile_pipeline(tmp_path, lambda t: gk_kfp.apply_plan(t, plan))
    assert k8s["podMetadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-nlp"
    assert k8s["emptyDirMounts"][0]["mountPath"] == "/dev/shm"
    assert k8s["emptyDirMounts"][0]["medium"] == "Memory"
    assert container["resources"]["accelerator"]["resourceType"] == "nvidia.com/gpu"


def test_apply_plan_refuses_a_gang_and_points_to_the_launcher():
    plan = gk.plan(gk.Workload(name="ddp", kind="training", workers=2, gpus=8, team="team-research"))

    with pytest.raises(gk_kfp.KfpCannotExpress, match="launch_gpu_workload"):

        @dsl.pipeline(name="p")
        def pipeline():
            gk_kfp.apply_plan(step(), plan)


def test_request_gpus_reads_like_the_catalog(tmp_path):
    container, k8s = compile_pipeline(tmp_path, lambda t: gk_kfp.request_gpus(t, "A100:2"))
    assert container["resources"]["accelerator"] == {
        "count": "2", "resourceCount": "2", "resourceType": "nvidia.com/gpu", "type": "nvidia.com/gpu",
    }
    assert k8s["nodeSelector"]["labels"]["nvidia.com/gpu.product"] == gk.get_gpu("A100").product


def test_request_mig_uses_the_mixed_strategy_name(tmp_path):
    container, _ = compile_pipeline(tmp_path, lambda t: gk_kfp.request_mig(t, "1g.10gb", gpu="H100"))
    assert container["resources"]["accelerator"]["resourceType"] == "nvidia.com/mig-1g.10gb"


def test_request_mig_rejects_a_profile_the_gpu_lacks():
    with pytest.raises(gk.InputError, match="does not exist on H100-80GB"):
        gk_kfp.request_mig(object(), "1g.5gb", gpu="H100")
