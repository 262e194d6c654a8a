"""Sharing-model rules for the advisor: predicted throughput and latency per option, and rules.

The figures come from gpukit.sharing (a model calibrated on measured GPUs); this module maps an
option to the model's terms and turns the figures into rejections, reasons and warnings.

- Mode: a Kubernetes MPS share is ``mps-limits`` (the device plugin always sets per-client
  limits: 100 // R % of the SMs and memory / R for a pool of R replicas), a time-slicing share
  ``time-slicing``, a MIG slice ``mig`` (not measured: modelled, an assumption that says so),
  whole GPUs ``dedicated``. A time-sliced MIG slice is not modelled (no prediction).
- Replicas per GPU N: time-slicing: min(R, the workload's pods), or R for a single pod (its
  neighbours fill the other shares); MPS: R, since the plugin fixes each client's share by R,
  not by how many run. Other workloads on the same GPU are not counted (said in assumptions).
- Codes: TIME_SLICING_NO_THROUGHPUT, MPS_LIMITS_COST, LATENCY_TARGET_MISSED,
  LATENCY_TARGET_UNKNOWN, CPU_DOES_NOT_FIT, MEMORY_DOES_NOT_FIT (rejections);
  MPS_OVER_TIME_SLICING, LATENCY_TARGET_MET, REPLICAS_PER_GPU (reasons); MPS_LIMITS_COST
  (warning when MPS is chosen anyway).

Predictions are cached per (calibration folder, GPU, mode, N, gpu_boundness, gpu_fill, kind,
MIG profile): plan() stays fast.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from gpukit.advisor.plan import Reason, Rejection
from gpukit.advisor.predictions import OptionPrediction
from gpukit.errors import NoFeasiblePlan
from gpukit.quantity import GIB, MIB
from gpukit.sharing import (
    Calibration,
    Prediction,
    ReplicaChoice,
    load_calibration,
    predict,
    replicas_for_target,
)

if TYPE_CHECKING:
    from gpukit.advisor.rules import AnyOption, Context

__all__ = [
    "MPS_OVER_TIME_SLICING",
    "THROUGHPUT_GAIN",
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

#: Aggregate throughput (x one dedicated GPU) below which sharing a GPU adds no throughput.
THROUGHPUT_GAIN = 1.05
#: MPS is worth its shared fate over time-slicing from this ratio of aggregates on.
MPS_OVER_TIME_SLICING = 1.05


@functools.lru_cache(maxsize=4096)
def _reason(code: str, message: str) -> Reason:
    return Reason(code=code, message=message)


@functools.lru_cache(maxsize=4096)
def _rejection(option: str, code: str, message: str) -> Rejection:
    return Rejection(option=option, code=code, message=message)


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / GIB:.1f} GiB".replace(".0 GiB", " GiB")


# -- the model, cached --------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _calibration(folder: str | None, gpu: str) -> tuple[Calibration, str]:
    """(calibration, where it was read) for a GPU: the fleet's folder first, then shipped data."""
    search = (folder,) if folder else ()
    calibration = load_calibration(gpu, search=search)
    if folder and (Path(folder) / f"{calibration.gpu}.yaml").is_file() and calibration.gpu == gpu:
        where = f"fleet calibration folder ({calibration.gpu}.yaml)"
    else:
        where = "shipped with gpukit"
    return calibration, where


@functools.lru_cache(maxsize=8192)
def _predict(
    folder: str | None,
    gpu: str,
    mode: str,
    n: int,
    b: float | None,
    f: float | None,
    kind: str,
    mig_profile: str | None,
) -> Prediction:
    calibration, _ = _calibration(folder, gpu)
    return predict(
        mode, n, b, kind=kind, gpu_fill=f, calibration=calibration, gpu=gpu, mig_profile=mig_profile
    )


@functools.lru_cache(maxsize=4096)
def _replicas(
    folder: str | None,
    gpu: str,
    mode: str,
    b: float | None,
    f: float | None,
    kind: str,
    target: float | None,
    max_replicas: int,
    cpu_cores: float | None,
    gpu_memory_mib: float | None,
    replica_memory_mib: float | None,
) -> ReplicaChoice | None:
    calibration, _ = _calibration(folder, gpu)
    try:
        return replicas_for_target(
            mode,
            b,
            kind=kind,
            gpu_fill=f,
            p99_target=target,
            max_replicas=max_replicas,
            cpu_cores=cpu_cores,
            gpu_memory_mib=gpu_memory_mib,
            replica_memory_mib=replica_memory_mib,
            calibration=calibration,
            gpu=gpu,
        )
    except NoFeasiblePlan:
        return None


def option_model(option: AnyOption, ctx: Context) -> tuple[str, int, int] | None:
    """(model mode, replicas per GPU N, pool replicas R) of an option; None when not modelled."""
    if option.sharing == "dedicated":
        return "dedicated", 1, 1
    if option.sharing == "mig":
        return "mig", 1, 1
    if option.mig_profile is not None:
        return None  # a time-sliced MIG slice: the model has no such mode
    share = ctx.facts.by_name[option.pool].pool.sharing
    pool_replicas = share.replicas if share is not None else 1
    if option.sharing == "mps":
        return "mps-limits", pool_replicas, pool_replicas
    pods = ctx.workload.replicas * option.workers
    n = min(pool_replicas, pods) if pods >= 2 else pool_replicas
    return "time-slicing", n, pool_replicas


def _character(ctx: Context) -> tuple[float | None, float | None, str]:
    w = ctx.workload
    return w.gpu_boundness, w.gpu_fill, w.kind


def _prediction_at(option: AnyOption, ctx: Context, mode: str, n: int) -> Prediction:
    b, f, kind = _character(ctx)
    gpu = ctx.facts.by_name[option.pool].model.key
    profile = option.mig_profile if mode == "mig" else None
    return _predict(ctx.fleet.calibration, gpu, mode, n, b, f, kind, profile)


def option_prediction(option: AnyOption, ctx: Context) -> Prediction | None:
    """The sharing model's prediction for an option (None for a time-sliced MIG slice)."""
    modelled = option_model(option, ctx)
    if modelled is None:
        return None
    mode, n, _ = modelled
    return _prediction_at(option, ctx, mode, n)


def _time_slicing_twin(option: AnyOption, ctx: Context, n: int) -> Prediction:
    return _prediction_at(option, ctx, "time-slicing", n)


def _replica_choice(option: AnyOption, ctx: Context) -> ReplicaChoice | None:
    """Replicas per GPU from replicas_for_target: for the latency target, else for throughput."""
    modelled = option_model(option, ctx)
    if modelled is None or modelled[0] not in ("time-slicing", "mps-limits"):
        return None
    mode, _, pool_replicas = modelled
    facts = ctx.facts.by_name[option.pool]
    pool = facts.pool
    b, f, kind = _character(ctx)
    cpu = pool.cpu_per_node / pool.gpus_per_node if pool.cpu_per_node is not None else None
    need = ctx.need.bytes
    return _replicas(
        ctx.fleet.calibration,
        facts.model.key,
        mode,
        b,
        f,
        kind,
        ctx.workload.latency_target,
        pool_replicas,
        cpu,
        facts.model.memory_bytes / MIB,
        None if need is None else need / MIB,
    )


# -- rules that reject options ------------------------------------------------------------


def rule_share_fit(option: AnyOption, ctx: Context) -> Rejection | None:
    """A modelled share must hold each replica's CPU core and its GPU memory beyond the model."""
    if option.sharing not in ("time-slicing", "mps"):
        return None
    facts = ctx.facts.by_name[option.pool]
    pool = facts.pool
    p = option_prediction(option, ctx)
    if p is not None and pool.cpu_per_node is not None:
        per_gpu = pool.cpu_per_node / pool.gpus_per_node
        if p.cpu_cores > per_gpu:
            return _rejection(
                option.label,
                "CPU_DOES_NOT_FIT",
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
    return _rejection(
        option.label,
        "MEMORY_DOES_NOT_FIT",
        f"needs {_gib(need)} plus {overhead:.0f} MiB per replica beyond the model (CUDA context "
        f"and workspaces, measured) = {_gib(total)}, but each {option.sharing} replica gets "
        f"{_gib(option.memory_bytes)}",
    )


def rule_time_slicing_throughput(option: AnyOption, ctx: Context) -> Rejection | None:
    """Time-slicing is never chosen for throughput of work it cannot speed up (GPU-bound)."""
    if option.sharing != "time-slicing" or ctx.priority != "throughput":
        return None
    p = option_prediction(option, ctx)
    if p is None or p.aggregate_throughput >= THROUGHPUT_GAIN:
        return None
    return _rejection(
        option.label,
        "TIME_SLICING_NO_THROUGHPUT",
        f"throughput priority, but time-slicing runs one context at a time and this work keeps "
        f"the GPU busy: {p.summary()}; below {THROUGHPUT_GAIN}x, so the replicas only wait for "
        "each other",
    )


def rule_mps_limits_cost(option: AnyOption, ctx: Context) -> Rejection | None:
    """The device plugin's MPS limits cost saturating work; then whole GPUs or MIG serve it better."""
    if option.sharing != "mps" or ctx.priority != "throughput":
        return None
    p = option_prediction(option, ctx)
    if p is None:
        return None
    ts = _time_slicing_twin(option, ctx, p.replicas)
    if p.aggregate_throughput >= ts.aggregate_throughput:
        return None
    return _rejection(
        option.label,
        "MPS_LIMITS_COST",
        _limits_cost(p, ts) + "; whole GPUs or a MIG slice serve throughput better",
    )


def _limits_cost(p: Prediction, ts: Prediction) -> str:
    return (
        f"the device plugin limits each of {p.replicas} MPS clients to {p.sm_share or 0:.0%} of "
        f"the SMs, which costs this saturating work: {p.aggregate_throughput:.2f}x one dedicated "
        f"GPU together, below time-slicing's {ts.aggregate_throughput:.2f}x at the same N "
        f"(source: {p.source})"
    )


def rule_latency_target(option: AnyOption, ctx: Context) -> Rejection | None:
    """A shared option must meet the workload's p99 latency target (x running alone)."""
    target = ctx.workload.latency_target
    if target is None or option.sharing == "dedicated":
        return None
    p = option_prediction(option, ctx)
    if p is None:
        return _rejection(
            option.label,
            "LATENCY_TARGET_UNKNOWN",
            f"latency target p99 <= {target:g}x solo, but time-sliced MIG slices are not in the "
            "sharing model, so the target cannot be shown to hold; use a MIG slice, MPS or whole GPUs",
        )
    if p.p99_inflation <= target:
        return None
    hint = ""
    choice = _replica_choice(option, ctx)
    if choice is not None:
        hint = (
            f"; {choice.replicas} replicas per GPU would meet it (p99 "
            f"{choice.prediction.p99_inflation:.2f}x): set sharing.replicas: {choice.replicas} on a pool"
        )
    return _rejection(
        option.label,
        "LATENCY_TARGET_MISSED",
        f"predicted p99 {p.p99_inflation:.2f}x solo exceeds the latency target {target:g}x: "
        f"{p.summary()}{hint}",
    )


# -- what a plan says about its choice ----------------------------------------------------


def prediction_reasons(choice: AnyOption, ctx: Context) -> list[Reason]:
    """Why the chosen option's predicted figures support it."""
    reasons: list[Reason] = []
    p = option_prediction(choice, ctx)
    if p is None or choice.sharing == "dedicated":
        return reasons
    if choice.sharing == "mps":
        ts = _time_slicing_twin(choice, ctx, p.replicas)
        ratio = p.aggregate_throughput / ts.aggregate_throughput
        if ratio >= MPS_OVER_TIME_SLICING:
            reasons.append(
                _reason(
                    "MPS_OVER_TIME_SLICING",
                    f"{p.replicas} MPS replicas per GPU (device-plugin limits) give "
                    f"{p.aggregate_throughput:.2f}x one dedicated GPU's throughput together, "
                    f"{ratio:.2f}x what time-slicing gives at the same N "
                    f"({ts.aggregate_throughput:.2f}x); source: {p.source}",
                )
            )
    target = ctx.workload.latency_target
    if target is not None:
        reasons.append(
            _reason(
                "LATENCY_TARGET_MET",
                f"predicted p99 {p.p99_inflation:.2f}x solo is within the latency target "
                f"{target:g}x ({p.replicas} {p.mode} replica{'s' if p.replicas > 1 else ''} "
                f"per {'slice' if p.mode == 'mig' else 'GPU'})",
            )
        )
    choice_n = _replica_choice(choice, ctx)
    pool_replicas = (option_model(choice, ctx) or ("", 0, 0))[2]
    # Said when it is advice: a target to meet, or fewer replicas per GPU than the pool
    # advertises would do as well.
    if choice_n is not None and (target is not None or choice_n.replicas < pool_replicas):
        reasons.append(
            _reason(
                "REPLICAS_PER_GPU",
                f"replicas per GPU for the {choice_n.objective} (the pool advertises "
                f"{pool_replicas}): {choice_n.reason}",
            )
        )
    return reasons


def prediction_warnings(choice: AnyOption, ctx: Context) -> list[Reason]:
    """The chosen option's predicted costs worth a reviewer's attention."""
    if choice.sharing != "mps":
        return []
    p = option_prediction(choice, ctx)
    if p is None:
        return []
    ts = _time_slicing_twin(choice, ctx, p.replicas)
    if p.aggregate_throughput >= ts.aggregate_throughput:
        return []
    return [
        _reason(
            "MPS_LIMITS_COST",
            _limits_cost(p, ts) + "; prefer whole GPUs or MIG when throughput matters",
        )
    ]


def _summary(option: AnyOption, ctx: Context) -> OptionPrediction | None:
    modelled = option_model(option, ctx)
    if modelled is None:
        return None
    pool = ctx.facts.by_name[option.pool].pool
    w = ctx.workload
    # Everything the summary reads, so that workloads of many shapes share one summary.
    key = (
        option.label,
        modelled,
        ctx.fleet.calibration,
        pool.gpu,
        pool.cpu_per_node,
        pool.gpus_per_node,
        w.gpu_boundness,
        w.gpu_fill,
        w.kind,
        w.latency_target,
        ctx.need.bytes,
    )
    summary = _SUMMARIES.get(key)
    if summary is None:
        summary = _SUMMARIES[key] = _build_summary(option, ctx, *modelled)
        if len(_SUMMARIES) > _SUMMARIES_LIMIT:
            _SUMMARIES.pop(next(iter(_SUMMARIES)))
    return summary


_SUMMARIES: dict[tuple[object, ...], OptionPrediction] = {}
_SUMMARIES_LIMIT = 8192


def _build_summary(
    option: AnyOption, ctx: Context, mode: str, n: int, pool_replicas: int
) -> OptionPrediction:
    p = _prediction_at(option, ctx, mode, n)
    _, where = _calibration(ctx.fleet.calibration, ctx.facts.by_name[option.pool].model.key)
    assumptions = list(p.assumptions)
    assumptions.append(f"workload character: {p.profile.source}")
    if mode == "time-slicing":
        assumptions.append(
            f"{n} replicas per GPU: the workload's pods, at most the pool's {pool_replicas} shares "
            "(a single pod is taken with neighbours like it in every share); other workloads' "
            "pods are not counted"
        )
    elif mode == "mps-limits":
        assumptions.append(
            f"the device plugin gives each of the pool's {pool_replicas} MPS clients per GPU "
            f"{100 // pool_replicas}% of the SMs, however many run"
        )
    choice = _replica_choice(option, ctx)
    return OptionPrediction(
        option=option.label,
        pool=option.pool,
        mode=mode,
        replicas=n,
        pool_replicas=pool_replicas,
        aggregate_throughput=round(p.aggregate_throughput, 4),
        per_replica_throughput=round(p.per_replica_throughput, 4),
        p50_inflation=round(p.p50_inflation, 4),
        p99_inflation=round(p.p99_inflation, 4),
        cpu_cores_per_gpu=p.cpu_cores,
        gpu_memory_overhead_mib=p.gpu_memory_overhead_mib,
        summary=p.summary(),
        source=f"{p.source}; {where}",
        assumptions=tuple(assumptions),
        replicas_for_target=None if choice is None else choice.replicas,
        replicas_reason=None if choice is None else choice.reason,
    )


def plan_predictions(
    options: list[AnyOption] | tuple[AnyOption, ...], ctx: Context
) -> tuple[OptionPrediction, ...]:
    """Predictions for the chosen option and the alternatives, in the same order (modelled ones)."""
    out = []
    for option in options:
        summary = _summary(option, ctx)
        if summary is not None:
            out.append(summary)
    return tuple(out)


def clear_caches() -> None:
    """Forget cached calibrations, predictions and summaries (benchmarks start cold)."""
    for cached in (_reason, _rejection, _calibration, _predict, _replicas):
        cached.cache_clear()
    _SUMMARIES.clear()
