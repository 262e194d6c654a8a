"""plan(): the pure decision from a Workload and a Fleet to an explained Plan."""

from __future__ import annotations

from gpukit.advisor.plan import Option, Plan, Reason, Rejection
from gpukit.advisor.rules import (
    Context,
    choice_reasons,
    choose_scheduler,
    first_rejection,
    fleet_options,
    sharing_preference,
    sharing_warnings,
)
from gpukit.errors import NoFeasiblePlan
from gpukit.fleet import Fleet, default_fleet
from gpukit.memory import memory_need
from gpukit.workload import Workload

__all__ = ["Option", "Plan", "Reason", "Rejection", "plan"]

#: How many runner-up options a plan lists.
MAX_ALTERNATIVES = 5


def plan(workload: Workload, fleet: Fleet | None = None) -> Plan:
    """Choose GPU sharing, node pool and scheduler for ``workload`` on ``fleet``.

    Pure: no I/O. ``fleet`` defaults to the embedded default fleet. Raises NoFeasiblePlan,
    listing every rejection, when nothing in the fleet can run the workload.
    """
    fleet = fleet or default_fleet()
    need = memory_need(workload)
    ctx = Context(workload=workload, fleet=fleet, need=need)
    preferred, preference_reason = sharing_preference(ctx)

    feasible: list[Option] = []
    rejections: list[Rejection] = []
    for option in fleet_options(ctx):
        rejection = first_rejection(option, ctx)
        if rejection is not None:
            rejections.append(rejection)
        elif option.sharing not in preferred:
            rejections.append(
                Rejection(
                    option=option.label,
                    code="NOT_SUITED",
                    message=f"{option.sharing} is not among the mechanisms for this workload "
                    f"({', '.join(preferred)}): {preference_reason.message}",
                )
            )
        else:
            feasible.append(option.model_copy(update={"rank": preferred.index(option.sharing)}))

    if not feasible:
        lines = "; ".join(f"{r.option}: {r.message}" for r in rejections)
        raise NoFeasiblePlan(
            f"no option in fleet {fleet.name!r} can run {workload.name!r}: {lines}", rejections
        )

    feasible.sort(key=lambda o: o.score)
    choice, others = feasible[0], feasible[1:]
    sched = choose_scheduler(ctx)
    memory_reason = Reason(
        code={"given": "MEMORY_GIVEN", "estimated": "MEMORY_ESTIMATED"}.get(
            need.source, "MEMORY_UNKNOWN"
        ),
        message=f"GPU memory per pod: {need.describe()}",
    )
    # A fallback leads with why the preferred mechanism did not fit; the tree's choice follows.
    why_choice = choice_reasons(choice, preferred, ctx)
    lead = (preference_reason, *why_choice) if choice.rank == 0 else (*why_choice, preference_reason)
    reasons = (*lead, memory_reason, *sched.reasons)
    return Plan(
        workload=workload,
        fleet=fleet,
        choice=choice,
        scheduler=sched.scheduler,  # type: ignore[arg-type]
        queue=sched.queue,
        namespace=sched.namespace,
        memory=need,
        reasons=reasons,
        warnings=(*sharing_warnings(choice, ctx), *sched.warnings),
        alternatives=tuple(others[:MAX_ALTERNATIVES]),
        rejections=tuple(rejections),
    )
