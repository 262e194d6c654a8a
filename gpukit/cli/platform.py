"""`gpukit validate`: check manifests offline against the Kubernetes and CRD schemas.

Platform-side commands may be added here, each in its own ``_register_<command>``
function called from ``register``.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Optional

import typer

from gpukit._text import table
from gpukit.errors import ManifestError

__all__ = ["register"]


class ValidateOutput(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    _register_validate(app)


# -- gpukit validate -----------------------------------------------------------------------


def _register_validate(app: typer.Typer) -> None:
    @app.command("validate")
    def validate_command(
        files: Annotated[
            list[str],
            typer.Argument(help="manifest YAML/JSON files or folders; '-' reads stdin"),
        ],
        output: Annotated[
            ValidateOutput, typer.Option("--output", "-o", help="table or json")
        ] = ValidateOutput.table,
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
        code = run_validate(files, output, crd or [])
        if code:
            # SystemExit, not typer.Exit: click returns typer.Exit's code from app() in
            # non-standalone mode, and cli.main() does not pass it on.
            raise SystemExit(code)


def run_validate(files: list[str], output: ValidateOutput, crds: list[str]) -> int:
    """Print the report; return the exit code (0 valid, 1 invalid, 2 unreadable)."""
    from gpukit.validate import Validator, default_validator
    from gpukit.validate._files import expand_paths

    validator = Validator(crds=crds) if crds else default_validator()
    reports = []
    unreadable: list[dict[str, str]] = []
    paths = []
    for name in files:
        try:
            paths.extend(expand_paths([name]))
        except ManifestError as exc:
            unreadable.append({"file": name, "message": str(exc)})
    for path in paths:
        try:
            reports.append(validator.check_file(path))
        except ManifestError as exc:
            unreadable.append({"file": str(path), "message": str(exc)})
    issues = [issue for report in reports for issue in report.issues]
    errors = sum(issue.severity == "error" for issue in issues)
    warnings = len(issues) - errors
    objects = sum(report.objects for report in reports)
    code = 2 if unreadable else 1 if errors else 0
    if output is ValidateOutput.json:
        document = {
            "files": len(reports),
            "objects": objects,
            "errors": errors,
            "warnings": warnings,
            "unreadable": unreadable,
            "issues": [issue.model_dump(mode="json") for issue in issues],
            "valid": code == 0,
        }
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
        return code
    for entry in unreadable:
        typer.echo(f"error: {entry['message']}", err=True)
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
        verdict = f"{len(unreadable)} unreadable"
    typer.echo(
        f"{verdict}: {objects} object{'s' * (objects != 1)} in {len(reports)} "
        f"file{'s' * (len(reports) != 1)}, {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}"
    )
    return code
