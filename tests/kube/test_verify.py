"""gpukit verify against the API double, with test doubles of the controllers' effects.

Every verdict: as planned, admitted to another flavor, bound to the wrong pool, gang partly
bound, quota exhausted, never admitted, image pull failure; and the JUnit, JSON and table
outputs, the --submit path and the CLI.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gpukit import plan
from gpukit.fleet import default_fleet
from gpukit.verify import VerifyReport, expect, verify
from gpukit.workload import load_workloads
from tests.kube.controller_doubles import World

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "workloads"
FAST = {"timeout": 0.3, "interval": 0.05}


def workload(name: str):
    return load_workloads(EXAMPLES / f"{name}.yaml")[0]


@pytest.fixture
def world(api):
    def make(name: str) -> World:
        w = workload(name)
        return World(api, expect(plan(w, default_fleet())))

    return make


def run(cluster, name: str, until: str = "running", **kw) -> VerifyReport:
    return verify(workload(name), default_fleet(), cluster=cluster, until=until, **{**FAST, **kw})


def steps(report: VerifyReport) -> dict[str, str]:
    (only,) = report.workloads
    return {s.step: s.verdict for s in only.steps}


def detail(report: VerifyReport, step: str) -> str:
    (only,) = report.workloads
    return next(s.detail for s in only.steps if s.step == step)


# -- as planned ------------------------------------------------------------------------


def test_kueue_job_as_planned(world, cluster):
    w = world("batch-embeddings")  # Kueue LocalQueue team-vision, 8 pods on l4-mps
    w.submit()
    w.kueue_admits("gpu-shared", flavor="l4-mps")
    w.create_pods()
    w.bind_all()
    w.run_all()
    report = run(cluster, "batch-embeddings")
    assert steps(report) == {
        "admitted": "as planned",
        "scheduled": "as planned",
        "running": "as planned",
    }
    assert report.ok
    assert "ClusterQueue gpu-shared" in detail(report, "admitted")
    assert "8/8 pods bound in pool l4-mps" in detail(report, "scheduled")


def test_volcano_gang_as_planned(world, cluster):
    w = world("ddp-pretrain")  # Volcano queue team-research, 2 x 8 A100
    w.submit()
    w.volcano_pod_group("Running")
    w.create_pods()
    w.bind_all()
    report = run(cluster, "ddp-pretrain", until="scheduled")
    assert steps(report) == {"admitted": "as planned", "scheduled": "as planned"}
    assert report.ok


def test_default_scheduler_pod_as_planned(world, cluster):
    w = world("notebook-dev")  # a bare Pod: the object is its own pod
    w.submit()
    w.bind(w.exp.name, w.nodes()[0])
    report = run(cluster, "notebook-dev", until="scheduled")
    assert steps(report) == {"admitted": "as planned", "scheduled": "as planned"}
    assert "default scheduler" in detail(report, "admitted")


# -- differs ---------------------------------------------------------------------------


def test_admitted_to_another_flavor(world, cluster):
    w = world("batch-embeddings")
    w.submit()
    w.kueue_admits("gpu-shared", flavor="l4-shared")
    report = run(cluster, "batch-embeddings", until="admitted")
    assert steps(report) == {"admitted": "differs"}
    assert "flavor 'l4-shared'" in detail(report, "admitted")
    assert "pool 'l4-mps'" in detail(report, "admitted")
    assert not report.ok


def test_bound_to_the_wrong_pool(world, cluster):
    w = world("bert-serve")  # 3 replicas of MIG 1g.10gb on h100-mig
    w.submit()
    w.create_pods()
    a100 = w.nodes({"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"})
    w.bind_all(a100)
    report = run(cluster, "bert-serve", until="scheduled")
    assert steps(report)["scheduled"] == "differs"
    text = detail(report, "scheduled")
    assert "outside pool 'h100-mig'" in text and "NVIDIA-A100-SXM4-80GB" in text


def test_gang_partly_bound_differs_at_the_deadline(world, cluster):
    w = world("ddp-pretrain")
    w.submit()
    w.volcano_pod_group("Running")
    w.create_pods()
    w.bind_all(count=1)
    w.unschedulable("ddp-pretrain-1", "0/9 nodes are available: 9 Insufficient nvidia.com/gpu.")
    report = run(cluster, "ddp-pretrain", until="scheduled")
    assert steps(report)["scheduled"] == "differs"
    assert "gang partly bound: 1 of 2 pods bound" in detail(report, "scheduled")


# -- stuck -----------------------------------------------------------------------------


def test_quota_exhausted_is_stuck_with_advice(world, cluster):
    w = world("batch-embeddings")
    w.submit()
    message = (
        "couldn't assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu "
        "in flavor l4-mps, 8 more needed"
    )
    w.kueue_holds("Pending", message)
    report = run(cluster, "batch-embeddings")
    assert steps(report) == {
        "admitted": "stuck",
        "scheduled": "not reached",
        "running": "not reached",
    }
    assert "holds Workload" in detail(report, "admitted") and "quota" in detail(report, "admitted")
    (only,) = report.workloads
    assert only.finding is not None and only.finding.advice, "quota messages come with advice"


def test_never_admitted_without_a_local_queue(world, api, cluster):
    api.delete("kueue.x-k8s.io/v1beta2", "LocalQueue", "team-vision", "team-vision")
    w = world("batch-embeddings")
    w.submit()
    report = run(cluster, "batch-embeddings", until="admitted")
    assert steps(report) == {"admitted": "stuck"}
    assert "LocalQueue 'team-vision' is not in namespace" in detail(report, "admitted")


def test_inadmissible_workload_is_named(world, cluster):
    w = world("finetune-7b")
    w.submit()
    w.kueue_holds("Inadmissible", "ClusterQueue gpu-shared is inactive")
    report = run(cluster, "finetune-7b", until="admitted")
    assert "inadmissible: ClusterQueue gpu-shared is inactive" in detail(report, "admitted")


def test_image_pull_failure_is_stuck_at_once(world, cluster):
    w = world("batch-embeddings")
    w.submit()
    w.kueue_admits("gpu-shared", flavor="l4-mps")
    w.create_pods()
    w.bind_all()
    w.container_waits("batch-embeddings-0", "ImagePullBackOff", 'Back-off pulling image "x"')
    report = run(cluster, "batch-embeddings", timeout=60)
    assert steps(report)["running"] == "stuck"
    assert "cannot pull its image (ImagePullBackOff)" in detail(report, "running")
    assert report.waited_s < 30, "a pull failure is final: no waiting for the deadline"


def test_volcano_gang_message_is_explained(world, cluster):
    w = world("ddp-pretrain")
    w.submit()
    w.volcano_pod_group(
        "Pending",
        "2/2 tasks in gang unschedulable: pod group is not ready, 2 Pending, 2 minAvailable",
    )
    report = run(cluster, "ddp-pretrain", until="scheduled")
    assert steps(report)["admitted"] == "stuck"
    (only,) = report.workloads
    assert [a.code for a in only.finding.advice] == ["GANG_NOT_READY"]


def test_not_submitted(cluster):
    report = run(cluster, "ci-gpu-tests", until="admitted")
    assert steps(report) == {"admitted": "stuck"}
    assert "not submitted" in detail(report, "admitted")


# -- following -------------------------------------------------------------------------


def test_follows_until_the_controllers_act(world, cluster):
    """verify keeps observing while the (doubled) controllers act between its polls."""
    w = world("batch-embeddings")
    w.submit()
    script = [
        lambda: w.kueue_admits("gpu-shared", flavor="l4-mps"),
        w.create_pods,
        w.bind_all,
        w.run_all,
    ]
    seen: list[str] = []

    def tick(_seconds: float) -> None:
        if script:
            script.pop(0)()

    report = verify(
        workload("batch-embeddings"),
        default_fleet(),
        cluster=cluster,
        until="running",
        timeout=30,
        interval=0,
        sleep=tick,
        on_progress=lambda v: seen.append(v.verdict),
    )
    assert report.ok
    assert seen[0] == "waiting" and seen[-1] == "as planned"


def test_submit_applies_then_follows(api, cluster):
    report = verify(
        workload("finetune-7b"),
        default_fleet(),
        cluster=cluster,
        submit=True,
        until="admitted",
        **FAST,
    )
    assert api.get("batch/v1", "Job", "finetune-7b", "team-nlp") is not None
    kinds = [(r.method, r.path.split("?")[0].rsplit("/", 1)[-1]) for r in api.writes()]
    assert ("PATCH", "finetune-7b") in kinds
    # Kueue (not running here) never created a Workload: the verdict says so.
    assert steps(report) == {"admitted": "stuck"}
    assert "no Kueue Workload yet" in detail(report, "admitted")


def test_unplannable_workload_is_a_row_not_a_stop(cluster):
    good = workload("notebook-dev")
    bad = good.model_copy(update={"name": "huge", "gpus": 64})
    report = verify([bad, good], default_fleet(), cluster=cluster, until="admitted", **FAST)
    assert [w.name for w in report.workloads] == ["huge", "notebook-dev"]
    assert report.workloads[0].verdict == "error" and report.workloads[0].error


# -- outputs ---------------------------------------------------------------------------


def test_outputs(world, cluster):
    w = world("batch-embeddings")
    w.submit()
    w.kueue_admits("gpu-shared", flavor="l4-shared")
    report = run(cluster, "batch-embeddings", until="scheduled")
    data = report.to_dict()
    assert data["ok"] is False and data["workloads"][0]["verdict"] == "differs"
    json.dumps(data)
    suite = ET.fromstring(report.to_junit())
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "2", "0")
    failure = suite.find("testcase[@name='admitted']/failure")
    assert failure is not None and failure.get("type") == "differs"
    table = report.table()
    assert table.splitlines()[0].split() == [
        "WORKLOAD",
        "NAMESPACE",
        "ADMITTED",
        "SCHEDULED",
        "VERDICT",
    ]
    assert "0/1 workloads scheduled as planned" in table


def test_bad_until_is_one_clear_error(cluster):
    from gpukit.errors import InputError

    with pytest.raises(InputError, match="until 'bound' is not a step"):
        verify(workload("notebook-dev"), cluster=cluster, until="bound")


# -- the CLI ---------------------------------------------------------------------------


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    from gpukit.cli import main

    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_as_planned_exits_0_and_writes_junit(world, kubeconfig, tmp_path, capsys):
    w = world("notebook-dev")
    w.submit()
    w.bind(w.exp.name, w.nodes()[0])
    junit = tmp_path / "reports" / "verify.xml"
    code, out, _ = cli(
        capsys,
        "verify",
        str(EXAMPLES / "notebook-dev.yaml"),
        "--timeout",
        "2s",
        "-o",
        "junit",
        "--out",
        str(junit),
    )
    assert code == 0
    assert ET.fromstring(out).get("failures") == "0"
    assert junit.read_text() == out


def test_cli_differs_exits_1_with_the_reason(world, kubeconfig, capsys):
    w = world("batch-embeddings")
    w.submit()
    w.kueue_admits("gpu-shared", flavor="l4-shared")
    code, out, _ = cli(
        capsys,
        "verify",
        str(EXAMPLES / "batch-embeddings.yaml"),
        "--until",
        "admitted",
        "--timeout",
        "1",
    )
    assert code == 1
    assert "batch-embeddings: admitted differs: Workload" in out


def test_cli_probe_json(api, kubeconfig, capsys):
    code, out, _ = cli(capsys, "verify", "--probe", "--timeout", "1", "-o", "json")
    data = json.loads(out)
    assert code == 1  # nothing binds probe pods here: every probe is stuck, and deleted
    assert {r["verdict"] for r in data["results"]} == {"stuck"}
    assert sorted(data["created"]) == sorted(data["deleted"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["verify"], "needs workload files"),
        (["verify", "--probe", "x.yaml"], "--probe checks the fleet"),
        (["verify", "w.yaml", "--timeout", "soon"], "--timeout 'soon' is not a duration"),
        (["verify", "w.yaml", "--until", "bound"], "--until 'bound' is not allowed"),
        (["verify", "w.yaml", "-o", "xml"], "--output 'xml' is not allowed"),
    ],
)
def test_cli_bad_input_is_one_line(kubeconfig, capsys, argv, message):
    code, _, err = cli(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
