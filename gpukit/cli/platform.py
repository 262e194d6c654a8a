"""`gpukit platform render`: a fleet and its workloads in, the cluster-side configuration out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gpukit._text import table
from gpukit.cli._options import (
    FailFastOpt,
    FleetOpt,
    Format,
    input_paths,
    is_live,
    out_option,
    output_option,
    parse_output,
    resolve_fleet,
)
from gpukit.cli.core import plan_batch, report_failures
from gpukit.errors import GpukitError, InputError
from gpukit.fleet import Fleet
from gpukit.platform import (
    NodeClassRef,
    PlatformOptions,
    platform_files,
    platform_plan,
    write_platform,
)
from gpukit.workload import load_workloads

__all__ = ["register"]

platform_app = typer.Typer(
    name="platform",
    help="Cluster-side configuration for a fleet: GPU Operator, sharing configs, queues, node pools.",
    no_args_is_help=True,
)


def _node_class(value: str) -> NodeClassRef:
    parts = value.split("/")
    if len(parts) != 3 or not all(parts):
        raise InputError(
            f"--node-class {value!r}: write GROUP/KIND/NAME, e.g. karpenter.k8s.aws/EC2NodeClass/default"
        )
    return NodeClassRef(group=parts[0], kind=parts[1], name=parts[2])


def _platform_fleet(value: str | None) -> Fleet:
    """--fleet, with a pointer to the right format when a pool list was given."""
    try:
        return resolve_fleet(value)
    except GpukitError as error:
        if value is None or value == "default" or is_live(value) or not _is_pool_list(Path(value)):
            raise
        raise InputError(
            f"--fleet {value}: platform render needs a full Fleet file (name, node_pools, "
            "installed, queues), not the MIG packer's list of GPUs; see examples/fleets/"
        ) from error


def _is_pool_list(path: Path) -> bool:
    import yaml

    try:
        return isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), list)
    except (OSError, yaml.YAMLError):
        return False


PlatformOutputOpt = output_option(Format.table, Format.json)
PlatformOutOpt = out_option("folder to write the bundle into (required)")
WorkloadsOpt = Annotated[
    list[str],
    typer.Option(
        "--workloads", "-w", help="workload YAML files or folders, read recursively (repeatable)"
    ),
]


@platform_app.command("render")
def render_command(
    workloads: WorkloadsOpt,
    out: PlatformOutOpt = None,
    fleet: FleetOpt = None,
    node_class: Annotated[
        str,
        typer.Option(help="Karpenter node class of the NodePools, GROUP/KIND/NAME"),
    ] = "karpenter.k8s.aws/EC2NodeClass/default",
    spot: Annotated[bool, typer.Option(help="Karpenter NodePools launch spot capacity")] = False,
    output: PlatformOutputOpt = None,
    fail_fast: FailFastOpt = False,
) -> None:
    """Render the platform bundle: Helm values, ConfigMaps, queues, node labels, NodePools.

    Every file starts with a comment saying what it is for and how to apply it; the table
    printed at the end lists them in the order to apply. A workload that cannot be planned
    is listed with its reason and left out of the bundle (exit 1), unless --fail-fast.
    """
    chosen, out = parse_output(output, (Format.table, Format.json), out=out, takes_out=True)
    if out is None:
        raise InputError("platform render: give --out DIR, the folder to write the bundle into")
    options = PlatformOptions(
        node_class=_node_class(node_class), capacity_type="spot" if spot else "on-demand"
    )
    the_fleet = _platform_fleet(fleet)
    loaded = load_workloads(*input_paths(workloads))
    plans, failures = plan_batch(loaded, the_fleet, fail_fast=fail_fast)
    planned = {p.name for p in plans}
    pp = platform_plan(the_fleet, [w for w in loaded if w.name in planned], options)
    files = platform_files(pp)
    write_platform(files, out)
    for warning in pp.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if chosen is Format.json:
        import json

        document = {
            "out": str(out),
            "files": [
                {"step": i, "path": f.path, "what": f.title.rstrip(".")}
                for i, f in enumerate(files, 1)
            ],
            "failures": [f.to_dict() for f in failures],
        }
        typer.echo(json.dumps(document, indent=2))
    else:
        rows = [(i, f.path, f.title.rstrip(".")) for i, f in enumerate(files, 1)]
        typer.echo(table(["STEP", "FILE", "WHAT"], rows, max_width=80))
        if failures:
            rows = [(f.name, f.reason) for f in failures]
            typer.echo(
                "\n"
                + table(
                    ["WORKLOAD", "CANNOT BE PLANNED (left out of the bundle)"], rows, max_width=90
                )
            )
        typer.echo(
            f"\nwrote {len(files)} files under {out}/; each file's header says how to apply it"
        )
        # helm/ holds Helm values and scripts/ a shell script: not Kubernetes objects.
        typer.echo(
            f"check the Kubernetes objects with: gpukit validate {out}/manifests {out}/karpenter"
        )
    report_failures(failures, len(loaded))
    if failures:
        raise SystemExit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
