"""MIG: hardware partitions of a GPU, each with its own memory and compute slices."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from gpukit.advisor.mechanisms.base import Mechanism, Offer, SharingModel
from gpukit.advisor.reasons import ReasonCode, gib, reason, rejection
from gpukit.errors import GpukitError
from gpukit.fleet import NodePool, Sharing
from gpukit.hardware import GpuModel

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.facts import PoolFacts
    from gpukit.advisor.option import Option
    from gpukit.advisor.reasons import Reason, Rejection
    from gpukit.hardware import MigProfile

__all__ = ["Mig", "slice_offers"]


def _slices(pool: NodePool) -> list[tuple[MigProfile, int, bool]]:
    """(profile, instances per GPU, declared) of the pool's layout, smallest first.

    No layout declared: any profile of the model, the platform plan picks the layout.
    Profiles the model does not have are left out (Mig.unusable names them).
    """
    model = pool.model
    layout = pool.mig.layout  # type: ignore[union-attr]
    if layout:
        pairs: list[tuple[MigProfile, int, bool]] = []
        for name, count in layout.items():
            try:
                pairs.append((model.profile(name), count, True))
            except GpukitError:
                pass
    else:
        pairs = [(p, p.max_instances, False) for p in model.profiles if not p.media_extensions]
    pairs.sort(key=lambda t: (t[0].memory_slices, t[0].compute_slices, t[0].name))
    return pairs


def _has_profile(model: GpuModel, name: str) -> bool:
    try:
        model.profile(name)
    except GpukitError:
        return False
    return True


def slice_offers(pool: NodePool, share: Sharing | None) -> tuple[Offer, ...]:
    """The pool's MIG slices, each time-sliced ``share.replicas`` times when ``share`` is given.

    The device plugin time-slices MIG devices too (every resource of the mixed strategy, or
    nvidia.com/gpu under single): each slice is then advertised `replicas` times, and a pod
    gets a time-sliced share of a slice, with no isolation from the slice's other pods.
    """
    geometry = pool.model.mig
    if pool.mig is None or geometry is None:
        return ()
    replicas = share.replicas if share is not None else 1
    suffix = ".shared" if share is not None and share.rename_by_default else ""
    offers = []
    for profile, count, declared in _slices(pool):
        base = profile.resource_name if pool.mig.strategy == "mixed" else "nvidia.com/gpu"
        offers.append(
            Offer(
                sharing="time-slicing" if share is not None else Mig.name,
                resource_name=base + suffix,
                memory_bytes=profile.memory_bytes // replicas,
                # A slice uses up whichever it takes more of: compute or memory slots.
                gpu_share=max(
                    profile.compute_slices / geometry.compute_slices,
                    profile.memory_slices / geometry.memory_slices,
                )
                / replicas,
                per_gpu=count * replicas,
                profile=profile,
                declared=declared,
                replicas=replicas,
            )
        )
    return tuple(offers)


class Mig(Mechanism):
    """A MIG slice of a pool's layout (or any profile, when the pool declares none)."""

    name: ClassVar[str] = "mig"

    def offers(self, pool: NodePool) -> tuple[Offer, ...]:
        share = pool.sharing
        if share is not None and share.mode == "time-slicing":
            return ()  # time-sliced slices: the time-slicing mechanism offers them
        # MPS on MIG does not exist (the Fleet validator refuses it), so it is ignored.
        return slice_offers(pool, None)

    def unusable(self, pool: NodePool) -> tuple[Rejection, ...]:
        """MIG profiles a pool names that its GPU model does not have (or a non-MIG model).

        A validated Fleet never has them; a fleet built around validation is told so here
        instead of being offered a slice that cannot exist.
        """
        if pool.mig is None:
            return ()
        model = pool.model
        if model.mig is None:
            names = list(pool.mig.layout) or ["(any)"]
        else:
            names = [name for name in pool.mig.layout if not _has_profile(model, name)]
        out = []
        for name in names:
            label = f"MIG {name} on {model.key}, pool {pool.name}"
            if model.mig is None:
                message = f"{model.key} is not MIG-capable; the pool's MIG set-up cannot exist"
            else:
                profiles = ", ".join(p.name for p in model.profiles)
                message = f"{model.key} has no MIG profile {name!r}; its profiles: {profiles}"
            out.append(rejection(label, ReasonCode.MIG_PROFILE_UNKNOWN, message))
        return tuple(out)

    def offer_name(self, offer: Offer) -> str:
        return f"MIG {offer.profile.name}"  # type: ignore[union-attr]

    def label(
        self, gpu_model: str, mig_profile: str | None, gpus: int, workers: int, spans_nodes: bool
    ) -> str:
        return f"MIG {mig_profile} on {gpu_model}"

    def unit(self, option: Option) -> str:
        return f"{option.mig_profile} slices"

    def memory_view(self, option: Option) -> str:
        return f"the {option.mig_profile} slice has {gib(option.memory_bytes)}"

    def sharing_model(self, option: Option, ctx: Context) -> SharingModel | None:
        return "mig", 1, 1

    def fit_reason(self, choice: Option, facts: PoolFacts, ctx: Context) -> Reason | None:
        return reason(
            ReasonCode.SMALLEST_PROFILE,
            f"{choice.mig_profile} ({gib(choice.memory_bytes)}) is the smallest slice "
            f"of {facts.model.key} in pool {choice.pool} that holds the need with headroom",
        )
