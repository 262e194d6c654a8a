"""Batches keep going: plan, render and platform render plan every workload of a folder.

A workload that cannot be planned is a row with its reason, what can be written is written,
and the exit code is 1 at the end; --fail-fast stops at the first, as before. Checked with
a T4-only fleet and with the README's own fleet example.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from gpukit.cli import main

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = ROOT / "examples" / "workloads"
NAMES = sorted(p.stem for p in WORKLOADS.glob("*.yaml"))
T4_FLEET = "name: t4\nnode_pools:\n  - {name: t4, gpu: T4, gpus_per_node: 1, nodes: 2}\n"
# On the T4 fleet, exactly these example workloads can be planned (whole T4s).
T4_PLANNED = {"ci-gpu-tests", "finetune-7b", "notebook-dev"}
# On the README's fleet example (an A100 MIG pool and a time-sliced L4), these can.
README_PLANNED = {"batch-embeddings", "bert-serve", "ci-gpu-tests", "notebook-dev"}


def _readme_fleet() -> str:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)[1]


FLEETS = [
    pytest.param(T4_FLEET, T4_PLANNED, id="t4-only"),
    pytest.param(_readme_fleet(), README_PLANNED, id="readme-fleet"),
]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fleet_file(tmp_path):
    def write(text: str) -> str:
        path = tmp_path / "fleet.yaml"
        path.write_text(text)
        return str(path)

    return write


@pytest.mark.parametrize(("fleet", "planned"), FLEETS)
def test_plan_lists_every_workload_and_exits_1(capsys, fleet_file, fleet, planned):
    code, out, err = cli(capsys, "plan", str(WORKLOADS), "--fleet", fleet_file(fleet))
    assert code == 1
    header, *rows = out.strip().splitlines()
    assert header.split()[0] == "WORKLOAD"
    assert [r.split()[0] for r in rows] == NAMES  # every workload, in the files' order
    failed = {r.split()[0] for r in rows if "cannot be planned:" in r}
    assert failed == set(NAMES) - planned
    # Each failure's whole reason is on stderr, then one summary line.
    lines = err.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines[:-1]] == sorted(failed)
    assert all("no option in fleet" in line for line in lines[:-1])
    assert lines[-1].startswith(f"{len(failed)} of {len(NAMES)} workload(s) could not be planned")


@pytest.mark.parametrize(("fleet", "planned"), FLEETS)
def test_plan_json_has_a_line_per_workload_failures_named(capsys, fleet_file, fleet, planned):
    code, out, _ = cli(capsys, "plan", str(WORKLOADS), "-f", fleet_file(fleet), "-o", "json")
    assert code == 1
    docs = [json.loads(line) for line in out.strip().splitlines()]
    assert [d["name"] for d in docs] == NAMES  # the files' order, failures in place
    assert {d["name"] for d in docs if "error" not in d} == planned
    assert all(set(d) == {"name", "error"} for d in docs if "error" in d)


@pytest.mark.parametrize(("fleet", "planned"), FLEETS)
def test_render_writes_what_can_be_written(capsys, fleet_file, tmp_path, fleet, planned):
    out = tmp_path / "out"
    code, stdout, err = cli(
        capsys, "render", str(WORKLOADS), "-f", fleet_file(fleet), "--out", str(out)
    )
    assert code == 1
    assert {p.name for p in out.iterdir()} == planned
    for folder in out.iterdir():
        for f in folder.iterdir():
            assert {"apiVersion", "kind", "metadata"} <= set(yaml.safe_load(f.read_text()))
    assert (
        f"wrote {sum(len(list(d.iterdir())) for d in out.iterdir())} files under {out}/" in stdout
    )
    assert "could not be planned" in err


def test_render_yaml_to_stdout_holds_the_plannable_ones(capsys, fleet_file):
    code, out, _ = cli(capsys, "render", str(WORKLOADS), "-f", fleet_file(T4_FLEET))
    assert code == 1
    names = {
        d["metadata"]["labels"].get("app.kubernetes.io/name") or d["metadata"]["name"]
        for d in yaml.safe_load_all(out)
        if d
    }
    assert any(n.startswith("finetune-7b") for n in names)
    assert not any(n.startswith("bert-serve") for n in names)


@pytest.mark.parametrize(("fleet", "planned"), FLEETS)
def test_platform_render_leaves_the_failures_out_and_exits_1(
    capsys, fleet_file, tmp_path, fleet, planned
):
    out = tmp_path / "platform"
    code, stdout, err = cli(
        capsys,
        "platform",
        "render",
        "-f",
        fleet_file(fleet),
        "-w",
        str(WORKLOADS),
        "--out",
        str(out),
    )
    assert code == 1, err
    assert (out / "manifests").is_dir()
    failed = sorted(set(NAMES) - planned)
    table = stdout.split("CANNOT BE PLANNED (left out of the bundle)\n", 1)[1]
    assert [line.split()[0] for line in table.strip().splitlines()[: len(failed)]] == failed
    assert f"{len(failed)} of {len(NAMES)} workload(s) could not be planned" in err
    # The bundle's objects still validate.
    assert cli(capsys, "validate", str(out / "manifests"))[0] == 0


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("plan", str(WORKLOADS)), id="plan"),
        pytest.param(("render", str(WORKLOADS), "--out", "{out}"), id="render"),
        pytest.param(
            ("platform", "render", "-w", str(WORKLOADS), "--out", "{out}"), id="platform-render"
        ),
    ],
)
def test_fail_fast_stops_at_the_first_as_before(capsys, fleet_file, tmp_path, args):
    out = tmp_path / "out"
    argv = [a.replace("{out}", str(out)) for a in args]
    code, stdout, err = cli(capsys, *argv, "-f", fleet_file(T4_FLEET), "--fail-fast")
    assert code == 1
    assert stdout == ""
    assert err.strip().splitlines() == [err.strip()]  # one line
    assert err.startswith("error: no option in fleet 't4' can run 'batch-embeddings'")
    assert not out.exists() or not any(out.iterdir())


def test_a_full_batch_exits_0_with_no_failure_lines(capsys):
    code, out, err = cli(capsys, "plan", str(WORKLOADS))
    assert code == 0 and err == ""
    assert "cannot be planned" not in out
