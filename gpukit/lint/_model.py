"""Lint's data: Finding (what a rule reports), Edit (how a fix changes a document), Rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

if TYPE_CHECKING:
    from gpukit.lint._context import Context
    from gpukit.lint._objects import Doc

__all__ = ["SEVERITIES", "Edit", "Finding", "Hit", "Rule", "Severity", "format_loc"]

Severity = Literal["error", "warning", "info"]
#: Severities, most severe first; --fail-on X fails on X and everything before it.
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

Loc = tuple[Any, ...]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Edit(BaseModel):
    """One change a fix makes, addressed from the root of a YAML document.

    ``embed`` is the location of a string that holds a nested YAML document (a ConfigMap's
    ``data`` value); ``loc`` is then inside that nested document.
    """

    model_config = _FROZEN

    op: Literal["set", "delete", "rename", "append"]
    loc: Loc
    value: Any = None
    embed: Loc = ()


class Finding(BaseModel):
    """One problem: which rule, how bad, what to do, and exactly where."""

    model_config = _FROZEN

    rule: str = Field(description="rule id, e.g. GPU001")
    severity: Severity
    message: str = Field(description="one line: the problem and the fix")
    file: str = Field(description="file path, '<stdin>', or '<object N>' for in-memory objects")
    document: int = Field(description="0-based index of the YAML document in the file")
    kind: str | None = None
    name: str | None = None
    path: str = Field(default="", description="field path inside the document")
    line: int | None = None
    column: int | None = None
    fixable: bool = False
    edits: tuple[Edit, ...] = Field(default=(), exclude=True, repr=False)
    # The lint run's context (an _engine.Basis), so a fix can re-lint what it changed.
    _basis: Any = PrivateAttr(default=None)

    @property
    def object(self) -> str:
        """'Kind/name' of the object the finding is in ('-' for configs without a kind)."""
        if not self.kind:
            return self.name or "-"
        return f"{self.kind}/{self.name}" if self.name else self.kind

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (keys in a fixed order)."""
        return self.model_dump(mode="json")

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.rule}: {self.object} {self.path}: {self.message}"


@dataclass(frozen=True)
class Hit:
    """What a rule check yields: a location in its document, the message, the fix's edits."""

    loc: Loc
    message: str
    edits: tuple[Edit, ...] = ()
    severity: Severity | None = None  # overrides the rule's, for rules that grade their hits


@dataclass(frozen=True)
class Rule:
    """A lint rule: id, severity, a short name, one line on what it catches, and its check.

    ``check(doc, ctx)`` yields Hits for one document; ``check_set(ctx)`` yields
    (doc, Hit) pairs for rules that look across all documents.
    """

    id: str
    severity: Severity
    name: str
    summary: str
    fixable: bool
    needs: str = ""  # context the rule needs to fire: "", "fleet", "workloads"
    check: Callable[[Doc, Context], Iterator[Hit]] | None = None
    check_set: Callable[[Context], Iterator[tuple[Doc, Hit]]] | None = None


def format_loc(loc: Loc) -> str:
    """spec.containers[0].resources.limits["nvidia.com/gpu"]"""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part and all(c.isalnum() or c in "_-" for c in part):
            out += ("." if out else "") + part
        else:
            out += f'["{part}"]'
    return out
