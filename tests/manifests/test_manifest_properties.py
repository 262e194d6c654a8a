"""Invariants over many generated workloads and fleets: whatever renders, validates and holds."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gpukit as gk
from gpukit.manifests import object_kind
from gpukit.validate import validate_objects

FLEETS = [
    ("default", {}),
    ("default", {"volcano": False, "jobset": True}),
    ("default", {"volcano": False, "kubeflow_trainer": True, "lws": True}),
    ("default", {"dra": True, "lws": True}),
    ("dra", {}),
    ("kai", {}),
    ("no-volcano", {}),
]
SUSPEND = {
    "Job": ("spec", "suspend"),
    "JobSet": ("spec", "suspend"),
    "TrainJob": ("spec", "suspend"),
    "PyTorchJob": ("spec", "runPolicy", "suspend"),
}


@st.composite
def workloads(draw) -> dict[str, Any]:
    kind = draw(st.sampled_from(gk.workload.KINDS))
    fields: dict[str, Any] = {"kind": kind}
    if kind in ("training", "fine-tuning", "inference"):
        fields["workers"] = draw(st.integers(1, 3))
    if kind in ("inference", "batch-inference", "ci"):
        fields["replicas"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        fields["gpus"] = draw(st.sampled_from([1, 2, 4, 8]))
    else:
        fields["gpu_memory"] = f"{draw(st.integers(1, 300))}Gi"
    fields["isolation"] = draw(st.sampled_from([None, "strict", "process", "none"]))
    fields["team"] = draw(st.sampled_from([None, "team-nlp", "team-research", "team-vision"]))
    fields["preemptible"] = draw(st.booleans())
    return {k: v for k, v in fields.items() if v is not None}


def _pods(node: Any):
    if isinstance(node, dict):
        if isinstance(node.get("containers"), list) and "nodeSelector" in node:
            yield node
        for value in node.values():
            yield from _pods(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pods(value)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=workloads(), which=st.sampled_from(range(len(FLEETS))))
def test_whatever_renders_is_valid_deterministic_and_asks_for_the_planned_gpus(
    fleet, fields, which
):
    name, installed = FLEETS[which]
    try:
        p = gk.plan(gk.Workload(name="w", **fields), fleet(name, **installed))
        objects = gk.render(p)
    except gk.NoFeasiblePlan:
        assume(False)
    except gk.InputError as exc:  # DRA: more pods than one shared GPU has shares
        assert "shares" in str(exc)
        assume(False)
    assert [str(i) for i in validate_objects(objects)] == []
    assert gk.to_yaml(objects) == gk.to_yaml(gk.render(p))
    top = objects[-1]
    if object_kind(p) == "TrainJob":  # GPUs in trainer.resourcesPerNode; pods are patches
        pods = []
        resource_sets = [top["spec"]["trainer"]["resourcesPerNode"]]
    else:
        pods = [pod for obj in objects for pod in _pods(obj.get("spec", {}))]
        resource_sets = [pod["containers"][0]["resources"] for pod in pods]
        assert pods
    for resources in resource_sets:
        if p.fleet.installed.dra:
            assert resources["claims"] == [{"name": "gpu"}]
        else:
            assert resources["limits"][p.choice.resource_name] == p.choice.gpus
    if p.scheduler == "kueue":
        assert top["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == p.queue
        path = SUSPEND.get(top["kind"])
        if path:
            node: Any = top
            for key in path:
                node = node[key]
            assert node is True
    if p.priority_class:
        # A TrainJob cannot carry a pod priority class; it goes through Kueue's label.
        assert all(pod.get("priorityClassName") == p.priority_class for pod in pods)
        if top["kind"] == "TrainJob":
            assert top["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == p.priority_class
