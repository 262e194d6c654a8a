"""submit(): plan on the discovered fleet, render, apply; what it renders fits the real nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpukit import kube
from gpukit.workload import Workload, load_workloads


def pod_specs(obj: dict) -> list[dict]:
    spec = obj.get("spec") or {}
    if obj["kind"] == "Pod":
        return [spec]
    if "tasks" in spec:  # Volcano Job
        return [t["template"]["spec"] for t in spec["tasks"]]
    if "template" in spec:
        return [spec["template"]["spec"]]
    return []


def tolerated(taint: dict, tolerations: list[dict]) -> bool:
    return any(
        t.get("key") == taint["key"]
        and t.get("effect") in (None, taint["effect"])
        and (t.get("operator") == "Exists" or t.get("value") == taint.get("value"))
        for t in tolerations
    )


EXAMPLES = [
    w.name for w in load_workloads(Path(__file__).resolve().parents[2] / "examples" / "workloads")
]


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_submit_and_land_on_real_nodes(api, cluster, examples_dir, name):
    (workload,) = [w for w in load_workloads(examples_dir / "workloads") if w.name == name]
    submission = kube.submit(workload, cluster=cluster)
    assert submission.ok, submission.result.table()
    nodes = api.list("v1", "Node")
    for obj in submission.objects:
        for spec in pod_specs(obj):
            fits = [
                n
                for n in nodes
                if all(n["metadata"]["labels"].get(k) == v for k, v in spec["nodeSelector"].items())
                and all(
                    tolerated(t, spec.get("tolerations", [])) for t in n["spec"].get("taints", [])
                )
            ]
            assert fits, (
                f"{obj['kind']} {name}: nodeSelector {spec['nodeSelector']} matches no node"
            )
            wanted = {
                k: v
                for c in spec["containers"]
                for k, v in c["resources"]["limits"].items()
                if k.startswith("nvidia.com/")
            }
            for node in fits:
                for resource, amount in wanted.items():
                    assert int(node["status"]["allocatable"][resource]) >= int(amount)


def test_submit_for_real_then_follow_it(api, cluster):
    workload = Workload(name="tiny", kind="batch-inference", gpu_memory="4Gi", team="team-vision")
    submission = kube.submit(workload, dry_run=False, cluster=cluster)
    assert submission.ok and submission.result.applied
    assert api.get("batch/v1", "Job", "tiny", "team-vision") is not None
    found = kube.status("tiny", "team-vision", cluster=cluster)
    assert found.kind == "Job" and found.phase in ("queued", "pending")


def test_namespace_override_reaches_the_plan_and_the_objects(api, cluster):
    workload = Workload(name="dev", kind="interactive", gpu_memory="4Gi")
    submission = kube.submit(workload, namespace="team-research", cluster=cluster)
    assert submission.plan.namespace == "team-research"
    assert {o["metadata"]["namespace"] for o in submission.objects} == {"team-research"}


def test_submit_discovers_the_fleet_unless_given(api, cluster):
    from gpukit.fleet import default_fleet

    workload = Workload(name="dev", kind="interactive", gpu_memory="4Gi")
    kube.submit(workload, fleet=default_fleet(), cluster=cluster)
    assert not any(r.path == "/api/v1/nodes" for r in api.requests)
    kube.submit(workload, cluster=cluster)
    assert any(r.path == "/api/v1/nodes" for r in api.requests)
    assert all(r.method in ("GET", "PATCH") for r in api.requests)
