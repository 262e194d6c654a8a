"""Shared options: old spellings still work with one deprecation line; folders are read
recursively by every command; `mig plan -o configmap` writes config.yaml as a block."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from gpukit.cli import main

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = ROOT / "examples" / "workloads"
NAMES = sorted(p.stem for p in WORKLOADS.glob("*.yaml"))
MIG = ROOT / "examples" / "mig"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def notice(old: str, value: str) -> str:
    return f"gpukit: {old} {value} for the destination is deprecated; use --out {value}"


# -- old spellings: one test each -----------------------------------------------------------


def test_render_dash_o_folder_still_writes_with_a_notice(capsys, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "render", str(WORKLOADS), "-o", str(out))
    assert code == 0
    assert err.splitlines() == [notice("-o", str(out))]
    assert sorted(p.name for p in out.iterdir()) == NAMES
    assert stdout.startswith("WORKLOAD")  # the table, as with --out


def test_platform_render_dash_o_folder_still_writes_with_a_notice(capsys, tmp_path):
    out = tmp_path / "platform"
    code, _, err = cli(capsys, "platform", "render", "-w", str(WORKLOADS), "-o", str(out))
    assert code == 0
    assert err.splitlines()[0] == notice("-o", str(out))
    assert (out / "manifests" / "00-namespaces.yaml").is_file()


def test_calibrate_run_output_file_still_writes_with_a_notice(capsys, tmp_path):
    out = tmp_path / "cal.yaml"
    args = (
        "--fake",
        "--window",
        "0.02",
        "--warmup",
        "0",
        "--replicas",
        "1",
        "--modes",
        "time-slicing",
    )
    code, _, err = cli(capsys, "calibrate", "run", *args, "--output", str(out))
    assert code == 0
    assert err.splitlines()[0] == notice("--output", str(out))
    assert yaml.safe_load(out.read_text())["gpu"]
    new = tmp_path / "new.yaml"
    code, _, err = cli(capsys, "calibrate", "run", *args, "--out", str(new))
    assert code == 0 and "deprecated" not in err and new.is_file()


def test_calibrate_import_into_still_works_with_a_notice(capsys, tmp_path):
    cal = tmp_path / "cal.yaml"
    args = (
        "--fake",
        "--window",
        "0.02",
        "--warmup",
        "0",
        "--replicas",
        "1",
        "--modes",
        "time-slicing",
    )
    assert cli(capsys, "calibrate", "run", *args, "--out", str(cal))[0] == 0
    folder = tmp_path / "calibration"
    code, out, err = cli(capsys, "calibrate", "import", str(cal), "--into", str(folder))
    assert code == 0, err
    assert err.splitlines() == [f"gpukit: --into {folder} is deprecated; use --out {folder}"]
    assert out.startswith(f"wrote {folder}/")
    code, _, err = cli(
        capsys, "calibrate", "import", str(cal), "--into", str(folder), "--out", str(folder)
    )
    assert code == 2 and "give --out only" in err


def test_mig_plan_text_still_works_with_a_notice(capsys):
    args = ("mig", "plan", "-f", str(MIG / "fleet.yaml"), "-d", str(MIG / "demand.yaml"))
    code, old, err = cli(capsys, *args, "-o", "text")
    assert code == 0
    assert err.splitlines() == ["gpukit: -o/--output text is deprecated; use -o table"]
    assert old == cli(capsys, *args, "-o", "table")[1] == cli(capsys, *args)[1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(
            ("render", "{w}", "-o", "jsn"),
            "--output 'jsn' is not allowed; use yaml, table or json (did you mean 'json'?)",
            id="near-miss-is-not-a-folder",
        ),
        pytest.param(
            ("render", "{w}", "-o", "{t}/a", "--out", "{t}/b"),
            "is not an output format and --out",
            id="both",
        ),
        pytest.param(("plan", "{w}", "-o", "{t}/a"), "--output", id="plan-has-no-destination"),
    ],
)
def test_dash_o_is_a_format_first(capsys, tmp_path, args, says):
    argv = [a.replace("{w}", str(WORKLOADS)).replace("{t}", str(tmp_path)) for a in args]
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and says in err
    assert not any(tmp_path.iterdir())


def test_fleet_default_names_the_embedded_fleet_everywhere(capsys):
    plain = cli(capsys, "plan", str(WORKLOADS), "-o", "json")[1]
    assert cli(capsys, "plan", str(WORKLOADS), "-o", "json", "--fleet", "default")[1] == plain
    demand = str(MIG / "demand-default-fleet.yaml")
    mig_plain = cli(capsys, "mig", "plan", "-d", demand)
    assert (
        mig_plain[0] == 0
        and mig_plain[1] == cli(capsys, "mig", "plan", "-d", demand, "-f", "default")[1]
    )


# -- folders: read recursively, the same way by every command ---------------------------------


@pytest.fixture
def nested(tmp_path) -> Path:
    """The example workloads spread over sub-folders, with a hidden folder that is skipped."""
    root = tmp_path / "nested"
    for i, path in enumerate(sorted(WORKLOADS.glob("*.yaml"))):
        target = root / f"team{i % 3}" / ("deep" if i % 2 else "") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    (root / ".git").mkdir()
    (root / ".git" / "junk.yaml").write_text("not: [a workload\n")
    return root


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("plan", "{d}", "-o", "json"), id="plan"),
        pytest.param(("render", "{d}", "-o", "json"), id="render"),
        pytest.param(("size", "-w", "{d}", "-o", "json"), id="size"),
        pytest.param(
            ("platform", "render", "-w", "{d}", "--out", "{o}", "-o", "json"), id="platform-render"
        ),
    ],
)
def test_workload_folders_are_read_recursively(capsys, nested, tmp_path, args):
    flat = [a.replace("{d}", str(WORKLOADS)).replace("{o}", str(tmp_path / "flat")) for a in args]
    deep = [a.replace("{d}", str(nested)).replace("{o}", str(tmp_path / "deep")) for a in args]
    code, out, err = cli(capsys, *deep)
    assert code == 0, err
    # Files are read in path order, so compare what was planned, not the order.
    deep_docs = _docs(out.replace(str(tmp_path / "deep"), "X"))
    assert deep_docs == _docs(cli(capsys, *flat)[1].replace(str(tmp_path / "flat"), "X"))
    assert len(deep_docs) >= 1


def _docs(text: str) -> list[str]:
    try:
        data = json.loads(text)
        items = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        items = [json.loads(line) for line in text.splitlines()]
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def test_plan_of_a_render_output_folder_finds_the_files_in_subfolders(capsys, tmp_path):
    # The case: `gpukit plan out/` said the folder held no YAML. It holds manifests,
    # so the answer is now about their content (not a workload), naming a file inside.
    out = tmp_path / "out"
    assert cli(capsys, "render", str(WORKLOADS), "--out", str(out))[0] == 0
    code, _, err = cli(capsys, "plan", str(out))
    assert code == 2
    assert "folder holds no" not in err and str(out) + "/" in err


def test_manifest_folders_are_read_recursively(capsys, tmp_path):
    out = tmp_path / "out"
    assert cli(capsys, "render", str(WORKLOADS), "--out", str(out))[0] == 0
    code, stdout, err = cli(capsys, "validate", str(out), "-o", "json")
    assert code == 0, err
    files = sum(1 for _ in out.rglob("*.yaml"))
    assert json.loads(stdout)["files"] == files and files > len(NAMES)
    empty = tmp_path / "empty" / "sub"
    empty.mkdir(parents=True)
    code, _, err = cli(capsys, "mig", "validate", str(empty.parent))
    assert code == 2 and "folder holds no .yaml, .yml or .json files" in err


def test_mig_validate_reads_a_folder(capsys, tmp_path):
    folder = tmp_path / "cfg" / "nested"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "lint" / "mig-parted-config.yaml", folder / "a.yaml")
    code, _, err = cli(capsys, "mig", "validate", str(tmp_path / "cfg"))
    direct = cli(capsys, "mig", "validate", str(folder / "a.yaml"))
    assert code == direct[0] and err == direct[2]
    assert str(folder / "a.yaml") in err


# -- mig plan -o configmap --------------------------------------------------------------------


@pytest.mark.parametrize("output", ["configmap", "yaml"])
def test_mig_plan_configmap_writes_config_yaml_as_a_literal_block(capsys, output):
    code, out, _ = cli(
        capsys,
        "mig",
        "plan",
        "-f",
        str(MIG / "fleet.yaml"),
        "-d",
        str(MIG / "demand.yaml"),
        "-o",
        output,
    )
    assert code == 0
    assert "  config.yaml: |\n    version: v1\n" in out
    assert "\\n" not in out  # no escaped one-line string
    configmap = list(yaml.safe_load_all(out))[-1]
    parsed = yaml.safe_load(configmap["data"]["config.yaml"])
    assert parsed["version"] == "v1" and parsed["mig-configs"]
