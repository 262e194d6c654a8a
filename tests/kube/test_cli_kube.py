"""The live-cluster CLI: discover, inventory, apply, submit, status, wait (exit codes, output)."""

from __future__ import annotations

import json
import threading

import pytest
import yaml

from gpukit.cli import main
from gpukit.fleet import load_fleet
from gpukit.testing import pod


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "train"},
    "spec": {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}
        }
    },
}


def test_discover_writes_a_fleet_file(kubeconfig, tmp_path, capsys):
    out_file = tmp_path / "fleet.yaml"
    code, out, err = run(capsys, "discover", "--out", str(out_file))
    assert code == 0 and out == ""
    assert err.startswith(f"wrote {out_file}: discovered from context 'lab'")
    text = out_file.read_text()
    assert text.startswith("# Fleet discovered by gpukit from context lab.\n")
    fleet = load_fleet(out_file)
    assert len(fleet.node_pools) == 4
    code, again, _ = run(capsys, "discover")
    assert again == text


def test_discover_old_dash_o_for_the_file_still_works_with_a_notice(kubeconfig, tmp_path, capsys):
    out_file = tmp_path / "fleet.yaml"
    code, out, err = run(capsys, "discover", "-o", str(out_file))
    assert code == 0 and out == ""
    assert err.splitlines()[0] == (
        f"gpukit: -o {out_file} for the destination is deprecated; use --out {out_file}"
    )
    assert len(load_fleet(out_file).node_pools) == 4


def test_discover_table(kubeconfig, capsys):
    code, out, _ = run(capsys, "discover", "--output", "table")
    assert code == 0
    assert out.splitlines()[0].split() == ["POOL", "GPU", "NODES", "GPUS/NODE", "SET-UP", "LABELS"]
    assert "MIG mixed all-balanced: 2x 1g.10gb + 1x 2g.20gb + 1x 3g.40gb" in out
    assert "installed: volcano, kueue, gpu_operator, dcgm_exporter" in out


def test_inventory_json(api, kubeconfig, capsys):
    api.add(pod("p", "team-nlp", node="a100-0", limits={"nvidia.com/gpu": 3}))
    code, out, _ = run(capsys, "inventory", "--output", "json")
    data = json.loads(out)
    a100 = next(n for n in data["nodes"] if n["name"] == "a100-0")
    assert code == 0 and a100["resources"][0]["free"] == 5


def test_apply_dry_run_then_yes(api, kubeconfig, tmp_path, capsys):
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(JOB))
    code, out, _ = run(capsys, "apply", str(tmp_path), "-n", "team-nlp")
    assert code == 0
    assert "Job/team-nlp/train  created (dry run)" in out
    assert api.get("batch/v1", "Job", "train", "team-nlp") is None
    code, out, _ = run(capsys, "apply", str(tmp_path), "-n", "team-nlp", "--yes")
    assert code == 0 and out.strip().endswith("applied 1 objects (1 created)")
    assert api.get("batch/v1", "Job", "train", "team-nlp") is not None


def test_apply_refusal_exits_1(kubeconfig, tmp_path, capsys):
    queue = {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "ClusterQueue",
        "metadata": {"name": "cq"},
        "spec": {},
    }
    (tmp_path / "cq.yaml").write_text(yaml.safe_dump(queue))
    code, out, _ = run(capsys, "apply", str(tmp_path / "cq.yaml"), "--output", "json")
    assert code == 1
    assert json.loads(out)["objects"][0]["action"] == "refused"
    code, _, _ = run(capsys, "apply", str(tmp_path / "cq.yaml"), "--cluster-scope")
    assert code == 0


def test_submit_dry_run(kubeconfig, examples_dir, capsys):
    code, out, _ = run(capsys, "submit", str(examples_dir / "workloads" / "finetune-7b.yaml"))
    assert code == 0
    assert "Job/team-nlp/finetune-7b  created (dry run)" in out
    assert "server-side dry run: all 1 objects accepted" in out


def test_status_and_its_exit_code(api, kubeconfig, capsys):
    failed = {
        **JOB,
        "metadata": {"name": "train", "namespace": "team-nlp"},
        "status": {
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "message": "Job has reached the specified backoff limit",
                }
            ]
        },
    }
    api.add(failed)
    code, out, _ = run(capsys, "status", "train", "-n", "team-nlp")
    assert code == 1
    assert out.splitlines()[0] == (
        "Job/team-nlp/train: failed: Job has reached the specified backoff limit"
    )
    code, out, _ = run(capsys, "status", "train", "-n", "team-nlp", "--output", "json")
    assert json.loads(out)["finished"] is True


def test_wait_prints_changes_and_succeeds(api, kubeconfig, capsys):
    api.add({**JOB, "metadata": {"name": "train", "namespace": "team-nlp"}})
    timer = threading.Timer(
        0.3,
        lambda: api.set_status(
            "batch/v1",
            "Job",
            "train",
            {"conditions": [{"type": "Complete", "status": "True"}]},
            namespace="team-nlp",
        ),
    )
    timer.start()
    code, out, _ = run(
        capsys, "wait", "train", "-n", "team-nlp", "--poll", "0.2", "--timeout", "10"
    )
    timer.join()
    assert code == 0
    assert [line for line in out.splitlines() if not line.startswith(" ")] == [
        "Job/team-nlp/train: pending",
        "Job/team-nlp/train: succeeded",
    ]


def test_wait_timeout_exits_1(api, kubeconfig, capsys):
    api.add({**JOB, "metadata": {"name": "train", "namespace": "team-nlp"}})
    code, _, err = run(capsys, "wait", "train", "-n", "team-nlp", "--poll", "0.2", "--timeout", "1")
    assert code == 1 and err.startswith("error: gave up waiting for Job/team-nlp/train after 1s")


@pytest.mark.parametrize(
    "command", [["discover"], ["inventory"], ["status", "x"]], ids=lambda c: c[0]
)
def test_unreachable_cluster_is_one_line_and_exit_1(api, kubeconfig, capsys, command):
    api.stop()
    code, out, err = run(capsys, *command)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: cannot reach the Kubernetes API at ")


def test_bad_manifest_is_exit_2(kubeconfig, tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("kind: Job\n")
    code, _, err = run(capsys, "apply", str(tmp_path / "bad.yaml"))
    assert code == 2 and "missing apiVersion, metadata.name" in err


def test_plan_with_the_live_fleet(kubeconfig, examples_dir, capsys):
    code, out, _ = run(capsys, "plan", str(examples_dir / "workloads" / "bert-serve.yaml"),
                       "--fleet", "live", "--output", "json")
    assert code == 0
    assert json.loads(out)["pool"] == "h100-80gb-all-balanced"
