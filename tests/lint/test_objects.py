"""Where pods are: every pod-bearing kind yields its templates and how many pods each makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gpukit.lint._engine import collect
from gpukit.lint._objects import Doc

T = {"spec": {"containers": [{"name": "c", "image": "i:1", "resources": {"limits": {"nvidia.com/gpu": 1}}}]}}


def obj(api: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": spec}


KINDS = [
    ("Pod", obj("v1", "Pod", T["spec"]), [("pod", 1)]),
    ("Deployment", obj("apps/v1", "Deployment", {"replicas": 3, "template": T}), [("deployment", 3)]),
    ("StatefulSet", obj("apps/v1", "StatefulSet", {"replicas": 2, "template": T}), [("statefulset", 2)]),
    ("DaemonSet", obj("apps/v1", "DaemonSet", {"template": T}), [("daemonset", 1)]),
    ("ReplicaSet", obj("apps/v1", "ReplicaSet", {"template": T}), [("replicaset", 1)]),
    ("Job", obj("batch/v1", "Job", {"parallelism": 4, "template": T}), [("job", 4)]),
    ("CronJob", obj("batch/v1", "CronJob", {"jobTemplate": {"spec": {"template": T}}}), [("job", 1)]),
    ("VolcanoJob", obj("batch.volcano.sh/v1alpha1", "Job", {"tasks": [
        {"name": "ps", "replicas": 1, "template": T}, {"name": "worker", "replicas": 4, "template": T}]}),
     [("task ps", 1), ("task worker", 4)]),
    ("VolcanoCronJob", obj("batch.volcano.sh/v1alpha1", "CronJob", {"jobTemplate": {"spec": {"tasks": [
        {"name": "w", "replicas": 2, "template": T}]}}}), [("task w", 2)]),
    ("PyTorchJob", obj("kubeflow.org/v1", "PyTorchJob", {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "template": T}, "Worker": {"replicas": 3, "template": T}}}),
     [("Master", 1), ("Worker", 3)]),
    ("MPIJob", obj("kubeflow.org/v2beta1", "MPIJob", {"mpiReplicaSpecs": {
        "Launcher": {"replicas": 1, "template": T}, "Worker": {"replicas": 2, "template": T}}}),
     [("Launcher", 1), ("Worker", 2)]),
    ("TrainJob", obj("trainer.kubeflow.org/v1alpha1", "TrainJob", {"trainer": {
        "numNodes": 4, "resourcesPerNode": {"limits": {"nvidia.com/gpu": 8}}}}), [("trainer", 4)]),
    ("ClusterTrainingRuntime", obj("trainer.kubeflow.org/v1alpha1", "ClusterTrainingRuntime", {
        "mlPolicy": {"numNodes": 2}, "template": {"spec": {"replicatedJobs": [
            {"name": "initializer", "template": {"spec": {"template": T}}},
            {"name": "node", "template": {"spec": {"template": T}}}]}}}),
     [("job initializer", 1), ("job node", 2)]),
    ("JobSet", obj("jobset.x-k8s.io/v1alpha2", "JobSet", {"replicatedJobs": [
        {"name": "workers", "replicas": 2, "template": {"spec": {"parallelism": 4, "template": T}}}]}),
     [("job workers", 8)]),
    ("LeaderWorkerSet", obj("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet", {
        "replicas": 2, "leaderWorkerTemplate": {"size": 4, "leaderTemplate": T, "workerTemplate": T}}),
     [("leader", 2), ("worker", 6)]),
    ("LeaderWorkerSet-workers-only", obj("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet", {
        "leaderWorkerTemplate": {"size": 3, "workerTemplate": T}}), [("worker", 3)]),
    ("RayCluster", obj("ray.io/v1", "RayCluster", {"headGroupSpec": {"template": T}, "workerGroupSpecs": [
        {"groupName": "gpu", "replicas": 2, "numOfHosts": 2, "template": T}]}),
     [("head", 1), ("workers gpu", 4)]),
    ("RayJob", obj("ray.io/v1", "RayJob", {"rayClusterSpec": {"headGroupSpec": {"template": T},
                                                              "workerGroupSpecs": [{"template": T}]}}),
     [("head", 1), ("workers 0", 1)]),
    ("not-a-workload", obj("v1", "Service", {"ports": []}), []),
    ("garbage-spec", obj("apps/v1", "Deployment", ["not", "a", "mapping"]), []),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("manifest", "expected"), [k[1:] for k in KINDS], ids=[k[0] for k in KINDS])
def test_pod_sites(manifest: dict[str, Any], expected: list[tuple[str, int]]) -> None:
    (doc,) = collect([manifest])
    assert [(p.role, p.replicas) for p in doc.pods] == expected
    assert all(p.uses_gpu for p in doc.pods)


@pytest.mark.parametrize("folder", ["jobset", "lws", "kuberay", "kubeflow-trainer", "volcano",
                                    "mpi-operator", "kubeflow-training-operator", "kueue"])
def test_real_examples_have_pods(reference_dir: Path, folder: str) -> None:
    docs = collect([reference_dir / "examples" / folder])
    workloads = [d for d in docs if d.kind not in (
        "Queue", "LocalQueue", "ClusterQueue", "ResourceFlavor", "Cohort", "ConfigMap", "Service",
        "WorkloadPriorityClass", "AdmissionCheck", "MultiKueueConfig", "MultiKueueCluster",
        "ProvisioningRequestConfig", "Topology", "Namespace", "JobFlow")]
    assert workloads
    assert all(d.pods for d in workloads), [d.kind for d in workloads if not d.pods]


def test_categories() -> None:
    assert Doc("f", 0, {"version": "v1", "sharing": {}}).category == "device-plugin"
    assert Doc("f", 0, {"version": "v1", "mig-configs": {}}).category == "mig-parted"
    assert Doc("f", 0, {"driver": {}, "toolkit": {}}).category == "operator-values"
    assert Doc("f", 0, {"apiVersion": "v1", "kind": "Pod"}).category == "object"
    assert Doc("f", 0, [1, 2]).category == "other"
