"""Pods -> workloads: kind from owners and labels, GPUs from requests, priority from QoS."""

from __future__ import annotations

import json

import pytest

from gpukit.errors import InputError
from gpukit.sizing import load_pods, workloads_from_pods

GIB = 1024**3


@pytest.mark.parametrize(
    ("owner", "labels", "kind"),
    [
        (("ReplicaSet", "bert-serve-5d8f7c9b4"), {}, "inference"),
        (("StatefulSet", "vllm"), {}, "inference"),
        (("Job", "nightly-embeddings"), {}, "batch-inference"),
        (("Job", "llama-lora-sft"), {}, "fine-tuning"),
        (("Job", "resnet"), {}, "training"),
        (None, {"training.kubeflow.org/job-name": "ddp"}, "training"),
        (None, {"volcano.sh/job-name": "gang"}, "training"),
        (("StatefulSet", "nb"), {"notebook-name": "nb"}, "interactive"),
        (None, {}, "interactive"),
        (("Job", "ci-gpu-tests"), {}, "ci"),
        (("ReplicaSet", "x-5d8f7c9b4"), {"gpukit.io/kind": "batch-inference"}, "batch-inference"),
    ],
    ids=[
        "deployment",
        "statefulset",
        "job-scoring",
        "job-finetune",
        "job-training",
        "kubeflow-job",
        "volcano-job",
        "notebook",
        "bare-pod",
        "ci-job",
        "label-wins",
    ],
)
def test_kind_from_owner_and_labels(make_pod, owner, labels, kind):
    pods = [make_pod("p-0", owner=owner, labels=labels, limits={"nvidia.com/gpu": 1})]
    (w,) = workloads_from_pods(pods).workloads
    assert w.kind == kind


def test_owners_group_pods_into_replicas_and_gang_workers(make_pod):
    rs = ("ReplicaSet", "bert-serve-5d8f7c9b4")
    pods = [make_pod(f"bert-{i}", owner=rs, limits={"nvidia.com/gpu": 1}) for i in range(3)]
    pods += [
        make_pod(
            f"ddp-worker-{i}",
            labels={"training.kubeflow.org/job-name": "ddp"},
            limits={"nvidia.com/gpu": 8},
        )
        for i in range(4)
    ]
    out = workloads_from_pods(pods)
    by_name = {w.name: w for w in out.workloads}
    assert by_name["team-a-bert-serve"].replicas == 3 and by_name["team-a-bert-serve"].gpus == 1
    assert (by_name["team-a-ddp"].workers, by_name["team-a-ddp"].gpus) == (4, 8)
    assert (
        out.gpu_pods == 7
        and out.sources["team-a-ddp"] == "team-a/Kubeflow training job ddp (4 pods)"
    )


def test_mig_and_shared_requests(make_pod):
    pods = [
        make_pod(
            "m", owner=("ReplicaSet", "small-5d8f7c9b4"), limits={"nvidia.com/mig-1g.10gb": 1}
        ),
        make_pod("s", owner=("ReplicaSet", "nb-5d8f7c9b4"), limits={"nvidia.com/gpu.shared": 1}),
    ]
    mig, shared = sorted(workloads_from_pods(pods).workloads, key=lambda w: w.name)[::-1]
    assert mig.name == "team-a-small" and mig.isolation == "strict" and mig.gpus is None
    # the slice's memory less gpukit's headroom, so that the same slice fits again
    assert 8 * GIB < mig.gpu_memory_bytes <= 10 * GIB / 1.1
    assert shared.isolation == "none" and shared.gpus is None


def test_cpu_only_and_finished_pods_are_counted_not_sized(make_pod):
    pods = [
        make_pod("cpu", owner=("ReplicaSet", "web-5d8f7c9b4")),
        make_pod("done", owner=("Job", "old"), limits={"nvidia.com/gpu": 1}, phase="Succeeded"),
        make_pod("gpu", owner=("Job", "train"), limits={"nvidia.com/gpu": 1}),
    ]
    out = workloads_from_pods(pods)
    assert [w.name for w in out.workloads] == ["team-a-train"]
    assert out.skipped == {"no GPU requested": 1, "finished (Succeeded or Failed)": 1}
    assert out.notes[0] == (
        "3 pods read: 1 GPU pods in 1 workloads; 1 finished (Succeeded or Failed), not sized; "
        "1 no GPU requested, not sized"
    )


@pytest.mark.parametrize(
    ("qos", "cls", "prio", "expected"),
    [
        ("Guaranteed", None, None, ("latency", False)),
        ("BestEffort", None, None, ("cost", True)),
        ("Burstable", "low-priority", None, ("cost", True)),
        ("Burstable", "production-high", None, ("latency", False)),
        ("Burstable", None, -10, ("cost", True)),
        ("Burstable", None, None, (None, False)),
        ("Burstable", "non-preemptible", None, (None, False)),
        ("Burstable", "slow-lane", None, (None, False)),
    ],
    ids=[
        "guaranteed",
        "best-effort",
        "low-class",
        "high-class",
        "negative-priority",
        "default",
        "non-preemptible",
        "word-low-only",
    ],
)
def test_priority_from_qos_and_priority_class(make_pod, qos, cls, prio, expected):
    pod = make_pod(
        "p",
        owner=("ReplicaSet", "svc-5d8f7c9b4"),
        limits={"nvidia.com/gpu": 1},
        qos=qos,
        priority_class=cls,
        priority=prio,
    )
    (w,) = workloads_from_pods([pod]).workloads
    assert (w.priority, w.preemptible) == expected


def test_measured_memory_lets_whole_gpu_serving_pods_share(make_pod):
    pods = [
        make_pod(f"s-{i}", owner=("ReplicaSet", "svc-5d8f7c9b4"), limits={"nvidia.com/gpu": 1})
        for i in range(2)
    ]
    pods.append(make_pod("t-0", owner=("Job", "train"), limits={"nvidia.com/gpu": 1}))
    usage = {("team-a", "s-0"): 3 * GIB, ("team-a", "s-1"): 5 * GIB, ("team-a", "t-0"): 2 * GIB}
    out = workloads_from_pods(pods, usage)
    svc, train = sorted(out.workloads, key=lambda w: w.name)
    assert svc.gpus is None and svc.gpu_memory_bytes == 5 * GIB  # the peak of its pods
    assert train.gpus == 1  # training keeps whole GPUs whatever it uses
    assert out.measured == {"team-a-svc"}
    without = workloads_from_pods(pods)
    assert {w.gpus for w in without.workloads} == {1}
    assert any("sized as whole GPUs" in n and "2 whole-GPU pods" in n for n in without.notes)


def test_names_are_dns_labels_and_unique(make_pod):
    long = "x" * 80
    pods = [
        make_pod("a", namespace="ns", owner=("Job", long), limits={"nvidia.com/gpu": 1}),
        make_pod("b", namespace="ns", owner=("Job", long), limits={"nvidia.com/gpu": 2}),
    ]
    names = [w.name for w in workloads_from_pods(pods).workloads]
    assert len(set(names)) == 2 and all(len(n) <= 63 for n in names)


def test_load_pods_streams_a_podlist_json(make_pod, tmp_path):
    # Far more than one document's limit in all: read item by item.
    pods = [
        make_pod(f"p-{i}", owner=("Job", f"j{i}"), limits={"nvidia.com/gpu": 1})
        for i in range(6000)
    ]
    for p in pods:
        p["metadata"]["annotations"] = {"note": "y" * 400}
    path = tmp_path / "pods.json"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "items": pods,
                "kind": "List",
                "metadata": {"resourceVersion": ""},
            },
            indent=2,
        )
    )
    assert path.stat().st_size > 2 * 1024 * 1024
    assert sum(1 for _ in load_pods(path)) == 6000
    lines = tmp_path / "pods.jsonl"
    lines.write_text("".join(json.dumps(p) + "\n" for p in pods[:5]))
    assert [p["metadata"]["name"] for p in load_pods(lines)] == [f"p-{i}" for i in range(5)]


def test_load_pods_refuses_other_kinds(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"kind": "List", "items": [{"kind": "Node", "metadata": {}}]}))
    with pytest.raises(InputError, match="expected Pods, got a Node"):
        list(load_pods(path))
