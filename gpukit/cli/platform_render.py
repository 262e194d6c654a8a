"""`gpukit platform render`: a fleet and its workloads in, the cluster-side configuration out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gpukit._text import table
from gpukit.cli.core import resolve_fleet
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
        if (
            value is None
            or value == "live"
            or value.startswith("live:")
            or not _is_pool_list(Path(value))
        ):
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


@platform_app.command("render")
def render_command(
    workloads: Annotated[
        list[str],
        typer.Option("--workloads", "-w", help="workload YAML files or folders (repeatable)"),
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="folder to write the bundle into")],
    fleet: Annotated[
        str | None,
        typer.Option(
            "--fleet", "-f", help="fleet YAML file or 'live'; default: the embedded default fleet"
        ),
    ] = None,
    node_class: Annotated[
        str,
        typer.Option(help="Karpenter node class of the NodePools, GROUP/KIND/NAME"),
    ] = "karpenter.k8s.aws/EC2NodeClass/default",
    spot: Annotated[bool, typer.Option(help="Karpenter NodePools launch spot capacity")] = False,
) -> None:
    """Render the platform bundle: Helm values, ConfigMaps, queues, node labels, NodePools.

    Every file starts with a comment saying what it is for and how to apply it; the table
    printed at the end lists them in the order to apply.
    """
    options = PlatformOptions(
        node_class=_node_class(node_class), capacity_type="spot" if spot else "on-demand"
    )
    pp = platform_plan(_platform_fleet(fleet), load_workloads(*workloads), options)
    files = platform_files(pp)
    write_platform(files, out)
    for warning in pp.warnings:
        typer.echo(f"warning: {warning}", err=True)
    rows = [(i, f.path, f.title.rstrip(".")) for i, f in enumerate(files, 1)]
    typer.echo(table(["STEP", "FILE", "WHAT"], rows, max_width=80))
    typer.echo(f"\nwrote {len(files)} files under {out}/; each file's header says how to apply it")
    # helm/ holds Helm values and scripts/ a shell script: not Kubernetes objects.
    typer.echo(
        f"check the Kubernetes objects with: gpukit validate {out}/manifests {out}/karpenter"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
