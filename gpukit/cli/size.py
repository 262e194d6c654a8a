"""`gpukit size`: GPUs a workload mix needs under gpukit's plans against whole GPUs for all."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from gpukit.cli._options import choice_metavar, parse_choice


class SizeOutput(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command("size")
    def size_cmd(
        workloads: Annotated[
            list[str],
            typer.Option(
                "--workloads",
                "-w",
                help="workload files or folders (repeatable); '-' reads stdin",
            ),
        ],
        fleet: Annotated[
            str | None,
            typer.Option(
                "--fleet",
                "-f",
                help="fleet YAML file, or 'live'; default: the embedded default fleet",
            ),
        ] = None,
        output: Annotated[
            str, typer.Option("--output", help="table or json", metavar=choice_metavar(SizeOutput))
        ] = SizeOutput.table.value,
    ) -> None:
        """GPUs per GPU model for a workload mix: gpukit's plans vs whole GPUs for every pod.

        MIG instances are packed onto GPUs with valid placements and time-slicing / MPS
        replicas onto GPUs by the pool's replica count. Exit code 1 when a workload cannot
        be planned on the fleet (it is listed as unplaced).
        """
        from gpukit.cli.core import resolve_fleet
        from gpukit.sizing import size
        from gpukit.workload import load_workloads

        chosen = parse_choice("--output", output, SizeOutput)
        report = size(load_workloads(*workloads), resolve_fleet(fleet))
        if chosen is SizeOutput.json:
            typer.echo(json.dumps(report.to_dict(), indent=2))
        else:
            typer.echo(report.table())
        if report.unplaced or report.violations:
            raise typer.Exit(1)
