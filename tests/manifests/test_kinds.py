"""object_kind: which object runs a plan, for every branch of the written rule."""

from __future__ import annotations

import pytest

import gpukit as gk
from gpukit.manifests import object_kind
from gpukit.manifests.kinds import trainjob_blocker

GANG = {"kind": "training", "workers": 2, "gpus": 8, "team": "team-research"}
SERVE_MULTI = {"kind": "inference", "workers": 2, "gpus": 8, "gpu_memory": "500Gi"}

CASES = [
    # (id, workload, fleet name, installed overrides, expected kind)
    (
        "serve-one-node",
        {"kind": "inference", "gpu_memory": "6Gi", "isolation": "strict"},
        "default",
        {},
        "Deployment",
    ),
    ("serve-multi-node-lws", SERVE_MULTI, "default", {"lws": True}, "LeaderWorkerSet"),
    ("notebook", {"kind": "interactive", "isolation": "none"}, "default", {}, "Pod"),
    ("ci", {"kind": "ci", "gpu_memory": "2Gi"}, "default", {}, "Job"),
    (
        "batch-inference",
        {"kind": "batch-inference", "gpu_memory": "3Gi", "replicas": 4},
        "default",
        {},
        "Job",
    ),
    ("single-worker-training", {"kind": "training", "gpus": 1}, "no-volcano", {}, "Job"),
    ("gang-volcano", GANG, "default", {}, "VolcanoJob"),
    ("gang-volcano-beats-trainer", GANG, "default", {"kubeflow_trainer": True}, "VolcanoJob"),
    (
        "gang-trainer",
        GANG,
        "default",
        {"volcano": False, "kubeflow_trainer": True, "training_operator": True},
        "TrainJob",
    ),
    (
        "gang-trainer-blocked-by-kai",
        GANG,
        "default",
        {"volcano": False, "kai": True, "kubeflow_trainer": True, "training_operator": True},
        "PyTorchJob",
    ),
    ("gang-trainer-blocked-by-dra", GANG, "dra", {"kubeflow_trainer": True}, "JobSet"),
    (
        "gang-training-operator",
        GANG,
        "default",
        {"volcano": False, "training_operator": True, "jobset": True},
        "PyTorchJob",
    ),
    ("gang-jobset", GANG, "default", {"volcano": False, "jobset": True}, "JobSet"),
    ("gang-indexed-job", GANG, "default", {"volcano": False}, "Job"),
    ("gang-indexed-job-no-queue", GANG, "default", {"volcano": False, "kueue": False}, "Job"),
]


@pytest.mark.parametrize(
    ("workload", "fleet_name", "installed", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_object_kind_follows_the_rule(fleet, workload, fleet_name, installed, expected):
    f = fleet(fleet_name, **installed)
    p = gk.plan(gk.Workload(name="w", **workload), f)
    assert object_kind(p) == expected
    rendered = {o["kind"] for o in gk.render(p)}
    assert ("Job" if expected in ("VolcanoJob", "Job") else expected) in rendered


def test_multi_node_serving_without_lws_says_how_to_fix(fleet):
    # The advisor rejects such plans itself; render() still refuses one built by hand.
    p = gk.plan(gk.Workload(name="llm", **SERVE_MULTI), fleet("default", lws=True))
    p = p.model_copy(update={"fleet": fleet("default")})
    with pytest.raises(gk.FleetError, match=r"LeaderWorkerSet.*installed\.lws: true.*workers: 1"):
        gk.render(p)


@pytest.mark.parametrize(
    ("installed", "fleet_name", "blocked_by"),
    [
        ({"volcano": False, "kueue": True}, "default", None),
        ({"volcano": False, "kai": True}, "default", "schedulerName kai-scheduler"),
        ({}, "dra", "DRA"),
    ],
    ids=["kueue-ok", "kai", "dra"],
)
def test_trainjob_blocker_names_what_a_trainjob_cannot_carry(
    fleet, installed, fleet_name, blocked_by
):
    f = fleet(fleet_name, kubeflow_trainer=True, **installed)
    reason = trainjob_blocker(gk.plan(gk.Workload(name="w", **GANG), f))
    if blocked_by is None:
        assert reason is None
    else:
        assert blocked_by in reason


def test_preemptible_without_kueue_cannot_be_a_trainjob(fleet):
    f = fleet("default", volcano=False, kueue=False, kubeflow_trainer=True, jobset=True)
    p = gk.plan(gk.Workload(name="w", preemptible=True, **GANG), f)
    assert "priority class" in trainjob_blocker(p)
    assert object_kind(p) == "JobSet"
