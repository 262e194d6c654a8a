"""The gpukit command line: a thin shell over the library (typer)."""

from __future__ import annotations

import importlib
import os
import sys

import typer

from gpukit.errors import GpukitError

__all__ = ["app", "main"]

app = typer.Typer(
    name="gpukit",
    help="Plan, render, lint and apply GPU workloads on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module registers its commands on `app`; one module per surface area.
_COMMAND_MODULES = (
    "gpukit.cli.core",  # plan, render, version
    "gpukit.cli.mig",  # mig validate | layouts | plan
    "gpukit.cli.platform",  # validate
    "gpukit.cli.platform_render",  # platform render
    "gpukit.cli.size",  # size
    "gpukit.cli.lint",  # lint
    "gpukit.cli.kube",  # discover, inventory, apply, submit, status, wait
    "gpukit.cli.calibrate",  # calibrate run | job | import
)

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a surface not built yet
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes print one line and exit 2, never a traceback."""
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = app(args=argv, prog_name="gpukit", standalone_mode=False)
    except GpukitError as exc:
        if os.environ.get("GPUKIT_DEBUG"):
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:
        # Click's usage errors (typer may vendor click, so match by behaviour): they know
        # how to print themselves and carry their exit code (2 for usage).
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)
