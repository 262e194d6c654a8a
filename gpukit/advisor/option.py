"""Option: one way to give a workload GPUs, the one type rules evaluate and plans carry."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from gpukit.advisor.mechanisms import MECHANISMS

__all__ = ["Option", "Sharing", "make_option", "option_label", "with_rank"]

if TYPE_CHECKING:
    Sharing = Literal["dedicated", "mig", "time-slicing", "mps", "kai-fraction"]
else:
    #: The registered mechanisms' names: a new mechanism module extends it by registering.
    Sharing = Literal[tuple(MECHANISMS)]


@lru_cache(maxsize=8192)
def option_label(
    sharing: str,
    gpu_model: str,
    mig_profile: str | None,
    gpus: int,
    workers: int,
    spans_nodes: bool,
    pool: str,
) -> str:
    """How an option is named in explanations: 'MIG 1g.10gb on H100-80GB, pool h100-mig'.

    A time-slicing share of a MIG device (a MIG pool that also time-slices) is
    'time-sliced MIG 1g.10gb on H100-80GB, pool ...'.
    """
    what = MECHANISMS[sharing].label(gpu_model, mig_profile, gpus, workers, spans_nodes)
    return f"{what}, pool {pool}"


class Option(BaseModel):
    """One way to give the workload GPUs: a sharing mechanism on a node pool.

    Rules read options as the fleet offers them (rank and score 0); the plan's choice and
    alternatives carry their rank and score.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sharing: Sharing
    pool: str
    gpu_model: str
    mig_profile: str | None = None  # the MIG slice: sharing "mig", or time-slicing of a slice
    gpus: int = 1  # units of resource_name per pod: whole GPUs, MIG instances or shares
    resource_name: str
    memory_bytes: int  # GPU memory each pod gets
    cost_per_hour: float  # per pod, the pool's GPU price times the share of a GPU it takes
    rank: int = 0  # preference of the sharing mechanism for this workload; lower is better
    workers: int = 1  # pods that must start together
    spans_nodes: bool = False  # one copy of the model split over the workers (multi-node)
    gpu_share: float = 1.0  # fraction of one physical GPU each unit holds
    score: float = 0.0  # higher is better; see SCORE_FORMULA

    @property
    def label(self) -> str:
        return option_label(
            self.sharing,
            self.gpu_model,
            self.mig_profile,
            self.gpus,
            self.workers,
            self.spans_nodes,
            self.pool,
        )

    @property
    def sort_key(self) -> tuple[float, str, str, int]:
        """Best first: highest score, then pool and profile names so that ties are stable."""
        return (-self.score, self.pool, self.mig_profile or "", self.gpus)

    @property
    def memory_total_bytes(self) -> int:
        """Memory that holds one copy of the workload: a pod's, or all workers' when split."""
        return self.memory_bytes * (self.workers if self.spans_nodes else 1)


@lru_cache(maxsize=8192)
def make_option(
    sharing: str,
    pool: str,
    gpu_model: str,
    mig_profile: str | None,
    gpus: int,
    resource_name: str,
    memory_bytes: int,
    cost_per_hour: float,
    rank: int,
    workers: int,
    spans_nodes: bool,
    gpu_share: float,
    score: float,
) -> Option:
    """The Option of these fields, built once: the same one recurs across workloads."""
    return Option(
        sharing=sharing,  # type: ignore[arg-type]
        pool=pool,
        gpu_model=gpu_model,
        mig_profile=mig_profile,
        gpus=gpus,
        resource_name=resource_name,
        memory_bytes=memory_bytes,
        cost_per_hour=cost_per_hour,
        rank=rank,
        workers=workers,
        spans_nodes=spans_nodes,
        gpu_share=gpu_share,
        score=score,
    )


def with_rank(option: Option, rank: int, score: float) -> Option:
    """``option`` as ranked and scored for one workload."""
    o = option
    return make_option(
        o.sharing,
        o.pool,
        o.gpu_model,
        o.mig_profile,
        o.gpus,
        o.resource_name,
        o.memory_bytes,
        o.cost_per_hour,
        rank,
        o.workers,
        o.spans_nodes,
        o.gpu_share,
        score,
    )
