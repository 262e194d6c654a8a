"""The rule registry: decorators that turn check functions into Rules, keyed by id."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from gpukit.lint._model import Hit, Rule, Severity

if TYPE_CHECKING:
    from gpukit.lint._context import Context
    from gpukit.lint._objects import Doc

__all__ = ["RULES", "rule", "set_rule"]

RULES: dict[str, Rule] = {}

Check = Callable[["Doc", "Context"], Iterator[Hit]]
SetCheck = Callable[["Context"], Iterator[tuple["Doc", Hit]]]


def _register(new: Rule) -> None:
    if new.id in RULES:
        raise RuntimeError(f"lint rule {new.id} is defined twice")
    RULES[new.id] = new


def rule(id: str, severity: Severity, name: str, summary: str, *, fixable: bool = False,
         needs: str = "") -> Callable[[Check], Check]:
    """Register a per-document check: ``check(doc, ctx)`` yields Hits."""

    def wrap(check: Check) -> Check:
        _register(Rule(id, severity, name, summary, fixable, needs, check=check))
        return check

    return wrap


def set_rule(id: str, severity: Severity, name: str, summary: str, *, fixable: bool = False,
             needs: str = "") -> Callable[[SetCheck], SetCheck]:
    """Register a check over all documents: ``check(ctx)`` yields (doc, Hit) pairs."""

    def wrap(check: SetCheck) -> SetCheck:
        _register(Rule(id, severity, name, summary, fixable, needs, check_set=check))
        return check

    return wrap
