"""gpukit verify --probe: one tiny pod per pool and GPU resource, advertised resources, clean-up."""

from __future__ import annotations

import pytest

from gpukit.fleet import Fleet, default_fleet
from gpukit.verify import probe, probe_pod

TIME = "2026-01-01T00:00:00Z"


class SchedulerAndKubeletDouble:
    """Double of kube-scheduler + kubelet effects for probe pods: binds each pending probe pod
    to the first node that carries its nodeSelector and advertises its resource, and marks it
    Succeeded. Decides nothing a test would check: binding follows the pod's own selector."""

    def __init__(self, api, image_fails: bool = False) -> None:
        self.api = api
        self.image_fails = image_fails
        self.bound: dict[str, str] = {}

    def __call__(self, _seconds: float) -> None:
        nodes = self.api.list("v1", "Node")
        for pod in self.api.list("v1", "Pod", "default"):
            if pod["spec"].get("nodeName") or "gpukit.io/probe" not in pod["metadata"].get(
                "labels", {}
            ):
                continue
            selector = pod["spec"].get("nodeSelector") or {}
            (resource,) = pod["spec"]["containers"][0]["resources"]["limits"]
            fits = [
                n
                for n in nodes
                if all(n["metadata"]["labels"].get(k) == v for k, v in selector.items())
                and int(n["status"]["allocatable"].get(resource, 0)) > 0
            ]
            if not fits:
                pod["status"] = {
                    "phase": "Pending",
                    "conditions": [
                        {
                            "type": "PodScheduled",
                            "status": "False",
                            "reason": "Unschedulable",
                            "lastTransitionTime": TIME,
                            "message": f"0/{len(nodes)} nodes are available: {len(nodes)} Insufficient {resource}.",
                        }
                    ],
                }
            else:
                pod["spec"]["nodeName"] = fits[0]["metadata"]["name"]
                self.bound[pod["metadata"]["name"]] = fits[0]["metadata"]["name"]
                state = (
                    {"waiting": {"reason": "ErrImagePull", "message": "pull access denied"}}
                    if self.image_fails
                    else {"terminated": {"exitCode": 0, "reason": "Completed"}}
                )
                pod["status"] = {
                    "phase": "Pending" if self.image_fails else "Succeeded",
                    "containerStatuses": [
                        {
                            "name": "probe",
                            "image": "x",
                            "ready": False,
                            "restartCount": 0,
                            "state": state,
                        }
                    ],
                }
            for key in ("resourceVersion", "managedFields"):
                pod["metadata"].pop(key, None)
            self.api.add(pod)


def resources_of(report) -> list[tuple[str, str, str]]:
    return [(r.pool, r.resource, r.verdict) for r in report.results]


def test_every_pool_and_resource_probed_and_cleaned_up(api, cluster):
    double = SchedulerAndKubeletDouble(api)
    report = probe(
        default_fleet(), cluster=cluster, run_id="t1", sleep=double, interval=0, timeout=30
    )
    assert resources_of(report) == [
        ("h100-mig", "nvidia.com/mig-1g.10gb", "as planned"),
        ("h100-mig", "nvidia.com/mig-2g.20gb", "as planned"),
        ("h100-mig", "nvidia.com/mig-3g.40gb", "as planned"),
        ("a100-train", "nvidia.com/gpu", "as planned"),
        ("l4-shared", "nvidia.com/gpu", "as planned"),
        ("l4-mps", "nvidia.com/gpu", "as planned"),
    ]
    assert report.ok
    assert len(report.created) == 6 and set(report.created) == set(report.deleted)
    assert [
        p
        for p in api.list("v1", "Pod", "default")
        if "gpukit.io/probe" in p["metadata"].get("labels", {})
    ] == []
    # Each probe landed on a node of its own pool.
    assert double.bound[next(n for n in report.created if "a100" in n)].startswith("a100-")
    assert "probe t1: created 6 pods, deleted 6" in report.table()


def test_a_profile_no_node_advertises_is_named(api, cluster):
    fleet = default_fleet()
    pools = [p.model_dump() for p in fleet.node_pools]
    pools[0]["mig"]["layout"] = {"1g.10gb": 1, "2g.20gb": 1, "4g.40gb": 1}  # the nodes have 3g.40gb
    broken = Fleet.model_validate({**fleet.model_dump(), "node_pools": pools})
    report = probe(
        broken, cluster=cluster, sleep=SchedulerAndKubeletDouble(api), interval=0, timeout=30
    )
    row = next(r for r in report.results if r.resource == "nvidia.com/mig-4g.40gb")
    assert row.verdict == "differs"
    assert "no node of the pool advertises nvidia.com/mig-4g.40gb" in row.detail
    assert not report.ok
    assert "nvidia.com/mig-4g.40gb" not in " ".join(report.created), "nothing submitted for it"


def test_pool_without_nodes(api, cluster):
    api.delete("v1", "Node", "a100-0", None)
    for i in range(1, 4):
        api.delete("v1", "Node", f"a100-{i}", None)
    report = probe(
        default_fleet(),
        cluster=cluster,
        sleep=SchedulerAndKubeletDouble(api),
        interval=0,
        timeout=30,
    )
    row = next(r for r in report.results if r.pool == "a100-train")
    assert row.verdict == "differs" and "no node carries the pool's labels" in row.detail


def test_unpullable_image_is_stuck_and_still_deleted(api, cluster):
    report = probe(
        default_fleet(),
        cluster=cluster,
        sleep=SchedulerAndKubeletDouble(api, image_fails=True),
        interval=0,
        timeout=30,
    )
    assert {r.verdict for r in report.results} == {"stuck"}
    assert "use --probe-image pause" in report.results[0].detail
    assert set(report.created) == set(report.deleted)


def test_unbound_probe_times_out_with_advice(api, cluster):
    report = probe(default_fleet(), cluster=cluster, sleep=lambda s: None, interval=0, timeout=0)
    assert {r.verdict for r in report.results} == {"stuck"}
    assert set(report.created) == set(report.deleted) and len(report.created) == 6


@pytest.mark.parametrize("image", ["nvidia-smi", "pause", "my.registry/tools:1"])
def test_probe_pod_shape(image):
    pool = default_fleet().pool("h100-mig")
    pod = probe_pod(pool, "nvidia.com/mig-2g.20gb", run_id="abc", namespace="ns", image=image)
    spec = pod["spec"]
    assert spec["containers"][0]["resources"] == {"limits": {"nvidia.com/mig-2g.20gb": 1}}
    assert spec["nodeSelector"]["nvidia.com/mig.config"] == "all-balanced"
    assert spec["restartPolicy"] == "Never" and spec["activeDeadlineSeconds"] > 0
    assert pod["metadata"]["labels"]["gpukit.io/probe"] == "abc"
    assert len(pod["metadata"]["name"]) <= 63
    assert ("command" in spec["containers"][0]) == (image == "nvidia-smi")


def test_probe_pod_validates():
    from gpukit.validate import validate_objects

    pod = probe_pod(
        default_fleet().pool("l4-mps"), "nvidia.com/gpu", run_id="x", namespace="ns", image="pause"
    )
    assert not [i for i in validate_objects([pod]) if i.severity == "error"]
