"""Output: the JSON and SARIF documents (golden files), the table, and fixes on real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from gpukit.fleet import default_fleet
from gpukit.lint import RULES, fix_text, lint, to_json, to_sarif, to_table

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("GPUKIT_REGENERATE_GOLDEN") == "1"

# The parts of the SARIF 2.1.0 schema (OASIS sarif-schema-2.1.0.json) that a log with
# rules, results, physical and logical locations must satisfy; written out here because
# tests run offline.
_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "version": {"type": "string"},
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id"],
                            "properties": {
                                "id": {"type": "string"},
                                "shortDescription": _MESSAGE,
                                "defaultConfiguration": {"type": "object", "properties": {
                                    "level": {"enum": ["none", "note", "warning", "error"]}}},
                            }}},
                    }}}},
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": -1},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": _MESSAGE,
                        "locations": {"type": "array", "items": {"type": "object", "properties": {
                            "physicalLocation": {"type": "object", "properties": {
                                "artifactLocation": {"type": "object", "properties": {
                                    "uri": {"type": "string", "format": "uri-reference"}}},
                                "region": {"type": "object", "properties": {
                                    "startLine": {"type": "integer", "minimum": 1},
                                    "startColumn": {"type": "integer", "minimum": 1}}},
                            }},
                            "logicalLocations": {"type": "array", "items": {"type": "object", "properties": {
                                "fullyQualifiedName": {"type": "string"}, "kind": {"type": "string"}}}},
                        }}},
                        "properties": {"type": "object"},
                    },
                    "additionalProperties": False,
                }},
            },
        }},
    },
}


@pytest.fixture
def example_findings(repo_root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(repo_root)
    return lint("examples/lint", fleet=default_fleet())


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n")
    assert path.exists(), f"no golden file {name}; run with GPUKIT_REGENERATE_GOLDEN=1"
    assert text + "\n" == path.read_text()


def test_json_matches_golden(example_findings) -> None:
    text = to_json(example_findings)
    _golden("examples-lint.json", text)
    doc = json.loads(text)
    assert list(doc) == ["findings", "summary"]
    assert list(doc["findings"][0]) == [
        "rule", "severity", "message", "file", "document", "kind", "name", "path", "line", "column",
        "fixable",
    ]


def test_sarif_matches_golden_and_the_schema(example_findings) -> None:
    text = to_sarif(example_findings, tool_version="test")
    _golden("examples-lint.sarif", text)
    log = json.loads(text)
    jsonschema.validate(log, SARIF_SUBSET)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(RULES)
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_examples_cover_the_headline_problems(example_findings) -> None:
    rules = {f.rule for f in example_findings}
    assert {"GPU001", "GPU002", "GPU003", "GPU004", "GPU007", "GPU010", "GPU012", "GPU014", "GPU015",
            "GPU021", "GPU022", "GPU023", "GPU024", "GPU026", "GPU027"} <= rules


def test_table_names_place_rule_and_fix(example_findings) -> None:
    text = to_table(example_findings)
    header, *rows = text.splitlines()
    assert header.split() == ["FILE", "DOC", "SEVERITY", "RULE", "OBJECT", "PATH", "MESSAGE"]
    assert "examples/lint/training-job.yaml:34" in text
    assert rows[-1].startswith(f"{len(example_findings)} findings:")
    assert to_table([]) == "no findings"


def test_fix_keeps_comments_order_and_nested_configs(repo_root: Path, tmp_path: Path) -> None:
    source = repo_root / "examples" / "lint"
    for name in ("training-job.yaml", "device-plugin-config.yaml", "gpu-operator-values.yaml"):
        text = (source / name).read_text()
        findings = lint(source / name)
        fixed = fix_text(text, findings)
        out = tmp_path / name
        out.write_text(fixed)
        after = lint(out)
        fixed_rules = {f.rule for f in findings if f.fixable}
        assert not fixed_rules & {f.rule for f in after if f.fixable}, name
        comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
        assert all(c in fixed for c in comments), name
    dp = (tmp_path / "device-plugin-config.yaml").read_text()
    assert "l4-shared: |-" in dp and "failRequestsGreaterThanOne: true" in dp
    assert "failRequestGreaterThanOne" not in dp
    training = (tmp_path / "training-job.yaml").read_text()
    # key order kept: the Master container still lists name, image, command, resources
    master = training.index("name: pytorch")
    assert master < training.index("image: pytorch/pytorch:latest") < training.index("resources:")
    assert "mountPath: /dev/shm" in training and "medium: Memory" in training


def test_module_docstring_example_runs() -> None:
    import doctest

    import gpukit.lint

    assert doctest.testmod(gpukit.lint).failed == 0
