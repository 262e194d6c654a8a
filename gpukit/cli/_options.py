"""Option values from a fixed set, worded the same way by every command and by main()."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TypeVar

from gpukit.errors import InputError, did_you_mean

__all__ = ["choice_metavar", "not_allowed", "parse_choice"]

_E = TypeVar("_E", bound=Enum)


def not_allowed(option: str, value: object, names: Sequence[str]) -> str:
    """"--output 'xml' is not allowed; use table, yaml or json" (with a did-you-mean)."""
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


def choice_metavar(choices: type[Enum]) -> str:
    """'[table|json]': the metavar typer shows for an Enum option, for a plain-string one."""
    return "[" + "|".join(str(member.value) for member in choices) + "]"
