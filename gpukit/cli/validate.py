"""`gpukit validate`: check manifests offline against the Kubernetes and CRD schemas."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from gpukit._text import table
from gpukit.cli._options import Format, input_paths, output_option, parse_output
from gpukit.errors import InputError, ManifestError

__all__ = ["register", "run_validate"]

FORMATS = (Format.table, Format.json)
ValidateOutputOpt = output_option(*FORMATS)


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate_command(
        files: Annotated[
            list[str],
            typer.Argument(
                help="manifest YAML/JSON files or folders (read recursively); '-' reads stdin"
            ),
        ],
        output: ValidateOutputOpt = None,
        crd: Annotated[
            Optional[list[str]],  # noqa: UP045  (typer needs Optional here)
            typer.Option(
                "--crd",
                help="a CRD manifest to validate its kind too (repeatable); "
                "replaces gpukit's copy of the same CRD",
            ),
        ] = None,
    ) -> None:
        """Check manifests as an API server would: schema defaults applied, unknown fields
        rejected, every object's kind known. Exit 0 valid, 1 invalid, 2 unreadable."""
        chosen = parse_output(output, FORMATS)[0] or Format.table
        code = run_validate(files, chosen, crd or [])
        if code:
            # SystemExit, not typer.Exit: click returns typer.Exit's code from app() in
            # non-standalone mode, and cli.main() does not pass it on.
            raise SystemExit(code)


def run_validate(files: list[str], output: Format, crds: list[str]) -> int:
    """Print the report; return the exit code (0 valid, 1 invalid, 2 unreadable).

    Documents that are another gpukit input rather than a Kubernetes object are named:
    a gpukit workload is an input error (render it first), Helm values are a note and
    skipped. An empty file is a warning, unless no input held anything to check at all:
    then nothing was validated, which is exit 2 rather than a 'valid' verdict.
    """
    from gpukit.validate import Validator, default_validator

    validator = Validator(crds=[_crd_file(crd) for crd in crds]) if crds else default_validator()
    reports = []
    unreadable: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    nothing = False
    paths = []
    for name in files:
        try:
            paths.extend(input_paths([name]))
        except ManifestError as exc:
            unreadable.append({"file": name, "message": str(exc)})
    for path in paths:
        try:
            report, problems, found = _check_file(validator, path)
        except ManifestError as exc:
            unreadable.append({"file": str(path), "message": str(exc)})
            continue
        reports.append(report)
        unreadable.extend(problems)
        notes.extend(found)
    issues = [issue for report in reports for issue in report.issues]
    errors = sum(issue.severity == "error" for issue in issues)
    warnings = len(issues) - errors
    objects = sum(report.objects for report in reports)
    if reports and not objects and not unreadable:
        skipped = "; ".join(f"{note['file']}: {note['message']}" for note in notes)
        unreadable.append(
            {"file": ", ".join(files), "message": f"nothing to validate: {skipped}; "
             "give files of Kubernetes objects (apiVersion, kind, metadata)"}
        )
        notes = []
        nothing = True
    code = 2 if unreadable else 1 if errors else 0
    if output is Format.json:
        document = {
            "files": len(reports),
            "objects": objects,
            "errors": errors,
            "warnings": warnings,
            "unreadable": unreadable,
            "notes": notes,
            "issues": [issue.model_dump(mode="json") for issue in issues],
            "valid": code == 0,
        }
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
        return code
    for entry in unreadable:
        typer.echo(f"error: {entry['message']}", err=True)
    for note in notes:
        typer.echo(f"{note['level']}: {note['file']}: {note['message']}", err=True)
    if issues:
        rows = [
            (
                issue.location,
                issue.object,
                issue.path or "-",
                ("warning: " if issue.severity == "warning" else "") + issue.message,
            )
            for issue in issues
        ]
        typer.echo(table(["FILE", "OBJECT", "PATH", "ISSUE"], rows, max_width=400))
    verdict = "invalid" if errors else "valid"
    if unreadable:
        verdict = "nothing validated" if nothing else f"{len(unreadable)} unreadable"
    typer.echo(
        f"{verdict}: {objects} object{'s' * (objects != 1)} in {len(reports)} "
        f"file{'s' * (len(reports) != 1)}, {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}"
    )
    return code


def _check_file(validator, path):  # type: ignore[no-untyped-def]
    """(FileReport of its Kubernetes objects, input errors, notes) for one file.

    The file is read once (it may be standard input); documents that are gpukit workloads
    or Helm values are set aside before the validator sees them.
    """
    from gpukit.validate import FileReport, Issue
    from gpukit.validate._files import foreign_shape, load_manifests

    label, docs = load_manifests(path)
    problems: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    if not docs:
        notes.append({"level": "warning", "file": label, "message": "no documents (empty file)"})
    issues = []
    objects = 0
    for doc in docs:
        where = f"{label}#{doc.index}" if len(docs) > 1 else label
        shape = foreign_shape(doc.data, label)
        if shape == "workload":
            command = f"gpukit render {label if label != '<stdin>' else '-'}"
            problems.append(
                {
                    "file": label,
                    "message": f"{where}: this is a gpukit workload, not a Kubernetes object: "
                    f"run `{command}` first, then validate the output",
                }
            )
            continue
        if shape == "helm-values":
            notes.append(
                {"level": "note", "file": where, "message": "not a Kubernetes object (Helm values?), skipped"}
            )
            continue
        found, _ = validator.check(doc.data, file=label, doc=doc.index)
        issues.extend(found)
        objects += _objects(doc.data)
        ident = _ident(doc.data)
        issues.extend(
            Issue(
                code="duplicate",
                message=f"key {key!r} appears twice in one mapping (line {line}); "
                "the API server rejects duplicate fields; keep one",
                file=label,
                doc=doc.index,
                **ident,
            )
            for key, line in doc.duplicates
        )
    return FileReport(file=label, objects=objects, issues=issues), problems, notes


def _crd_file(name: str) -> str:
    """--crd FILE, checked to hold something: an empty one would silently add no kind."""
    from gpukit.validate._files import load_manifests

    if name == "-":
        return name  # standard input can be read once only: the Validator reads it
    label, docs = load_manifests(name)
    if not docs:
        raise InputError(
            f"--crd {label}: no documents (empty file); give a CustomResourceDefinition manifest"
        )
    return name


def _objects(data: object) -> int:
    if isinstance(data, dict) and data.get("kind") == "List" and isinstance(data.get("items"), list):
        return len(data["items"])
    return 1


def _ident(data: object) -> dict[str, str | None]:
    if not isinstance(data, dict):
        return {}
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    return {
        "api_version": text(data.get("apiVersion")),
        "kind": text(data.get("kind")),
        "name": text(meta.get("name")),  # type: ignore[union-attr]
        "namespace": text(meta.get("namespace")),  # type: ignore[union-attr]
    }
