"""plan(): the pure decision from a Workload and a Fleet to an explained Plan."""

from __future__ import annotations

from dataclasses import dataclass

from gpukit.advisor import facts as _facts
from gpukit.advisor import option as _option
from gpukit.advisor import predict
from gpukit.advisor import reasons as _reasons
from gpukit.advisor.choice import choice_reasons, sharing_warnings
from gpukit.advisor.context import HEADROOM, Context
from gpukit.advisor.facts import FleetFacts
from gpukit.advisor.option import Option, with_rank
from gpukit.advisor.option_rules import first_rejection, fleet_options, unusable_rejections
from gpukit.advisor.plan import (
    KAI_DEFAULT_QUEUE,
    PREEMPTIBLE_PRIORITY_CLASS,
    SCORE_FORMULA,
    Plan,
    Reason,
    Rejection,
)
from gpukit.advisor.platform_rules import platform_warnings
from gpukit.advisor.precision import prefer_native
from gpukit.advisor.predictions import OptionPrediction
from gpukit.advisor.preference import sharing_preference
from gpukit.advisor.reasons import ReasonCode, reason, rejection
from gpukit.advisor.scheduler import choose_scheduler
from gpukit.advisor.scoring import score_options
from gpukit.advisor.topology_reasons import topology_reasons
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet, default_fleet
from gpukit.memory import engine_settings, estimate_model_memory, memory_need
from gpukit.workload import Workload

__all__ = [
    "HEADROOM",
    "KAI_DEFAULT_QUEUE",
    "PREEMPTIBLE_PRIORITY_CLASS",
    "SCORE_FORMULA",
    "Option",
    "Plan",
    "Reason",
    "Rejection",
    "clear_caches",
    "plan",
]

#: How many runner-up options a plan lists.
MAX_ALTERNATIVES = 5


_MEMORY_CODES = {"given": ReasonCode.MEMORY_GIVEN, "estimated": ReasonCode.MEMORY_ESTIMATED}


@dataclass(frozen=True)
class _Decision:
    """What plan() decides from a workload's shape on one fleet (see Context.shape)."""

    facts: FleetFacts
    choice: Option | None
    alternatives: tuple[Option, ...]
    rejections: tuple[Rejection, ...]
    lead: tuple[Reason, ...]  # the preference and why this option won, in order
    warnings: tuple[Reason, ...]
    predictions: tuple[OptionPrediction, ...] = ()


#: Decisions by (fleet, workload shape): many workloads of a mix share a shape. Bounded;
#: the oldest entry goes first. Holds each fleet's facts, so ids are not reused meanwhile.
_DECISIONS: dict[tuple[int, tuple[object, ...]], _Decision] = {}
_DECISIONS_LIMIT = 4096


def clear_caches() -> None:
    """Forget cached fleet facts and decisions (benchmarks use it to start cold)."""
    _DECISIONS.clear()
    _facts.clear_caches()
    for cached in (
        _reasons.reason,
        _reasons.rejection,
        _option.make_option,
        _option.option_label,
        estimate_model_memory,
    ):
        cached.cache_clear()
    predict.clear_caches()


def _decide(ctx: Context) -> _Decision:
    preference = sharing_preference(ctx)
    feasible: list[tuple[Option, int]] = []
    rejections: list[Rejection] = unusable_rejections(ctx)
    for option in fleet_options(ctx):
        found = first_rejection(option, ctx)
        if found is not None:
            rejections.append(found)
            continue
        rank = preference.rank(option.sharing)
        if rank is None:
            rejections.append(
                rejection(
                    option.label,
                    ReasonCode.NOT_SUITED,
                    f"{option.sharing} is not among the mechanisms for this workload "
                    f"({', '.join(preference.mechanisms)}): {preference.reason.message}",
                )
            )
        else:
            feasible.append((option, rank))
    feasible, not_native = prefer_native(feasible, ctx)
    rejections.extend(not_native)
    if not feasible:
        return _Decision(ctx.facts, None, (), tuple(rejections), (), ())

    ranked = score_options(feasible, ctx)
    best = ranked[0]
    # A fallback leads with why the preferred mechanism did not fit; the tree's choice follows.
    why_choice = choice_reasons(best, preference, ranked, ctx)
    lead = (preference.reason, *why_choice) if best.rank == 0 else (*why_choice, preference.reason)
    shown = [with_rank(*s) for s in ranked[: MAX_ALTERNATIVES + 1]]
    return _Decision(
        facts=ctx.facts,
        choice=shown[0],
        alternatives=tuple(shown[1:]),
        rejections=tuple(rejections),
        lead=lead,
        warnings=tuple(sharing_warnings(shown[0], ctx)),
        predictions=predict.plan_predictions(shown, ctx),
    )


def plan(workload: Workload, fleet: Fleet | None = None) -> Plan:
    """Choose GPU sharing, node pool and scheduler for ``workload`` on ``fleet``.

    Pure: no I/O. ``fleet`` defaults to the embedded default fleet. Raises NoFeasiblePlan,
    listing every rejection, when nothing in the fleet can run the workload.

    Every option the fleet offers (a MIG profile of a pool's layout, a time-slicing or MPS
    share, or whole GPUs of a pool) goes through the option rules in order; the first that
    objects rejects it with a code. The seed decision tree ranks the mechanisms that pass;
    the score (rank, cost, free capacity, unused memory) orders them. Workloads of the same
    shape on the same fleet reuse that decision; scheduler and queue are chosen per workload.
    """
    fleet = fleet or default_fleet()
    need = memory_need(workload)
    ctx = Context(workload=workload, fleet=fleet, need=need)
    key = (id(ctx.facts), ctx.shape)
    decision = _DECISIONS.get(key)
    if decision is None or decision.facts is not ctx.facts:
        decision = _decide(ctx)
        if len(_DECISIONS) >= _DECISIONS_LIMIT:
            _DECISIONS.pop(next(iter(_DECISIONS)))
        _DECISIONS[key] = decision

    choice = decision.choice
    if choice is None:
        # One entry per distinct reason, naming every option it rejected, so the line stays
        # readable when a whole pool's slices fail for the same reason.
        grouped: dict[tuple[str, str], list[str]] = {}
        for r in decision.rejections:
            grouped.setdefault((r.code, r.message), []).append(r.option)
        lines = "; ".join(
            f"{', '.join(options)}: [{code}] {message}"
            for (code, message), options in grouped.items()
        )
        raise NoFeasiblePlan(
            f"no option in fleet {fleet.name!r} can run {workload.name!r}: {lines}",
            decision.rejections,
        )
    sched = choose_scheduler(ctx, choice.workers)
    need = ctx.need_for(choice)  # a trained model: under the sharding that fits the choice
    topo_reasons, topo_warnings = topology_reasons(fleet, choice, workload.kind, sched.scheduler)
    memory_reason = reason(
        _MEMORY_CODES.get(need.source, ReasonCode.MEMORY_UNKNOWN),
        f"GPU memory per pod: {need.describe()}"
        if not choice.spans_nodes or ctx.trained is not None
        else f"GPU memory of one model copy, split over {choice.workers} workers: {need.describe()}",
    )
    engine = engine_settings(workload, choice, need)
    memory_reason = (
        (memory_reason,)
        if engine is None
        else (memory_reason, reason(ReasonCode.ENGINE_SETTINGS, engine))
    )
    # The plan's workload is the workload as planned: a model that spans nodes runs as several
    # workers, and everything downstream (renderers, KFP, lint) reads them from it.
    planned = (
        workload
        if choice.workers == workload.workers
        else workload.model_copy(update={"workers": choice.workers})
    )
    # Every part is a validated value already (frozen models, tuples, checked strings), so the
    # Plan is assembled without validating them again: the same object, built faster.
    result = Plan.model_construct(
        workload=planned,
        fleet=fleet,
        choice=choice,
        scheduler=sched.scheduler,  # type: ignore[arg-type]
        queue=sched.queue,
        namespace=sched.namespace,
        memory=need,
        reasons=(*decision.lead, *memory_reason, *sched.reasons, *topo_reasons),
        warnings=(
            *decision.warnings,
            *sched.warnings,
            *platform_warnings(fleet, choice, sched),
            *topo_warnings,
        ),
        alternatives=decision.alternatives,
        rejections=decision.rejections,
        priority_class=sched.priority_class,
        predictions=decision.predictions,
    )
    if fleet.installed.dra:  # the claims' own warnings: gates, sharing scope, Kueue (lazy)
        from gpukit.dra.warnings import dra_warnings

        extra = tuple(dra_warnings(result))
        if extra:
            result = result.model_copy(update={"warnings": (*result.warnings, *extra)})
    return result
