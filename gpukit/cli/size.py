"""`gpukit size`: GPUs a workload mix needs under gpukit's plans against whole GPUs for all."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gpukit.cli._options import FleetOpt, Format, output_option, parse_output

SIZE_FORMATS = (Format.table, Format.json)
SizeOutputOpt = output_option(*SIZE_FORMATS)


def register(app: typer.Typer) -> None:
    @app.command("size")
    def size_cmd(
        workloads: Annotated[
            list[str],
            typer.Option(
                "--workloads",
                "-w",
                help="workload files or folders, read recursively (repeatable); '-' reads stdin",
            ),
        ],
        fleet: FleetOpt = None,
        output: SizeOutputOpt = None,
    ) -> None:
        """GPUs per GPU model for a workload mix: gpukit's plans vs whole GPUs for every pod.

        MIG instances are packed onto GPUs with valid placements and time-slicing / MPS
        replicas onto GPUs by the pool's replica count. Exit code 1 when a workload cannot
        be planned on the fleet (it is listed as unplaced).
        """
        from gpukit.cli._options import input_paths, resolve_fleet
        from gpukit.sizing import size
        from gpukit.workload import load_workloads

        chosen = parse_output(output, SIZE_FORMATS)[0] or Format.table
        report = size(load_workloads(*input_paths(workloads)), resolve_fleet(fleet))
        if chosen is Format.json:
            typer.echo(json.dumps(report.to_dict(), indent=2))
        else:
            typer.echo(report.table())
        if report.unplaced or report.violations:
            raise typer.Exit(1)
