"""`gpukit discover | inventory | apply | submit | status | wait`: the live-cluster commands."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from gpukit._text import table
from gpukit.cli._options import (
    ClusterFleetOpt,
    Format,
    choice_metavar,
    input_paths,
    out_option,
    output_option,
    parse_choice,
    parse_output,
    resolve_fleet,
)
from gpukit.errors import InputError
from gpukit.manifests import to_yaml

DISCOVER_FORMATS = (Format.yaml, Format.json, Format.table)
REPORT_FORMATS = (Format.table, Format.yaml, Format.json)  # inventory, apply, status
STREAM_FORMATS = (Format.table, Format.json)  # submit, wait
DiscoverOutputOpt = output_option(*DISCOVER_FORMATS)
ReportOutputOpt = output_option(*REPORT_FORMATS)
StreamOutputOpt = output_option(*STREAM_FORMATS)
DiscoverOutOpt = out_option("file to write the fleet YAML into", metavar="FILE")


class Until(str, Enum):
    finished = "finished"
    running = "running"


ContextOpt = Annotated[
    str | None, typer.Option("--context", help="kubeconfig context (default: the current one)")
]
KubeconfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)",
    ),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option("-n", "--namespace", help="namespace (default: the context's namespace)"),
]
YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="apply for real (default: server-side dry run only)")
]
ClusterScopeOpt = Annotated[
    bool, typer.Option("--cluster-scope", help="allow cluster-scoped objects (ClusterQueue, ...)")
]
ForceOpt = Annotated[
    bool, typer.Option("--force-conflicts", help="take over fields another field manager owns")
]
FleetOpt = ClusterFleetOpt


def _given_fleet(value: str | None):  # type: ignore[no-untyped-def]
    """--fleet of a cluster command: None (read the connected cluster) or the fleet given."""
    return None if value in (None, "live") else resolve_fleet(value)


def _connect(context: str | None, kubeconfig: Path | None, namespace: str | None = None):
    from gpukit.kube import connect

    return connect(context, kubeconfig=kubeconfig, namespace=namespace)


def _notes(notes: tuple[str, ...] | list[str]) -> None:
    for note in notes:
        typer.echo(f"note: {note}", err=True)


def _fleet_yaml(fleet, context: str | None) -> str:
    header = f"# Fleet discovered by gpukit from context {context or 'in-cluster'}.\n"
    return header + to_yaml(fleet.model_dump(mode="json", exclude_defaults=True))


def _pools_table(fleet) -> str:
    rows = []
    for p in fleet.node_pools:
        setup = "whole GPUs"
        if p.mig:
            layout = " + ".join(f"{c}x {n}" for n, c in p.mig.layout.items())
            setup = f"MIG {p.mig.strategy} {p.mig.config_name or ''}: {layout}".replace("  ", " ")
        if p.sharing:
            setup = (setup + ", " if p.mig else "") + f"{p.sharing.mode} x{p.sharing.replicas}"
        rows.append(
            (
                p.name,
                p.gpu,
                p.nodes,
                p.gpus_per_node,
                setup,
                ", ".join(f"{k}={v}" for k, v in p.labels.items()) or None,
            )
        )
    text = table(["POOL", "GPU", "NODES", "GPUS/NODE", "SET-UP", "LABELS"], rows, max_width=80)
    installed = [k for k, v in fleet.installed.model_dump().items() if v]
    text += f"\n\ninstalled: {', '.join(installed) or 'nothing gpukit knows'}"
    if fleet.queues:
        text += "\nqueues: " + ", ".join(
            f"{q.scheduler}:{q.namespace + '/' if q.namespace else ''}{q.name}"
            for q in fleet.queues
        )
    return text


def register(app: typer.Typer) -> None:
    @app.command("discover")
    def discover_cmd(
        out: DiscoverOutOpt = None,
        output: DiscoverOutputOpt = None,
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Read the cluster's GPU node pools, schedulers and queues into a fleet file.

        Use the file with --fleet FILE, or skip it with --fleet live.
        """
        from gpukit.kube import discover_cluster

        chosen, out = parse_output(output, DISCOVER_FORMATS, out=out, takes_out=True)
        chosen = chosen or Format.yaml
        if out is not None and out.is_dir():
            raise InputError(f"--out {out}: is a folder; give a file path like fleet.yaml")
        with _connect(context, kubeconfig) as cluster:
            found = discover_cluster(cluster=cluster)
        _notes(found.notes)
        text = _fleet_yaml(found.fleet, cluster.context)
        if out is not None:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {out}: {found.fleet.description}", err=True)
        if chosen is Format.json:
            typer.echo(found.fleet.model_dump_json(indent=2, exclude_defaults=True))
        elif chosen is Format.table:
            typer.echo(_pools_table(found.fleet))
        elif out is None:
            typer.echo(text, nl=False)

    @app.command("inventory")
    def inventory_cmd(
        output: ReportOutputOpt = None,
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Per GPU node: model, GPUs, allocatable, allocated and free; per queue: quota and use."""
        from gpukit.kube import inventory

        chosen = parse_output(output, REPORT_FORMATS)[0] or Format.table
        with _connect(context, kubeconfig) as cluster:
            found = inventory(cluster=cluster)
        _notes(found.notes)
        if chosen is Format.table:
            typer.echo(found.table())
        elif chosen is Format.yaml:
            typer.echo(to_yaml(found.to_dict()), nl=False)
        else:
            typer.echo(json.dumps(found.to_dict(), indent=2))

    @app.command("apply")
    def apply_cmd(
        paths: Annotated[
            list[str],
            typer.Argument(help="manifest files or folders (read recursively); '-' is stdin"),
        ],
        yes: YesOpt = False,
        cluster_scope: ClusterScopeOpt = False,
        force_conflicts: ForceOpt = False,
        namespace: NamespaceOpt = None,
        output: ReportOutputOpt = None,
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Server-side apply manifests (field manager gpukit): a dry run unless --yes.

        Never deletes. Exit 1 when any object is refused or rejected; the table says which
        objects were applied and which were not.
        """
        from gpukit.kube import apply, load_manifests

        chosen = parse_output(output, REPORT_FORMATS)[0] or Format.table
        objects = load_manifests(*input_paths(paths))
        with _connect(context, kubeconfig, namespace) as cluster:
            result = apply(
                objects,
                dry_run=not yes,
                cluster_scope=cluster_scope,
                force=force_conflicts,
                cluster=cluster,
            )
        _print_result(result, chosen)
        if not result.ok:
            raise SystemExit(1)

    @app.command("submit")
    def submit_cmd(
        files: Annotated[
            list[str], typer.Argument(help="workload YAML/JSON files or folders (read recursively)")
        ],
        fleet: FleetOpt = None,
        yes: YesOpt = False,
        cluster_scope: ClusterScopeOpt = False,
        force_conflicts: ForceOpt = False,
        namespace: NamespaceOpt = None,
        output: StreamOutputOpt = None,
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Plan each workload on the live fleet, render it, and apply it (dry run unless --yes)."""
        from gpukit.cli.core import plan_table
        from gpukit.kube import discover, submit
        from gpukit.workload import load_workloads

        output_format = parse_output(output, STREAM_FORMATS)[0] or Format.table
        workloads = load_workloads(*input_paths(files))
        given = _given_fleet(fleet)
        with _connect(context, kubeconfig, namespace) as cluster:
            chosen = given if given is not None else discover(cluster=cluster)
            submissions = [
                submit(
                    w,
                    chosen,
                    dry_run=not yes,
                    namespace=namespace,
                    cluster_scope=cluster_scope,
                    force=force_conflicts,
                    cluster=cluster,
                )
                for w in workloads
            ]
        if output_format is Format.json:
            typer.echo("\n".join(json.dumps(s.to_dict()) for s in submissions))
        else:
            typer.echo(plan_table([s.plan for s in submissions]))
            for s in submissions:
                typer.echo(f"\n{s.plan.name}:")
                typer.echo(s.result.table())
                typer.echo(s.result.summary())
        if not all(s.ok for s in submissions):
            raise SystemExit(1)

    @app.command("status")
    def status_cmd(
        name: Annotated[str, typer.Argument(help="the job's (or Deployment's, Pod's) name")],
        namespace: NamespaceOpt = None,
        kind: Annotated[
            str | None,
            typer.Option(
                "--kind", help="job, vcjob, pytorchjob, trainjob, jobset, deployment, lws, pod"
            ),
        ] = None,
        fleet: FleetOpt = None,
        output: ReportOutputOpt = None,
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Where a submitted job stands: phase, pods, events, and what to do when it is stuck.

        Exit 1 when it failed.
        """
        from gpukit.kube import status

        chosen = parse_output(output, REPORT_FORMATS)[0] or Format.table
        given = _given_fleet(fleet)
        with _connect(context, kubeconfig, namespace) as cluster:
            found = status(name, kind=kind, fleet=given, cluster=cluster)
        _print_status(found, chosen)
        if found.phase == "failed":
            raise SystemExit(1)

    @app.command("wait")
    def wait_cmd(
        name: Annotated[str, typer.Argument(help="the job's (or Deployment's, Pod's) name")],
        namespace: NamespaceOpt = None,
        kind: Annotated[str | None, typer.Option("--kind", help="as for gpukit status")] = None,
        until: Annotated[
            str, typer.Option("--for", help="finished, or running", metavar=choice_metavar(Until))
        ] = Until.finished.value,
        timeout: Annotated[float, typer.Option("--timeout", help="seconds", min=1)] = 600,
        poll: Annotated[
            float, typer.Option("--poll", help="seconds between pod/event reads", min=0.1)
        ] = 10,
        fleet: FleetOpt = None,
        output: StreamOutputOpt = None,
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Follow a job until it finishes (or runs, with --for running), printing each change.

        Exit 0 when it succeeded (or is running/ready as asked), 1 when it failed or the
        timeout passed.
        """
        from gpukit.kube import WaitTimeout, wait

        chosen = parse_output(output, STREAM_FORMATS)[0] or Format.table
        target = parse_choice("--for", until, Until)
        given = _given_fleet(fleet)

        def show(current) -> None:
            if chosen is Format.table:
                typer.echo(current.text())

        with _connect(context, kubeconfig, namespace) as cluster:
            try:
                found = wait(
                    name,
                    kind=kind,
                    until=target.value,
                    timeout=timeout,
                    poll=poll,
                    fleet=given,
                    on_change=show,
                    cluster=cluster,
                )
            except WaitTimeout as exc:
                if chosen is Format.json:
                    typer.echo(json.dumps(exc.status.to_dict()))
                typer.echo(f"error: {exc}", err=True)
                raise SystemExit(1) from None
        if chosen is Format.json:
            typer.echo(json.dumps(found.to_dict()))
        if found.phase == "failed":
            raise SystemExit(1)


def _print_result(result, output: Format) -> None:  # type: ignore[no-untyped-def]
    if output is Format.json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    elif output is Format.yaml:
        typer.echo(to_yaml(result.to_dict()), nl=False)
    else:
        typer.echo(result.table())
        typer.echo(result.summary())


def _print_status(found, output: Format) -> None:  # type: ignore[no-untyped-def]
    if output is Format.json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
    elif output is Format.yaml:
        typer.echo(to_yaml(found.to_dict()), nl=False)
    else:
        typer.echo(found.text())
