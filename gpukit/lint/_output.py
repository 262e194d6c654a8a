"""Lint output: a table for people, stable JSON for tools, SARIF 2.1.0 for code review."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from gpukit._text import table
from gpukit.lint._model import SEVERITIES, Finding
from gpukit.lint.rules import RULES

__all__ = ["SARIF_SCHEMA", "summary", "to_json", "to_sarif", "to_table"]

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    out = {s: counts.get(s, 0) for s in SEVERITIES}
    out["fixable"] = sum(1 for f in findings if f.fixable)
    return out


def to_table(findings: Sequence[Finding]) -> str:
    """One row per finding, then a one-line summary."""
    if not findings:
        return "no findings"
    rows = [
        (
            f.file + (f":{f.line}" if f.line else ""),
            f.document,
            f.severity,
            f.rule,
            f.object,
            f.path or "-",
            f.message,
        )
        for f in findings
    ]
    body = table(["FILE", "DOC", "SEVERITY", "RULE", "OBJECT", "PATH", "MESSAGE"], rows, max_width=400)
    counts = summary(findings)
    line = (
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: {counts['error']} error(s), "
        f"{counts['warning']} warning(s), {counts['info']} info"
    )
    if counts["fixable"]:
        line += f"; {counts['fixable']} fixable with --fix"
    return body + "\n\n" + line


def to_json(findings: Sequence[Finding]) -> str:
    """{"findings": [...], "summary": {...}} with keys in a fixed order."""
    doc = {"findings": [f.to_dict() for f in findings], "summary": summary(findings)}
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _uri(file: str) -> str:
    if file == "<stdin>":
        return "stdin"
    path = PurePath(file)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def to_sarif(findings: Sequence[Finding], tool_version: str | None = None) -> str:
    """A SARIF 2.1.0 log with one run: every rule gpukit has, and one result per finding."""
    if tool_version is None:
        import gpukit

        tool_version = gpukit.__version__
    ids = list(RULES)
    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            "properties": {"fixable": rule.fixable, **({"needs": rule.needs} if rule.needs else {})},
        }
        for rule in RULES.values()
    ]
    results: list[dict[str, Any]] = []
    for f in findings:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.file)}}
        if f.line:
            physical["region"] = {"startLine": f.line, "startColumn": f.column or 1}
        location: dict[str, Any] = {"physicalLocation": physical}
        if f.kind or f.name or f.path:
            location["logicalLocations"] = [
                {"fullyQualifiedName": f"{f.object}:{f.path}" if f.path else f.object, "kind": "object"}
            ]
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [location],
            "properties": {"document": f.document, "path": f.path, "fixable": f.fixable},
        }
        if f.rule in ids:
            result["ruleIndex"] = ids.index(f.rule)
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gpukit",
                        "version": tool_version,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
