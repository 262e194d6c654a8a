"""The sharing model's figures for an option, cached: predictions, replica choices, summaries.

The figures come from gpukit.sharing (a model calibrated on measured GPUs); each mechanism
says how its options map to the model's terms (Mechanism.sharing_model):

- Mode: a Kubernetes MPS share is ``mps-limits`` (the device plugin always sets per-client
  limits: 100 // R % of the SMs and memory / R for a pool of R replicas), a time-slicing share
  ``time-slicing``, a MIG slice ``mig`` (not measured: modelled, an assumption that says so),
  whole GPUs ``dedicated``. A time-sliced MIG slice is not modelled (no prediction).
- Replicas per GPU N: time-slicing: min(R, the workload's pods), or R for a single pod (its
  neighbours fill the other shares); MPS: R, since the plugin fixes each client's share by R,
  not by how many run. Other workloads on the same GPU are not counted (said in assumptions).

Predictions are cached per (calibration folder, GPU, mode, N, gpu_boundness, gpu_fill, kind,
MIG profile): plan() stays fast.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from gpukit.advisor.predictions import OptionPrediction
from gpukit.advisor.reads import reads
from gpukit.errors import NoFeasiblePlan
from gpukit.quantity import MIB
from gpukit.sharing import (
    Calibration,
    Prediction,
    ReplicaChoice,
    load_calibration,
    predict,
    replicas_for_target,
)

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.option import Option

__all__ = [
    "clear_caches",
    "limits_cost",
    "option_model",
    "option_prediction",
    "plan_predictions",
    "replica_choice",
    "serves_llm",
    "time_slicing_twin",
]


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
    llm: bool = False,
) -> Prediction:
    calibration, _ = _calibration(folder, gpu)
    return predict(
        mode,
        n,
        b,
        kind=kind,
        gpu_fill=f,
        calibration=calibration,
        gpu=gpu,
        mig_profile=mig_profile,
        llm=llm,
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
    llm: bool = False,
) -> ReplicaChoice | None:
    calibration, _ = _calibration(folder, gpu)
    try:
        return replicas_for_target(
            mode,
            b,
            kind=kind,
            llm=llm,
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


def option_model(option: Option, ctx: Context) -> tuple[str, int, int] | None:
    """(model mode, replicas per GPU N, pool replicas R) of an option; None when not modelled."""
    return ctx.mechanism(option).sharing_model(option, ctx)


@reads("gpu_boundness", "gpu_fill", "kind")
def _character(ctx: Context) -> tuple[float | None, float | None, str]:
    w = ctx.workload
    return w.gpu_boundness, w.gpu_fill, w.kind


def serves_llm(ctx: Context) -> bool:
    """The workload serves a language model (a model given, not trained): its decode is
    memory-bandwidth bound, and the sharing model takes the kind's LLM character."""
    return ctx.precision is not None and not ctx.training_model


def _prediction_at(option: Option, ctx: Context, mode: str, n: int) -> Prediction:
    b, f, kind = _character(ctx)
    gpu = ctx.facts.by_name[option.pool].model.key
    profile = option.mig_profile if mode == "mig" else None
    return _predict(ctx.fleet.calibration, gpu, mode, n, b, f, kind, profile, serves_llm(ctx))


def option_prediction(option: Option, ctx: Context) -> Prediction | None:
    """The sharing model's prediction for an option (None for a time-sliced MIG slice)."""
    modelled = option_model(option, ctx)
    if modelled is None:
        return None
    mode, n, _ = modelled
    return _prediction_at(option, ctx, mode, n)


def time_slicing_twin(option: Option, ctx: Context, n: int) -> Prediction:
    """The prediction for time-slicing at the same N: what MPS is compared with."""
    return _prediction_at(option, ctx, "time-slicing", n)


def limits_cost(p: Prediction, ts: Prediction) -> str:
    """How the device plugin's MPS limits cost saturating work, next to time-slicing."""
    return (
        f"the device plugin limits each of {p.replicas} MPS clients to {p.sm_share or 0:.0%} of "
        f"the SMs, which costs this saturating work: {p.aggregate_throughput:.2f}x one dedicated "
        f"GPU together, below time-slicing's {ts.aggregate_throughput:.2f}x at the same N "
        f"(source: {p.source})"
    )


@reads("latency_target")
def replica_choice(option: Option, ctx: Context) -> ReplicaChoice | None:
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
        serves_llm(ctx),
    )


@reads("gpu_boundness", "gpu_fill", "kind", "latency_target")
def _summary(option: Option, ctx: Context) -> OptionPrediction | None:
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
        serves_llm(ctx),
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
    option: Option, ctx: Context, mode: str, n: int, pool_replicas: int
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
    choice = replica_choice(option, ctx)
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
    options: list[Option] | tuple[Option, ...], ctx: Context
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
    for cached in (_calibration, _predict, _replicas):
        cached.cache_clear()
    _SUMMARIES.clear()
