"""`gpukit calibrate run | job | import`: measure sharing on a GPU, render the Job, fold results in."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gpukit.cli._options import (
    FleetOpt,
    Format,
    deprecated,
    is_live,
    out_option,
    output_option,
    parse_output,
    resolve_fleet,
)
from gpukit.errors import InputError

RUN_FORMATS = (Format.yaml,)
RunOutputOpt = output_option(*RUN_FORMATS, help="output format: yaml (the calibration file)")
RunOutOpt = out_option("calibration file to write; '-' prints it (default)", metavar="FILE")
ImportOutOpt = out_option(
    "folder of <gpu>.yaml calibration files (default: calibration/ beside --fleet, else ./calibration)"
)

calibrate_app = typer.Typer(
    name="calibrate",
    help="Measure GPU sharing (time-slicing, MPS) on a real GPU and keep the figures as calibration data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--{what} takes whole numbers separated by commas, like '1,2,4,8'; got {text!r}") from None
    if not values or min(values) < 1:
        raise InputError(f"--{what} takes whole numbers >= 1, like '1,2,4,8'; got {text!r}")
    return values


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


@calibrate_app.command("run")
def run_command(
    out: RunOutOpt = None,
    output: RunOutputOpt = None,
    workloads: Annotated[str, typer.Option(help="synthetic workloads, comma-separated")] = "w1-eager-b1,w1-graph-b1,w2-matmul",
    replicas: Annotated[str, typer.Option(help="replica counts N to measure")] = "1,2,4,8,16",
    modes: Annotated[str, typer.Option(help="time-slicing, mps, mps-limits")] = "time-slicing,mps,mps-limits",
    window: Annotated[float, typer.Option(help="seconds of timed requests per run", min=0.01)] = 5.0,
    warmup: Annotated[float, typer.Option(help="seconds of warm-up per workload", min=0.0)] = 2.0,
    gpu: Annotated[str | None, typer.Option(help="GPU model, when nvidia-smi cannot say (fake runs)")] = None,
    raw: Annotated[str | None, typer.Option(help="also write the raw run (JSON) here")] = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="end with one log line holding the result as JSON (for Jobs)")] = False,
    compare_with: Annotated[str | None, typer.Option("--compare", help="calibration to compare with; 'reference' is the shipped one")] = None,
    fake: Annotated[bool, typer.Option("--fake", help="synthetic replicas, no GPU: tests the orchestration")] = False,
    mps_control: Annotated[str | None, typer.Option(help="nvidia-cuda-mps-control to use (default: found on PATH or in the driver folder)")] = None,
) -> None:
    """Measure solo, N concurrent processes and MPS (when available) and write a calibration file."""
    _, out = parse_output(output, RUN_FORMATS, out=out, takes_out=True, spelled="--output")
    destination = "-" if out is None else str(out)
    from gpukit.calibrate.importer import LOG_MARKER, calibration_from_run
    from gpukit.calibrate.runner import run_calibration
    from gpukit.sharing.calibration import dump_calibration
    from gpukit.sharing.fit import fit_calibration

    command = "python -m gpukit.calibrate " + " ".join(sys.argv[1:]) if sys.argv else None
    result = run_calibration(
        workloads=_names(workloads),
        replicas=_ints(replicas, "replicas"),
        modes=_names(modes),
        window=window,
        warmup=warmup,
        fake=fake,
        mps_control=mps_control,
        progress=lambda msg: typer.echo(msg, err=True),
        command=command,
        checkpoint=(lambda partial: _write_raw(raw, partial)) if raw else None,
    )
    if raw:
        _write_raw(raw, result)
    gpu_model = gpu or ("H200" if fake else None)
    calibration = fit_calibration(calibration_from_run(result, gpu=gpu_model))
    text = dump_calibration(calibration)
    if destination == "-":
        typer.echo(text, nl=False)
    else:
        Path(destination).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {destination}", err=True)
    if compare_with:
        _print_comparison(calibration, compare_with)
    if log_json:
        typer.echo(LOG_MARKER + json.dumps(result, sort_keys=True, separators=(",", ":")))


def _write_raw(path: str, result: dict) -> None:  # type: ignore[type-arg]
    # Written after every (mode, N) too, so an interrupted run keeps what it measured.
    Path(path).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _print_comparison(calibration, against: str) -> None:  # type: ignore[no-untyped-def]
    from gpukit.calibrate.compare import compare, format_comparison
    from gpukit.sharing.calibration import load_calibration, read_calibration

    reference = load_calibration(calibration.gpu) if against == "reference" else read_calibration(against)
    typer.echo(f"compared with {reference.label}:", err=True)
    typer.echo(format_comparison(compare(calibration, reference)), err=True)


@calibrate_app.command("job")
def job_command(
    pool: Annotated[str, typer.Option("--pool", help="node pool of whole GPUs to calibrate")],
    fleet: FleetOpt = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n")] = "default",
    image: Annotated[str | None, typer.Option(help="image with gpukit and PyTorch, built from the repository's Containerfile (required)")] = None,
    replicas: Annotated[str, typer.Option(help="replica counts N to measure")] = "1,2,4,8,16",
    window: Annotated[float, typer.Option(min=0.01)] = 5.0,
) -> None:
    """Print the Kubernetes Job that runs the calibration on one GPU of POOL (its log carries the result)."""
    from gpukit.calibrate.job import calibration_job
    from gpukit.manifests.yaml import to_yaml

    fleet_obj = resolve_fleet(fleet)
    job = calibration_job(
        fleet_obj, pool, namespace=namespace, image=image, replicas=_ints(replicas, "replicas"), window=window
    )
    typer.echo(to_yaml(job), nl=False)


@calibrate_app.command("import")
def import_command(
    source: Annotated[str, typer.Argument(help="a run's calibration file or JSON, a Job's logs, or a measurements document; '-' reads stdin")],
    out: ImportOutOpt = None,
    fleet: FleetOpt = None,
    gpu: Annotated[str | None, typer.Option(help="GPU model, when the source does not name it")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="replace the GPU's file instead of merging")] = False,
    into: Annotated[str | None, typer.Option("--into", hidden=True, help="deprecated: --out")] = None,
) -> None:
    """Fold a calibration result into a folder of calibration data, refit, and print the fit.

    With a fleet file (--fleet FILE) the folder is calibration/ beside it.
    """
    from gpukit.calibrate.importer import import_calibration

    if into is not None:
        deprecated(f"--into {into} is deprecated; use --out {into}")
        if out is not None:
            raise InputError(f"--into {into} and --out {out} both name the folder; give --out only")
        out = Path(into)
    if out is not None:
        into = str(out)
    elif fleet is None or fleet == "default":
        into = "calibration"
    elif is_live(fleet):
        raise InputError(
            f"--fleet {fleet}: calibrate import writes beside a fleet file; "
            "give the fleet file, or --out DIR"
        )
    else:
        into = str(Path(fleet).resolve().parent / "calibration")
    calibration, target = import_calibration(source, into=into, gpu=gpu, replace=replace)
    typer.echo(f"wrote {target}: {calibration.label}, {len(calibration.workloads)} workloads")
    for w in calibration.workloads:
        typer.echo(
            f"  {w.name}: {len(w.rows)} rows, gpu_boundness {w.gpu_boundness:.3f}, gpu_fill {w.gpu_fill:.3f}"
        )


def register(app: typer.Typer) -> None:
    """Add `gpukit calibrate run | job | import` to the main app."""
    app.add_typer(calibrate_app, name="calibrate")
