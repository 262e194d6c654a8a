"""MPS: the device plugin's MPS daemon runs replicas' kernels concurrently, with per-client limits.

Not on MIG devices; limited compute isolation; clients share fate on a fatal GPU fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from gpukit.advisor import predict
from gpukit.advisor.mechanisms.base import Mechanism, Offer, SharingModel, replicas_offer
from gpukit.advisor.reasons import ReasonCode, gib, reason, rejection
from gpukit.fleet import NodePool

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.facts import PoolFacts
    from gpukit.advisor.option import Option
    from gpukit.advisor.reasons import Reason, Rejection

__all__ = ["MPS_OVER_TIME_SLICING", "Mps"]

#: MPS is worth its shared fate over time-slicing from this ratio of aggregates on.
MPS_OVER_TIME_SLICING = 1.05


class Mps(Mechanism):
    """An MPS client share of a whole GPU (memory limited to 1/R, SMs to 100 // R %)."""

    name: ClassVar[str] = "mps"
    replicated: ClassVar[bool] = True

    def offers(self, pool: NodePool) -> tuple[Offer, ...]:
        share = pool.sharing
        if share is None or share.mode != self.name or pool.mig is not None:
            return ()
        return (replicas_offer(pool, share),)

    def label(
        self, gpu_model: str, mig_profile: str | None, gpus: int, workers: int, spans_nodes: bool
    ) -> str:
        return f"{self.name} share of {gpu_model}"

    def unit(self, option: Option) -> str:
        return "shares"

    def memory_view(self, option: Option) -> str:
        return f"each {self.name} replica gets {gib(option.memory_bytes)} (the MPS limit)"

    def sharing_model(self, option: Option, ctx: Context) -> SharingModel | None:
        share = ctx.facts.by_name[option.pool].pool.sharing
        pool_replicas = share.replicas if share is not None else 1
        return "mps-limits", pool_replicas, pool_replicas

    def isolation_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        if ctx.isolation != "strict":
            return None
        return rejection(
            option.label,
            ReasonCode.MPS_NOT_STRICT,
            "strict isolation needs hardware partitions; MPS clients share one GPU context "
            "server, so a fatal fault in one can take down the others",
        )

    def pool_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        facts = ctx.facts.by_name[option.pool]
        share = facts.pool.sharing
        if share is None or share.replicas <= facts.model.mps_max_clients:
            return None
        return rejection(
            option.label,
            ReasonCode.MPS_CLIENT_LIMIT,
            f"pool {facts.name} advertises {share.replicas} MPS replicas per "
            f"{facts.model.key}, more than the {facts.model.mps_max_clients} clients one MPS "
            "server accepts; lower sharing.replicas",
        )

    def _limits_cost(self, option: Option, ctx: Context) -> str | None:
        """Why MPS's limits cost this work against time-slicing, or None when they do not."""
        p = predict.option_prediction(option, ctx)
        if p is None:
            return None
        ts = predict.time_slicing_twin(option, ctx, p.replicas)
        if p.aggregate_throughput >= ts.aggregate_throughput:
            return None
        return predict.limits_cost(p, ts)

    def throughput_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        """The device plugin's MPS limits cost saturating work; whole GPUs or MIG serve it
        better."""
        if ctx.priority != "throughput":
            return None
        cost = self._limits_cost(option, ctx)
        if cost is None:
            return None
        return rejection(
            option.label,
            ReasonCode.MPS_LIMITS_COST,
            cost + "; whole GPUs or a MIG slice serve throughput better",
        )

    def fit_reason(self, choice: Option, facts: PoolFacts, ctx: Context) -> Reason | None:
        model = facts.model
        return reason(
            ReasonCode.SHARE_FITS,
            f"each {choice.sharing} replica of {model.key} gets {gib(choice.memory_bytes)} of "
            f"its {gib(model.memory_bytes)} (an MPS memory limit)",
        )

    def warnings(self, choice: Option, facts: PoolFacts, ctx: Context) -> list[Reason]:
        return [
            reason(
                ReasonCode.MPS_SHARED_FAULTS,
                f"MPS caps each client at {gib(choice.memory_bytes)} but its clients share "
                "fate: a fatal GPU fault in one ends every client on that GPU",
            )
        ]

    def prediction_reasons(self, choice: Option, ctx: Context) -> list[Reason]:
        p = predict.option_prediction(choice, ctx)
        if p is None:
            return []
        ts = predict.time_slicing_twin(choice, ctx, p.replicas)
        ratio = p.aggregate_throughput / ts.aggregate_throughput
        if ratio < MPS_OVER_TIME_SLICING:
            return []
        return [
            reason(
                ReasonCode.MPS_OVER_TIME_SLICING,
                f"{p.replicas} MPS replicas per GPU (device-plugin limits) give "
                f"{p.aggregate_throughput:.2f}x one dedicated GPU's throughput together, "
                f"{ratio:.2f}x what time-slicing gives at the same N "
                f"({ts.aggregate_throughput:.2f}x); source: {p.source}",
            )
        ]

    def prediction_warnings(self, choice: Option, ctx: Context) -> list[Reason]:
        cost = self._limits_cost(choice, ctx)
        if cost is None:
            return []
        return [
            reason(
                ReasonCode.MPS_LIMITS_COST,
                cost + "; prefer whole GPUs or MIG when throughput matters",
            )
        ]
