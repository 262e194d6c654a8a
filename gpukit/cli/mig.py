"""`gpukit mig`: validate mig-parted configs, list a GPU's layouts, place one, pack a fleet."""

from __future__ import annotations

from typing import Annotated

import typer

from gpukit.cli._options import FleetOpt, Format, input_paths, is_live, output_option, parse_output
from gpukit.cli.rollout import rollout_cmd
from gpukit.errors import GpukitError

__all__ = ["register"]

mig_app = typer.Typer(
    name="mig",
    help="MIG layouts: validate mig-parted configs, list and place layouts, pack a fleet.",
    no_args_is_help=True,
)


PLAN_FORMATS = (Format.table, Format.yaml, Format.configmap)
PlanOutputOpt = output_option(
    *PLAN_FORMATS,
    help="output format: table, yaml (the plan, then the ConfigMap) or configmap (default: table)",
)


@mig_app.command("validate")
def validate(
    files: Annotated[
        list[str],
        typer.Argument(
            help="mig-parted configs, ConfigMaps or MIG manager manifests, or folders of them "
            "(read recursively); '-' reads stdin"
        ),
    ],
    strict: Annotated[bool, typer.Option("--strict", help="warnings count as findings too")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print errors only")] = False,
) -> None:
    """Check every config entry against the GPU catalog for every device it can apply to.

    Exit 0: valid (warnings allowed unless --strict); 1: findings; 2: unreadable input.
    """
    from gpukit._loading import read_text
    from gpukit.hardware.migparted import validate_mig_parted_text

    code = 0
    try:
        files = input_paths(files)
    except GpukitError as exc:
        typer.echo(f"error: {exc}", err=True)
        _exit(2)
    for file in files:
        try:
            label, text = read_text(file)
            findings = validate_mig_parted_text(text, label)
        except GpukitError as exc:
            typer.echo(f"error: {exc}", err=True)
            code = 2
            continue
        errors = [f for f in findings if f.severity == "error" or strict]
        for finding in findings:
            if finding.severity == "error" or not quiet:
                typer.echo(str(finding))
        if errors:
            configs = sorted({f.config for f in errors})
            typer.echo(f"{label}: invalid: {len(errors)} finding(s) in {', '.join(configs)}", err=True)
            code = max(code, 1)
        else:
            warned = len(findings) - len(errors)
            typer.echo(f"{label}: valid" + (f" ({warned} warning(s))" if warned else ""), err=True)
    _exit(code)


def _exit(code: int) -> None:
    # SystemExit, not typer.Exit: main() runs click with standalone_mode=False, which turns
    # typer.Exit into a return value that main() does not pass on.
    if code:
        raise SystemExit(code)


@mig_app.command("layouts")
def layouts(
    gpu: Annotated[str, typer.Argument(help="GPU model, e.g. A100-40GB, H100, NVIDIA-H200")],
    profiles: Annotated[
        str | None, typer.Option("--profiles", help="comma-separated profiles to use (default: all but +me)")
    ] = None,
    multisets: Annotated[bool, typer.Option("--multisets", help="profile mixes instead of placements")] = False,
) -> None:
    """Every maximal MIG layout of a GPU model (no instance can be added), with its slot map."""
    from gpukit._text import table
    from gpukit.hardware.catalog import get_gpu
    from gpukit.hardware.mig import maximal_layouts, maximal_multisets

    model = get_gpu(gpu)
    chosen = [p.strip() for p in profiles.split(",") if p.strip()] if profiles is not None else None
    if chosen == []:
        from gpukit.errors import InputError

        raise InputError(
            f"--profiles {profiles!r} names no profile; give comma-separated profiles such as "
            f"'1g.10gb,3g.40gb' (profiles on {model.key}: {', '.join(p.name for p in model.profiles)}), "
            "or leave --profiles out for all"
        )
    if multisets:
        mixes = maximal_multisets(model, chosen)
        rows = []
        for n, mix in enumerate(mixes, 1):
            comp = sum(model.profile(p).compute_slices * c for p, c in mix.items())
            mem = sum(model.profile(p).memory_slices * c for p, c in mix.items())
            text = " + ".join(p if c == 1 else f"{p} x{c}" for p, c in mix.items())
            rows.append((n, text, comp, mem))
        typer.echo(table(["#", "profile mix", "compute", "memory slots"], rows, max_width=100))
        typer.echo(f"{len(mixes)} maximal profile mixes on {model.key}")
        return
    found = maximal_layouts(model, chosen)
    rows = [
        (n, p.slot_map(), str(p), p.compute_used, p.memory_used) for n, p in enumerate(found, 1)
    ]
    typer.echo(table(["#", "slot map", "layout (profile@start)", "compute", "memory slots"], rows, max_width=100))
    typer.echo(f"{len(found)} maximal layouts on {model.key} ({model.mig.placements} placements)")  # type: ignore[union-attr]


@mig_app.command("place")
def place(
    gpu: Annotated[str, typer.Argument(help="GPU model")],
    layout: Annotated[str, typer.Argument(help="e.g. '3g.20gb + 2g.10gb + 1g.5gb x2' or '3g.20gb@4,1g.5gb:2'")],
) -> None:
    """Place one layout: start slots and a creation order, or why it cannot fit (exit 1)."""
    from gpukit.hardware.mig import MigLayout, Unplaceable

    result = MigLayout.parse(gpu, layout).place()
    if isinstance(result, Unplaceable):
        typer.echo(result.message())
        _exit(1)
    typer.echo(f"{result.gpu}: {result}")
    typer.echo(f"slot map: {result.slot_map()}")
    typer.echo(f"create (largest first): {result.nvidia_smi_command()}")


@mig_app.command("plan")
def plan(
    demand: Annotated[str, typer.Option("--demand", "-d", help="demand YAML (see gpukit.hardware.packing)")],
    fleet: FleetOpt = None,
    output: PlanOutputOpt = None,
    name: Annotated[str, typer.Option("--configmap-name", help="ConfigMap name")] = "gpukit-mig-parted-config",
    namespace: Annotated[str, typer.Option("--namespace", help="ConfigMap namespace")] = "gpu-operator",
    whole_gpu_pools: Annotated[
        bool, typer.Option("--whole-gpu-pools", help="also partition a Fleet's MIG-capable pools of whole GPUs")
    ] = False,
) -> None:
    """Pack MIG demands onto a fleet: fewest GPUs, then fewest layout changes.

    --fleet also takes the MIG packer's simple list of {model, count}. Exit 0 when every
    demand is placed, 1 when some cannot be.
    """
    from gpukit._text import table
    from gpukit.hardware.packing import load_demands, load_gpu_slots, pack, slots_from_fleet
    from gpukit.manifests import to_yaml

    chosen = parse_output(output, PLAN_FORMATS)[0] or Format.table
    if fleet is None or is_live(fleet):
        from gpukit.cli._options import resolve_fleet

        slots = slots_from_fleet(resolve_fleet(fleet), whole_gpu_pools=whole_gpu_pools)
    else:
        slots = load_gpu_slots(fleet, whole_gpu_pools=whole_gpu_pools)
    result = pack(load_demands(demand), slots)
    configmap = result.configmap(name=name, namespace=namespace)
    # The ConfigMap's config.yaml is written as a literal block, as platform render does.
    if chosen is Format.configmap:
        typer.echo(to_yaml(configmap), nl=False)
    elif chosen is Format.yaml:
        typer.echo(to_yaml([result.to_dict(), configmap]), nl=False)
    else:
        typer.echo(
            f"GPUs used: {result.gpus_used} (lower bound {result.lower_bound}); "
            f"layouts changed: {result.gpus_changed} GPU(s) on {len(result.nodes_changed)} node(s)"
        )
        rows = [
            (g.node, g.index, g.model, g.placement or ("MIG off" if g.layout is None else "(no instances)"),
             ", ".join(f"{d} {p} x{c}" for d, p, c in g.hosts) or "-", "changed" if g.changed else "")
            for g in result.gpus
            if g.used or g.changed
        ]
        if rows:
            typer.echo(table(["node", "gpu", "model", "layout", "hosts", ""], rows, max_width=120))
        typer.echo("node labels:")
        for node, config in result.node_labels.items():
            mark = "  (changes)" if node in result.nodes_changed else ""
            typer.echo(f"  kubectl label node {node} nvidia.com/mig.config={config} --overwrite{mark}")
        typer.echo(f"mig-parted ConfigMap: {name} (print it with -o configmap)")
        for note in result.notes:
            typer.echo(f"note: {note}")
    for missing in result.unplaced:
        typer.echo(f"unplaced: {missing.demand} x{missing.count}: {missing.reason}", err=True)
    if result.unplaced:
        _exit(1)


mig_app.command("rollout")(rollout_cmd)  # its own module: it is the one that changes a cluster


def register(app: typer.Typer) -> None:
    """Add the `mig` sub-command group to the main app."""
    app.add_typer(mig_app, name="mig")
