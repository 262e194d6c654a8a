"""`gpukit mig rollout`: from today's MIG layouts to the planned ones, in capacity-safe waves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gpukit.cli._options import (
    FleetOpt,
    Format,
    is_live,
    output_option,
    parse_output,
    resolve_fleet,
)
from gpukit.cli.kube import ContextOpt, KubeconfigOpt
from gpukit.cli.verify import parse_duration
from gpukit.errors import InputError

FORMATS = (Format.table, Format.json)
OutputOpt = output_option(*FORMATS)


def rollout_cmd(
    target: Annotated[
        Path,
        typer.Option(
            "--target", help="the target: `gpukit mig plan ... -o yaml` written to a file"
        ),
    ],
    fleet: FleetOpt = None,
    pods: Annotated[
        Path | None,
        typer.Option(
            "--pods",
            help="with a fleet file: a PodList (kubectl get pods -A -o json) of the running work",
        ),
    ] = None,
    max_unavailable: Annotated[
        int, typer.Option("--max-unavailable", min=1, help="nodes relabelled at the same time")
    ] = 1,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="carry it out (default: a dry run that prints the waves)"),
    ] = False,
    output: OutputOpt = None,
    progress_namespace: Annotated[
        str,
        typer.Option(
            "--progress-namespace", help="namespace of the ConfigMap that records progress"
        ),
    ] = "gpu-operator",
    node_timeout: Annotated[
        str, typer.Option("--node-timeout", help="how long one node may take to reconfigure (15m)")
    ] = "15m",
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
) -> None:
    """Plan (and with --yes carry out) the relabelling of MIG nodes in waves that keep, at
    every moment, room for the GPU pods that run and are admitted (gangs as a whole,
    PodDisruptionBudgets respected). Resumable: a second run continues.

    Exit 0 when the plan is safe (and, with --yes, done); 1 when no safe order exists or the
    rollout stopped.
    """
    from gpukit.rollout import (
        carry_out,
        consumers_from_pods,
        load_target,
        nodes_from_fleet,
        plan_rollout,
        read_cluster,
    )

    fmt = parse_output(output, FORMATS)[0] or Format.table
    seconds = parse_duration("--node-timeout", node_timeout)
    goal = load_target(target)
    live = is_live(fleet)
    if yes and not live:
        raise InputError("--yes changes a cluster: use it with --fleet live")
    if pods is not None and live:
        raise InputError(
            "--pods is for a fleet file; with --fleet live the cluster's pods are read"
        )
    cluster = None
    if live:
        from gpukit import kube

        cluster = kube.connect(
            context or (str(fleet).partition(":")[2] or None), kubeconfig=kubeconfig
        )
    try:
        if cluster is not None:
            nodes, consumers, budgets = read_cluster(cluster, goal)
        else:
            nodes = nodes_from_fleet(resolve_fleet(fleet), goal)
            consumers, budgets = [], []
            if pods is not None:
                from gpukit.sizing import load_pods

                consumers, budgets = consumers_from_pods(list(load_pods(pods)))
        plan = plan_rollout(nodes, consumers, budgets, max_unavailable=max_unavailable)
        if not live and pods is None:
            typer.echo(
                "note: no running pods given (--pods, or --fleet live): the waves assume none run",
                err=True,
            )
        if fmt is Format.json and not yes:
            typer.echo(json.dumps(plan.to_dict(), indent=2))
        else:
            typer.echo(plan.text())
        if not plan.safe:
            raise SystemExit(1)
        if not yes:
            if live and plan.waves:
                typer.echo(
                    "dry run: nothing changed; run again with --yes to carry it out", err=True
                )
            return
        result = carry_out(
            cluster,
            plan,
            goal,
            namespace=progress_namespace,
            node_timeout=seconds,
            on_event=lambda line: typer.echo(line, err=fmt is Format.json),
        )
        if fmt is Format.json:
            typer.echo(json.dumps({"plan": plan.to_dict(), "result": result.to_dict()}, indent=2))
        if not result.ok:
            raise SystemExit(1)
    finally:
        if cluster is not None:
            cluster.close()
