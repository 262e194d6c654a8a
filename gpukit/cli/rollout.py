"""`gpukit mig rollout`: from today's MIG layouts to the planned ones, in capacity-safe waves."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from gpukit.cli._options import choice_metavar, parse_choice
from gpukit.cli.kube import ContextOpt, KubeconfigOpt
from gpukit.cli.verify import parse_duration
from gpukit.errors import InputError


class RolloutOutput(str, Enum):
    text = "text"
    json = "json"


def rollout_cmd(
    target: Annotated[
        Path, typer.Option("--target", help="the target: `gpukit mig plan ... -o yaml` written to a file")
    ],
    fleet: Annotated[
        str | None,
        typer.Option(
            "--fleet",
            "-f",
            help="'live' (or 'live:CONTEXT') for the cluster's current state, or a fleet file "
            "(nodes <pool>-<i> in the pool's layout); default: the embedded default fleet",
        ),
    ] = None,
    pods: Annotated[
        Path | None,
        typer.Option("--pods", help="with a fleet file: a PodList (kubectl get pods -A -o json) of the running work"),
    ] = None,
    max_unavailable: Annotated[
        int, typer.Option("--max-unavailable", min=1, help="nodes relabelled at the same time")
    ] = 1,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="carry it out (default: a dry run that prints the waves)")
    ] = False,
    output: Annotated[
        str, typer.Option("-o", "--output", metavar=choice_metavar(RolloutOutput), help="text or json")
    ] = "text",
    progress_namespace: Annotated[
        str,
        typer.Option("--progress-namespace", help="namespace of the ConfigMap that records progress"),
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
    from gpukit.rollout import carry_out, consumers_from_pods, load_target, nodes_from_fleet, plan_rollout, read_cluster

    fmt = parse_choice("--output", output, RolloutOutput)
    seconds = parse_duration("--node-timeout", node_timeout)
    goal = load_target(target)
    live = fleet is not None and (fleet == "live" or fleet.startswith("live:"))
    if yes and not live:
        raise InputError("--yes changes a cluster: use it with --fleet live")
    if pods is not None and live:
        raise InputError("--pods is for a fleet file; with --fleet live the cluster's pods are read")
    cluster = None
    if live:
        from gpukit import kube

        cluster = kube.connect(context or (fleet.partition(":")[2] or None), kubeconfig=kubeconfig)
    try:
        if cluster is not None:
            nodes, consumers, budgets = read_cluster(cluster, goal)
        else:
            from gpukit.cli.core import resolve_fleet

            nodes = nodes_from_fleet(resolve_fleet(fleet), goal)
            consumers, budgets = [], []
            if pods is not None:
                from gpukit._loading import load_documents, read_text

                label, text = read_text(pods)
                docs = [d for _, d in load_documents(label, text)]
                items = [i for d in docs for i in ((d or {}).get("items") or [d] if isinstance(d, dict) else [])]
                consumers, budgets = consumers_from_pods([i for i in items if i.get("kind", "Pod") == "Pod"])
        plan = plan_rollout(nodes, consumers, budgets, max_unavailable=max_unavailable)
        if not live and pods is None:
            typer.echo("note: no running pods given (--pods, or --fleet live): the waves assume none run", err=True)
        if fmt is RolloutOutput.json and not yes:
            typer.echo(json.dumps(plan.to_dict(), indent=2))
        else:
            typer.echo(plan.text())
        if not plan.safe:
            raise SystemExit(1)
        if not yes:
            if live and plan.waves:
                typer.echo("dry run: nothing changed; run again with --yes to carry it out", err=True)
            return
        result = carry_out(
            cluster,
            plan,
            goal,
            namespace=progress_namespace,
            node_timeout=seconds,
            on_event=lambda line: typer.echo(line, err=fmt is RolloutOutput.json),
        )
        if fmt is RolloutOutput.json:
            typer.echo(json.dumps({"plan": plan.to_dict(), "result": result.to_dict()}, indent=2))
        if not result.ok:
            raise SystemExit(1)
    finally:
        if cluster is not None:
            cluster.close()
