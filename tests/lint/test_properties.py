"""Hypothesis: whatever the manifest, lint returns findings or raises a clean input error."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpukit.errors import ManifestError
from gpukit.fleet import default_fleet
from gpukit.lint import Finding, fix_objects, lint, to_json, to_sarif, to_table
from gpukit.workload import Workload

GPU = "nvidia.com/gpu"
_CTR = {"name": "c", "image": "cuda:12.4", "command": ["torchrun"],
        "resources": {"limits": {GPU: 1}, "requests": {"cpu": "1", "memory": "1Gi"}},
        "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}],
        "volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"}]}
_SPEC = {"containers": [_CTR], "initContainers": [_CTR], "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"},
         "tolerations": [{"key": GPU, "operator": "Exists"}], "volumes": [{"name": "dshm", "emptyDir": {}}],
         "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
             "nodeSelectorTerms": [{"matchExpressions": [{"key": "nvidia.com/gpu.product", "operator": "In",
                                                           "values": ["NVIDIA-A100-SXM4-80GB"]}]}]}}}}
_TEMPLATE = {"metadata": {"labels": {"a": "b"}, "annotations": {"gpukit.io/gpu-memory": "4Gi"}}, "spec": _SPEC}
_META = {"name": "small", "namespace": "ml", "labels": {"kueue.x-k8s.io/queue-name": "q"}}

SEEDS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Pod", "metadata": _META, "spec": _SPEC},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _META,
     "spec": {"replicas": 2, "template": _TEMPLATE}},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _META,
     "spec": {"jobTemplate": {"metadata": {"labels": {}}, "spec": {"parallelism": 2, "template": _TEMPLATE}}}},
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": _META,
     "spec": {"completionMode": "Indexed", "parallelism": 3, "template": _TEMPLATE}},
    {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": _META,
     "spec": {"runPolicy": {}, "pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": _TEMPLATE},
                                                       "Worker": {"replicas": 3, "template": _TEMPLATE}}}},
    {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": _META,
     "spec": {"minAvailable": 9, "plugins": {"pytorch": []},
              "tasks": [{"name": "w", "replicas": 2, "minAvailable": 3, "template": _TEMPLATE}]}},
    {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "metadata": _META,
     "spec": {"replicatedJobs": [{"name": "w", "replicas": 2, "template": {"spec": {"parallelism": 2,
                                                                                    "template": _TEMPLATE}}}]}},
    {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": _META,
     "spec": {"runtimeRef": {"name": "torch"}, "trainer": {"numNodes": 2, "image": "x:latest",
                                                          "resourcesPerNode": {"limits": {GPU: "0.5"}}}}},
    {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "ClusterTrainingRuntime", "metadata": {"name": "torch"},
     "spec": {"mlPolicy": {"numNodes": 2, "torch": {}}, "template": {"spec": {"replicatedJobs": [
         {"name": "node", "template": {"spec": {"template": _TEMPLATE}}}]}}}},
    {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": _META,
     "spec": {"replicas": 2, "leaderWorkerTemplate": {"size": 3, "leaderTemplate": _TEMPLATE,
                                                      "workerTemplate": _TEMPLATE}}},
    {"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": _META,
     "spec": {"rayClusterSpec": {"headGroupSpec": {"template": _TEMPLATE},
                                 "workerGroupSpecs": [{"groupName": "g", "replicas": 2, "template": _TEMPLATE}]}}},
    {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "spec": _SPEC}]},
    {"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "LocalQueue", "metadata": {"name": "q", "namespace": "ml"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
     "data": {"a": "version: v1\nsharing:\n  timeSlicing:\n    resources: [{name: nvidia.com/gpu, replicas: 1}]\n",
              "config.yaml": "version: v1\nmig-configs:\n  x:\n  - {devices: all, mig-enabled: true, "
                             "mig-devices: {1g.10gb: 9}}\n"}},
    {"version": "v1", "flags": {"migStrategy": "mixed", "plugin": {"deviceListStrategy": ["envvar"]}},
     "sharing": {"mps": {"resources": [{"name": GPU, "replicas": 99}]},
                 "timeSlicing": {"resources": [{"name": GPU, "replicas": 2}]}}, "imex": {"channelIDs": [3]}},
    {"version": "v1", "mig-configs": {"all": [{"devices": "all", "mig-enabled": True,
                                               "mig-devices": {"1g.10gb": 7}}]}},
    {"operator": {}, "mig": {}, "dcgmExporter": {"enabled": False}},
]

_KEYS = st.sampled_from([
    "spec", "metadata", "containers", "resources", "limits", "requests", GPU, "nvidia.com/mig-1g.10gb",
    "nvidia.com/gpu.shared", "replicas", "template", "tasks", "name", "kind", "apiVersion", "items",
    "sharing", "timeSlicing", "mps", "flags", "migStrategy", "mig-configs", "mig-devices", "devices",
    "minAvailable", "labels", "nodeSelector", "tolerations", "env", "value", "image", "volumes",
]) | st.text(max_size=6)
_LEAVES = (
    st.none() | st.booleans() | st.integers(-5, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
    | st.sampled_from(["0.5", "500m", "1e999", "-1", "2", "Exists", "mixed", "volcano", "all", "Memory",
                       "NVIDIA-L4-SHARED", "time-slicing", "v1", "x:latest"])
)
_VALUES = st.recursive(
    _LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=12
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.extend(_paths(child, (*prefix, i)))
    return out


def _replace(root: Any, path: tuple[Any, ...], new: Any, delete: bool) -> None:
    node = root
    for part in path[:-1]:
        node = node[part]
    if delete and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = new


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    obj = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(obj)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        _replace(obj, path, draw(_VALUES), draw(st.booleans()))
    return obj


_CONTEXT = {"fleet": default_fleet(), "workloads": [Workload(name="small", kind="inference", gpu_memory="4Gi")]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(manifests(), min_size=1, max_size=3), st.booleans())
def test_random_manifests_give_findings_never_crashes(objects: list[dict[str, Any]], context: bool) -> None:
    kwargs = _CONTEXT if context else {}
    try:
        findings = lint(objects, **kwargs)
    except ManifestError:
        return
    assert all(isinstance(f, Finding) for f in findings)
    json.loads(to_json(findings))
    json.loads(to_sarif(findings))
    to_table(findings)
    fixed = fix_objects(objects, findings)
    assert len(fixed) == len(objects)
    lint(fixed, **kwargs)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abk:-[]{}&*!|>'\"#\n\t 0123456789.,?%@`")), max_size=120))
def test_random_text_gives_findings_or_a_manifest_error(text: str) -> None:
    handle, name = tempfile.mkstemp(suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            findings = lint(name)
        except ManifestError as exc:
            assert "\n" not in str(exc)
            return
        assert all(isinstance(f, Finding) for f in findings)
    finally:
        os.unlink(name)


@settings(max_examples=60, deadline=None)
@given(st.lists(manifests(), min_size=1, max_size=2))
def test_lint_is_deterministic(objects: list[dict[str, Any]]) -> None:
    try:
        first = to_json(lint(objects))
    except ManifestError:
        return
    assert to_json(lint(copy.deepcopy(objects))) == first
