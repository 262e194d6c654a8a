"""What the cached decision reads from a Workload: declared by the rules, collected here.

plan() reuses one decision for every workload of the same *shape* on a fleet. The shape is
made of the Workload attributes the decision rules declare with :func:`reads`, plus the
facts Context derives (the memory need, the effective isolation and priority), so that a
rule cannot read a field that the cache key leaves out. tests/advisor/test_decision_reads.py
records what the rules really read and checks it against these declarations, and checks
that every Workload field is read, an input of a derived fact, or in
:data:`NOT_DECISION_INPUTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

__all__ = ["DERIVED_INPUTS", "NOT_DECISION_INPUTS", "declared_reads", "reads", "shape_of"]

F = TypeVar("F", bound=Callable[..., Any])

#: Facts Context derives from the workload (they are in the shape as values), with the
#: Workload fields each is computed from.
DERIVED_INPUTS: dict[str, tuple[str, ...]] = {
    "need": ("gpu_memory", "model"),  # gpukit.memory.memory_need; the decision reads its bytes
    "isolation": ("isolation", "kind"),  # Workload.effective_isolation
    "priority": ("priority", "kind"),  # Workload.effective_priority
    # gpukit.advisor.precision.precision_facts: computed and given precision, trained or served
    "precision": ("model",),
    "trained": ("model", "gpu_memory"),  # gpukit.advisor.context.trained_model
}

#: Workload fields the cached decision does not read: the scheduler choice and the renderers
#: read them per workload, after the decision. A new field goes here or into a rule's reads.
NOT_DECISION_INPUTS: frozenset[str] = frozenset(
    {"name", "team", "queue", "preemptible", "image", "command", "namespace", "cpu", "memory",
     "engine", "serve_model", "model_cache", "max_replicas"}
)

_READS: set[str] = set()
_getter: tuple[int, Callable[[Any], Any]] = (-1, attrgetter("kind"))


def reads(*attributes: str) -> Callable[[F], F]:
    """Declare the Workload fields a decision rule reads (for a property, the fields behind it)."""

    def mark(fn: F) -> F:
        _READS.update(attributes)
        fn.__gpukit_reads__ = frozenset(attributes)  # type: ignore[attr-defined]
        return fn

    return mark


def declared_reads() -> tuple[str, ...]:
    """Every Workload field some decision rule declared, sorted."""
    return tuple(sorted(_READS))


def shape_of(workload: Any) -> tuple[Any, ...]:
    """The declared attributes' values, in declared_reads() order."""
    global _getter
    if _getter[0] != len(_READS):  # a rule module imported since: rebuild the getter
        names = declared_reads()
        get = attrgetter(*names)
        _getter = (len(_READS), get if len(names) > 1 else (lambda w: (get(w),)))
    return _getter[1](workload)  # type: ignore[no-any-return]
