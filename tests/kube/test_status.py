"""status() and wait(): phases of every job kind, pods, events, advice, watch faults."""

from __future__ import annotations

import threading

import pytest

from gpukit import kube
from gpukit.errors import ClusterError, InputError
from gpukit.fleet import default_fleet
from gpukit.kube._job_kinds import KINDS
from gpukit.testing import component_crds, event, pod

PHASE = {k.key: k.phase for k in KINDS}


def cond(type_: str, status: str = "True", message: str | None = None) -> dict:
    return {"type": type_, "status": status, **({"message": message} if message else {})}


PHASE_CASES = [
    ("job", {"status": {"conditions": [cond("Complete")]}}, "succeeded"),
    ("job", {"status": {"conditions": [cond("Failed", message="BackoffLimitExceeded")]}}, "failed"),
    (
        "job",
        {
            "spec": {"suspend": True},
            "metadata": {"labels": {"kueue.x-k8s.io/queue-name": "team-nlp"}},
        },
        "queued",
    ),
    ("job", {"spec": {"suspend": True}}, "suspended"),
    ("job", {"status": {"active": 2}}, "running"),
    ("job", {}, "pending"),
    ("vcjob", {"status": {"state": {"phase": "Completed"}}}, "succeeded"),
    ("vcjob", {"status": {"state": {"phase": "Aborted"}}}, "failed"),
    ("vcjob", {"status": {"state": {"phase": "Running"}}}, "running"),
    ("vcjob", {"status": {"state": {"phase": "Pending"}}}, "pending"),
    (
        "pytorchjob",
        {"status": {"conditions": [cond("Created"), cond("Running"), cond("Succeeded")]}},
        "succeeded",
    ),
    ("pytorchjob", {"status": {"conditions": [cond("Created"), cond("Running")]}}, "running"),
    (
        "pytorchjob",
        {"status": {"conditions": [cond("Running", "False"), cond("Failed")]}},
        "failed",
    ),
    ("pytorchjob", {"spec": {"runPolicy": {"suspend": True}}}, "suspended"),
    ("trainjob", {"status": {"conditions": [cond("Complete")]}}, "succeeded"),
    ("trainjob", {"status": {"conditions": [cond("Failed")]}}, "failed"),
    ("trainjob", {"status": {"jobsStatus": [{"name": "node", "active": 2}]}}, "running"),
    (
        "trainjob",
        {"spec": {"suspend": True}, "metadata": {"labels": {"kueue.x-k8s.io/queue-name": "q"}}},
        "queued",
    ),
    ("jobset", {"status": {"conditions": [cond("Completed")]}}, "succeeded"),
    ("jobset", {"status": {"replicatedJobsStatus": [{"name": "w", "active": 1}]}}, "running"),
    ("jobset", {}, "pending"),
    ("deployment", {"spec": {"replicas": 2}, "status": {"availableReplicas": 2}}, "ready"),
    ("deployment", {"spec": {"replicas": 2}, "status": {"availableReplicas": 1}}, "running"),
    (
        "deployment",
        {"status": {"conditions": [cond("Progressing", "False", "deadline")]}},
        "failed",
    ),
    (
        "lws",
        {
            "spec": {"replicas": 1},
            "status": {"readyReplicas": 1, "conditions": [cond("Available")]},
        },
        "ready",
    ),
    ("pod", {"status": {"phase": "Succeeded"}}, "succeeded"),
    ("pod", {"status": {"phase": "Pending"}}, "pending"),
]


@pytest.mark.parametrize(
    ("kind", "obj", "phase"),
    PHASE_CASES,
    ids=[f"{k}-{p}-{i}" for i, (k, _, p) in enumerate(PHASE_CASES)],
)
def test_phase_from_conditions(kind, obj, phase):
    assert PHASE[kind]({"metadata": {}, **obj})[0] == phase


def batch_job(
    name: str = "train", namespace: str = "team-nlp", status: dict | None = None, **spec
) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox"}],
                }
            },
            **spec,
        },
        **({"status": status} if status else {}),
    }


def job_pod(name: str, job: str = "train", **kwargs) -> dict:
    return pod(name, "team-nlp", labels={"batch.kubernetes.io/job-name": job}, **kwargs)


MIG_MESSAGE = (
    "0/11 nodes are available: 2 Insufficient nvidia.com/mig-1g.10gb, 9 node(s) "
    "didn't match Pod's node affinity/selector."
)


def test_pending_job_explains_scheduling_with_the_discovered_layouts(api, cluster):
    api.add(
        batch_job(),
        job_pod("train-0", unschedulable=MIG_MESSAGE, limits={"nvidia.com/mig-1g.10gb": 1}),
    )
    api.add(event(api.get("v1", "Pod", "train-0", "team-nlp"), "FailedScheduling", MIG_MESSAGE))
    found = kube.status("train", "team-nlp", cluster=cluster)
    assert found.phase == "pending" and found.kind == "Job"
    assert found.pods[0].reason == "Unschedulable"
    assert [a.code for a in found.advice] == ["INSUFFICIENT_MIG", "SELECTOR_MISMATCH"]
    assert (
        "h100-80gb-all-balanced (H100-80GB, all-balanced: 2x 1g.10gb + 1x 2g.20gb + "
        "1x 3g.40gb per GPU, 16 GPUs)" in found.advice[0].message
    )
    assert found.events == ()  # the same text as the pod's own condition: shown once
    assert "what to do [INSUFFICIENT_MIG]" in found.text()


def test_events_with_news_are_listed(api, cluster):
    api.add(batch_job(), job_pod("train-0", unschedulable=MIG_MESSAGE))
    older = "0/11 nodes are available: 11 Insufficient nvidia.com/mig-1g.10gb."
    api.add(event(api.get("v1", "Pod", "train-0", "team-nlp"), "FailedScheduling", older))
    found = kube.status("train", "team-nlp", cluster=cluster)
    assert found.events == (f"FailedScheduling Pod/train-0: {older}",)
    assert [a.code for a in found.advice] == ["INSUFFICIENT_MIG", "SELECTOR_MISMATCH"]
    assert "(2 nodes lack one)" in found.advice[0].message  # the pod's current condition


def test_a_given_fleet_is_used_and_nothing_is_discovered(api, cluster):
    api.add(batch_job(), job_pod("train-0", unschedulable=MIG_MESSAGE))
    found = kube.status("train", "team-nlp", fleet=default_fleet(), cluster=cluster)
    assert "h100-mig" in found.advice[0].message
    assert not any(r.path == "/api/v1/nodes" for r in api.requests)


def test_queued_in_kueue_shows_the_admission_message(api, cluster):
    api.add(*component_crds("kueue"))
    job = batch_job(suspend=True)
    job["metadata"]["labels"] = {"kueue.x-k8s.io/queue-name": "team-nlp"}
    api.add(job)
    uid = api.get("batch/v1", "Job", "train", "team-nlp")["metadata"]["uid"]
    message = (
        "couldn't assign flavors to pod set main: insufficient unused quota for "
        "nvidia.com/gpu in flavor h100, 8 more needed"
    )
    api.add(
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "Workload",
            "metadata": {
                "name": "job-train-1a2b3",
                "namespace": "team-nlp",
                "labels": {"kueue.x-k8s.io/job-uid": uid},
            },
            "spec": {},
            "status": {"conditions": [cond("QuotaReserved", "False", message)]},
        }
    )
    found = kube.status("train", "team-nlp", cluster=cluster)
    assert (found.phase, found.message) == ("queued", message)
    assert [a.code for a in found.advice] == ["KUEUE_QUOTA"]


def test_volcano_gang_waits(api, cluster):
    api.add(
        {
            "apiVersion": "batch.volcano.sh/v1alpha1",
            "kind": "Job",
            "metadata": {"name": "ddp", "namespace": "team-research"},
            "spec": {
                "minAvailable": 3,
                "tasks": [
                    {
                        "name": "w",
                        "replicas": 3,
                        "template": {"spec": {"containers": [{"name": "w", "image": "x"}]}},
                    }
                ],
            },
            "status": {"state": {"phase": "Pending"}},
        }
    )
    uid = api.get("batch.volcano.sh/v1alpha1", "Job", "ddp", "team-research")["metadata"]["uid"]
    api.add(
        {
            "apiVersion": "scheduling.volcano.sh/v1beta1",
            "kind": "PodGroup",
            "metadata": {
                "name": f"ddp-{uid}",
                "namespace": "team-research",
                "ownerReferences": [
                    {
                        "apiVersion": "batch.volcano.sh/v1alpha1",
                        "kind": "Job",
                        "name": "ddp",
                        "uid": uid,
                    }
                ],
            },
            "spec": {"minMember": 3},
            "status": {
                "phase": "Pending",
                "conditions": [
                    cond(
                        "Unschedulable",
                        "True",
                        "3/3 tasks in gang unschedulable: pod group is not "
                        "ready, 3 Pending, 3 minAvailable; Pending: 3 Unschedulable",
                    )
                ],
            },
        }
    )
    found = kube.status("ddp", "team-research", cluster=cluster)
    assert found.kind == "Job" and found.api_version == "batch.volcano.sh/v1alpha1"
    assert [a.code for a in found.advice] == ["GANG_NOT_READY"]


@pytest.mark.parametrize(
    ("pod_kwargs", "code"),
    [
        (
            {"waiting": ("ImagePullBackOff", "Back-off pulling image"), "node": "a100-0"},
            "IMAGE_PULL",
        ),
        ({"waiting": ("CrashLoopBackOff", "back-off 5m0s"), "node": "a100-0"}, "CRASH_LOOP"),
        (
            {
                "phase": "Failed",
                "reason": "UnexpectedAdmissionError",
                "node": "l4-ts-0",
                "message": "request for 'nvidia.com/gpu: 2' too large: maximum request size for "
                "shared resources is 1",
            },
            "ADMISSION_REJECTED",
        ),
    ],
    ids=["image", "crash", "admission"],
)
def test_pod_problems_become_advice(api, cluster, pod_kwargs, code):
    api.add(batch_job(), job_pod("train-0", **pod_kwargs))
    found = kube.status("train", "team-nlp", cluster=cluster)
    assert [a.code for a in found.advice] == [code]


def test_a_trainjob_is_followed_rather_than_the_jobset_it_owns(api, cluster):
    api.add(*component_crds("kubeflow-trainer", "jobset"))
    api.add(
        {
            "apiVersion": "trainer.kubeflow.org/v1alpha1",
            "kind": "TrainJob",
            "metadata": {"name": "ft", "namespace": "team-nlp"},
            "spec": {},
            "status": {"conditions": [cond("Complete")]},
        }
    )
    owner = api.get("trainer.kubeflow.org/v1alpha1", "TrainJob", "ft", "team-nlp")
    api.add(
        {
            "apiVersion": "jobset.x-k8s.io/v1alpha2",
            "kind": "JobSet",
            "metadata": {
                "name": "ft",
                "namespace": "team-nlp",
                "ownerReferences": [
                    {
                        "apiVersion": "trainer.kubeflow.org/v1alpha1",
                        "kind": "TrainJob",
                        "name": "ft",
                        "uid": owner["metadata"]["uid"],
                    }
                ],
            },
            "spec": {},
        }
    )
    found = kube.status("ft", "team-nlp", cluster=cluster)
    assert (found.kind, found.phase, found.finished) == ("TrainJob", "succeeded", True)


def test_names_that_match_several_kinds_need_kind(api, cluster):
    api.add(
        batch_job("dup"),
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "dup", "namespace": "team-nlp"},
            "spec": {"containers": [{"name": "m", "image": "x"}]},
        },
    )
    with pytest.raises(
        InputError, match="several objects are named 'dup' .*: job, pod; pass --kind"
    ):
        kube.status("dup", "team-nlp", cluster=cluster)
    assert kube.status("dup", "team-nlp", kind="pod", cluster=cluster).kind == "Pod"


def test_not_found_and_bad_kind(cluster):
    with pytest.raises(
        ClusterError,
        match="nothing named 'ghost' in namespace 'team-nlp' "
        r"\(looked for: job, vcjob, deployment, pod\)",
    ):
        kube.status("ghost", "team-nlp", cluster=cluster)
    with pytest.raises(
        InputError,
        match="--kind 'jbo' is not a kind gpukit follows "
        r"\(did you mean 'job'\?\)",
    ):
        kube.status("x", kind="jbo", cluster=cluster)


def test_forbidden_events_are_a_note_not_a_failure(api, cluster):
    api.add(batch_job(status={"active": 1}))
    api.forbid("list", "events", namespace="team-nlp")
    found = kube.status("train", "team-nlp", cluster=cluster)
    assert found.events[-1].startswith("RBAC forbids list events in namespace 'team-nlp'")


def _complete_later(api, delay: float = 0.3) -> threading.Timer:
    timer = threading.Timer(
        delay,
        lambda: api.set_status(
            "batch/v1",
            "Job",
            "train",
            {"conditions": [cond("Complete")], "succeeded": 1},
            namespace="team-nlp",
        ),
    )
    timer.start()
    return timer


def test_wait_follows_the_job_to_completion(api, cluster):
    api.add(batch_job(), job_pod("train-0", node="a100-0"))
    seen: list[str] = []
    timer = _complete_later(api)
    found = kube.wait(
        "train",
        "team-nlp",
        timeout=10,
        poll=0.2,
        cluster=cluster,
        on_change=lambda s: seen.append(s.phase),
    )
    timer.join()
    assert found.phase == "succeeded"
    assert seen == ["running", "succeeded"]


def test_wait_rides_out_dropped_watches(api, cluster):
    api.add(batch_job())
    api.drop_watches(after=0, times=3)
    timer = _complete_later(api, 0.4)
    found = kube.wait("train", "team-nlp", timeout=10, poll=0.2, cluster=cluster)
    timer.join()
    assert found.phase == "succeeded"
    assert sum(r.verb == "watch" for r in api.requests) >= 3


def test_wait_gives_up_when_the_watch_keeps_dropping(api, cluster):
    api.add(batch_job())
    api.drop_watches(after=0, times=None)
    with pytest.raises(
        ClusterError, match="the watch dropped 6 times in a row .*run gpukit wait again"
    ):
        kube.wait("train", "team-nlp", timeout=10, poll=0.2, cluster=cluster)


def test_wait_recovers_from_an_expired_resource_version(api, cluster):
    api.add(batch_job())

    def later() -> None:
        api.add(pod("noise", "team-nlp"))
        api.compact()
        api.set_status(
            "batch/v1", "Job", "train", {"conditions": [cond("Failed")]}, namespace="team-nlp"
        )

    timer = threading.Timer(0.3, later)
    timer.start()
    found = kube.wait("train", "team-nlp", timeout=10, poll=0.2, cluster=cluster)
    timer.join()
    assert found.phase == "failed"


def test_wait_times_out_with_the_last_status(api, cluster):
    api.add(batch_job(), job_pod("train-0", unschedulable=MIG_MESSAGE))
    with pytest.raises(kube.WaitTimeout) as caught:
        kube.wait("train", "team-nlp", timeout=0.5, poll=0.2, cluster=cluster)
    assert caught.value.status.phase == "pending"
    assert str(caught.value).startswith("gave up waiting for Job/team-nlp/train after 0.5s: ")


def test_wait_until_running(api, cluster):
    api.add(batch_job(status={"active": 1}), job_pod("train-0", node="a100-0"))
    found = kube.wait("train", "team-nlp", until="running", timeout=5, poll=0.2, cluster=cluster)
    assert found.phase == "running" and not found.finished


def test_wait_notices_a_deletion(api, cluster):
    api.add(batch_job())
    timer = threading.Timer(0.3, lambda: api.delete("batch/v1", "Job", "train", "team-nlp"))
    timer.start()
    with pytest.raises(ClusterError, match="Job/team-nlp/train was deleted while waiting"):
        kube.wait("train", "team-nlp", timeout=10, poll=5, cluster=cluster)
    timer.join()
