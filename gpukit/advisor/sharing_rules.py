"""Sharing-model rules for the advisor: rejections, reasons and warnings from predicted figures.

The figures come from gpukit.advisor.predict (gpukit.sharing's calibrated model); each
mechanism maps its options to the model's terms and adds its own verdicts
(TIME_SLICING_NO_THROUGHPUT in mechanisms/time_slicing.py; MPS_LIMITS_COST and
MPS_OVER_TIME_SLICING in mechanisms/mps.py). Here, for every modelled option:

- Codes: CPU_DOES_NOT_FIT, MEMORY_DOES_NOT_FIT, LATENCY_TARGET_MISSED, LATENCY_TARGET_UNKNOWN
  (rejections); LATENCY_TARGET_MET, REPLICAS_PER_GPU (reasons).

The names this module had before the mechanisms moved out still import from here, for one
release: option_model, option_prediction, plan_predictions, THROUGHPUT_GAIN,
MPS_OVER_TIME_SLICING, rule_time_slicing_throughput, rule_mps_limits_cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gpukit.advisor.mechanisms import MECHANISMS
from gpukit.advisor.mechanisms.base import applies_to
from gpukit.advisor.mechanisms.mps import MPS_OVER_TIME_SLICING, Mps
from gpukit.advisor.mechanisms.time_slicing import THROUGHPUT_GAIN, TimeSlicing
from gpukit.advisor.predict import (
    clear_caches,
    option_model,
    option_prediction,
    plan_predictions,
    replica_choice,
)
from gpukit.advisor.reads import reads
from gpukit.advisor.reasons import Reason, ReasonCode, Rejection, gib, reason, rejection
from gpukit.quantity import MIB

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.option import Option

__all__ = [
    "MPS_OVER_TIME_SLICING",
    "THROUGHPUT_GAIN",
    "clear_caches",
    "option_model",
    "option_prediction",
    "plan_predictions",
    "prediction_reasons",
    "prediction_warnings",
    "rule_latency_target",
    "rule_mps_limits_cost",
    "rule_share_fit",
    "rule_time_slicing_throughput",
]


@applies_to(lambda m: m.replicated)
def rule_share_fit(option: Option, ctx: Context) -> Rejection | None:
    """A modelled share must hold each replica's CPU core and its GPU memory beyond the model."""
    if not MECHANISMS[option.sharing].replicated:
        return None
    facts = ctx.facts.by_name[option.pool]
    pool = facts.pool
    p = option_prediction(option, ctx)
    if p is not None and pool.cpu_per_node is not None:
        per_gpu = pool.cpu_per_node / pool.gpus_per_node
        if p.cpu_cores > per_gpu:
            return rejection(
                option.label,
                ReasonCode.CPU_DOES_NOT_FIT,
                f"{p.replicas} {p.mode} replicas per GPU each keep a CPU core busy "
                f"(spin-waiting on the GPU): {p.cpu_cores:g} cores, but a node of {pool.name} has "
                f"{per_gpu:g} per GPU ({pool.cpu_per_node} for {pool.gpus_per_node} GPUs); "
                "use fewer replicas per GPU or nodes with more cores",
            )
    need = ctx.need.bytes
    if need is None or p is None:
        # A time-sliced MIG slice is not modelled: its context overhead was not measured.
        return None
    overhead = p.gpu_memory_overhead_mib
    # The advisor's headroom already allows for a CUDA context; the measured per-replica
    # overhead replaces it where it is larger (small models), rather than adding to it.
    total = need + overhead * MIB
    if total <= option.memory_bytes or total <= (ctx.need_with_headroom or 0):
        return None
    return rejection(
        option.label,
        ReasonCode.MEMORY_DOES_NOT_FIT,
        f"needs {gib(need)} plus {overhead:.0f} MiB per replica beyond the model (CUDA context "
        f"and workspaces, measured) = {gib(total)}, but each {option.sharing} replica gets "
        f"{gib(option.memory_bytes)}",
    )


def rule_time_slicing_throughput(option: Option, ctx: Context) -> Rejection | None:
    """Kept for one release: TimeSlicing.throughput_rejection, for time-slicing options only."""
    mechanism = MECHANISMS[option.sharing]
    if not isinstance(mechanism, TimeSlicing):
        return None
    return mechanism.throughput_rejection(option, ctx)


def rule_mps_limits_cost(option: Option, ctx: Context) -> Rejection | None:
    """Kept for one release: Mps.throughput_rejection, for MPS options only."""
    mechanism = MECHANISMS[option.sharing]
    if not isinstance(mechanism, Mps):
        return None
    return mechanism.throughput_rejection(option, ctx)


@reads("latency_target")
@applies_to(lambda m: not m.whole_gpus)
def rule_latency_target(option: Option, ctx: Context) -> Rejection | None:
    """A shared option must meet the workload's p99 latency target (x running alone)."""
    target = ctx.workload.latency_target
    if target is None or MECHANISMS[option.sharing].whole_gpus:
        return None
    p = option_prediction(option, ctx)
    if p is None:
        return rejection(
            option.label,
            ReasonCode.LATENCY_TARGET_UNKNOWN,
            f"latency target p99 <= {target:g}x solo, but time-sliced MIG slices are not in the "
            "sharing model, so the target cannot be shown to hold; use a MIG slice, MPS or whole GPUs",
        )
    if p.p99_inflation <= target:
        return None
    hint = ""
    choice = replica_choice(option, ctx)
    if choice is not None:
        hint = (
            f"; {choice.replicas} replicas per GPU would meet it (p99 "
            f"{choice.prediction.p99_inflation:.2f}x): set sharing.replicas: {choice.replicas} on a pool"
        )
    return rejection(
        option.label,
        ReasonCode.LATENCY_TARGET_MISSED,
        f"predicted p99 {p.p99_inflation:.2f}x solo exceeds the latency target {target:g}x: "
        f"{p.summary()}{hint}",
    )


@reads("latency_target")
def prediction_reasons(choice: Option, ctx: Context) -> list[Reason]:
    """Why the chosen option's predicted figures support it."""
    mechanism = MECHANISMS[choice.sharing]
    p = option_prediction(choice, ctx)
    if p is None or mechanism.whole_gpus:
        return []
    reasons = mechanism.prediction_reasons(choice, ctx)
    target = ctx.workload.latency_target
    if target is not None:
        reasons.append(
            reason(
                ReasonCode.LATENCY_TARGET_MET,
                f"predicted p99 {p.p99_inflation:.2f}x solo is within the latency target "
                f"{target:g}x ({p.replicas} {p.mode} replica{'s' if p.replicas > 1 else ''} "
                f"per {'slice' if p.mode == 'mig' else 'GPU'})",
            )
        )
    choice_n = replica_choice(choice, ctx)
    pool_replicas = (option_model(choice, ctx) or ("", 0, 0))[2]
    # Said when it is advice: a target to meet, or fewer replicas per GPU than the pool
    # advertises would do as well.
    if choice_n is not None and (target is not None or choice_n.replicas < pool_replicas):
        reasons.append(
            reason(
                ReasonCode.REPLICAS_PER_GPU,
                f"replicas per GPU for the {choice_n.objective} (the pool advertises "
                f"{pool_replicas}): {choice_n.reason}",
            )
        )
    return reasons


def prediction_warnings(choice: Option, ctx: Context) -> list[Reason]:
    """The chosen option's predicted costs worth a reviewer's attention."""
    return MECHANISMS[choice.sharing].prediction_warnings(choice, ctx)
