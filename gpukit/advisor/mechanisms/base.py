"""The Mechanism protocol: what one way of handing out GPUs offers, and how the rules see it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from gpukit.fleet import NodePool, Sharing

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.facts import PoolFacts
    from gpukit.advisor.option import Option
    from gpukit.advisor.reasons import Reason, Rejection
    from gpukit.hardware import MigProfile

__all__ = ["Mechanism", "Offer", "SharingModel", "applies_to", "replicas_offer"]

#: (sharing model mode, replicas per GPU N, replicas the pool advertises R): gpukit.sharing.
SharingModel = tuple[str, int, int]


F = TypeVar("F", bound=Callable[..., Any])


def applies_to(test: Callable[[Mechanism], bool]) -> Callable[[F], F]:
    """Mark an option rule as one that can only object to mechanisms passing ``test``.

    The rule still checks for itself; the mark lets first_rejection leave it out of the
    chain of rules it runs for other mechanisms' options.
    """

    def mark(rule: F) -> F:
        rule.__gpukit_applies__ = test  # type: ignore[attr-defined]
        return rule

    return mark


@dataclass(frozen=True)
class Offer:
    """A unit a pool hands out: one MIG instance, one share, or whole GPUs."""

    sharing: str
    resource_name: str
    memory_bytes: int  # per unit (per GPU for whole GPUs)
    gpu_share: float  # fraction of a GPU one unit takes
    per_gpu: int  # units per GPU
    profile: MigProfile | None = None
    declared: bool = True  # False: a MIG profile the pool's (empty) layout leaves open
    replicas: int = 1  # time-slicing replicas of one MIG slice (1: the slice is not shared)


def replicas_offer(pool: NodePool, share: Sharing) -> Offer:
    """One device-plugin share of a whole GPU (time-slicing or MPS replicas)."""
    return Offer(
        sharing=share.mode,
        resource_name="nvidia.com/gpu.shared" if share.rename_by_default else "nvidia.com/gpu",
        memory_bytes=pool.model.memory_bytes // share.replicas,
        gpu_share=1 / share.replicas,
        per_gpu=share.replicas,
    )


class Mechanism(ABC):
    """One sharing mechanism. The advisor asks every registered mechanism, never a string.

    An option's mechanism is ``gpukit.advisor.mechanisms.MECHANISMS[option.sharing]``. The
    hooks with a body are defaults that suit most mechanisms; rules call them at fixed points,
    so that the first rule that objects still decides the rejection.
    """

    #: The option's ``sharing`` value, in plans, JSON and explanations.
    name: ClassVar[str]
    #: Whole GPUs, not shared: no memory need required, no sharing model, EXCEEDS_NODE applies.
    whole_gpus: ClassVar[bool] = False
    #: The device plugin advertises replicas of one GPU (or slice): one per container, and the
    #: sharing model's CPU and memory overheads apply.
    replicated: ClassVar[bool] = False
    #: In the preference tree, rank as that mechanism (None: as itself).
    ranks_with: ClassVar[str | None] = None

    # -- what a pool offers ------------------------------------------------------------

    @abstractmethod
    def offers(self, pool: NodePool) -> tuple[Offer, ...]:
        """The units this mechanism hands out on ``pool`` (empty: not set up there)."""

    def unusable(self, pool: NodePool) -> tuple[Rejection, ...]:
        """Set-ups on ``pool`` this mechanism cannot use (only fleets built without validation)."""
        return ()

    def offer_name(self, offer: Offer) -> str:
        """How a unit is named where the fleet's largest share is cited."""
        return self.name

    def pod_shape(self, ctx: Context, facts: PoolFacts) -> tuple[int, int, bool]:
        """(units per pod, workers, spans nodes) of the workload's option on this pool."""
        return 1, ctx.workload.workers, False

    # -- how an option reads -----------------------------------------------------------

    @abstractmethod
    def label(
        self, gpu_model: str, mig_profile: str | None, gpus: int, workers: int, spans_nodes: bool
    ) -> str:
        """What the option is, before ', pool <name>': 'MIG 1g.10gb on H100-80GB'."""

    @abstractmethod
    def unit(self, option: Option) -> str:
        """What capacity counts for this option: 'GPUs', '1g.10gb slices', 'shares'."""

    @abstractmethod
    def memory_view(self, option: Option) -> str:
        """The memory a pod gets, as the sentence MEMORY_DOES_NOT_FIT ends with."""

    def request(self, option: Option) -> str:
        """What each pod asks for, as explain()'s Decision line says it."""
        return f"{option.resource_name}: {option.gpus} per pod"

    @abstractmethod
    def sharing_model(self, option: Option, ctx: Context) -> SharingModel | None:
        """The option in gpukit.sharing's terms; None when the model does not cover it."""

    # -- rules at fixed points (None: no objection) ------------------------------------

    def needs_known_memory(self, ctx: Context) -> bool:
        """Whether an option is only safe with a known memory need (MEMORY_NEED_UNKNOWN)."""
        return not self.whole_gpus

    def isolation_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        return None

    def latency_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        return None

    def pool_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        """A limit of the pool's set-up for this mechanism."""
        return None

    def throughput_rejection(self, option: Option, ctx: Context) -> Rejection | None:
        """The sharing model's verdict on throughput-priority work."""
        return None

    # -- what a plan says about its choice ---------------------------------------------

    def fit_reason(self, choice: Option, facts: PoolFacts, ctx: Context) -> Reason | None:
        """Why the chosen option holds the workload."""
        return None

    def warnings(self, choice: Option, facts: PoolFacts, ctx: Context) -> list[Reason]:
        """What a reviewer should know about choosing this mechanism."""
        return []

    def prediction_reasons(self, choice: Option, ctx: Context) -> list[Reason]:
        """Predicted figures that support the choice, before the latency target's."""
        return []

    def prediction_warnings(self, choice: Option, ctx: Context) -> list[Reason]:
        return []
