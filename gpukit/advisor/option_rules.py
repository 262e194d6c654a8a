"""The options a fleet offers a workload, and the rules that reject them, in order.

Each rule returns a Rejection (a stable code and a sentence) or None; the first that objects
rejects the option. Rules are generic; what differs between mechanisms they ask the option's
mechanism (gpukit.advisor.mechanisms), at fixed points in this order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from gpukit.advisor import sharing_rules
from gpukit.advisor.context import HEADROOM, Context
from gpukit.advisor.mechanisms import MECHANISMS, Mechanism
from gpukit.advisor.mechanisms.base import applies_to
from gpukit.advisor.mechanisms.dedicated import SPANNABLE_KINDS
from gpukit.advisor.option import Option, make_option
from gpukit.advisor.precision import rule_precision
from gpukit.advisor.reads import reads
from gpukit.advisor.reasons import ReasonCode, Rejection, gib, rejection
from gpukit.advisor.serving import lws_missing

__all__ = [
    "OPTION_RULES",
    "OptionRule",
    "capacity",
    "first_rejection",
    "fleet_options",
    "units",
    "unusable_rejections",
]

#: A rule reads an option (as the fleet offers it) and the context, and may reject it.
OptionRule = Callable[[Option, Context], "Rejection | None"]


def fleet_options(ctx: Context) -> Iterator[Option]:
    """Every (mechanism, pool) unit the fleet offers, sized for the workload's pods."""
    for facts in ctx.facts.pools:
        key = facts.model.key
        for offer in facts.offers:
            gpus, workers, spans = MECHANISMS[offer.sharing].pod_shape(ctx, facts)
            yield make_option(
                offer.sharing,
                facts.name,
                key,
                offer.profile.name if offer.profile else None,
                gpus,
                offer.resource_name,
                offer.memory_bytes * gpus,
                facts.price * offer.gpu_share * gpus,
                0,
                workers,
                spans,
                offer.gpu_share,
                0.0,
            )


def unusable_rejections(ctx: Context) -> list[Rejection]:
    """What the pools set up that no mechanism can use (fleets built without validation)."""
    return [r for facts in ctx.facts.pools for r in facts.unusable]


def _reject(option: Option, code: str, message: str) -> Rejection:
    return rejection(option.label, code, message)


@reads("gpus")
@applies_to(lambda m: m.replicated)
def rule_one_shared_gpu(option: Option, ctx: Context) -> Rejection | None:
    gpus = ctx.workload.gpus
    if gpus is not None and gpus > 1 and MECHANISMS[option.sharing].replicated:
        return _reject(
            option,
            ReasonCode.ONE_SHARED_GPU_PER_CONTAINER,
            f"{gpus} shared GPUs in one container give no more compute than one: the replicas "
            "may land on the same GPU, which then takes turns; ask for whole GPUs",
        )
    return None


@applies_to(lambda m: not m.whole_gpus)
def rule_whole_gpus(option: Option, ctx: Context) -> Rejection | None:
    if MECHANISMS[option.sharing].whole_gpus:
        return None
    why = ctx.whole_gpus_required or ctx.too_large_to_share
    if why is not None:
        return _reject(option, why.code, why.message)
    return None


def rule_mig_profile_exists(option: Option, ctx: Context) -> Rejection | None:
    # Options come from catalog profiles, so this holds by construction; it stays as the rule
    # that says so, and guards fleets built without validation. A time-sliced slice counts.
    if option.mig_profile is None:
        return None
    facts = ctx.facts.by_name[option.pool]
    if option.mig_profile not in facts.mig_profiles:
        model = facts.model
        return _reject(
            option,
            ReasonCode.MIG_PROFILE_UNKNOWN,
            f"{model.key} has no MIG profile {option.mig_profile!r}",
        )
    return None


def rule_memory_known(option: Option, ctx: Context) -> Rejection | None:
    if ctx.need.known or not MECHANISMS[option.sharing].needs_known_memory(ctx):
        return None
    return _reject(
        option,
        ReasonCode.MEMORY_NEED_UNKNOWN,
        "a slice or share is only safe when the memory need is known; "
        "set gpu_memory (e.g. '6Gi') or model (params, precision)",
    )


def rule_memory_fits(option: Option, ctx: Context) -> Rejection | None:
    if ctx.trained is not None:
        return _sharded_memory_fits(option, ctx)
    need = ctx.need_with_headroom
    if need is None or need <= option.memory_total_bytes:
        return None
    return _reject(
        option,
        ReasonCode.MEMORY_DOES_NOT_FIT,
        f"needs {gib(need)} with {HEADROOM:.0%} headroom but "
        f"{MECHANISMS[option.sharing].memory_view(option)}",
    )


def _sharded_memory_fits(option: Option, ctx: Context) -> Rejection | None:
    """A trained model, per GPU: the sharding chosen for the option's GPUs must fit each one."""
    gpu_bytes = option.memory_bytes // option.gpus
    need = ctx.need_for(option)
    per_gpu = math.ceil((need.per_gpu_bytes or need.bytes or 0) * (1 + HEADROOM))
    if per_gpu <= gpu_bytes:
        return None
    total = option.gpus * option.workers
    return _reject(
        option,
        ReasonCode.MEMORY_DOES_NOT_FIT,
        f"needs {gib(per_gpu)} per GPU with {HEADROOM:.0%} headroom under "
        f"{need.strategy or 'one GPU'} (the least sharding on {total} GPU"
        f"{'s' if total > 1 else ''}) but each GPU holds {gib(gpu_bytes)}",
    )


@reads("kind")
@applies_to(lambda m: m.whole_gpus)
def rule_node_size(option: Option, ctx: Context) -> Rejection | None:
    facts = ctx.facts.by_name[option.pool]
    if MECHANISMS[option.sharing].whole_gpus and option.gpus > facts.gpus_per_node:
        how = (
            "split it across workers, or use a pool with bigger nodes"
            if ctx.workload.kind in SPANNABLE_KINDS
            else f"a {ctx.workload.kind} pod cannot span nodes; use a pool with bigger nodes"
        )
        return _reject(
            option,
            ReasonCode.EXCEEDS_NODE,
            f"needs {option.gpus} GPUs in one pod but a node of {facts.name} has "
            f"{facts.gpus_per_node}; {how}",
        )
    return None


@reads("kind")
def rule_multi_node_serving(option: Option, ctx: Context) -> Rejection | None:
    if lws_missing(ctx.workload.kind, option.workers, ctx.fleet.installed):
        return _reject(
            option,
            ReasonCode.MULTI_NODE_SERVING_NEEDS_LWS,
            f"serving one model on {option.workers} nodes runs as a LeaderWorkerSet, which "
            "the fleet does not have; install LWS (installed.lws: true) or use bigger GPUs",
        )
    return None


def rule_isolation(option: Option, ctx: Context) -> Rejection | None:
    return MECHANISMS[option.sharing].isolation_rejection(option, ctx)


def rule_latency(option: Option, ctx: Context) -> Rejection | None:
    return MECHANISMS[option.sharing].latency_rejection(option, ctx)


def rule_pool_limits(option: Option, ctx: Context) -> Rejection | None:
    return MECHANISMS[option.sharing].pool_rejection(option, ctx)


def rule_throughput(option: Option, ctx: Context) -> Rejection | None:
    return MECHANISMS[option.sharing].throughput_rejection(option, ctx)


@reads("replicas")
def units(option: Option, ctx: Context) -> tuple[int, int]:
    """(units wanted, units free) of the option's pool for this workload."""
    facts = ctx.facts.by_name[option.pool]
    wanted = option.workers * ctx.workload.replicas * option.gpus
    return wanted, facts.unit_offer(option.sharing, option.mig_profile).per_gpu * facts.free_gpus


def capacity(option: Option, ctx: Context) -> tuple[int, int, str]:
    """(units wanted, units free, unit name) of the option's pool for this workload."""
    wanted, free = units(option, ctx)
    return wanted, free, MECHANISMS[option.sharing].unit(option)


def rule_capacity(option: Option, ctx: Context) -> Rejection | None:
    wanted, free = units(option, ctx)
    if wanted > free:
        return _reject(
            option,
            ReasonCode.NOT_ENOUGH_CAPACITY,
            f"needs {wanted} {MECHANISMS[option.sharing].unit(option)} in all but pool "
            f"{option.pool} has {free} free",
        )
    return None


OPTION_RULES: tuple[OptionRule, ...] = (
    rule_one_shared_gpu,
    rule_whole_gpus,
    rule_mig_profile_exists,
    rule_memory_known,
    rule_memory_fits,
    rule_precision,
    sharing_rules.rule_share_fit,
    rule_node_size,
    rule_multi_node_serving,
    rule_isolation,
    rule_latency,
    rule_pool_limits,
    rule_throughput,
    sharing_rules.rule_latency_target,
    rule_capacity,
)


#: The rules that only ask the option's mechanism, by the hook each asks.
_HOOKS: dict[OptionRule, str] = {
    rule_isolation: "isolation_rejection",
    rule_latency: "latency_rejection",
    rule_pool_limits: "pool_rejection",
    rule_throughput: "throughput_rejection",
}


def _chain(mechanism: Mechanism) -> tuple[OptionRule, ...]:
    """OPTION_RULES as they apply to one mechanism's options, in order: a hook it does not
    override, or a rule marked for other mechanisms, cannot object, so it is left out."""
    chain: list[OptionRule] = []
    for rule in OPTION_RULES:
        hook = _HOOKS.get(rule)
        if hook is not None:
            if getattr(type(mechanism), hook) is not getattr(Mechanism, hook):
                chain.append(getattr(mechanism, hook))
        elif getattr(rule, "__gpukit_applies__", lambda m: True)(mechanism):
            chain.append(rule)
    return tuple(chain)


_CHAINS: dict[str, tuple[OptionRule, ...]] = {name: _chain(m) for name, m in MECHANISMS.items()}


def first_rejection(option: Option, ctx: Context) -> Rejection | None:
    """The first rule of OPTION_RULES that rejects the option, or None when all pass."""
    for rule in _CHAINS[option.sharing]:
        found = rule(option, ctx)
        if found is not None:
            return found
    return None
