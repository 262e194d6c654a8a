"""The options every command shares, declared once: -o/--output, --out, --fleet, --fail-fast.

The convention (checked for every command by tests/cli/test_cli_convention.py):

- ``-o/--output`` is always the output format, from the command's own subset of
  :class:`Format`; ``--out`` is always the destination (a file or a folder).
- ``--fleet/-f`` takes a fleet file, ``live`` or ``live:CONTEXT`` (a cluster), or ``default``;
  without it a command plans on the embedded default fleet. The commands that act on a
  cluster they connect to (submit, status, wait) read that cluster instead.
- Fixed-choice values are plain strings checked by :func:`parse_choice`, so every bad value
  is worded the same way.
- Folders are read the same way everywhere: :func:`input_paths`, recursively.

Old spellings keep working for one release with one ``gpukit: ... is deprecated`` line on
stderr (:func:`deprecated`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer

from gpukit.errors import InputError, did_you_mean

if TYPE_CHECKING:
    from gpukit.fleet import Fleet

__all__ = [
    "CLUSTER_FLEET_HELP",
    "FLEET_HELP",
    "ClusterFleetOpt",
    "FailFastOpt",
    "FleetOpt",
    "Format",
    "choice_metavar",
    "deprecated",
    "input_paths",
    "is_live",
    "not_allowed",
    "out_option",
    "output_option",
    "parse_choice",
    "parse_output",
    "resolve_fleet",
]

_E = TypeVar("_E", bound=Enum)


class Format(str, Enum):
    """Every output format a command may offer with -o/--output."""

    table = "table"
    yaml = "yaml"
    json = "json"
    sarif = "sarif"
    configmap = "configmap"
    junit = "junit"


#: Old format names, accepted for one release: (old, new).
_FORMAT_ALIASES = {"text": Format.table}


def not_allowed(option: str, value: object, names: Sequence[str]) -> str:
    """ "--output 'xml' is not allowed; use table, yaml or json" (with a did-you-mean)."""
    allowed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    return f"{option} {value!r} is not allowed; use {allowed}{did_you_mean(str(value), names)}"


def parse_choice(option: str, value: str, choices: type[_E]) -> _E:
    """An Enum option's member, or InputError in gpukit's words.

    Options that offer a fixed set of values take a plain string and call this, because
    typer's own Enum check words its error as a pydantic 'Value error'.
    """
    for member in choices:
        if value.lower() == str(member.value).lower():
            return member
    raise InputError(not_allowed(option, value, [str(member.value) for member in choices]))


def choice_metavar(choices: type[Enum] | Sequence[Enum]) -> str:
    """'[table|json]': the metavar typer shows for an Enum option, for a plain-string one."""
    return "[" + "|".join(str(member.value) for member in choices) + "]"


def deprecated(message: str) -> None:
    """One line on stderr for an old spelling that still works this release."""
    typer.echo(f"gpukit: {message}", err=True)


# -- -o/--output and --out ---------------------------------------------------------------------


def output_option(*formats: Format, help: str | None = None) -> Any:
    """The -o/--output option of a command that offers these formats (first: the default)."""
    names = [f.value for f in formats]
    allowed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    return Annotated[
        Optional[str],  # noqa: UP045  (typer reads the annotation at run time)
        typer.Option(
            "--output",
            "-o",
            help=help or f"output format: {allowed} (default: {names[0]})",
            metavar=choice_metavar(formats),
            show_default=False,
        ),
    ]


def out_option(help: str, *, metavar: str = "DIR") -> Any:
    """The --out option: where a command writes (a folder, or a file with metavar FILE)."""
    return Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", help=help, metavar=metavar, show_default=False),
    ]


def parse_output(
    value: str | None,
    formats: Sequence[Format],
    *,
    out: Path | None = None,
    takes_out: bool = False,
    spelled: str = "-o",
) -> tuple[Format | None, Path | None]:
    """(-o/--output's format or None when not given, --out's destination).

    A command that writes somewhere (``takes_out``) still takes its old ``-o DEST`` for one
    release: a value that is no format and close to none is taken as the destination, with
    a deprecation line. ``spelled`` is how the old option was written.
    """
    if value is None:
        return None, out
    names = [f.value for f in formats]
    lowered = value.lower()
    for f in formats:
        if lowered == f.value:
            return f, out
    if lowered in _FORMAT_ALIASES and _FORMAT_ALIASES[lowered] in formats:
        new = _FORMAT_ALIASES[lowered]
        deprecated(f"-o/--output {value} is deprecated; use -o {new.value}")
        return new, out
    if takes_out and not did_you_mean(value, names):
        if out is not None:
            raise InputError(
                f"-o/--output {value!r} is not an output format and --out {out} is given; "
                f"-o takes {', '.join(names)}"
            )
        deprecated(f"{spelled} {value} for the destination is deprecated; use --out {value}")
        return None, Path(value)
    raise InputError(not_allowed("--output", value, names))


# -- --fleet -----------------------------------------------------------------------------------

FLEET_HELP = (
    "fleet YAML file, 'live' or 'live:CONTEXT' for a cluster, or 'default'; "
    "default: the embedded default fleet"
)
CLUSTER_FLEET_HELP = (
    "fleet YAML file, 'live' or 'live:CONTEXT' for a cluster, or 'default'; "
    "default: the cluster this command connects to"
)

FleetOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--fleet", "-f", help=FLEET_HELP, metavar="FLEET", show_default=False),
]
# The same option for the commands that connect to a cluster: there the fleet defaults to it.
ClusterFleetOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--fleet", "-f", help=CLUSTER_FLEET_HELP, metavar="FLEET", show_default=False),
]


def is_live(value: str | None) -> bool:
    return value is not None and (value == "live" or value.startswith("live:"))


def resolve_fleet(value: str | None) -> Fleet:
    """--fleet: a file, 'live' / 'live:CONTEXT' (discover that cluster), or the default fleet."""
    from gpukit.fleet import default_fleet, load_fleet

    if value is None or value == "default":
        return default_fleet()
    if is_live(value):
        from gpukit.kube import fleet_from_option

        return fleet_from_option(value)
    return load_fleet(value)


# -- batches and folders -----------------------------------------------------------------------

FailFastOpt = Annotated[
    bool,
    typer.Option(
        "--fail-fast",
        help="stop at the first workload that cannot be planned (default: plan every one, "
        "list the failures, exit 1)",
    ),
]


def input_paths(sources: Sequence[str | Path]) -> list[str]:
    """Files and '-' as given; folders walked recursively for .yaml/.yml/.json (as lint does)."""
    from gpukit._yaml import expand_paths

    return list(expand_paths(list(sources)))
