"""`gpukit verify`: follow submitted workloads on the cluster and compare each step with the plan."""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Annotated

import typer

from gpukit.cli._options import (
    ClusterFleetOpt,
    Format,
    choice_metavar,
    out_option,
    output_option,
    parse_choice,
    parse_output,
    resolve_fleet,
)
from gpukit.cli.kube import ContextOpt, KubeconfigOpt, NamespaceOpt
from gpukit.errors import InputError

FORMATS = (Format.table, Format.json, Format.junit)
OutputOpt = output_option(*FORMATS)
OutOpt = out_option("write the report to this file as well", metavar="FILE")


class UntilStep(str, Enum):
    admitted = "admitted"
    scheduled = "scheduled"
    running = "running"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_duration(option: str, value: str) -> float:
    """Seconds from '90', '90s', '5m' or '1h'."""
    match = _DURATION.match(value)
    if not match or float(match.group(1)) <= 0:
        raise InputError(
            f"{option} {value!r} is not a duration; give seconds (300) or a number with s, m or h "
            "(90s, 5m, 1h)"
        )
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify_cmd(
        files: Annotated[
            list[str] | None,
            typer.Argument(help="workload YAML/JSON files or folders (not with --probe)"),
        ] = None,
        fleet: ClusterFleetOpt = None,
        until: Annotated[
            str,
            typer.Option(
                "--until",
                metavar=choice_metavar(UntilStep),
                help="the step every workload must reach as planned",
            ),
        ] = "scheduled",
        timeout: Annotated[
            str, typer.Option("--timeout", help="how long to follow: seconds, or 90s, 5m, 1h")
        ] = "5m",
        submit: Annotated[
            bool,
            typer.Option(
                "--submit",
                help="apply each workload first (server-side dry run, then the real apply; "
                "namespaced objects only)",
            ),
        ] = False,
        probe: Annotated[
            bool,
            typer.Option(
                "--probe",
                help="check the fleet instead: one tiny pod per pool and GPU resource, then "
                "deleted",
            ),
        ] = False,
        probe_image: Annotated[
            str,
            typer.Option(
                "--probe-image",
                help="'nvidia-smi' (lists the GPUs), 'pause' (only starts), or an image",
            ),
        ] = "nvidia-smi",
        output: OutputOpt = None,
        out: OutOpt = None,
        namespace: NamespaceOpt = None,
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Follow workloads on the cluster and check admission, scheduling and running against
        their plans: 'as planned', 'differs' (what and where) or 'stuck' (and what to do).

        Exit 0 only when every workload reached --until as planned (with --probe: every
        probe landed where the fleet says); 1 otherwise.
        """
        from gpukit import kube
        from gpukit.verify import probe as run_probe
        from gpukit.verify import verify
        from gpukit.workload import load_workloads

        fmt = parse_output(output, FORMATS)[0] or Format.table
        step = parse_choice("--until", until, UntilStep)
        seconds = parse_duration("--timeout", timeout)
        if probe and files:
            raise InputError(
                "--probe checks the fleet, not workload files: drop the files or --probe"
            )
        if not probe and not files:
            raise InputError("gpukit verify needs workload files or folders (or --probe)")
        given = None if fleet in (None, "live") else resolve_fleet(fleet)

        def progress(row) -> None:
            if fmt is Format.table:
                typer.echo(f"  {row.name}: {row.verdict}", err=True)

        with kube.connect(context, kubeconfig=kubeconfig, namespace=namespace) as cluster:
            chosen = given if given is not None else kube.discover(cluster=cluster)
            if probe:
                report = run_probe(
                    chosen, cluster=cluster, namespace=namespace, image=probe_image, timeout=seconds
                )
            else:
                workloads = load_workloads(*(files or []))
                report = verify(
                    workloads,
                    chosen,
                    until=step.value,
                    timeout=seconds,
                    submit=submit,
                    namespace=namespace,
                    cluster=cluster,
                    on_progress=progress,
                )
        if fmt is Format.json:
            text = json.dumps(report.to_dict(), indent=2)
        elif fmt is Format.junit:
            if probe:
                raise InputError("--output junit reports workloads; use table or json with --probe")
            text = report.to_junit()
        else:
            text = report.table()
        typer.echo(text)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text if text.endswith("\n") else text + "\n")
        if not report.ok:
            raise SystemExit(1)
