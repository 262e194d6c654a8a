"""Fleet facts, computed once per fleet: what every pool offers, through every mechanism."""

from __future__ import annotations

from dataclasses import dataclass, field

from gpukit.advisor.mechanisms import MECHANISMS, Offer
from gpukit.advisor.reasons import Rejection
from gpukit.fleet import Fleet, NodePool
from gpukit.hardware import GpuModel

__all__ = ["FleetFacts", "PoolFacts", "fleet_facts", "pool_facts"]


@dataclass(frozen=True)
class PoolFacts:
    """What the rules need to know about a node pool, resolved once."""

    pool: NodePool
    name: str
    model: GpuModel
    price: float
    gpus_per_node: int
    total_gpus: int
    free_gpus: int
    offers: tuple[Offer, ...]
    #: Set-ups of the pool no mechanism can use (MIG profiles the model lacks), as rejections.
    unusable: tuple[Rejection, ...] = ()
    #: The offer of a MIG profile, or of the pool's one unit (None): capacity reads it.
    by_profile: dict[str | None, Offer] = field(default_factory=dict, compare=False)
    #: The MIG profiles the pool's GPU model has (empty: not MIG-capable).
    mig_profiles: frozenset[str] = frozenset()

    def offer_for(self, mig_profile: str | None) -> Offer:
        """The pool's offer of a MIG profile (a slice, or time-sliced shares of one)."""
        return self.by_profile[mig_profile]

    def unit_offer(self, sharing: str, mig_profile: str | None) -> Offer:
        """The offer of ``sharing`` for ``mig_profile``: a pool with KAI fractions offers whole
        GPUs and fractions of them, both without a profile."""
        for offer in self.offers:
            if offer.sharing == sharing and (offer.profile.name if offer.profile else None) == (
                mig_profile
            ):
                return offer
        return self.by_profile[mig_profile]


def pool_facts(pool: NodePool) -> PoolFacts:
    """Every registered mechanism's offers on ``pool`` (one mechanism, or whole GPUs and KAI's
    fractions of them)."""
    offers = tuple(o for m in MECHANISMS.values() for o in m.offers(pool))
    unusable = tuple(r for m in MECHANISMS.values() for r in m.unusable(pool))
    return PoolFacts(
        pool=pool,
        name=pool.name,
        model=pool.model,
        price=pool.price,
        gpus_per_node=pool.gpus_per_node,
        total_gpus=pool.total_gpus,
        # GPUs already allocated (NodePool.gpus_in_use) are not free: capacity and score.
        free_gpus=max(0, pool.free_gpus),
        offers=offers,
        unusable=unusable,
        # The first offer per profile: on a pool with KAI fractions, the whole GPU.
        by_profile={
            key: o for o in reversed(offers) for key in [o.profile.name if o.profile else None]
        },
        mig_profiles=frozenset(p.name for p in pool.model.profiles),
    )


@dataclass(frozen=True)
class FleetFacts:
    fleet: Fleet
    pools: tuple[PoolFacts, ...]
    by_name: dict[str, PoolFacts] = field(compare=False)
    #: The most memory any one slice or share in the fleet gives a pod (None: no sharing).
    largest_share: tuple[int, str] | None = None


_FACTS: dict[int, FleetFacts] = {}
_FACTS_LIMIT = 64


def fleet_facts(fleet: Fleet) -> FleetFacts:
    """Pool facts for ``fleet``, computed once per fleet object (fleets are frozen)."""
    facts = _FACTS.get(id(fleet))
    if facts is not None and facts.fleet is fleet:
        return facts
    pools = tuple(pool_facts(p) for p in fleet.node_pools)
    shares = []
    for p in pools:
        for o in p.offers:
            mechanism = MECHANISMS[o.sharing]
            if not mechanism.whole_gpus:
                shares.append((o.memory_bytes, f"{mechanism.offer_name(o)} on {p.name}"))
    largest = max(shares, key=lambda s: (s[0], s[1])) if shares else None
    facts = FleetFacts(fleet, pools, {p.name: p for p in pools}, largest)
    if len(_FACTS) >= _FACTS_LIMIT:
        _FACTS.pop(next(iter(_FACTS)))
    # The entry holds the fleet, so its id cannot be reused while it is cached.
    _FACTS[id(fleet)] = facts
    return facts


def clear_caches() -> None:
    _FACTS.clear()
