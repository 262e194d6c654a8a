"""The seed decision tree: which sharing mechanisms suit a workload, best first, and why."""

from __future__ import annotations

from dataclasses import dataclass

from gpukit.advisor.context import Context
from gpukit.advisor.mechanisms import MECHANISMS
from gpukit.advisor.reads import reads
from gpukit.advisor.reasons import Reason, ReasonCode, reason

__all__ = ["Preference", "sharing_preference"]


@dataclass(frozen=True)
class Preference:
    """Sharing mechanisms best first; mechanisms in one group rank equally (cost decides)."""

    groups: tuple[tuple[str, ...], ...]
    reason: Reason

    def rank(self, sharing: str) -> int | None:
        mechanism = MECHANISMS.get(sharing)
        ranks_as = (mechanism.ranks_with if mechanism is not None else None) or sharing
        for index, group in enumerate(self.groups):
            if ranks_as in group:
                return index
        return None

    @property
    def mechanisms(self) -> tuple[str, ...]:
        return tuple(s for group in self.groups for s in group)

    @property
    def first(self) -> str:
        return " or ".join(self.groups[0])


@reads("kind")
def sharing_preference(ctx: Context) -> Preference:
    """The seed decision tree: which mechanisms suit this workload, best first, and why.

    multi-GPU / distributed / training -> whole GPUs; large models -> whole GPUs; small
    shared work -> MIG when isolation is needed, MPS for throughput; dev, notebooks and CI ->
    time-slicing; latency-sensitive serving avoids time-slicing.
    """
    w = ctx.workload
    whole = ctx.whole_gpus_required or ctx.too_large_to_share
    if whole is not None:
        return Preference((("dedicated",),), whole)
    isolation, priority = ctx.isolation, ctx.priority
    if isolation == "strict":
        return Preference(
            (("mig",), ("dedicated",)),
            reason(
                ReasonCode.ISOLATION_STRICT_MIG,
                "strict isolation: a MIG slice has its own memory and compute, so a "
                "neighbour cannot starve it or crash it",
            ),
        )
    if priority == "throughput":
        groups: tuple[tuple[str, ...], ...] = (("mps",), ("mig",), ("dedicated",))
        if isolation == "none":
            groups = (("mps",), ("mig",), ("time-slicing",), ("dedicated",))
        return Preference(
            groups,
            reason(
                ReasonCode.THROUGHPUT_MPS,
                "throughput work among trusted processes: MPS runs the replicas' kernels "
                "concurrently, where time-slicing would take turns",
            ),
        )
    if priority == "latency":
        return Preference(
            (("mig",), ("mps",), ("dedicated",)),
            reason(
                ReasonCode.LATENCY_MIG,
                "latency-priority work that must not be disturbed: a MIG slice gives steady "
                "latency with its own memory and compute; time-slicing would make it wait",
            ),
        )
    if isolation == "none":
        return Preference(
            (("time-slicing",), ("mps", "mig"), ("dedicated",)),
            reason(
                ReasonCode.DEV_TIME_SLICING,
                f"this {w.kind} workload has no isolation need: a time-sliced share is the "
                "cheapest GPU, idle most of the time anyway",
            ),
        )
    return Preference(
        (("mig", "mps"), ("dedicated",)),
        reason(
            ReasonCode.COST_CHEAPEST_SHARE,
            "cost-priority work among trusted processes: the cheapest MIG slice or MPS share "
            "that holds it, rather than a whole GPU",
        ),
    )
