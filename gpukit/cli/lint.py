"""`gpukit lint`: GPU anti-patterns in manifests and configs, as a table, JSON or SARIF; --fix."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from gpukit.cli._options import (
    FleetOpt,
    Format,
    choice_metavar,
    output_option,
    parse_choice,
    parse_output,
)
from gpukit.errors import InputError

LINT_FORMATS = (Format.table, Format.json, Format.sarif)
LintOutputOpt = output_option(*LINT_FORMATS, help="output format: table, json or sarif (SARIF 2.1.0)")


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


def _fleet(value: str | None):
    # No --fleet: the fleet `gpukit plan` uses by default, so lint agrees with the planner
    # (lint's "default": fixes built from fleet facts are not offered on a stand-in fleet).
    if value is None or value == "default":
        return "default"
    if value == "none":
        return None
    from gpukit.cli._options import resolve_fleet

    return resolve_fleet(value)


def _rules_table() -> str:
    from gpukit._text import table
    from gpukit.lint import RULES

    rows = [
        (r.id, r.severity, "yes" if r.fixable else "-", r.needs or "-", r.name, r.summary)
        for r in RULES.values()
    ]
    return table(["RULE", "SEVERITY", "FIX", "NEEDS", "NAME", "CATCHES"], rows, max_width=200)


def register(app: typer.Typer) -> None:
    @app.command("lint")
    def lint_cmd(
        paths: Annotated[
            list[str] | None,
            typer.Argument(help="manifest or config files, folders (walked for .yaml/.yml/.json), '-' for stdin"),
        ] = None,
        output: LintOutputOpt = None,
        fail_on: Annotated[
            str,
            typer.Option(
                "--fail-on",
                help="exit 1 when a finding is this severe or more (never: always 0)",
                metavar=choice_metavar(FailOn),
            ),
        ] = FailOn.error.value,
        fleet: FleetOpt = None,
        workloads: Annotated[
            str | None,
            typer.Option("--workloads", "-w", help="workload file or folder: enables sizing rules"),
        ] = None,
        rules: Annotated[
            str | None, typer.Option("--rules", help="only these rule ids, comma-separated")
        ] = None,
        skip: Annotated[
            str | None, typer.Option("--skip", help="leave these rule ids out, comma-separated")
        ] = None,
        fix: Annotated[
            bool, typer.Option("--fix", help="write fixed copies of files with fixable findings")
        ] = False,
        out: Annotated[
            Path,
            typer.Option("--out", help="folder for --fix copies (paths kept as given)", metavar="DIR"),
        ] = Path("gpukit-fixed"),
        in_place: Annotated[
            bool, typer.Option("--in-place", help="with --fix: rewrite the files themselves")
        ] = False,
        list_rules: Annotated[
            bool, typer.Option("--list-rules", help="print every rule and exit")
        ] = False,
    ) -> None:
        """Review manifests and GPU configs for GPU anti-patterns.

        Exit 0: nothing at or above --fail-on; 1: findings at or above it; 2: unreadable input.
        With --fix, the findings shown are those left after fixing (re-linted). An object
        annotated gpukit.io/lint-skip: "GPU010,GPU012" (or "all") is exempt from those rules.
        Without --fleet, lint judges on the fleet `gpukit plan` uses (fixes that need fleet
        facts are then not offered: give a fleet file); --fleet none lints with no fleet.
        """
        chosen = parse_output(output, LINT_FORMATS)[0] or Format.table
        threshold = parse_choice("--fail-on", fail_on, FailOn)
        if list_rules:
            typer.echo(_rules_table())
            raise typer.Exit(0)
        if not paths:
            raise InputError("lint: give one or more files or folders, or '-' for stdin")
        if in_place and not fix:
            raise InputError("--in-place only makes sense with --fix; add --fix")
        from gpukit.lint import at_or_above, lint, to_json, to_sarif, to_table, write_fixes

        the_fleet = _fleet(fleet)
        only = [r.strip() for r in rules.split(",") if r.strip()] if rules else None
        left_out = [r.strip() for r in skip.split(",") if r.strip()] if skip else []
        texts: dict[str, str] = {}
        findings = lint(paths, the_fleet, workloads, rules=only, skip=left_out, texts=texts)
        if fix:
            written = write_fixes(findings, None if in_place else out, texts)
            fixed = sum(1 for f in findings if f.fixable and f.file in written)
            where = "in place" if in_place else f"to {out}/"
            on = {None: "gpukit's default fleet (give --fleet for fixes that need your pools)",
                  "none": "no fleet"}.get(fleet, fleet)
            typer.echo(f"fixed {fixed} finding(s) in {len(written)} file(s), written {where}; fleet: {on}", err=True)
            if written:
                again = [str(written.get(label, label)) for label in texts if label != "<stdin>" or label in written]
                kept = [f for f in findings if f.file == "<stdin>" and "<stdin>" not in written]
                findings = kept + lint(again, the_fleet, workloads, rules=only, skip=left_out)
        if chosen is Format.json:
            typer.echo(to_json(findings))
        elif chosen is Format.sarif:
            typer.echo(to_sarif(findings))
        else:
            typer.echo(to_table(findings))
        if threshold is not FailOn.never and at_or_above(findings, threshold.value):
            # SystemExit, not typer.Exit: main() runs click with standalone_mode=False, which
            # turns typer.Exit into a return value that main() does not pass on.
            raise SystemExit(1)
