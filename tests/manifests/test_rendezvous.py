"""Every distributed training kind forms one torchrun job: consistent PET_* settings on every
pod, meeting at a host name that resolves to a pod of the same job by that kind's DNS rules.

Host names are computed here from the rendered objects and each controller's documented
convention, not from the renderer's code:
- Indexed Job: pod hostname ``<job>-<index>``, subdomain ``spec.template.spec.subdomain``
  served by a headless Service of that name.
- JobSet: ``<jobset>-<replicatedJob>-<job index>-<pod index>``, subdomain the JobSet name
  (``network.subdomain`` when set), with ``enableDNSHostnames``.
- Volcano Job with the svc plugin: ``<job>-<task>-<index>``, subdomain the job name.
- PyTorchJob and TrainJob: the operator injects torchrun's variables; gpukit must not set
  competing ones.
"""

from __future__ import annotations

from typing import Any

import pytest

import gpukit as gk
from gpukit.manifests.kinds import object_kind
from gpukit.manifests.pods import RENDEZVOUS_PORT

DDP = {"kind": "training", "workers": 3, "gpus": 4, "team": "team-research"}

# id -> (fleet name, installed overrides, expected kind)
KINDS = {
    "volcano": ("default", {}, "VolcanoJob"),
    "indexed-job": ("default", {"volcano": False}, "Job"),
    "jobset": ("default", {"volcano": False, "jobset": True}, "JobSet"),
    "pytorchjob": ("kai", {}, "PyTorchJob"),
    "trainjob": ("no-volcano", {}, "TrainJob"),
}
SELF_FORMED = ("VolcanoJob", "Job", "JobSet")


def _render(fleet, case: str) -> tuple[gk.Plan, list[dict[str, Any]]]:
    name, installed, kind = KINDS[case]
    p = gk.plan(gk.Workload(name=f"ddp-{case}", **DDP), fleet(name, **installed))
    assert object_kind(p) == kind
    return p, gk.render(p)


def _pod_hosts(objects: list[dict[str, Any]]) -> set[str]:
    """<hostname>.<subdomain> of every pod the job's controller will create."""
    hosts: set[str] = set()
    services = {
        o["metadata"]["name"]
        for o in objects
        if o["kind"] == "Service" and o["spec"].get("clusterIP") == "None"
    }
    for o in objects:
        name, spec = o["metadata"]["name"], o["spec"]
        if o["kind"] == "Job" and o["apiVersion"] == "batch/v1":
            assert spec["completionMode"] == "Indexed"
            sub = spec["template"]["spec"]["subdomain"]
            assert sub in services, "the subdomain needs a headless Service of that name"
            hosts |= {f"{name}-{i}.{sub}" for i in range(spec["completions"])}
        elif o["kind"] == "JobSet":
            assert spec["network"]["enableDNSHostnames"] is True
            sub = spec["network"].get("subdomain", name)
            for rj in spec["replicatedJobs"]:
                for j in range(rj.get("replicas", 1)):
                    for i in range(rj["template"]["spec"]["completions"]):
                        hosts.add(f"{name}-{rj['name']}-{j}-{i}.{sub}")
        elif o["kind"] == "Job" and o["apiVersion"].startswith("batch.volcano.sh/"):
            assert "svc" in spec["plugins"], "pod host names come from the svc plugin"
            for task in spec["tasks"]:
                assert "hostname" not in task["template"]["spec"]
                hosts |= {f"{name}-{task['name']}-{i}.{name}" for i in range(task["replicas"])}
    return hosts


def _containers(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("containers"), list):
                found.extend(c for c in node["containers"] if "image" in c)
            if isinstance(node.get("trainer"), dict):
                found.append(node["trainer"])  # a TrainJob's one container, env included
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(objects)
    return found


def _env(container: dict[str, Any]) -> dict[str, str]:
    names = [e["name"] for e in container.get("env", [])]
    assert len(names) == len(set(names)), f"duplicate env names: {names}"
    return {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.mark.parametrize("case", sorted(KINDS))
def test_every_distributed_kind_meets_at_a_pod_of_its_own_job(fleet, case):
    p, objects = _render(fleet, case)
    containers = _containers(objects)
    assert containers
    envs = [_env(c) for c in containers]
    if object_kind(p) not in SELF_FORMED:
        # The operator sets PET_* itself; a second value would make the pod ambiguous.
        assert not any(k.startswith("PET_") for env in envs for k in env)
        return
    hosts = _pod_hosts(objects)
    assert len(hosts) == p.workload.workers
    for env in envs:
        assert env["PET_NNODES"] == str(p.workload.workers)
        assert env["PET_NPROC_PER_NODE"] == str(p.choice.gpus)
        assert env["PET_RDZV_BACKEND"] == "c10d"
        assert env["PET_RDZV_ID"] == p.name
        host, _, port = env["PET_RDZV_ENDPOINT"].rpartition(":")
        assert host in hosts, f"{host} is not a pod of {p.name}: {sorted(hosts)}"
        assert port == str(RENDEZVOUS_PORT)
        if "MASTER_ADDR" in env:
            assert env["MASTER_ADDR"] == host
    # One rendezvous for the whole job: every pod names the same endpoint.
    assert len({env["PET_RDZV_ENDPOINT"] for env in envs}) == 1


def test_volcano_tasks_leave_master_variables_to_the_pytorch_plugin(fleet):
    p, objects = _render(fleet, "volcano")
    (job,) = [o for o in objects if o["kind"] == "Job"]
    assert "pytorch" in job["spec"]["plugins"]
    for container in _containers(objects):
        assert not {"MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"} & set(_env(container))
    # Both tasks run the same torchrun: master and workers add up to the node count.
    assert sum(t["replicas"] for t in job["spec"]["tasks"]) == p.workload.workers
