"""How the options that pass are scored, and the formula text explain() prints, from one table."""

from __future__ import annotations

from typing import NamedTuple

from gpukit.advisor.context import Context
from gpukit.advisor.option import Option
from gpukit.advisor.option_rules import units

__all__ = [
    "SCORE_BASE",
    "SCORE_FORMULA",
    "SCORE_WEIGHTS",
    "ScoreWeights",
    "Scored",
    "score_options",
]


class ScoreWeights(NamedTuple):
    """Points an option loses per unit of each term. The preference rank dominates: each step
    costs more than every other term together."""

    rank: float = 25
    cost: float = 15
    pressure: float = 5
    waste: float = 4


SCORE_BASE = 100
SCORE_WEIGHTS = ScoreWeights()
#: What each weight multiplies, as explain() words it.
_TERMS = {
    "rank": "preference rank",
    "cost": "cost relative to the dearest fitting option",
    "pressure": "share of the pool's free capacity taken",
    "waste": "unused memory share",
}

#: How an option's score is made; explain() prints it.
SCORE_FORMULA = f"{SCORE_BASE} " + " ".join(
    f"- {getattr(SCORE_WEIGHTS, name):g} x {_TERMS[name]}" for name in ScoreWeights._fields
)


class Scored(NamedTuple):
    """An option that passed every rule, with its preference rank and score for the workload."""

    option: Option
    rank: int
    score: float


def score_options(options: list[tuple[Option, int]], ctx: Context) -> list[Scored]:
    """The feasible (option, rank) pairs scored (see SCORE_FORMULA), best first."""
    if not options:
        return []
    dearest = max(o.cost_per_hour * o.workers for o, _ in options) or 1.0
    need = ctx.need_with_headroom
    w = SCORE_WEIGHTS
    scored = []
    for o, rank in options:
        wanted, free = units(o, ctx)
        pressure = min(1.0, wanted / free) if free else 1.0
        if ctx.trained is not None:  # the need depends on the option's sharding
            need = ctx.need_for(o).bytes
        waste = 0.0 if need is None else max(0.0, 1 - need / o.memory_total_bytes)
        score = round(
            SCORE_BASE
            - w.rank * rank
            - w.cost * (o.cost_per_hour * o.workers) / dearest
            - w.pressure * pressure
            - w.waste * waste,
            2,
        )
        scored.append(Scored(o, rank, score))
    scored.sort(key=lambda s: (-s.score, s.option.pool, s.option.mig_profile or "", s.option.gpus))
    return scored
