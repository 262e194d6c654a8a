"""`gpukit plan`, `gpukit render` and `--version`: workload files in, plans and manifests out."""

from __future__ import annotations

import json
import shutil
import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

import gpukit
from gpukit._text import table
from gpukit.advisor import Plan, plan
from gpukit.errors import InputError
from gpukit.fleet import Fleet, default_fleet, load_fleet
from gpukit.manifests import render, to_yaml
from gpukit.workload import load_workloads


class Output(str, Enum):
    table = "table"
    yaml = "yaml"
    json = "json"


FilesArg = Annotated[
    list[str], typer.Argument(help="workload YAML/JSON files or folders; '-' reads stdin")
]
FleetOpt = Annotated[
    Optional[str],
    typer.Option("--fleet", "-f", help="fleet YAML file, or 'live' (or 'live:CONTEXT') for the cluster; "
                 "default: the embedded default fleet"),
]
OutputOpt = Annotated[Output, typer.Option("--output", help="table, yaml or json")]


def resolve_fleet(value: str | None) -> Fleet:
    """--fleet: a file, 'live' (discover the current cluster), or the embedded default."""
    if value is None:
        return default_fleet()
    if value == "live" or value.startswith("live:"):
        from gpukit.kube import fleet_from_option

        return fleet_from_option(value)
    return load_fleet(value)


def plan_files(files: list[str], fleet_option: str | None) -> list[Plan]:
    fleet = resolve_fleet(fleet_option)
    return [plan(w, fleet) for w in load_workloads(*files)]


def plan_table(plans: list[Plan]) -> str:
    rows = [
        (
            p.name,
            p.sharing,
            _gpu_cell(p),
            p.scheduler + (f"/{p.queue}" if p.queue else ""),
            p.summary,
        )
        for p in plans
    ]
    return table(["WORKLOAD", "SHARING", "GPU", "SCHEDULER", "WHY"], rows, max_width=90)


def _gpu_cell(p: Plan) -> str:
    c = p.choice
    if c.mig_profile:
        share = f" 1/{p.pool.sharing.replicas}" if c.sharing == "time-slicing" and p.pool.sharing else ""
        return f"{c.gpu_model} {c.mig_profile}{share}"
    if c.sharing == "dedicated":
        return f"{c.gpus}x {c.gpu_model}"
    return f"{c.gpu_model} 1/{p.pool.sharing.replicas}"  # type: ignore[union-attr]


def _plans_json(plans: list[Plan]) -> str:
    return "\n".join(json.dumps(p.to_dict(), sort_keys=False) for p in plans)


def write_manifests(plans: list[Plan], out: Path) -> list[Path]:
    """Write each plan's objects to out/<workload>/NN-<kind>-<name>.yaml, all or nothing.

    Everything is rendered first; each workload's folder is built beside its final place
    and swapped in, so a failure never leaves a half-written folder.
    """
    rendered = [(p.name, render(p)) for p in plans]
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, objects in rendered:
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out))
        try:
            for index, obj in enumerate(objects):
                kind = obj["kind"].lower()
                path = staging / f"{index:02d}-{kind}-{obj['metadata']['name']}.yaml"
                path.write_text(to_yaml(obj), encoding="utf-8")
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
    def plan_cmd(files: FilesArg, fleet: FleetOpt = None, output: OutputOpt = Output.table) -> None:
        """Plan each workload: sharing, GPU, scheduler, and why.

        JSON output is one object per line per workload (keys documented in the README).
        """
        plans = plan_files(files, fleet)
        if output is Output.json:
            typer.echo(_plans_json(plans))
        elif output is Output.yaml:
            typer.echo(to_yaml([p.to_dict() for p in plans]), nl=False)
        else:
            typer.echo(plan_table(plans))

    @app.command("render")
    def render_cmd(
        files: FilesArg,
        out: Annotated[
            Optional[Path], typer.Option("-o", "--out", help="folder for out/<workload>/*.yaml")
        ] = None,
        fleet: FleetOpt = None,
        output: Annotated[
            Optional[Output],
            typer.Option("--output", help="table, yaml or json (default: yaml without -o, table with -o)"),
        ] = None,
    ) -> None:
        """Plan and render each workload's manifests, ready for kubectl apply -f."""
        plans = plan_files(files, fleet)
        output = output or (Output.table if out else Output.yaml)
        if out is not None:
            if out.exists() and not out.is_dir():
                raise InputError(f"-o {out}: exists and is not a folder; give a folder path")
            written = write_manifests(plans, out)
        else:
            written = []
        if output is Output.yaml:
            typer.echo(to_yaml([obj for p in plans for obj in render(p)]), nl=False)
        elif output is Output.json:
            typer.echo(json.dumps([obj for p in plans for obj in render(p)], indent=2))
        else:
            typer.echo(plan_table(plans))
            if written:
                typer.echo(f"\nwrote {len(written)} files under {out}/")
