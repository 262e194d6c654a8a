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
    "gpukit.cli.verify",  # verify
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
        # Click's usage errors (typer vendors click, so match by behaviour): one line in
        # gpukit's words, with their exit code (2 for usage).
        if callable(getattr(exc, "format_message", None)) and isinstance(
            getattr(exc, "exit_code", None), int
        ):
            line = _usage_message(exc)
            if line:  # empty when click printed the help instead (no_args_is_help)
                typer.echo(f"error: {line}", err=True)
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


def _usage_message(exc: Exception) -> str:
    """A click usage error as one line: the option, the bad value, what is allowed.

    typer checks option values with pydantic, so its messages read 'Value error, ... is
    not one of ...' or 'Input should be ...'; the value and the allowed set are rebuilt
    from the parameter and the pydantic error instead.
    """
    from enum import Enum

    from gpukit.cli._options import not_allowed

    param = getattr(exc, "param", None)
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else " (see 'gpukit --help')"
    cause = exc.__cause__
    errors = cause.errors(include_url=False) if callable(getattr(cause, "errors", None)) else []
    if param is None or not errors:
        message = exc.format_message().strip().rstrip(".")  # type: ignore[attr-defined]
        return message + hint if message else ""
    opts = getattr(param, "opts", None) or [param.name]
    name = opts[0] if opts[0].startswith("-") else opts[0].upper()
    value = errors[0].get("input")
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return not_allowed(name, value, [str(member.value) for member in annotation])
    problem = str(errors[0]["msg"]).removeprefix("Value error, ")
    problem = problem.replace("Input should be", "must be", 1)
    return f"{name} {value!r}: {problem}{hint}"
