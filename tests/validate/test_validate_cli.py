"""`gpukit validate FILE...`: output, exit codes (0 valid, 1 invalid, 2 unreadable), --crd."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gpukit.cli import main
from gpukit.validate import validate_files
from gpukit.validate._files import parse_manifests

ROOT = Path(__file__).resolve().parents[2]

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p"},
    "spec": {
        "containers": [
            {"name": "c", "image": "cuda", "resources": {"limits": {"nvidia.com/gpu": 1}}}
        ]
    },
}
BAD_POD = {**POD, "spec": {"containers": [{"name": "c", "image": "cuda", "resourses": {}}]}}
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                        },
                    }
                },
            }
        ],
    },
}
WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w"},
    "spec": {"size": 2},
}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys, monkeypatch):
    """gpukit.cli.main(["validate", ...]) in-process: exit code, stdout, stderr."""

    def invoke(*args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            main(["validate", *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return invoke


def test_exit_codes_through_the_real_entry_point(tmp_path):
    bad = write(tmp_path / "bad.yaml", BAD_POD)
    good = write(tmp_path / "good.yaml", POD)
    for args, code in (([good], 0), ([bad], 1), ([tmp_path / "missing.yaml"], 2)):
        result = subprocess.run(
            [sys.executable, "-m", "gpukit", "validate", *map(str, args)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert result.returncode == code, result.stderr


def write(path: Path, *docs) -> Path:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "dir").mkdir()
    return {
        "good": write(tmp_path / "good.yaml", POD, {**POD, "metadata": {"name": "q"}}),
        "bad": write(tmp_path / "bad.yaml", POD, BAD_POD),
        "widget": write(tmp_path / "widget.yaml", WIDGET),
        "crd": write(tmp_path / "crd.yaml", WIDGET_CRD),
        "broken": _text(tmp_path / "broken.yaml", "apiVersion: v1\nkind: [Pod\n"),
        "folder": write(tmp_path / "dir" / "a.yml", POD).parent,
    }


def _text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_files_exit_0(run, files):
    result = run(str(files["good"]), str(files["folder"]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "valid: 3 objects in 2 files, 0 errors, 0 warnings"


def test_invalid_file_exit_1_with_a_table_naming_file_object_and_path(run, files):
    result = run(str(files["bad"]))
    assert result.returncode == 1
    header, row, summary = result.stdout.strip().splitlines()
    assert header.split() == ["FILE", "OBJECT", "PATH", "ISSUE"]
    assert f"{files['bad']}#1" in row and "Pod/p" in row
    assert "spec.containers[0].resourses" in row and "did you mean 'resources'" in row
    assert summary == "invalid: 2 objects in 1 file, 1 error, 0 warnings"


def test_unknown_kind_is_invalid_and_a_crd_makes_it_known(run, files):
    result = run(str(files["widget"]))
    assert result.returncode == 1 and "no schema for example.com/v1 Widget" in result.stdout
    result = run(str(files["widget"]), "--crd", str(files["crd"]))
    assert result.returncode == 0, result.stdout


def test_unreadable_exit_2_and_the_readable_files_still_checked(run, files, tmp_path):
    result = run(str(tmp_path / "missing.yaml"), str(files["broken"]), str(files["bad"]))
    assert result.returncode == 2
    assert "missing.yaml: no such file" in result.stderr
    assert "broken.yaml: not valid YAML at line" in result.stderr
    assert "resourses" in result.stdout
    assert result.stdout.strip().endswith("2 unreadable: 2 objects in 1 file, 1 error, 0 warnings")


def test_a_bad_crd_file_is_exit_2(run, files):
    result = run(str(files["widget"]), "--crd", str(files["good"]))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "CustomResourceDefinition" in result.stderr


def test_json_output(run, files):
    result = run(str(files["bad"]), str(files["good"]), "--output", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("files", "objects", "errors", "warnings", "valid")} == {
        "files": 2,
        "objects": 4,
        "errors": 1,
        "warnings": 0,
        "valid": False,
    }
    (issue,) = report["issues"]
    assert issue["code"] == "unknown-field"
    assert issue["path"] == "spec.containers[0].resourses"
    assert (issue["file"], issue["doc"], issue["kind"], issue["name"]) == (
        str(files["bad"]),
        1,
        "Pod",
        "p",
    )


def test_json_output_is_deterministic(run, files):
    first = run(str(files["bad"]), str(files["widget"]), "-o", "json").stdout
    assert first == run(str(files["bad"]), str(files["widget"]), "-o", "json").stdout


def test_stdin(run, files):
    result = run("-", stdin=files["bad"].read_text())
    assert result.returncode == 1 and "<stdin>#1" in result.stdout


def test_empty_folder_is_unreadable(run, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run(str(tmp_path / "empty"))
    assert result.returncode == 2 and "no .yaml" in result.stderr


# -- reading files like kubectl -----------------------------------------------------------


def test_unquoted_dates_stay_strings():
    (doc,) = parse_manifests(
        "x",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    day: 2026-01-31\n",
    )
    assert doc.data["metadata"]["labels"]["day"] == "2026-01-31"


def test_duplicate_keys_are_reported_with_their_line(tmp_path):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n  a: '2'\n"
    issues = validate_files([_text(tmp_path / "dup.yaml", text)])
    assert [(i.code, i.kind, i.name) for i in issues] == [("duplicate", "ConfigMap", "c")]
    assert "line 7" in issues[0].message


def test_document_indexes_count_empty_documents(tmp_path):
    text = yaml.safe_dump(POD) + "---\n---\n" + yaml.safe_dump(BAD_POD)
    (issue,) = validate_files([_text(tmp_path / "gap.yaml", text)])
    assert issue.doc == 2


def test_json_files(tmp_path):
    path = _text(tmp_path / "pod.json", json.dumps(BAD_POD))
    (issue,) = validate_files([path])
    assert issue.code == "unknown-field" and issue.doc == 0
