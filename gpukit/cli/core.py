"""`gpukit plan`, `gpukit render` and `--version`: workload files in, plans and manifests out."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

import gpukit
from gpukit._text import table
from gpukit.advisor import Plan, plan
from gpukit.cli._options import (
    FailFastOpt,
    FleetOpt,
    Format,
    input_paths,
    out_option,
    output_option,
    parse_output,
    resolve_fleet,
)
from gpukit.errors import ClusterError, GpukitError, InputError, MissingExtraError
from gpukit.fleet import Fleet
from gpukit.manifests import render, to_yaml
from gpukit.workload import Workload, load_workloads

__all__ = ["Failure", "plan_batch", "plan_table", "register", "resolve_fleet", "write_manifests"]


FilesArg = Annotated[
    list[str],
    typer.Argument(help="workload YAML/JSON files or folders (read recursively); '-' reads stdin"),
]
PlanOutputOpt = output_option(Format.table, Format.yaml, Format.json)
RenderOutputOpt = output_option(
    Format.yaml,
    Format.table,
    Format.json,
    help="output format: yaml, table or json (default: yaml without --out, table with --out)",
)
RenderOutOpt = out_option("folder for the manifests: OUT/<workload>/NN-<kind>-<name>.yaml")


@dataclass(frozen=True)
class Failure:
    """A workload of a batch that could not be planned or rendered, and why."""

    name: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "error": self.reason}


def plan_batch(
    workloads: list[Workload], fleet: Fleet, *, fail_fast: bool
) -> tuple[list[Plan], list[Failure]]:
    """Plan every workload; one that cannot be planned is a Failure, unless fail_fast.

    Bad input (an unreadable file, an invalid field) is not a failure of one workload: it
    stops the batch before anything is planned.
    """
    plans: list[Plan] = []
    failures: list[Failure] = []
    for w in workloads:
        try:
            plans.append(plan(w, fleet))
        except GpukitError as exc:
            if fail_fast or isinstance(exc, (MissingExtraError, ClusterError)):
                raise
            failures.append(Failure(w.name, str(exc)))
    return plans, failures


def report_failures(failures: Sequence[Failure], total: int) -> None:
    """Each failure's full reason on stderr (the table cuts long reasons), then a count."""
    for f in failures:
        typer.echo(f"error: {f.name}: {f.reason}", err=True)
    if failures:
        typer.echo(
            f"{len(failures)} of {total} workload(s) could not be planned or rendered; "
            f"the other {total - len(failures)} were (--fail-fast stops at the first)",
            err=True,
        )


def plan_table(
    plans: list[Plan], failures: Sequence[Failure] = (), order: Sequence[str] = ()
) -> str:
    """One row per plan and one per failure with its reason; rows in ``order`` (workload
    names) when given, else plans first."""
    rows: list[tuple[object, ...]] = [
        (
            p.name,
            p.sharing,
            _gpu_cell(p),
            p.scheduler + (f"/{p.queue}" if p.queue else ""),
            p.summary,
        )
        for p in plans
    ]
    rows.extend((f.name, "-", "-", "-", f"cannot be planned: {f.reason}") for f in failures)
    if order:
        position = {name: i for i, name in enumerate(order)}
        rows.sort(key=lambda row: position.get(str(row[0]), len(position)))
    return table(["WORKLOAD", "SHARING", "GPU", "SCHEDULER", "WHY"], rows, max_width=90)


def _gpu_cell(p: Plan) -> str:
    c = p.choice
    if c.mig_profile:
        share = (
            f" 1/{p.pool.sharing.replicas}"
            if c.sharing == "time-slicing" and p.pool.sharing
            else ""
        )
        return f"{c.gpu_model} {c.mig_profile}{share}"
    if c.sharing == "dedicated":
        return f"{c.gpus}x {c.gpu_model}"
    return f"{c.gpu_model} 1/{p.pool.sharing.replicas}"  # type: ignore[union-attr]


def _documents(plans: list[Plan], failures: Sequence[Failure], order: Sequence[str]) -> list[dict]:  # type: ignore[type-arg]
    """Each plan's dict and each failure's {name, error}, in the workloads' order."""
    position = {name: i for i, name in enumerate(order)}
    docs = [p.to_dict() for p in plans] + [f.to_dict() for f in failures]
    return sorted(docs, key=lambda doc: position.get(doc["name"], len(position)))


def _requires_header(obj: dict) -> str:  # type: ignore[type-arg]
    """A comment naming the minimum component versions the object needs, or ''."""
    from gpukit.integrations import requirements

    return "".join(f"# Needs {text}.\n" for text in requirements(obj))


def write_manifests(
    plans: list[Plan],
    out: Path,
    rendered: dict[str, list[dict]] | None = None,  # type: ignore[type-arg]
) -> list[Path]:
    """Write each plan's objects to out/<workload>/NN-<kind>-<name>.yaml, all or nothing.

    Everything is rendered first (or given, by workload name); each workload's folder is
    built beside its final place and swapped in, so a failure never leaves a half-written
    folder.
    """
    rendered_ = rendered or {}
    pairs = [(p.name, rendered_[p.name] if p.name in rendered_ else render(p)) for p in plans]
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, objects in pairs:
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out))
        try:
            for index, obj in enumerate(objects):
                kind = obj["kind"].lower()
                path = staging / f"{index:02d}-{kind}-{obj['metadata']['name']}.yaml"
                path.write_text(_requires_header(obj) + to_yaml(obj), encoding="utf-8")
            final = out / name
            if final.exists():
                shutil.rmtree(final)
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        written.extend(sorted(final.iterdir()))
    return written


def register(app: typer.Typer) -> None:
    @app.callback(invoke_without_command=True)
    def _root(
        version: Annotated[
            bool, typer.Option("--version", help="print the version and exit", is_eager=True)
        ] = False,
    ) -> None:
        if version:
            typer.echo(f"gpukit {gpukit.__version__}")
            raise typer.Exit(0)

    @app.command("plan")
    def plan_cmd(
        files: FilesArg,
        fleet: FleetOpt = None,
        output: PlanOutputOpt = None,
        fail_fast: FailFastOpt = False,
    ) -> None:
        """Plan each workload: sharing, GPU, scheduler, and why.

        JSON output is one object per line per workload (keys documented in the README); a
        workload that cannot be planned is a line {"name", "error"}. Exit 1 when one could
        not be planned (every other one still is, unless --fail-fast).
        """
        chosen = parse_output(output, (Format.table, Format.yaml, Format.json))[0] or Format.table
        workloads = load_workloads(*input_paths(files))
        plans, failures = plan_batch(workloads, resolve_fleet(fleet), fail_fast=fail_fast)
        docs = _documents(plans, failures, [w.name for w in workloads])
        if chosen is Format.json:
            typer.echo("\n".join(json.dumps(doc, sort_keys=False) for doc in docs))
        elif chosen is Format.yaml:
            typer.echo(to_yaml(docs), nl=False)
        else:
            typer.echo(plan_table(plans, failures, [w.name for w in workloads]))
        report_failures(failures, len(workloads))
        if failures:
            raise SystemExit(1)

    @app.command("render")
    def render_cmd(
        files: FilesArg,
        out: RenderOutOpt = None,
        fleet: FleetOpt = None,
        output: RenderOutputOpt = None,
        fail_fast: FailFastOpt = False,
    ) -> None:
        """Plan and render each workload's manifests, ready for kubectl apply -f.

        With --out, each workload's objects go to OUT/<workload>/NN-<kind>-<name>.yaml. Exit 1
        when a workload could not be planned; every other one is still written, unless
        --fail-fast.
        """
        chosen, out = parse_output(
            output, (Format.yaml, Format.table, Format.json), out=out, takes_out=True
        )
        chosen = chosen or (Format.table if out else Format.yaml)
        if out is not None and out.exists() and not out.is_dir():
            raise InputError(f"--out {out}: exists and is not a folder; give a folder path")
        workloads = load_workloads(*input_paths(files))
        plans, failures = plan_batch(workloads, resolve_fleet(fleet), fail_fast=fail_fast)
        rendered, render_failures = _render_batch(plans, fail_fast=fail_fast)
        failures += render_failures
        plans = [p for p in plans if p.name in rendered]
        written = write_manifests(plans, out, rendered) if out is not None else []
        objects = [obj for p in plans for obj in rendered[p.name]]
        if chosen is Format.yaml:
            typer.echo(to_yaml(objects), nl=False)
        elif chosen is Format.json:
            typer.echo(json.dumps(objects, indent=2))
        else:
            typer.echo(plan_table(plans, failures, [w.name for w in workloads]))
            if written:
                typer.echo(f"\nwrote {len(written)} files under {out}/")
        report_failures(failures, len(workloads))
        if failures:
            raise SystemExit(1)


def _render_batch(
    plans: list[Plan], *, fail_fast: bool
) -> tuple[dict[str, list[dict]], list[Failure]]:  # type: ignore[type-arg]
    rendered: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    failures: list[Failure] = []
    for p in plans:
        try:
            rendered[p.name] = render(p)
        except GpukitError as exc:
            if fail_fast:
                raise
            failures.append(Failure(p.name, str(exc)))
    return rendered, failures
