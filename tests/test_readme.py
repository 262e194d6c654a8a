"""The README is true: Python blocks run, YAML blocks parse, output blocks are what the command
prints, and the set-up steps a newcomer follows work as written.

An output block is a ```text block right after a line ``<!-- output: gpukit ARGS -->``; the test
runs ``gpukit ARGS`` from the repository root and compares its standard output byte for byte.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import gpukit as gk

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEXT = README.read_text()
# Each block padded with the README lines above it, so its code objects carry the README's
# own line numbers (tools that read a function's source from the file, as KFP does, find it).
PYTHON_BLOCKS = [
    "\n" * TEXT[: m.start(1)].count("\n") + m.group(1)
    for m in re.finditer(r"```python\n(.*?)```", TEXT, re.DOTALL)
]
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", TEXT, re.DOTALL)
OUTPUT_BLOCKS = re.findall(r"<!-- output: (gpukit [^\n]*?) -->\n```text\n(.*?)```", TEXT, re.DOTALL)
SH_BLOCKS = re.findall(r"```sh\n(.*?)```", TEXT, re.DOTALL)


def _section(title: str) -> str:
    start = TEXT.index(title)
    end = TEXT.find("\n## ", start + len(title))
    return TEXT[start : end if end != -1 else len(TEXT)]


def test_readme_starts_with_the_two_commands():
    quick = TEXT.index("## Quick start")
    assert TEXT.index("make demo", quick) < TEXT.index("make test", quick) < TEXT.index("## In Python")


@pytest.mark.parametrize("code", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_python_blocks_run(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec", dont_inherit=True), {})


def test_the_issue_example_prints_a_plan_and_yaml():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(PYTHON_BLOCKS[0], str(README), "exec", dont_inherit=True), {})
    text = out.getvalue()
    assert "Decision: MIG 1g.10gb" in text
    assert "nvidia.com/mig-1g.10gb: 1" in text


def test_yaml_blocks_parse_and_the_fleet_example_loads(tmp_path):
    docs = [yaml.safe_load(block) for block in YAML_BLOCKS]
    workload, fleet = docs
    assert gk.Workload.model_validate(workload).name == "bert-serve"
    path = tmp_path / "fleet.yaml"
    path.write_text(YAML_BLOCKS[1])
    assert [p.name for p in gk.load_fleet(path).node_pools] == ["a100", "l4"]


def test_output_blocks_are_marked():
    # The demo table and the size table, at least; an unmarked text block after a marker is a typo.
    assert len(OUTPUT_BLOCKS) >= 2
    assert TEXT.count("<!-- output: ") == len(OUTPUT_BLOCKS)


@pytest.mark.parametrize(("command", "expected"), OUTPUT_BLOCKS, ids=[c for c, _ in OUTPUT_BLOCKS])
def test_output_blocks_are_what_the_command_prints(command, expected, capsys, monkeypatch):
    from gpukit.cli import main

    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    try:
        main(shlex.split(command)[1:])
    except SystemExit as exc:
        assert not exc.code, f"{command} exited {exc.code}"
    assert capsys.readouterr().out == expected


def test_quick_start_says_how_to_run_the_command():
    quick = _section("## Quick start")
    assert ".venv/bin/gpukit --version" in quick and "source .venv/bin/activate" in quick
    # The path it names is where make puts the console script.
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^VENV \?= \.venv$", makefile, re.MULTILINE)
    assert 'gpukit = "gpukit.cli:main"' in (ROOT / "pyproject.toml").read_text()


def test_prediction_row_matches_what_plan_writes():
    # Decided: whole GPUs get a prediction object too (reading 1.00x), not null, so JSON
    # consumers always find the same keys.
    (row,) = [line for line in TEXT.splitlines() if line.startswith("| `prediction` |")]
    assert "`null` for whole GPUs" not in row and "`1.00x`" in row
    dedicated = gk.plan(gk.Workload(name="ft", kind="fine-tuning", gpu_memory="40Gi"))
    assert dedicated.sharing == "dedicated"
    got = dedicated.to_dict()["prediction"]
    assert got["mode"] == "dedicated" and got["aggregate_throughput"] == 1.0
    assert "each 1.00x of a dedicated GPU's throughput" in got["summary"]
    shared = gk.plan(gk.Workload(name="nb", kind="interactive", gpu_memory="4Gi"))
    assert shared.sharing != "dedicated" and shared.to_dict()["prediction"] is not None


def test_papermill_example_writes_under_the_ignored_out_folder():
    commands = re.findall(r"`(papermill [^`]*)`", TEXT)
    assert commands
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/out/" in ignored
    for command in commands:
        source, target = shlex.split(command)[1:3]
        assert source.startswith("notebooks/") and (ROOT / source).is_file(), command
        assert target.startswith("out/"), f"{command} writes outside out/"


def test_e2e_command_without_a_kubeconfig_skips_in_one_line(tmp_path):
    # The README's own command, with a HOME that has no ~/.kube/config.
    (line,) = [ln for b in SH_BLOCKS for ln in b.splitlines() if "GPUKIT_E2E=1" in ln and "pytest" in ln]
    words = shlex.split(line)
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("GPUKIT_E2E_NAMESPACE", None)
    while "=" in words[0]:
        key, value = words.pop(0).split("=", 1)
        env[key] = os.path.expanduser(value.replace("~", str(tmp_path), 1))
    assert words[0].endswith("pytest")
    proc = subprocess.run([sys.executable, "-m", "pytest", *words[1:], "-p", "no:cacheprovider"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr and "error" not in proc.stdout.lower()
    skipped = [ln for ln in proc.stdout.splitlines() if ln.startswith("SKIPPED")]
    assert len(skipped) == 1 and "no kubeconfig file at" in skipped[0], proc.stdout
    assert re.search(r"^\d+ skipped in ", proc.stdout, re.MULTILINE), proc.stdout


def test_calibrate_job_section_names_the_image_to_build():
    sharing = _section("## Sharing, in numbers")
    assert "--image REGISTRY/gpukit:0.1.0" in sharing
    assert "podman build -f Containerfile -t REGISTRY/gpukit:0.1.0 ." in sharing
    assert (ROOT / "Containerfile").is_file()


def test_plan_json_keys_in_the_readme_table_are_what_plan_writes():
    table = _section("### `gpukit plan --output json`")
    keys = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            keys.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    plan = json.loads(json.dumps(gk.plan(gk.Workload(name="x", kind="inference", gpu_memory="6Gi")).to_dict()))
    assert keys <= set(plan), sorted(keys - set(plan))


def test_e2e_suite_not_enabled_skips_in_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "GPUKIT_E2E")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/e2e", "-q", "-rs", "-p", "no:cacheprovider"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    skipped = [ln for ln in proc.stdout.splitlines() if ln.startswith("SKIPPED")]
    assert len(skipped) == 1 and "set KUBECONFIG and GPUKIT_E2E=1" in skipped[0], proc.stdout
