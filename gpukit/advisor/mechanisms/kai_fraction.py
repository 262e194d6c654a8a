"""KAI fractions: the KAI scheduler shares a whole GPU between pods by its own bookkeeping.

A pod asks for part of one GPU with the ``gpu-fraction`` pod annotation (``"0.25"``; or
``gpu-memory`` in MiB) and no ``nvidia.com/gpu`` request; KAI picks a GPU with that much
left, its binder holds the device with a reservation pod (namespace
``kai-resource-reservation``) and hands the pod that GPU. KAI's queues count the fraction
against their ``gpu`` quota, which the device plugin's time-slicing shares
(``nvidia.com/gpu.shared``) bypass. KAI enforces no memory limit and isolates nothing: the
pods take turns on the GPU like time-sliced replicas, so this ranks where time-slicing does.

Source: KAI-Scheduler docs/gpu-sharing/README.md (annotations, reservation pod, "does not
enforce memory allocation limit or performs memory isolation"), docs/gpu-sharing/
gpu-sharing.yaml (a pod with ``gpu-fraction: "0.5"`` and no GPU request). Needs KAI
installed with ``global.gpuSharing=true``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from gpukit.advisor.mechanisms.base import Offer, SharingModel
from gpukit.advisor.mechanisms.time_slicing import TimeSlicing
from gpukit.advisor.reads import reads
from gpukit.advisor.reasons import ReasonCode, gib, reason, rejection
from gpukit.fleet import NodePool
from gpukit.vocab import GPU, KAI_GPU_FRACTION_ANNOTATION

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.facts import PoolFacts
    from gpukit.advisor.option import Option
    from gpukit.advisor.reasons import Reason, Rejection

__all__ = ["KAI_FRACTION", "KaiFraction", "fraction_text"]

KAI_FRACTION = "kai-fraction"


def fraction_text(gpu_share: float) -> str:
    """The ``gpu-fraction`` annotation value: a decimal string, ``"0.25"``."""
    return f"{gpu_share:.4f}".rstrip("0").rstrip(".")


class KaiFraction(TimeSlicing):
    """1/N of a whole GPU of a pool with ``kai_fractions: N``, handed out by KAI."""

    name: ClassVar[str] = KAI_FRACTION
    replicated: ClassVar[bool] = True
    ranks_with: ClassVar[str | None] = "time-slicing"

    def offers(self, pool: NodePool) -> tuple[Offer, ...]:
        n = pool.kai_fractions
        if n is None or not pool.offers_whole_gpus:
            return ()
        # What KAI's queues count: the GPU the fraction is of (nvidia.com/gpu).
        return (Offer(self.name, GPU, pool.model.memory_bytes // n, 1 / n, n),)

    def offer_name(self, offer: Offer) -> str:
        return "KAI GPU fraction"

    def label(
        self, gpu_model: str, mig_profile: str | None, gpus: int, workers: int, spans_nodes: bool
    ) -> str:
        return f"KAI fraction of {gpu_model}"

    def unit(self, option: Option) -> str:
        return "KAI GPU fractions"

    def request(self, option: Option) -> str:
        share = fraction_text(option.gpu_share)
        return f"annotation {KAI_GPU_FRACTION_ANNOTATION}: {share} per pod (no {GPU} request)"

    def memory_view(self, option: Option) -> str:
        return (
            f"a KAI fraction of {option.gpu_share:g} GPU gets {gib(option.memory_bytes)} "
            "(KAI does not enforce it)"
        )

    @reads("replicas")
    def sharing_model(self, option: Option, ctx: Context) -> SharingModel | None:
        # The pods' contexts take turns on the GPU, as time-sliced replicas do.
        n = ctx.facts.by_name[option.pool].pool.kai_fractions or 1
        pods = ctx.workload.replicas * option.workers
        return "time-slicing", (min(n, pods) if pods >= 2 else n), n

    def isolation_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        if ctx.isolation == "none":
            return None
        return rejection(
            option.label,
            ReasonCode.NO_ISOLATION,
            f"isolation is {ctx.isolation!r}, but KAI fractions share one GPU's memory and "
            "faults: KAI enforces no memory limit, so one pod can run its neighbours out of memory",
        )

    def fit_reason(self, choice: Option, facts: PoolFacts, ctx: Context) -> Reason | None:
        return reason(
            ReasonCode.SHARE_FITS,
            f"a KAI fraction ({KAI_FRACTION_ANNOTATION_TEXT} {fraction_text(choice.gpu_share)}) of "
            f"{facts.model.key} gets {gib(choice.memory_bytes)} of its "
            f"{gib(facts.model.memory_bytes)}; KAI's queue counts it as {choice.gpu_share:g} GPU",
        )

    def warnings(self, choice: Option, facts: PoolFacts, ctx: Context) -> list[Reason]:
        out = [
            reason(
                ReasonCode.KAI_FRACTION_NO_ISOLATION,
                "KAI fractions have no memory or fault isolation: KAI only books the GPU's "
                "memory, so keep the process under its share (e.g. the framework's memory "
                "fraction); the KAI scheduler must be installed with global.gpuSharing=true",
            )
        ]
        if not ctx.need.known:
            out.append(
                reason(
                    ReasonCode.MEMORY_NEED_UNKNOWN,
                    f"no memory need given; keep under {gib(choice.memory_bytes)}, "
                    "this fraction's share, or set gpu_memory",
                )
            )
        return out


KAI_FRACTION_ANNOTATION_TEXT = f"{KAI_GPU_FRACTION_ANNOTATION}:"
