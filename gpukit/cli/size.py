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
            list[str] | None,
            typer.Option(
                "--workloads",
                "-w",
                help="workload files or folders, read recursively (repeatable; YAML, JSON or JSON Lines); '-' reads stdin",
            ),
        ] = None,
        pods: Annotated[
            str | None,
            typer.Option(
                "--pods",
                help="size the pods that run today: a PodList file (kubectl get pods -A -o json), "
                "'-' for stdin, or 'live' / 'live:CONTEXT' for the cluster's pods",
            ),
        ] = None,
        metrics: Annotated[
            str | None,
            typer.Option(
                "--metrics",
                help="with --pods: DCGM exporter metrics file (exposition format) giving each "
                "pod's GPU memory used (DCGM_FI_DEV_FB_USED)",
            ),
        ] = None,
        prometheus: Annotated[
            str | None,
            typer.Option(
                "--prometheus",
                help="with --pods: Prometheus URL to read each pod's peak DCGM_FI_DEV_FB_USED from",
            ),
        ] = None,
        window: Annotated[
            str, typer.Option("--window", help="with --prometheus: how far back the peak looks")
        ] = "7d",
        fleet: FleetOpt = None,
        output: SizeOutputOpt = None,
    ) -> None:
        """GPUs and nodes per GPU model and pool for a workload mix: gpukit's plans vs whole GPUs.

        MIG instances are packed onto GPUs with valid placements, time-slicing / MPS replicas
        onto GPUs by replica count and memory, gang jobs onto whole nodes. With --pods the
        mix is the pods that run today, sized on their measured GPU memory when --metrics or
        --prometheus gives it. Exit code 1 when a workload cannot be planned on the fleet
        (it is listed as unplaced).
        """
        from gpukit.cli._options import resolve_fleet
        from gpukit.errors import InputError
        from gpukit.sizing import (
            live_pods,
            load_pods,
            read_usage,
            size,
            stream_workloads,
            workloads_from_pods,
        )

        chosen = parse_output(output, SIZE_FORMATS)[0] or Format.table
        if (workloads is None) == (pods is None):
            raise InputError("give --workloads FILE_OR_DIR or --pods FILE|live (one of them)")
        if pods is None and (metrics is not None or prometheus is not None):
            raise InputError("--metrics and --prometheus measure pods; use them with --pods")
        chosen_fleet = resolve_fleet(fleet)
        if pods is not None:
            usage = read_usage(metrics=metrics, prometheus=prometheus, window=window)
            if pods == "live" or pods.startswith("live:"):
                items = live_pods(pods.partition(":")[2] or None)
            else:
                items = load_pods(pods)
            from_pods = workloads_from_pods(items, usage.peaks if usage else None)
            notes = list(from_pods.notes)
            if usage is not None:
                notes.insert(
                    0, f"GPU memory used: {usage.source}: {len(usage.peaks)} pods measured"
                )
            report = size(
                from_pods.workloads, chosen_fleet, measured=from_pods.measured, notes=notes
            )
        else:
            report = size(stream_workloads(*(workloads or [])), chosen_fleet)
        if chosen is Format.json:
            typer.echo(json.dumps(report.to_dict(), indent=2))
        else:
            typer.echo(report.table())
        if report.unplaced or report.violations:
            raise typer.Exit(1)
