"""Time-slicing: the device plugin advertises each GPU (or MIG slice) as several replicas.

No memory or fault isolation and no per-pod metrics; good for dev, notebooks and CI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from gpukit.advisor import predict
from gpukit.advisor.mechanisms.base import Mechanism, Offer, SharingModel, replicas_offer
from gpukit.advisor.mechanisms.mig import slice_offers
from gpukit.advisor.reads import reads
from gpukit.advisor.reasons import ReasonCode, gib, reason, rejection
from gpukit.fleet import NodePool
from gpukit.workload import INFERENCE_KINDS

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.facts import PoolFacts
    from gpukit.advisor.option import Option
    from gpukit.advisor.reasons import Reason, Rejection

__all__ = ["THROUGHPUT_GAIN", "TimeSlicing"]

#: Aggregate throughput (x one dedicated GPU) below which sharing a GPU adds no throughput.
THROUGHPUT_GAIN = 1.05


class TimeSlicing(Mechanism):
    """A time-sliced replica of a whole GPU, or of a MIG slice when the pool partitions."""

    name: ClassVar[str] = "time-slicing"
    replicated: ClassVar[bool] = True

    def offers(self, pool: NodePool) -> tuple[Offer, ...]:
        share = pool.sharing
        if share is None or share.mode != self.name:
            return ()
        if pool.mig is not None:
            return slice_offers(pool, share)
        return (replicas_offer(pool, share),)

    def offer_name(self, offer: Offer) -> str:
        return self.name if offer.profile is None else f"{self.name} of MIG {offer.profile.name}"

    def label(
        self, gpu_model: str, mig_profile: str | None, gpus: int, workers: int, spans_nodes: bool
    ) -> str:
        if mig_profile is not None:
            return f"time-sliced MIG {mig_profile} on {gpu_model}"
        return f"{self.name} share of {gpu_model}"

    def unit(self, option: Option) -> str:
        if option.mig_profile is not None:
            return f"{self.name} shares of {option.mig_profile} slices"
        return "shares"

    def memory_view(self, option: Option) -> str:
        if option.mig_profile is not None:
            return (
                f"each {self.name} replica of a {option.mig_profile} slice gets "
                f"{gib(option.memory_bytes)}"
            )
        # Time-slicing enforces no memory split: the fair share is what neighbours leave.
        return f"a time-sliced replica's fair share is {gib(option.memory_bytes)} (not enforced)"

    @reads("replicas")
    def sharing_model(self, option: Option, ctx: Context) -> SharingModel | None:
        if option.mig_profile is not None:
            return None  # a time-sliced MIG slice: the model has no such mode
        share = ctx.facts.by_name[option.pool].pool.sharing
        pool_replicas = share.replicas if share is not None else 1
        pods = ctx.workload.replicas * option.workers
        n = min(pool_replicas, pods) if pods >= 2 else pool_replicas
        return "time-slicing", n, pool_replicas

    def needs_known_memory(self, ctx: Context) -> bool:
        return ctx.isolation != "none"  # dev and CI sessions share freely; the plan warns

    def isolation_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        if ctx.isolation == "none":
            return None
        return rejection(
            option.label,
            ReasonCode.NO_ISOLATION,
            f"isolation is {ctx.isolation!r}, but time-sliced replicas share memory and faults: "
            "one pod can run its neighbours out of memory or crash them",
        )

    @reads("kind")
    def latency_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        if ctx.workload.kind not in INFERENCE_KINDS or ctx.priority != "latency":
            return None
        return rejection(
            option.label,
            ReasonCode.LATENCY_AVOIDS_TIME_SLICING,
            "latency-sensitive serving waits for every other context's time slice; "
            "tail latency grows with each neighbour",
        )

    def throughput_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        """Time-slicing is never chosen for throughput of work it cannot speed up (GPU-bound)."""
        if ctx.priority != "throughput":
            return None
        p = predict.option_prediction(option, ctx)
        if p is None or p.aggregate_throughput >= THROUGHPUT_GAIN:
            return None
        return rejection(
            option.label,
            ReasonCode.TIME_SLICING_NO_THROUGHPUT,
            f"throughput priority, but time-slicing runs one context at a time and this work "
            f"keeps the GPU busy: {p.summary()}; below {THROUGHPUT_GAIN}x, so the replicas only "
            "wait for each other",
        )

    def fit_reason(self, choice: Option, facts: PoolFacts, ctx: Context) -> Reason | None:
        model = facts.model
        if choice.mig_profile is not None:
            offer = facts.offer_for(choice.mig_profile)
            return reason(
                ReasonCode.SHARE_FITS,
                f"each of the {offer.replicas} {choice.sharing} replicas of a "
                f"{choice.mig_profile} slice of {model.key} gets {gib(choice.memory_bytes)} of "
                f"the slice's {gib(offer.profile.memory_bytes)}",  # type: ignore[union-attr]
            )
        return reason(
            ReasonCode.SHARE_FITS,
            f"each {choice.sharing} replica of {model.key} gets {gib(choice.memory_bytes)} of "
            f"its {gib(model.memory_bytes)} as a fair share (time-slicing enforces none)",
        )

    def warnings(self, choice: Option, facts: PoolFacts, ctx: Context) -> list[Reason]:
        out = [
            reason(
                ReasonCode.TIME_SLICING_NO_ISOLATION,
                "time-sliced replicas have no memory or fault isolation and no per-pod "
                "GPU metrics; a neighbour can take all GPU memory"
                if choice.mig_profile is None
                else f"time-sliced replicas of a {choice.mig_profile} slice have no memory or "
                "fault isolation from each other and no per-pod GPU metrics; the slice isolates "
                "them only from other slices, and a neighbour can take all its memory",
            )
        ]
        if not ctx.need.known:
            out.append(
                reason(
                    ReasonCode.MEMORY_NEED_UNKNOWN,
                    f"no memory need given; keep under {gib(choice.memory_bytes)}, "
                    "this replica's fair share, or set gpu_memory",
                )
            )
        return out
