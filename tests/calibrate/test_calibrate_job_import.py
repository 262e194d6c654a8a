"""`calibrate job` (the Kubernetes Job), `calibrate import` (results into calibration data), the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gpukit import __version__
from gpukit.calibrate import LOG_MARKER, calibration_job, import_calibration
from gpukit.calibrate.job import IMAGE_HOWTO, job_name
from gpukit.cli import app
from gpukit.errors import FleetError, InputError, ManifestError
from gpukit.fleet import default_fleet
from gpukit.manifests.yaml import to_yaml
from gpukit.sharing import read_calibration
from gpukit.workload import DEFAULT_IMAGE
from tests._reference import VENDORED

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden") / "calibrate-job-a100-train.yaml"
IMAGE = "gpukit:0.1.0"  # what the repository's Containerfile builds, tagged locally
REGENERATE = os.environ.get("GPUKIT_REGENERATE_GOLDEN") == "1"


def test_job_matches_golden():
    text = to_yaml(calibration_job(default_fleet(), "a100-train", namespace="gpu-ops", image=IMAGE))
    if REGENERATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_job_is_a_valid_kubernetes_object():
    from gpukit.validate import validate

    job = calibration_job(default_fleet(), "a100-train", image=IMAGE)
    assert validate(job) == []
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["resources"]["requests"]["cpu"] == "17"  # 16 spinning replicas + orchestrator
    assert pod["nodeSelector"]["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-80GB"
    assert container["command"][-1] == "--log-json"


def test_job_with_own_image_runs_gpukit_directly():
    job = calibration_job(default_fleet(), "a100-train", image="registry.example/gpukit-torch:1", replicas=(1, 2, 4))
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/gpukit-torch:1"
    assert container["command"][:4] == ["python", "-m", "gpukit.calibrate", "run"]
    assert container["command"][container["command"].index("--replicas") + 1] == "1,2,4"


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ("l4-shared", "offers time-slicing shares, not whole GPUs"),
        ("l4-mps", "offers mps shares"),
        ("h100-mig", "offers MIG slices"),
        ("a100-trian", "did you mean 'a100-train'"),
    ],
)
def test_job_refuses_pools_without_whole_gpus(pool, message):
    with pytest.raises(FleetError, match=message):
        calibration_job(default_fleet(), pool)


def test_job_without_an_image_says_how_to_build_one():
    # gpukit is on no package index: a Job that pip-installs it at start can never run.
    with pytest.raises(InputError, match=r"podman build -f Containerfile .* give --image"):
        calibration_job(default_fleet(), "a100-train")


def test_job_runs_as_rendered_installing_nothing():
    container = calibration_job(default_fleet(), "a100-train", image=IMAGE)["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:4] == ["python", "-m", "gpukit.calibrate", "run"]
    assert not any("pip" in part for part in container["command"])


def test_containerfile_builds_gpukit_from_the_repository():
    text = (ROOT / "Containerfile").read_text()
    (base,) = re.findall(r"^FROM (\S+)$", text, re.MULTILINE)
    assert base == DEFAULT_IMAGE, "Containerfile's base and gpukit's default image differ"
    copied = re.findall(r"^COPY (.+) \S+$", text, re.MULTILINE)
    assert {w for line in copied for w in line.split()} == {"pyproject.toml", "README.md", "gpukit"}
    assert re.search(r"pip install --no-cache-dir \.( |$)", text, re.MULTILINE)
    assert "gpukit==" not in text and "-e ." not in text
    # One build-and-push recipe: the Containerfile's, the error's and the README's.
    for command in (f"podman build -f Containerfile -t REGISTRY/gpukit:{__version__} .",
                    f"podman push REGISTRY/gpukit:{__version__}"):
        assert command in text and command in IMAGE_HOWTO
        assert command in (ROOT / "README.md").read_text()
    assert f"--image REGISTRY/gpukit:{__version__}" in (ROOT / "README.md").read_text()


def test_job_name_is_a_dns_label():
    assert job_name("A100 Train_Pool") == "gpukit-calibrate-a100-train-pool"
    assert len(job_name("x" * 80)) <= 63


@pytest.fixture(scope="module")
def fake_log(tmp_path_factory):
    """What `kubectl logs job/...` prints: progress lines, then the marked JSON line."""
    out = tmp_path_factory.mktemp("run") / "log.txt"
    proc = subprocess.run(
        [sys.executable, "-m", "gpukit.calibrate", "--fake", "--window", "0.05", "--warmup", "0",
         "--replicas", "1,2", "--out", str(out.with_suffix(".yaml")), "--log-json"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )
    out.write_text(proc.stderr + proc.stdout)
    return out


def test_import_reads_job_logs_and_merges(fake_log, tmp_path):
    into = tmp_path / "calibration"
    cal, target = import_calibration(fake_log, into=into, gpu="H200")
    assert target == into / "H200-141GB.yaml" and cal.fitted
    assert {w.name for w in cal.workloads} == {"w1-eager-b1", "w1-graph-b1", "w2-matmul"}
    # Folding in the reference keeps the run's workloads and adds the others.
    merged, _ = import_calibration(VENDORED / "gpu-sharing-measurements.md", into=into, gpu="H200")
    assert len(merged.workloads) == 5
    assert read_calibration(target) == merged


def test_import_of_a_cut_log_says_so(fake_log, tmp_path):
    cut = tmp_path / "cut.txt"
    text = fake_log.read_text()
    cut.write_text(text[: text.index(LOG_MARKER) + len(LOG_MARKER) + 50])
    with pytest.raises(ManifestError, match="not valid JSON.*was the log cut"):
        import_calibration(cut, into=tmp_path / "c", gpu="H200")


def test_import_of_something_else_says_what_it_wants(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("apiVersion: v1\nkind: Pod\n")
    with pytest.raises(ManifestError, match="field 'name' is required"):
        import_calibration(other, into=tmp_path / "c")
    other.write_text("- a\n- b\n")
    with pytest.raises(ManifestError, match="not a calibration"):
        import_calibration(other, into=tmp_path / "c")


def test_import_of_a_fake_run_needs_a_gpu(fake_log, tmp_path):
    raw = json.loads(fake_log.read_text().split(LOG_MARKER, 1)[1].splitlines()[0])
    path = tmp_path / "raw.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ManifestError, match="give --gpu"):
        import_calibration(path, into=tmp_path / "c")


# -- CLI -----------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_job_prints_yaml():
    result = runner.invoke(app, ["calibrate", "job", "--pool", "a100-train", "-n", "gpu-ops", "--image", IMAGE])
    assert result.exit_code == 0, result.output
    assert result.output == GOLDEN.read_text()


def test_cli_import_into_fleet_folder(fake_log, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump(default_fleet().model_dump(mode="json")))
    result = runner.invoke(app, ["calibrate", "import", str(fake_log), "--fleet", str(fleet), "--gpu", "H200"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "calibration" / "H200-141GB.yaml").is_file()
    assert "w2-matmul: 5 rows, gpu_boundness" in result.output  # TS 1, 2; MPS 1, 2; limits 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["calibrate", "run", "--fake", "--replicas", "1,x"], 2, "whole numbers"),
        (["calibrate", "job", "--pool", "l4-mps"], 2, "not whole GPUs"),
        (["calibrate", "job", "--pool", "a100-train"], 2, "build one from the repository"),
        (["calibrate", "import", "no-such-file.json"], 2, "no such file"),
    ],
)
def test_cli_errors_are_one_line(args, code, message):
    proc = subprocess.run([sys.executable, "-m", "gpukit", *args], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert proc.returncode == code
    assert message in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
