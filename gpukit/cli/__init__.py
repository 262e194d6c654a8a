"""The gpukit command line: a thin shell over the library (typer)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer

from gpukit.errors import GpukitError, InputError

__all__ = ["COMMANDS", "app", "build_command", "main"]


class _Gpukit(typer.Typer):
    """The app; calling it runs the command tree as :func:`build_command` builds it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return build_command(self)(*args, **kwargs)


app = _Gpukit(
    name="gpukit",
    help="Plan, render, lint and apply GPU workloads on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: The command tree, declared: each module registers exactly these top-level commands
#: (a group like `mig` counts as one). register() checks what each module added.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gpukit.cli.core", ("plan", "render")),  # and --version
    ("gpukit.cli.mig", ("mig",)),  # mig validate | layouts | place | plan
    ("gpukit.cli.validate", ("validate",)),
    ("gpukit.cli.platform", ("platform",)),  # platform render
    ("gpukit.cli.size", ("size",)),
    ("gpukit.cli.lint", ("lint",)),
    ("gpukit.cli.kube", ("discover", "inventory", "apply", "submit", "status", "wait")),
    ("gpukit.cli.verify", ("verify",)),
    ("gpukit.cli.calibrate", ("calibrate",)),
)


def _registered(typer_app: typer.Typer) -> list[str]:
    names = [c.name or c.callback.__name__ for c in typer_app.registered_commands]  # type: ignore[union-attr]
    return names + [g.name or "" for g in typer_app.registered_groups]


def register(typer_app: typer.Typer, commands=COMMANDS) -> None:  # type: ignore[no-untyped-def]
    """Import each command module and let it add its commands.

    A module that fails to import is loud, never silently dropped: its commands answer
    with the import error (exit 2) and every invocation says so on stderr once. A module
    that adds other commands than declared is a bug in gpukit and raises.
    """
    for module_name, names in commands:
        before = set(_registered(typer_app))
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # any import failure: report it, keep the rest
            if os.environ.get("GPUKIT_DEBUG"):
                raise
            _BROKEN.append(f"{module_name} failed to import ({type(exc).__name__}: {exc})")
            for name in names:
                _register_broken(typer_app, name, module_name, exc)
            continue
        module.register(typer_app)
        added = sorted(set(_registered(typer_app)) - before)
        if added != sorted(names):
            raise RuntimeError(
                f"{module_name} registered {added}, but gpukit.cli.COMMANDS declares "
                f"{sorted(names)} for it; register each command in its declared module"
            )


_BROKEN: list[str] = []


def _register_broken(typer_app: typer.Typer, name: str, module_name: str, exc: Exception) -> None:
    message = (
        f"gpukit {name} is unavailable: {module_name} failed to import "
        f"({type(exc).__name__}: {exc}); reinstall gpukit, or set GPUKIT_DEBUG=1 for the traceback"
    )

    @typer_app.command(
        name,
        help=f"(unavailable: {module_name} failed to import)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )
    def _unavailable(ctx: typer.Context) -> None:
        raise InputError(message)


def build_command(typer_app: typer.Typer | None = None) -> Any:
    """The click command tree of the app, with flags showing no metavar in help pages.

    typer's rich help prints a type for every option, flags included ('--help <bool>');
    an empty metavar leaves a flag's type column blank.
    """
    from typer.main import get_command

    command = get_command(typer_app or app)
    _blank_flag_metavars(command)
    if _BROKEN:
        typer.echo("gpukit: " + "; ".join(_BROKEN), err=True)
    return command


def _blank_flag_metavars(command: Any) -> None:
    from typer import _click

    ctx = _click.Context(command, info_name=command.name)
    help_option = command.get_help_option(ctx)
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _blank_flag_metavars(sub)


register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes print one line and exit 2, never a traceback."""
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = build_command(app).main(args=argv, prog_name="gpukit", standalone_mode=False)
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
