"""The names gpukit renders are the ones the projects' own examples and CRDs use."""

from __future__ import annotations

import yaml

from gpukit import vocab
from gpukit.integrations import trainer
from tests._reference import crd_text

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the CRDs are megabytes of YAML


def _docs(path):
    return [d for d in yaml.load_all(path.read_text(), Loader=_LOADER) if d]


def _crd_schema(reference_dir, stem, version):
    (crd,) = [d for d in yaml.load_all(crd_text(stem), Loader=_LOADER) if d]
    (v,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return v["schema"]["openAPIV3Schema"]


def _has_path(schema, *keys):
    node = schema
    for key in keys:
        node = node.get("properties", {}).get(key)
        if node is None:
            return False
    return True


def test_kai_label_and_scheduler_name_match_kai_examples(reference_dir):
    (job,) = _docs(reference_dir / "examples" / "kai-scheduler" / "batch-job.yaml")
    pod = job["spec"]["template"]
    assert vocab.KAI_QUEUE_LABEL in pod["metadata"]["labels"]
    assert pod["spec"]["schedulerName"] == vocab.KAI_SCHEDULER
    (pytorch,) = _docs(reference_dir / "examples" / "kai-scheduler" / "batch-pytorch-job.yaml")
    assert vocab.KAI_QUEUE_LABEL in pytorch["metadata"]["labels"]


def test_kueue_queue_label_matches_kueue_examples(reference_dir):
    (job,) = _docs(reference_dir / "examples" / "kueue" / "jobs-sample-pytorchjob.yaml")
    assert vocab.KUEUE_QUEUE_LABEL in job["metadata"]["labels"]


def test_trainer_runtime_names_match_the_torch_distributed_runtime(reference_dir):
    (runtime,) = _docs(
        reference_dir / "examples" / "kubeflow-trainer" / "runtime-torch_distributed.yaml"
    )
    assert runtime["metadata"]["name"] == trainer.TRAINING_RUNTIME
    (replicated,) = runtime["spec"]["template"]["spec"]["replicatedJobs"]
    assert replicated["name"] == trainer.TRAINER_JOB
    (container,) = replicated["template"]["spec"]["template"]["spec"]["containers"]
    assert container["name"] == trainer.TRAINER_CONTAINER


def test_lws_leader_service_selects_like_the_lws_examples(reference_dir):
    docs = _docs(reference_dir / "examples" / "lws" / "vllm-gpu-lws.yaml")
    (service,) = [d for d in docs if d["kind"] == "Service"]
    assert vocab.LWS_NAME_LABEL in service["spec"]["selector"]
    assert service["spec"]["selector"]["role"] == "leader"


def test_suspend_fields_exist_where_gpukit_sets_them(reference_dir):
    assert _has_path(
        _crd_schema(reference_dir, "trainer.kubeflow.org_trainjobs", "v1alpha1"), "spec", "suspend"
    )
    assert _has_path(
        _crd_schema(reference_dir, "jobset.x-k8s.io_jobsets", "v1alpha2"), "spec", "suspend"
    )
    assert _has_path(
        _crd_schema(reference_dir, "kubeflow.org_pytorchjobs", "v1"), "spec", "runPolicy", "suspend"
    )
    lws = _crd_schema(reference_dir, "leaderworkerset.x-k8s.io_leaderworkersets", "v1")
    assert not _has_path(lws, "spec", "suspend")  # Kueue manages LWS through its pods instead


def test_volcano_pytorch_plugin_arguments_match_the_volcano_example(reference_dir):
    (job,) = _docs(reference_dir / "examples" / "volcano" / "docs-pytorch-plugin-job.yaml")
    args = job["spec"]["plugins"]["pytorch"]
    assert "--master=master" in args and "--worker=worker" in args
    assert {t["name"] for t in job["spec"]["tasks"]} == {"master", "worker"}
