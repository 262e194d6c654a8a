"""`gpukit lint`: exit codes, outputs, --fix copies and --in-place, stdin."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gpukit.cli import main

CLEAN_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: ok}
spec:
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
  containers:
  - name: c
    image: nvcr.io/nvidia/cuda:12.4.1-base
    resources:
      limits: {nvidia.com/gpu: 1}
      requests: {cpu: "1", memory: 4Gi}
"""
WARNING_ONLY = CLEAN_POD.replace("cuda:12.4.1-base", "cuda:latest")
ERROR_POD = CLEAN_POD.replace("nvidia.com/gpu: 1}", "nvidia.com/gpu: '0.5'}")


def run(args: list[str], capsys: pytest.CaptureFixture[str], stdin: str | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = 0
    try:
        main(["lint", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("clean", CLEAN_POD), ("warning", WARNING_ONLY), ("error", ERROR_POD)):
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(text)
    return paths


@pytest.mark.parametrize(
    ("which", "fail_on", "code"),
    [
        ("clean", "error", 0),
        ("warning", "error", 0),
        ("warning", "warning", 1),
        ("error", "error", 1),
        ("error", "never", 0),
    ],
    ids=["clean", "warning-passes", "warning-fails-on-warning", "error-fails", "never"],
)
def test_exit_codes(files, capsys, which: str, fail_on: str, code: int) -> None:
    assert run([str(files[which]), "--fail-on", fail_on], capsys)[0] == code


def test_unreadable_input_exits_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.yaml").write_text("a: [unclosed")
    code, _, err = run([str(tmp_path / "bad.yaml")], capsys)
    assert code == 2 and err.startswith("error: ") and "not valid YAML" in err
    assert run([str(tmp_path / "missing.yaml")], capsys)[0] == 2
    assert run([], capsys)[0] == 2


def test_json_and_sarif_outputs(files, capsys) -> None:
    code, out, _ = run([str(files["error"]), "--fleet", "none", "--output", "json"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["summary"]["error"] == 1
    assert {f["rule"] for f in doc["findings"]} == {"GPU002"}
    code, out, _ = run([str(files["error"]), "--fleet", "none", "-o", "sarif"], capsys)
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 10


def test_fleet_and_workloads_options(tmp_path: Path, repo_root: Path, capsys) -> None:
    (tmp_path / "w.yaml").write_text("name: ok\nkind: inference\ngpu_memory: 4Gi\n")
    (tmp_path / "pod.yaml").write_text(CLEAN_POD)
    fleet = repo_root / "gpukit" / "data" / "default-fleet.yaml"
    code, out, _ = run([str(tmp_path / "pod.yaml"), "--fleet", str(fleet), "--workloads",
                        str(tmp_path / "w.yaml"), "-o", "json"], capsys)
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert code == 0 and {"GPU007", "GPU011"} <= rules


def test_rules_option_and_list(files, capsys) -> None:
    code, out, _ = run([str(files["error"]), "--rules", "GPU012", "-o", "json"], capsys)
    assert code == 0 and json.loads(out)["findings"] == []
    assert run([str(files["error"]), "--rules", "GPU999"], capsys)[0] == 2
    assert run([str(files["error"]), "--skip", "gpu002"], capsys)[0] == 0
    code, out, _ = run(["--list-rules"], capsys)
    assert code == 0 and out.count("\nGPU0") >= 20


def test_fix_writes_copies_and_reports_what_is_left(files, tmp_path: Path, capsys,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    original = files["error"].read_text()
    code, out, err = run(["error.yaml", "--fleet", "none", "--fix", "--out", "fixed"], capsys)
    assert code == 0 and "fixed 1 finding(s) in 1 file(s)" in err
    assert out.strip() == "no findings"
    assert files["error"].read_text() == original
    assert "nvidia.com/gpu: '1'" in (tmp_path / "fixed" / "error.yaml").read_text()


def test_fix_in_place(files, capsys) -> None:
    code, _, _ = run([str(files["error"]), "--fix", "--in-place"], capsys)
    assert code == 0 and "'0.5'" not in files["error"].read_text()
    assert run([str(files["error"]), "--in-place"], capsys)[0] == 2


def test_stdin(capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, out, _ = run(["-", "-o", "json"], capsys, ERROR_POD, monkeypatch)
    assert code == 1 and json.loads(out)["findings"][0]["file"] == "<stdin>"
    code, _, err = run(["-", "--fix", "--out", str(tmp_path / "o")], capsys, ERROR_POD, monkeypatch)
    assert code == 0 and "fixed 1 finding(s)" in err and (tmp_path / "o" / "stdin.yaml").exists()


def test_fix_a_folder_of_real_examples(reference_dir: Path, tmp_path: Path, capsys,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(reference_dir / "examples" / "kubeflow-training-operator", tmp_path / "ko")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["ko", "--fix", "--out", "fixed", "-o", "json"], capsys)
    assert code == 0 and "written to fixed/" in err
    left = json.loads(out)["findings"]
    assert not any(f["fixable"] for f in left)
    assert all(f["file"].startswith("fixed/ko/") or not f["file"].startswith("ko/") for f in left)
    assert (tmp_path / "fixed" / "ko" / "pytorch_job_mnist_nccl.yaml").exists()


def test_console_entry_point(files) -> None:
    out = subprocess.run([sys.executable, "-m", "gpukit", "lint", str(files["error"])],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1 and "GPU002" in out.stdout


@pytest.mark.parametrize(
    "context",
    [[], ["--fleet", "gpukit/data/default-fleet.yaml"],
     ["--fleet", "gpukit/data/default-fleet.yaml", "--workloads", "examples/workloads"]],
    ids=["no-context", "fleet", "fleet-and-workloads"],
)
def test_fix_examples_end_to_end(repo_root: Path, tmp_path: Path, capsys,
                                 monkeypatch: pytest.MonkeyPatch, context: list[str]) -> None:
    monkeypatch.chdir(repo_root)
    out_dir = tmp_path / "fixed"
    _, out, err = run(["examples/lint", *context, "--fix", "--out", str(out_dir), "-o", "json"], capsys)
    assert "fixed " in err and "written to" in err
    assert not any(f["fixable"] for f in json.loads(out)["findings"])
    copies = sorted((out_dir / "examples" / "lint").glob("*.yaml"))
    assert {p.name for p in copies} >= {"training-job.yaml", "serving.yaml", "device-plugin-config.yaml"}
    # Each copy on its own and all of them together (with the unfixed files) re-lint with
    # nothing fixable left, and keep every comment of their source.
    for copy in copies:
        _, out, _ = run([str(copy), *context, "-o", "json"], capsys)
        assert not [f for f in json.loads(out)["findings"] if f["fixable"]], copy.name
        source = (repo_root / "examples" / "lint" / copy.name).read_text()
        comments = [line.split("#", 1)[1].strip() for line in source.splitlines() if "#" in line]
        assert all(c in copy.read_text() for c in comments), copy.name
    _, out, _ = run([str(out_dir), "examples/lint/mig-parted-config.yaml", *context, "-o", "json"], capsys)
    assert not any(f["fixable"] for f in json.loads(out)["findings"])


SMALL_SERVING = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bert
  annotations: {gpukit.io/gpu-memory: 4Gi}
spec:
  selector: {matchLabels: {app: bert}}
  template:
    metadata: {labels: {app: bert}}
    spec:
      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
      containers:
      - name: c
        image: nvidia/cuda:12.4.1-base
        resources:
          limits: {nvidia.com/gpu: 1}
          requests: {cpu: "1", memory: 4Gi}
"""


@pytest.mark.parametrize(
    ("fleet", "rewritten", "says"),
    [
        ([], False, "fleet: gpukit's default fleet (give --fleet for fixes that need your pools)"),
        (["--fleet", "none"], False, "fleet: no fleet"),
        (["--fleet", "gpukit/data/default-fleet.yaml"], True, "fleet: gpukit/data/default-fleet.yaml"),
    ],
    ids=["default-fleet-assumed", "no-fleet", "fleet-file"],
)
def test_fix_that_needs_fleet_facts_only_with_a_fleet_file(
    repo_root: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch,
    fleet: list[str], rewritten: bool, says: str,
) -> None:
    monkeypatch.chdir(repo_root)
    src = tmp_path / "serving.yaml"
    src.write_text(SMALL_SERVING)
    _, out, err = run([str(src), *fleet, "--fix", "--out", str(tmp_path / "fixed"), "-o", "json"], capsys)
    assert says in err
    copy = tmp_path / "fixed" / "serving.yaml"  # an absolute path's copy keeps its name
    text = copy.read_text() if copy.exists() else src.read_text()
    assert ("nvidia.com/mig-1g.10gb" in text) is rewritten
    left = [f for f in json.loads(out)["findings"] if f["rule"] == "GPU007"]
    assert bool(left) is not rewritten
