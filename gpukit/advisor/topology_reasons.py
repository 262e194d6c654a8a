"""The plan's topology reasons: which network level must or should hold the gang (gpukit.topology)."""

from __future__ import annotations

from gpukit.advisor.option import Option
from gpukit.advisor.reasons import Reason, ReasonCode, reason
from gpukit.fleet import Fleet
from gpukit.topology.planning import decide, unplaceable

__all__ = ["topology_reasons"]

#: Schedulers that enforce a topology constraint (Kueue TAS, Volcano network topology, KAI).
_TOPOLOGY_AWARE = frozenset({"kueue", "volcano", "kai"})


def topology_reasons(
    fleet: Fleet, choice: Option, kind: str, scheduler: str
) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
    """(reasons, warnings) about the gang's placement in the fleet's topology; both empty
    when the fleet declares none for the chosen pool or the plan is not a gang."""
    constraint = decide(fleet, choice.pool, kind, choice.workers, choice.gpus)
    if constraint is None:
        why = unplaceable(fleet, choice.pool, choice.workers, choice.gpus)
        return (), ((reason(ReasonCode.TOPOLOGY_UNPLACEABLE, why),) if why else ())
    if scheduler not in _TOPOLOGY_AWARE:
        return (), (
            reason(
                ReasonCode.TOPOLOGY_NOT_ENFORCED,
                f"{constraint.message}; but the {scheduler} scheduler has no topology "
                "constraints: install Kueue, Volcano or KAI to enforce it",
            ),
        )
    warnings: tuple[Reason, ...] = ()
    if constraint.level.name == "nvlink" and constraint.nodes > 1 and not fleet.installed.dra:
        warnings = (
            reason(
                ReasonCode.TOPOLOGY_NEEDS_COMPUTE_DOMAIN,
                f"the gang spans {constraint.nodes} nodes of one NVLink domain: GPU memory "
                "across nodes needs a ComputeDomain (IMEX) from NVIDIA's DRA driver; install "
                "it and set installed.dra: true, and gpukit renders the ComputeDomain",
            ),
        )
    return (reason(ReasonCode(constraint.code), constraint.message),), warnings
