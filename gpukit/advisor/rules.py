"""The decision rules: which options a fleet offers, which a workload can use, which is best.

Each rule is a small function. Option rules return a Rejection (a stable code and a sentence)
or None; the preference rule is the seed decision tree and ranks sharing mechanisms for the
workload, saying why; scoring orders the options that pass. No GPU-specific branches: GPU
facts come from the catalog, prices from the catalog or the pool.

Reason and rejection codes (stable; tests and tools match on them):

=============================  ===========================================================
preference (first reason)      DISTRIBUTED_DEDICATED, TRAINING_WHOLE_GPU, WHOLE_GPUS_ASKED,
                               LARGE_MODEL_DEDICATED, ISOLATION_STRICT_MIG, THROUGHPUT_MPS,
                               LATENCY_MIG, COST_CHEAPEST_SHARE, DEV_TIME_SLICING
choice                         FALLBACK, SMALLEST_PROFILE, SHARE_FITS, TENSOR_PARALLEL,
                               MULTI_NODE, GPU_MODEL_COST, MPS_OVER_TIME_SLICING,
                               LATENCY_TARGET_MET, REPLICAS_PER_GPU
memory                         MEMORY_GIVEN, MEMORY_ESTIMATED, MEMORY_UNKNOWN,
                               ENGINE_SETTINGS
scheduler                      GANG_KAI, QUEUE_KAI, SCHEDULER_KAI, GANG_VOLCANO,
                               GANG_KUEUE, QUEUE_KUEUE, DEFAULT_SCHEDULER,
                               PREEMPTIBLE_LOW_PRIORITY
rejections                     ONE_SHARED_GPU_PER_CONTAINER, (the preference codes above),
                               MIG_PROFILE_UNKNOWN, MEMORY_NEED_UNKNOWN,
                               MEMORY_DOES_NOT_FIT, EXCEEDS_NODE,
                               MULTI_NODE_SERVING_NEEDS_LWS, NO_ISOLATION,
                               MPS_NOT_STRICT, LATENCY_AVOIDS_TIME_SLICING,
                               MPS_CLIENT_LIMIT, NOT_ENOUGH_CAPACITY, NOT_SUITED,
                               (sharing model, advisor/sharing_rules.py:)
                               CPU_DOES_NOT_FIT, TIME_SLICING_NO_THROUGHPUT,
                               MPS_LIMITS_COST, LATENCY_TARGET_MISSED,
                               LATENCY_TARGET_UNKNOWN
warnings                       TIME_SLICING_NO_ISOLATION, MEMORY_NEED_UNKNOWN,
                               MPS_SHARED_FAULTS, WHOLE_GPU_FOR_SMALL_WORK,
                               MIG_LAYOUT_NEEDED, NO_GANG, NO_QUEUE_FOR_TEAM, NO_QUOTA,
                               QUEUE_NOT_IN_FLEET, QUEUE_NAMESPACE_MISMATCH,
                               KAI_BYPASSED, TEAM_QUEUE_BYPASSED, NO_DCGM_MONITORING,
                               MPS_LIMITS_COST
=============================  ===========================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from gpukit.advisor import sharing_rules
from gpukit.advisor.plan import (
    KAI_DEFAULT_QUEUE,
    PREEMPTIBLE_PRIORITY_CLASS,
    Option,
    Reason,
    Rejection,
    option_label,
)
from gpukit.errors import GpukitError
from gpukit.fleet import Fleet, NodePool
from gpukit.hardware import GpuModel, MigProfile
from gpukit.memory import MemoryNeed
from gpukit.quantity import GIB
from gpukit.workload import INFERENCE_KINDS, Workload

#: Memory kept free above the need: allocator fragmentation, CUDA context, spikes.
HEADROOM = 0.10
#: A dedicated GPU for work this much smaller than it (and not training) is the seed guide's
#: first anti-pattern, "a whole GPU for small work".
SMALL_WORK_SHARE = 0.5


def _gib(n_bytes: float) -> str:
    """Bytes as GiB, formatted like gpukit.quantity.format_gib but without Fractions (hot)."""
    text = f"{n_bytes / GIB:.1f} GiB"
    return text.replace(".0 GiB", " GiB")


@lru_cache(maxsize=8192)
def _reason(code: str, message: str) -> Reason:
    # Reasons are frozen values and most sentences recur from plan to plan: build each once.
    return Reason(code=code, message=message)


@lru_cache(maxsize=8192)
def _rejection(option: str, code: str, message: str) -> Rejection:
    return Rejection(option=option, code=code, message=message)


# -- fleet facts, computed once per fleet ---------------------------------------------------


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
    unknown_profiles: tuple[str, ...] = ()

    @property
    def mps_over_limit(self) -> bool:
        share = self.pool.sharing
        return share is not None and share.mode == "mps" and share.replicas > self.model.mps_max_clients


def _pool_facts(pool: NodePool) -> PoolFacts:
    model = pool.model
    price = pool.price
    offers: list[Offer] = []
    unknown: list[str] = []
    if pool.mig is not None and model.mig is None:
        # Only a fleet built without validation gets here; its MIG set-up cannot be used.
        unknown = list(pool.mig.layout) or ["(any)"]
    elif pool.mig is not None and model.mig is not None:
        geometry = model.mig
        layout = pool.mig.layout
        if layout:
            pairs: list[tuple[MigProfile, int, bool]] = []
            for name, count in layout.items():
                try:
                    pairs.append((model.profile(name), count, True))
                except GpukitError:
                    unknown.append(name)
        else:
            # No layout declared: any profile of the model, the platform plan picks the layout.
            pairs = [(p, p.max_instances, False) for p in model.profiles if not p.media_extensions]
        pairs.sort(key=lambda t: (t[0].memory_slices, t[0].compute_slices, t[0].name))
        # The device plugin time-slices MIG devices too (every resource of the mixed strategy,
        # or nvidia.com/gpu under single): each slice is then advertised `replicas` times, and
        # a pod gets a time-sliced share of a slice, with no isolation from the slice's other
        # pods. MPS on MIG does not exist (the Fleet validator refuses it), so it is ignored.
        share = pool.sharing
        if share is not None and share.mode != "time-slicing":
            share = None
        replicas = share.replicas if share is not None else 1
        suffix = ".shared" if share is not None and share.rename_by_default else ""
        for profile, count, declared in pairs:
            base = profile.resource_name if pool.mig.strategy == "mixed" else "nvidia.com/gpu"
            offers.append(
                Offer(
                    sharing="time-slicing" if share is not None else "mig",
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
    elif pool.sharing is not None:
        share = pool.sharing
        offers.append(
            Offer(
                sharing=share.mode,
                resource_name="nvidia.com/gpu.shared" if share.rename_by_default else "nvidia.com/gpu",
                memory_bytes=model.memory_bytes // share.replicas,
                gpu_share=1 / share.replicas,
                per_gpu=share.replicas,
            )
        )
    else:
        offers.append(
            Offer(
                sharing="dedicated",
                resource_name="nvidia.com/gpu",
                memory_bytes=model.memory_bytes,
                gpu_share=1.0,
                per_gpu=1,
            )
        )
    return PoolFacts(
        pool=pool,
        name=pool.name,
        model=model,
        price=price,
        gpus_per_node=pool.gpus_per_node,
        total_gpus=pool.total_gpus,
        # GPUs already allocated (NodePool.gpus_in_use) are not free: capacity and score.
        free_gpus=max(0, pool.free_gpus),
        offers=tuple(offers),
        unknown_profiles=tuple(unknown),
    )


@dataclass(frozen=True)
class FleetFacts:
    fleet: Fleet
    pools: tuple[PoolFacts, ...]
    by_name: dict[str, PoolFacts] = field(compare=False)
    #: The most memory any one slice or share in the fleet gives a pod (None: no sharing).
    largest_share: tuple[int, str] | None = None


def _offer_of(facts: PoolFacts, mig_profile: str) -> Offer:
    """The pool's offer of a MIG profile (a slice, or time-sliced shares of one)."""
    return next(o for o in facts.offers if o.profile is not None and o.profile.name == mig_profile)


def _offer_name(offer: Offer) -> str:
    if offer.profile is None:
        return offer.sharing
    prefix = "MIG" if offer.sharing == "mig" else f"{offer.sharing} of MIG"
    return f"{prefix} {offer.profile.name}"


_FACTS: dict[int, FleetFacts] = {}
_FACTS_LIMIT = 64


def fleet_facts(fleet: Fleet) -> FleetFacts:
    """Pool facts for ``fleet``, computed once per fleet object (fleets are frozen)."""
    facts = _FACTS.get(id(fleet))
    if facts is not None and facts.fleet is fleet:
        return facts
    pools = tuple(_pool_facts(p) for p in fleet.node_pools)
    shares = [
        (o.memory_bytes, f"{_offer_name(o)} on {p.name}")
        for p in pools
        for o in p.offers
        if o.sharing != "dedicated"
    ]
    largest = max(shares, key=lambda s: (s[0], s[1])) if shares else None
    facts = FleetFacts(fleet, pools, {p.name: p for p in pools}, largest)
    if len(_FACTS) >= _FACTS_LIMIT:
        _FACTS.pop(next(iter(_FACTS)))
    # The entry holds the fleet, so its id cannot be reused while it is cached.
    _FACTS[id(fleet)] = facts
    return facts


# -- the workload in context ---------------------------------------------------------------

_UNSET = object()


class Context:
    """A workload in the light of one fleet: the facts every rule reads, computed once."""

    __slots__ = (
        "_too_large", "_whole", "facts", "fleet", "isolation", "need", "need_with_headroom",
        "priority", "workload",
    )

    def __init__(
        self, workload: Workload, fleet: Fleet, need: MemoryNeed, facts: FleetFacts | None = None
    ) -> None:
        self.workload = workload
        self.fleet = fleet
        self.need = need
        self.facts = facts or fleet_facts(fleet)
        self.isolation = workload.effective_isolation
        self.priority = workload.effective_priority
        self.need_with_headroom = (
            None if need.bytes is None else math.ceil(need.bytes * (1 + HEADROOM))
        )
        self._whole: Reason | None | object = _UNSET
        self._too_large: Reason | None | object = _UNSET

    @property
    def whole_gpus_required(self) -> Reason | None:
        """Why this workload must have whole GPUs, or None when it may share."""
        if self._whole is _UNSET:
            self._whole = self._whole_gpus_required()
        return self._whole  # type: ignore[return-value]

    @property
    def too_large_to_share(self) -> Reason | None:
        """LARGE_MODEL_DEDICATED when the need is more than any slice or share holds."""
        if self._too_large is _UNSET:
            self._too_large = self._too_large_to_share()
        return self._too_large  # type: ignore[return-value]

    @property
    def shape(self) -> tuple[object, ...]:
        """Everything the option rules, the preference, the scores and the sharing warnings
        read: two workloads of one shape on one fleet get the same options, ranked alike."""
        w = self.workload
        return (
            w.kind, w.gpus, w.workers, w.replicas, self.need, self.isolation, self.priority,
            w.utilisation, w.gpu_boundness, w.gpu_fill, w.latency_target,
        )

    def _whole_gpus_required(self) -> Reason | None:
        """Why this workload must have whole GPUs, or None when it may share."""
        w = self.workload
        if w.is_distributed:
            return _reason(
                "DISTRIBUTED_DEDICATED",
                f"{w.workers} workers exchange gradients or activations every step; "
                "each needs whole GPUs, since a slow shared neighbour stalls all of them",
            )
        if w.is_training:
            return _reason(
                "TRAINING_WHOLE_GPU",
                "training keeps a GPU busy for hours; it gets whole GPUs through the "
                "device plugin, and sharing would only slow it and its neighbours",
            )
        if w.gpus is not None:
            return _reason(
                "WHOLE_GPUS_ASKED",
                f"the workload asks for {w.gpus} whole GPU{'s' if w.gpus > 1 else ''}",
            )
        return None

    def _too_large_to_share(self) -> Reason | None:
        """LARGE_MODEL_DEDICATED when the need is more than any slice or share holds."""
        need = self.need_with_headroom
        largest = self.facts.largest_share
        if need is None or (largest is not None and need <= largest[0]):
            return None
        where = (
            f"the largest slice or share in the fleet ({largest[1]}) holds {_gib(largest[0])}"
            if largest
            else "the fleet has no MIG slices or shared GPUs"
        )
        return _reason(
            "LARGE_MODEL_DEDICATED",
            f"{_gib(self.need.bytes or 0)} ({_gib(need)} with headroom) is more than a slice "
            f"or share gives: {where}; large models get whole GPUs",
        )


# -- options the fleet offers -------------------------------------------------------------


def _power_of_two_at_least(n: int) -> int:
    return 1 << (max(1, n) - 1).bit_length()


def _power_of_two_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def dedicated_shape(ctx: Context, facts: PoolFacts) -> tuple[int, int, bool]:
    """(GPUs per pod, workers, spans nodes) for whole GPUs of this pool.

    As asked, or from memory: tensor parallel within a node in a power of two (attention
    heads split evenly), and when one node is not enough, as many nodes as it takes, each
    worker holding a node's worth (a power of two) of the model. Only a workload that did
    not fix its workers is spread that way; it then needs gang scheduling.
    """
    w = ctx.workload
    if w.gpus is not None:
        return w.gpus, w.workers, False
    need = ctx.need_with_headroom
    if need is None:
        return 1, w.workers, False
    count = _power_of_two_at_least(math.ceil(need / facts.model.memory_bytes))
    if count <= facts.gpus_per_node or w.workers > 1 or w.kind not in _SPANNABLE_KINDS:
        return count, w.workers, False
    per_node = _power_of_two_at_most(facts.gpus_per_node)
    return per_node, math.ceil(count / per_node), True


#: Kinds whose model may be split over several nodes (gang-scheduled workers).
_SPANNABLE_KINDS = frozenset({"training", "fine-tuning", "inference"})


@dataclass(slots=True)
class Candidate:
    """An option under evaluation: Option's fields, plus the pool facts it came from.

    Rules read the same attribute names on a Candidate and on an Option. Only options that
    pass every rule become (validated) Option models.
    """

    sharing: str
    pool: str
    gpu_model: str
    mig_profile: str | None
    gpus: int
    resource_name: str
    memory_bytes: int
    cost_per_hour: float
    workers: int
    spans_nodes: bool
    gpu_share: float
    facts: PoolFacts
    offer: Offer
    rank: int = 0
    score: float = 0.0

    @property
    def label(self) -> str:
        return option_label(
            self.sharing, self.gpu_model, self.mig_profile, self.gpus, self.workers,
            self.spans_nodes, self.pool,
        )

    @property
    def memory_total_bytes(self) -> int:
        return self.memory_bytes * (self.workers if self.spans_nodes else 1)

    def to_option(self) -> Option:
        return _option(
            self.sharing, self.pool, self.gpu_model, self.mig_profile, self.gpus,
            self.resource_name, self.memory_bytes, self.cost_per_hour, self.rank, self.workers,
            self.spans_nodes, self.gpu_share, self.score,
        )


@lru_cache(maxsize=8192)
def _option(
    sharing: str, pool: str, gpu_model: str, mig_profile: str | None, gpus: int,
    resource_name: str, memory_bytes: int, cost_per_hour: float, rank: int, workers: int,
    spans_nodes: bool, gpu_share: float, score: float,
) -> Option:
    # Options are frozen values; the same one recurs across workloads of the same shape.
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


#: What rules accept: an option under evaluation or a finished one.
AnyOption = Candidate | Option


def fleet_options(ctx: Context) -> Iterator[Candidate]:
    """Every (mechanism, pool) the fleet offers, before any rule looks at the workload."""
    workers = ctx.workload.workers
    for facts in ctx.facts.pools:
        key = facts.model.key
        for offer in facts.offers:
            if offer.sharing == "dedicated":
                gpus, n, spans = dedicated_shape(ctx, facts)
                yield Candidate(
                    "dedicated", facts.name, key, None, gpus, offer.resource_name,
                    offer.memory_bytes * gpus, facts.price * gpus, n, spans, 1.0, facts, offer,
                )
            else:
                yield Candidate(
                    offer.sharing, facts.name, key, offer.profile.name if offer.profile else None,
                    1, offer.resource_name, offer.memory_bytes, facts.price * offer.gpu_share,
                    workers, False, offer.gpu_share, facts, offer,
                )


def unusable_mig_rejections(ctx: Context) -> list[Rejection]:
    """MIG profiles a pool names that its GPU model does not have (or a non-MIG model).

    A validated Fleet never has them; a fleet built around validation is told so here
    instead of being offered a slice that cannot exist.
    """
    out = []
    for facts in ctx.facts.pools:
        model = facts.model
        for name in facts.unknown_profiles:
            label = f"MIG {name} on {model.key}, pool {facts.name}"
            if model.mig is None:
                message = f"{model.key} is not MIG-capable; the pool's MIG set-up cannot exist"
            else:
                names = ", ".join(p.name for p in model.profiles)
                message = f"{model.key} has no MIG profile {name!r}; its profiles: {names}"
            out.append(_rejection(label, "MIG_PROFILE_UNKNOWN", message))
    return out


# -- rules that reject options ------------------------------------------------------------

#: A rule reads an Option or a Candidate (same attribute names) and may reject it.
OptionRule = Callable[[Candidate, Context], "Rejection | None"]


def _reject(option: AnyOption, code: str, message: str) -> Rejection:
    return _rejection(option.label, code, message)


def rule_one_shared_gpu(option: AnyOption, ctx: Context) -> Rejection | None:
    gpus = ctx.workload.gpus
    if option.sharing in ("time-slicing", "mps") and gpus is not None and gpus > 1:
        return _reject(
            option,
            "ONE_SHARED_GPU_PER_CONTAINER",
            f"{gpus} shared GPUs in one container give no more compute than one: the replicas "
            "may land on the same GPU, which then takes turns; ask for whole GPUs",
        )
    return None


def rule_whole_gpus(option: AnyOption, ctx: Context) -> Rejection | None:
    if option.sharing == "dedicated":
        return None
    why = ctx.whole_gpus_required or ctx.too_large_to_share
    if why is not None:
        return _reject(option, why.code, why.message)
    return None


def rule_mig_profile_exists(option: AnyOption, ctx: Context) -> Rejection | None:
    # Options come from catalog profiles, so this holds by construction; it stays as the rule
    # that says so, and guards fleets built without validation. A time-sliced slice counts.
    if option.mig_profile is None:
        return None
    model = ctx.facts.by_name[option.pool].model
    if model.mig is None or all(p.name != option.mig_profile for p in model.mig.profiles):
        return _reject(
            option,
            "MIG_PROFILE_UNKNOWN",
            f"{model.key} has no MIG profile {option.mig_profile!r}",
        )
    return None


def rule_memory_known(option: AnyOption, ctx: Context) -> Rejection | None:
    if option.sharing == "dedicated" or ctx.need.known:
        return None
    if option.sharing == "time-slicing" and ctx.isolation == "none":
        return None  # dev and CI sessions share freely; the plan warns
    return _reject(
        option,
        "MEMORY_NEED_UNKNOWN",
        "a slice or share is only safe when the memory need is known; "
        "set gpu_memory (e.g. '6Gi') or model (params, precision)",
    )


def rule_memory_fits(option: AnyOption, ctx: Context) -> Rejection | None:
    need = ctx.need_with_headroom
    if need is None or need <= option.memory_total_bytes:
        return None
    if option.sharing == "mig":
        what = f"the {option.mig_profile} slice has {_gib(option.memory_bytes)}"
    elif option.mig_profile is not None:
        what = (
            f"each {option.sharing} replica of a {option.mig_profile} slice gets "
            f"{_gib(option.memory_bytes)}"
        )
    elif option.sharing == "dedicated":
        what = f"{option.gpus}x {option.gpu_model} hold {_gib(option.memory_bytes)}"
        if option.workers > 1 and not option.spans_nodes:
            what += " per worker (the need is per worker)"
    elif option.sharing == "time-slicing":
        # Time-slicing enforces no memory split: the fair share is what neighbours leave.
        what = f"a time-sliced replica's fair share is {_gib(option.memory_bytes)} (not enforced)"
    else:
        what = f"each {option.sharing} replica gets {_gib(option.memory_bytes)} (the MPS limit)"
    return _reject(
        option,
        "MEMORY_DOES_NOT_FIT",
        f"needs {_gib(need)} with {HEADROOM:.0%} headroom but {what}",
    )


def rule_node_size(option: AnyOption, ctx: Context) -> Rejection | None:
    facts = ctx.facts.by_name[option.pool]
    if option.sharing == "dedicated" and option.gpus > facts.gpus_per_node:
        how = (
            "split it across workers, or use a pool with bigger nodes"
            if ctx.workload.kind in _SPANNABLE_KINDS
            else f"a {ctx.workload.kind} pod cannot span nodes; use a pool with bigger nodes"
        )
        return _reject(
            option,
            "EXCEEDS_NODE",
            f"needs {option.gpus} GPUs in one pod but a node of {facts.name} has "
            f"{facts.gpus_per_node}; {how}",
        )
    return None


def rule_multi_node_serving(option: AnyOption, ctx: Context) -> Rejection | None:
    if (
        option.workers > 1
        and ctx.workload.kind == "inference"
        and not ctx.fleet.installed.lws
    ):
        return _reject(
            option,
            "MULTI_NODE_SERVING_NEEDS_LWS",
            f"serving one model on {option.workers} nodes runs as a LeaderWorkerSet, which "
            "the fleet does not have; install LWS (installed.lws: true) or use bigger GPUs",
        )
    return None


def rule_isolation(option: AnyOption, ctx: Context) -> Rejection | None:
    isolation = ctx.isolation
    if option.sharing == "time-slicing" and isolation != "none":
        return _reject(
            option,
            "NO_ISOLATION",
            f"isolation is {isolation!r}, but time-sliced replicas share memory and faults: "
            "one pod can run its neighbours out of memory or crash them",
        )
    if option.sharing == "mps" and isolation == "strict":
        return _reject(
            option,
            "MPS_NOT_STRICT",
            "strict isolation needs hardware partitions; MPS clients share one GPU context "
            "server, so a fatal fault in one can take down the others",
        )
    return None


def rule_latency(option: AnyOption, ctx: Context) -> Rejection | None:
    w = ctx.workload
    if option.sharing == "time-slicing" and w.kind in INFERENCE_KINDS and ctx.priority == "latency":
        return _reject(
            option,
            "LATENCY_AVOIDS_TIME_SLICING",
            "latency-sensitive serving waits for every other context's time slice; "
            "tail latency grows with each neighbour",
        )
    return None


def rule_mps_clients(option: AnyOption, ctx: Context) -> Rejection | None:
    facts = ctx.facts.by_name[option.pool]
    if option.sharing == "mps" and facts.mps_over_limit:
        return _reject(
            option,
            "MPS_CLIENT_LIMIT",
            f"pool {facts.name} advertises {facts.pool.sharing.replicas} MPS replicas per "  # type: ignore[union-attr]
            f"{facts.model.key}, more than the {facts.model.mps_max_clients} clients one MPS "
            "server accepts; lower sharing.replicas",
        )
    return None


def capacity(option: AnyOption, ctx: Context) -> tuple[int, int, str]:
    """(units wanted, units free, unit name) of the option's pool for this workload."""
    facts = ctx.facts.by_name[option.pool]
    wanted = option.workers * ctx.workload.replicas * option.gpus
    if option.sharing == "dedicated":
        return wanted, facts.free_gpus, "GPUs"
    offer = getattr(option, "offer", None) or next(
        o for o in facts.offers if o.profile is None or o.profile.name == option.mig_profile
    )
    if option.sharing == "mig":
        unit = f"{option.mig_profile} slices"
    elif option.mig_profile is not None:
        unit = f"{option.sharing} shares of {option.mig_profile} slices"
    else:
        unit = "shares"
    return wanted, offer.per_gpu * facts.free_gpus, unit


def rule_capacity(option: AnyOption, ctx: Context) -> Rejection | None:
    wanted, free, unit = capacity(option, ctx)
    if wanted > free:
        return _reject(
            option,
            "NOT_ENOUGH_CAPACITY",
            f"needs {wanted} {unit} in all but pool {option.pool} has {free} free",
        )
    return None


OPTION_RULES: tuple[OptionRule, ...] = (
    rule_one_shared_gpu,
    rule_whole_gpus,
    rule_mig_profile_exists,
    rule_memory_known,
    rule_memory_fits,
    sharing_rules.rule_share_fit,
    rule_node_size,
    rule_multi_node_serving,
    rule_isolation,
    rule_latency,
    rule_mps_clients,
    sharing_rules.rule_time_slicing_throughput,
    sharing_rules.rule_mps_limits_cost,
    sharing_rules.rule_latency_target,
    rule_capacity,
)


def first_rejection(option: AnyOption, ctx: Context) -> Rejection | None:
    for rule in OPTION_RULES:
        rejection = rule(option, ctx)
        if rejection is not None:
            return rejection
    return None


# -- preference among the options that pass ----------------------------------------------


@dataclass(frozen=True)
class Preference:
    """Sharing mechanisms best first; mechanisms in one group rank equally (cost decides)."""

    groups: tuple[tuple[str, ...], ...]
    reason: Reason

    def rank(self, sharing: str) -> int | None:
        for index, group in enumerate(self.groups):
            if sharing in group:
                return index
        return None

    @property
    def mechanisms(self) -> tuple[str, ...]:
        return tuple(s for group in self.groups for s in group)

    @property
    def first(self) -> str:
        return " or ".join(self.groups[0])


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
            _reason(
                "ISOLATION_STRICT_MIG",
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
            _reason(
                "THROUGHPUT_MPS",
                "throughput work among trusted processes: MPS runs the replicas' kernels "
                "concurrently, where time-slicing would take turns",
            ),
        )
    if priority == "latency":
        return Preference(
            (("mig",), ("mps",), ("dedicated",)),
            _reason(
                "LATENCY_MIG",
                "latency-priority work that must not be disturbed: a MIG slice gives steady "
                "latency with its own memory and compute; time-slicing would make it wait",
            ),
        )
    if isolation == "none":
        return Preference(
            (("time-slicing",), ("mps", "mig"), ("dedicated",)),
            _reason(
                "DEV_TIME_SLICING",
                f"this {w.kind} workload has no isolation need: a time-sliced share is the "
                "cheapest GPU, idle most of the time anyway",
            ),
        )
    return Preference(
        (("mig", "mps"), ("dedicated",)),
        _reason(
            "COST_CHEAPEST_SHARE",
            "cost-priority work among trusted processes: the cheapest MIG slice or MPS share "
            "that holds it, rather than a whole GPU",
        ),
    )


# -- scoring ------------------------------------------------------------------------------


def score_options(options: list[Candidate], ctx: Context) -> list[Candidate]:
    """The feasible options with their scores (see plan.SCORE_FORMULA), best first."""
    if not options:
        return []
    dearest = max(o.cost_per_hour * o.workers for o in options) or 1.0
    need = ctx.need_with_headroom
    for o in options:
        wanted, free, _ = capacity(o, ctx)
        pressure = min(1.0, wanted / free) if free else 1.0
        waste = 0.0 if need is None else max(0.0, 1 - need / o.memory_total_bytes)
        o.score = round(
            100
            - 25 * o.rank
            - 15 * (o.cost_per_hour * o.workers) / dearest
            - 5 * pressure
            - 4 * waste,
            2,
        )
    options.sort(key=lambda o: (-o.score, o.pool, o.mig_profile or "", o.gpus))
    return options


def choice_reasons(
    choice: Candidate, preference: Preference, feasible: list[Candidate], ctx: Context
) -> list[Reason]:
    """Why this particular option won among the feasible ones."""
    reasons: list[Reason] = []
    facts = ctx.facts.by_name[choice.pool]
    model = facts.model
    if choice.rank > 0:
        reasons.append(
            _reason(
                "FALLBACK",
                f"no {preference.first} option in the fleet fits this workload "
                f"(see Rejected); {choice.sharing} is the next best",
            )
        )
    if choice.sharing == "mig":
        reasons.append(
            _reason(
                "SMALLEST_PROFILE",
                f"{choice.mig_profile} ({_gib(choice.memory_bytes)}) is the smallest slice "
                f"of {model.key} in pool {choice.pool} that holds the need with headroom",
            )
        )
    elif choice.sharing == "dedicated":
        if choice.spans_nodes:
            reasons.append(
                _reason(
                    "MULTI_NODE",
                    f"{_gib(ctx.need_with_headroom or 0)} with headroom is more than a node "
                    f"of {facts.gpus_per_node}x {model.key} holds: {choice.workers} workers of "
                    f"{choice.gpus} GPUs (tensor parallel in a node, pipeline across nodes), "
                    "started as one gang",
                )
            )
        elif ctx.need.known and ctx.workload.gpus is None and choice.gpus > 1:
            reasons.append(
                _reason(
                    "TENSOR_PARALLEL",
                    f"the model does not fit one {model.key}; {choice.gpus} GPUs in one "
                    "pod (tensor parallel, a power of two) hold it",
                )
            )
    elif choice.mig_profile is not None:
        offer = _offer_of(facts, choice.mig_profile)
        reasons.append(
            _reason(
                "SHARE_FITS",
                f"each of the {offer.replicas} {choice.sharing} replicas of a {choice.mig_profile} "
                f"slice of {model.key} gets {_gib(choice.memory_bytes)} of the slice's "
                f"{_gib(offer.profile.memory_bytes)}",  # type: ignore[union-attr]
            )
        )
    else:
        reasons.append(
            _reason(
                "SHARE_FITS",
                f"each {choice.sharing} replica of {model.key} gets "
                f"{_gib(choice.memory_bytes)} of its {_gib(model.memory_bytes)}"
                + (" as a fair share (time-slicing enforces none)"
                   if choice.sharing == "time-slicing" else " (an MPS memory limit)"),
            )
        )
    rival = next(
        (o for o in feasible if o.rank == choice.rank and o.gpu_model != model.key), None
    )
    if rival is not None:
        wanted, free, unit = capacity(choice, ctx)
        reasons.append(
            _reason(
                "GPU_MODEL_COST",
                f"{model.key} (${facts.price:.2f} per GPU-hour, ${choice.cost_per_hour:.2f}/h "
                "per pod) scores best on cost and free capacity among the GPU models that fit; "
                f"next is {rival.gpu_model} at ${rival.cost_per_hour:.2f}/h per pod; it takes "
                f"{wanted} of {free} free {unit} in pool {choice.pool}",
            )
        )
    reasons.extend(sharing_rules.prediction_reasons(choice, ctx))
    return reasons


# -- scheduler ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SchedulerChoice:
    scheduler: str
    queue: str | None
    namespace: str
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]
    priority_class: str | None = None


def _named_past_kai(fleet: Fleet, workload: Workload, gang: bool) -> str | None:
    """The scheduler other than KAI that the workload's named queue routes it to, or None.

    "volcano" or "kueue" when the fleet lists the named queue for that scheduler (Volcano
    only for a gang) and not for KAI; None when KAI takes the job.
    """
    name = workload.queue
    if not name:
        return None
    listed = {q.scheduler for q in fleet.queues if q.name == name}
    if "kai" in listed:
        return None
    if gang and fleet.installed.volcano and "volcano" in listed:
        return "volcano"
    if fleet.installed.kueue and "kueue" in listed:
        return "kueue"
    return None


_QUEUE_KINDS = {"kueue": "Kueue LocalQueue", "volcano": "Volcano Queue"}


def _kai_choice(
    ctx: Context, workers: int, reasons: list[Reason], warnings: list[Reason]
) -> str:
    """KAI's queue for the workload, with the reasons and warnings (see choose_scheduler)."""
    w, fleet = ctx.workload, ctx.fleet
    queue = fleet.queue_for("kai", w.team, w.queue)
    name = queue.name if queue is not None else (w.queue or w.team or KAI_DEFAULT_QUEUE)
    listed = [q.name for q in fleet.queues if q.scheduler == "kai"]
    if queue is None and listed and name != KAI_DEFAULT_QUEUE:
        warnings.append(
            _reason(
                "QUEUE_NOT_IN_FLEET",
                f"KAI queue {name!r} is not in the fleet description (its KAI queues: "
                f"{', '.join(listed)}); make sure it exists, or KAI leaves the pods pending",
            )
        )
    if workers > 1:
        reasons.append(
            _reason(
                "GANG_KAI",
                f"{workers} workers must start together or not at all: KAI groups the job's "
                f"pods into one PodGroup (minMember {workers}) and places all or none, "
                f"through queue {name}",
            )
        )
    elif w.team or w.queue:
        reasons.append(
            _reason(
                "QUEUE_KAI",
                f"team work goes through KAI queue {name}: quota, fair sharing of idle GPUs "
                "and reclaim instead of first come, first served",
            )
        )
    else:
        reasons.append(
            _reason(
                "SCHEDULER_KAI",
                "the fleet's GPU pods are placed by the KAI scheduler, whose queues account "
                f"for every GPU; no team or queue is named, so KAI's {KAI_DEFAULT_QUEUE}",
            )
        )
    if w.team and not w.queue and queue is None:
        # In the order _named_past_kai routes a named queue, so that the advice holds.
        for other in ("volcano", "kueue"):
            theirs = fleet.queue_for(other, w.team, None)
            if theirs is not None and (other == "kueue" or workers > 1):
                warnings.append(
                    _reason(
                        "TEAM_QUEUE_BYPASSED",
                        f"team {w.team!r} has the {_QUEUE_KINDS[other]} {theirs.name} in the "
                        f"fleet, but KAI schedules the fleet's GPU work, so the job goes to KAI "
                        f"queue {name}; set queue: {theirs.name} to use it instead",
                    )
                )
                break
    return name


def choose_scheduler(ctx: Context, workers: int | None = None) -> SchedulerChoice:
    """Which scheduler places the workload's pods, through which queue. First match wins:

    1. **KAI** when the fleet has it, unless the workload *names* (``queue``) a queue the
       fleet lists for Volcano (multi-worker jobs only) or Kueue, and not for KAI.
       KAI gang-schedules every kind (Job, PyTorchJob, JobSet, LeaderWorkerSet, ...) through
       the PodGroups its pod grouper makes, and its hierarchical queues carry quota, fair
       sharing and reclaim: on its own it does what Volcano (gang) and Kueue (quota) do here.
       A second scheduler on the same GPU nodes (Volcano, or the default scheduler behind
       Kueue) races KAI for the same GPUs, and KAI's queues do not count what it places; so
       a team's Kueue or Volcano queue alone does not take the job off KAI
       (TEAM_QUEUE_BYPASSED warns), while naming one does, as the user's explicit choice
       (KAI_BYPASSED warns). Volcano thus wins over KAI only for a multi-worker job that
       names a Volcano queue (for instance to keep a Volcano Job with its PyTorch plugin).
       The KAI queue: the fleet's KAI queue for the workload's queue or team, else the
       queue or team name (the platform bundle creates it), else KAI's ``default-queue``.
       Codes GANG_KAI (multi-worker), QUEUE_KAI (team or queue), SCHEDULER_KAI (neither).
    2. **Volcano** for a multi-worker job when installed (GANG_VOLCANO).
    3. **Kueue** when installed and the job is multi-worker or names a team or queue that
       has a LocalQueue (GANG_KUEUE, QUEUE_KUEUE); no LocalQueue: NO_QUEUE_FOR_TEAM.
    4. The **default** scheduler (DEFAULT_SCHEDULER); a multi-worker job warns NO_GANG.

    ``workers`` is the plan's (the model may spread a single-worker job over nodes).
    """
    w, fleet = ctx.workload, ctx.fleet
    workers = w.workers if workers is None else workers
    gang = workers > 1
    installed = fleet.installed
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    scheduler, queue_name, queue_ns = "default", None, None
    past_kai = _named_past_kai(fleet, w, gang) if installed.kai else None

    if installed.kai and past_kai is None:
        scheduler, queue_name = "kai", _kai_choice(ctx, workers, reasons, warnings)
    elif gang and installed.volcano and past_kai in (None, "volcano"):
        queue = fleet.queue_for("volcano", w.team, w.queue)
        scheduler, queue_name = "volcano", queue.name if queue else (w.queue or "default")
        reasons.append(
            _reason(
                "GANG_VOLCANO",
                f"{workers} workers must start together or not at all: Volcano gang "
                f"scheduling (minAvailable {workers}) avoids half-started jobs holding GPUs",
            )
        )
    elif installed.kueue and (gang or w.team or w.queue):
        # With KAI installed this is reached only for a named Kueue queue (past_kai).
        queue = fleet.queue_for("kueue", w.team, w.queue)
        if queue is not None or w.queue:
            scheduler = "kueue"
            queue_name = queue.name if queue else w.queue
            queue_ns = queue.namespace if queue else None
            if queue is None:
                warnings.append(
                    _reason(
                        "QUEUE_NOT_IN_FLEET",
                        f"LocalQueue {w.queue!r} is not in the fleet description; "
                        "make sure it exists in the workload's namespace",
                    )
                )
            if gang:
                reasons.append(
                    _reason(
                        "GANG_KUEUE",
                        f"no Volcano here; Kueue admits all {workers} workers at once "
                        f"or none (all-or-nothing admission) through queue {queue_name}; "
                        "enable waitForPodsReady so a job whose pods cannot all start is requeued",
                    )
                )
            else:
                reasons.append(
                    _reason(
                        "QUEUE_KUEUE",
                        f"team work goes through Kueue queue {queue_name}: quota, "
                        "fair sharing and preemption instead of first come, first served",
                    )
                )
        else:
            warnings.append(
                _reason(
                    "NO_QUEUE_FOR_TEAM",
                    f"Kueue is installed but the fleet has no LocalQueue for team "
                    f"{w.team!r}; the job bypasses quota. Add a queue for the team",
                )
            )
    elif (w.team or w.queue) and not installed.kueue and scheduler == "default":
        warnings.append(
            _reason(
                "NO_QUOTA",
                f"team {w.team or w.queue!r} has no queue or quota here (no Kueue): GPUs go "
                "first come, first served and one team can take them all",
            )
        )
    if past_kai is not None and scheduler == past_kai:
        warnings.append(
            _reason(
                "KAI_BYPASSED",
                f"queue {queue_name} is a {_QUEUE_KINDS[past_kai]}, so this job bypasses the "
                "KAI scheduler the fleet runs: KAI's queues do not count its GPUs and two "
                "schedulers placing pods on the same GPU nodes race for them; give each its "
                "own node pools",
            )
        )
    if gang and scheduler == "default":
        warnings.append(
            _reason(
                "NO_GANG",
                f"{workers} workers with no gang scheduler (Volcano or Kueue): a "
                "partial start holds GPUs while waiting for the rest and can deadlock",
            )
        )
    if scheduler == "default":
        reasons.append(
            _reason(
                "DEFAULT_SCHEDULER",
                "no gang and no team queue needed: the default scheduler places "
                "each pod on its own",
            )
        )
    priority_class = None
    if w.preemptible:
        priority_class = PREEMPTIBLE_PRIORITY_CLASS
        via = (
            "a Kueue WorkloadPriorityClass"
            if scheduler == "kueue"
            else "a PriorityClass"
        )
        reasons.append(
            _reason(
                "PREEMPTIBLE_LOW_PRIORITY",
                f"preemptible: {via} {PREEMPTIBLE_PRIORITY_CLASS}, below the cluster default, "
                "lets other work take its GPUs; make it checkpoint",
            )
        )
    namespace = w.namespace or queue_ns or w.effective_namespace
    if queue_ns and w.namespace and w.namespace != queue_ns:
        warnings.append(
            _reason(
                "QUEUE_NAMESPACE_MISMATCH",
                f"LocalQueue {queue_name} lives in namespace {queue_ns}, but the "
                f"workload asks for {w.namespace}; Kueue only admits jobs from the queue's namespace",
            )
        )
    return SchedulerChoice(
        scheduler, queue_name, namespace, tuple(reasons), tuple(warnings), priority_class
    )


# -- warnings about the chosen option ------------------------------------------------------


def sharing_warnings(choice: AnyOption, ctx: Context) -> list[Reason]:
    warnings: list[Reason] = []
    facts = ctx.facts.by_name[choice.pool]
    w = ctx.workload
    if choice.sharing == "time-slicing":
        warnings.append(
            _reason(
                "TIME_SLICING_NO_ISOLATION",
                "time-sliced replicas have no memory or fault isolation and no per-pod "
                "GPU metrics; a neighbour can take all GPU memory"
                if choice.mig_profile is None
                else f"time-sliced replicas of a {choice.mig_profile} slice have no memory or "
                "fault isolation from each other and no per-pod GPU metrics; the slice isolates "
                "them only from other slices, and a neighbour can take all its memory",
            )
        )
        if not ctx.need.known:
            warnings.append(
                _reason(
                    "MEMORY_NEED_UNKNOWN",
                    f"no memory need given; keep under {_gib(choice.memory_bytes)}, "
                    "this replica's fair share, or set gpu_memory",
                )
            )
    elif choice.sharing == "mps":
        warnings.append(
            _reason(
                "MPS_SHARED_FAULTS",
                f"MPS caps each client at {_gib(choice.memory_bytes)} but its clients share "
                "fate: a fatal GPU fault in one ends every client on that GPU",
            )
        )
    elif (
        choice.sharing == "dedicated"
        and not w.is_training
        and not w.is_distributed
        and w.gpus is None
        and choice.gpus == 1
        and ctx.facts.largest_share is not None
    ):
        small = ctx.need.known and (ctx.need.bytes or 0) < SMALL_WORK_SHARE * facts.model.memory_bytes
        idle = w.utilisation is not None and w.utilisation < SMALL_WORK_SHARE
        if small or idle or not ctx.need.known:
            if not ctx.need.known:
                why = "no memory need given, so no slice or share could be proven safe"
                fix = "give gpu_memory or a model so that a MIG slice or share can be used"
            else:
                why = (
                    f"expected utilisation {w.utilisation:.0%}"
                    if idle
                    else f"needs {_gib(ctx.need.bytes or 0)} of {_gib(facts.model.memory_bytes)}"
                )
                fix = "no slice or share that suits it is free (see Rejected); add one"
            warnings.append(
                _reason(
                    "WHOLE_GPU_FOR_SMALL_WORK",
                    f"a whole {facts.model.key} for small work ({why}); {fix}",
                )
            )
    if choice.mig_profile is not None and not _offer_of(facts, choice.mig_profile).declared:
        warnings.append(
            _reason(
                "MIG_LAYOUT_NEEDED",
                f"pool {facts.name} declares no MIG layout; its nodes' MIG config must "
                f"include {choice.mig_profile} (changing it evicts GPU pods)",
            )
        )
    warnings.extend(sharing_rules.prediction_warnings(choice, ctx))
    if not ctx.fleet.installed.dcgm_exporter:
        warnings.append(
            _reason(
                "NO_DCGM_MONITORING",
                "no DCGM exporter in the fleet: GPU utilisation and memory go unmeasured, "
                "so waste and contention stay invisible",
            )
        )
    return warnings
