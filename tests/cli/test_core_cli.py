"""`gpukit plan`, `gpukit render`, `--version`: outputs, exit codes, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import gpukit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "workloads"


def gpukit_cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gpukit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
        check=False,
    )


def test_version():
    result = gpukit_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"gpukit {gpukit.__version__}"


def test_plan_json_is_one_object_per_workload_with_stable_keys():
    result = gpukit_cli("plan", str(EXAMPLES), "--output", "json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(list(EXAMPLES.glob("*.yaml")))
    for line in lines:
        obj = json.loads(line)
        assert obj["sharing"] in {"dedicated", "mig", "time-slicing", "mps"}
        assert obj["scheduler"] in {"volcano", "kueue", "default"}
        assert isinstance(obj["gpus"], int) and obj["gpus"] >= 1
        assert obj["mig_profile"] is None or obj["sharing"] == "mig"
        assert obj["reasons"] and all(set(r) == {"code", "message"} for r in obj["reasons"])
        for key in ("name", "gpu_model", "queue"):
            assert key in obj


def test_plan_table_lists_every_workload_with_a_reason():
    result = gpukit_cli("plan", str(EXAMPLES))
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.strip().splitlines()
    assert header.split() == ["WORKLOAD", "SHARING", "GPU", "SCHEDULER", "WHY"]
    assert {r.split()[0] for r in rows} == {p.stem for p in EXAMPLES.glob("*.yaml")}


def test_plan_reads_stdin():
    result = gpukit_cli("plan", "-", "--output", "json", stdin="name: a\nkind: ci\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sharing"] == "time-slicing"


def test_plan_yaml_output_parses():
    result = gpukit_cli("plan", str(EXAMPLES / "bert-serve.yaml"), "--output", "yaml")
    assert yaml.safe_load(result.stdout)["mig_profile"] == "1g.10gb"


def test_render_writes_each_workload_folder_ready_for_kubectl(tmp_path):
    out = tmp_path / "out"
    result = gpukit_cli("render", str(EXAMPLES), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {p.stem for p in EXAMPLES.glob("*.yaml")}
    for folder in out.iterdir():
        files = sorted(folder.iterdir())
        assert files and all(f.suffix == ".yaml" for f in files)
        for f in files:
            obj = yaml.safe_load(f.read_text())
            assert {"apiVersion", "kind", "metadata"} <= set(obj)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_render_with_a_fleet_file(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "name: small\nnode_pools:\n  - {name: t4, gpu: T4, gpus_per_node: 1, nodes: 2}\n"
        if _has_t4() else "name: small\nnode_pools:\n  - {name: l4, gpu: L4, gpus_per_node: 1, nodes: 2}\n"
    )
    result = gpukit_cli("plan", "-", "--fleet", str(fleet), "--output", "json", stdin="name: a\nkind: training\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pool"] in {"t4", "l4"}


def _has_t4() -> bool:
    try:
        gpukit.get_gpu("T4")
    except gpukit.UnknownGpuError:
        return False
    return True


BAD_INPUTS = [
    pytest.param("name: a\nkind: ci\ngpus: 0\n", "'gpus'", id="zero-gpus"),
    pytest.param("name: a\nkind: ci\ngpu_memory: -2Gi\n", "'gpu_memory'", id="negative-memory"),
    pytest.param("name: Not_DNS\nkind: ci\n", "'name'", id="not-dns"),
    pytest.param("name: a\nkind: notebook\n", "'kind'", id="unknown-kind"),
    pytest.param("name: a\nkind: ci\ncolour: red\n", "unknown field 'colour'", id="unknown-field"),
    pytest.param("name: a\nkind: ci\nreplicas: many\n", "'replicas'", id="wrong-type"),
]


@pytest.mark.parametrize(("text", "field"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, text, field):
    good = tmp_path / "good.yaml"
    good.write_text("name: fine\nkind: ci\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out = tmp_path / "out"
    result = gpukit_cli("render", str(good), str(bad), "--out", str(out))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(("plan", "missing.yaml"), "no such file", id="missing-file"),
        pytest.param(("plan", "-", "--fleet", "missing-fleet.yaml"), "no such file", id="missing-fleet"),
        pytest.param(("plan", "-", "--output", "xml"), "xml", id="bad-output"),
    ],
)
def test_usage_errors_exit_2(args, fragment):
    result = gpukit_cli(*args, stdin="name: a\nkind: ci\n")
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_fleet_names_the_field(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("node_pools:\n  - {name: p, gpu: H100, gpus_per_node: 8, nodes: 1, mig: {layout: {9g.99gb: 1}}}\n")
    result = gpukit_cli("plan", "-", "--fleet", str(fleet), stdin="name: a\nkind: ci\n")
    assert result.returncode == 2
    assert "9g.99gb" in result.stderr and str(fleet) in result.stderr


def test_debug_variable_shows_the_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "gpukit", "plan", "missing.yaml"],
        capture_output=True, text=True, env={"GPUKIT_DEBUG": "1", "PATH": "/usr/bin:/bin"}, timeout=60,
        check=False,
    )
    assert "Traceback" in result.stderr
