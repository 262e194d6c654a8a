"""Choosing replicas per GPU from the model: for a latency target, or for throughput per GPU."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gpukit.errors import InputError, NoFeasiblePlan
from gpukit.sharing.calibration import Calibration, load_calibration
from gpukit.sharing.model import Prediction, predict

__all__ = ["ReplicaChoice", "compare_modes", "replicas_for_target"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: Replicas per GPU considered when nothing caps them sooner: the largest N measured.
DEFAULT_MAX_REPLICAS = 16


class ReplicaChoice(BaseModel):
    """How many replicas of a workload to put on one GPU in one mode, and why."""

    model_config = _FROZEN

    mode: str
    replicas: int
    prediction: Prediction
    objective: str = Field(description="'latency target' or 'throughput per GPU'")
    reason: str
    candidates: tuple[Prediction, ...] = Field(description="every N that fit, smallest first")
    rejected: tuple[str, ...] = Field(default=(), description="each N turned down, with why")


def _memory_fits(
    p: Prediction, gpu_memory_mib: float | None, replica_memory_mib: float | None, server_mib: float
) -> str | None:
    if gpu_memory_mib is None or replica_memory_mib is None:
        return None
    per = replica_memory_mib + p.gpu_memory_overhead_mib
    total = p.replicas * per + (server_mib if p.mode in ("mps", "mps-limits") else 0.0)
    if total > gpu_memory_mib:
        return (
            f"N={p.replicas}: {p.replicas} x ({replica_memory_mib:.0f} + "
            f"{p.gpu_memory_overhead_mib:.0f} MiB overhead) = {total:.0f} MiB > {gpu_memory_mib:.0f} MiB of GPU memory"
        )
    if p.mode == "mps-limits" and per > gpu_memory_mib / p.replicas:
        return (
            f"N={p.replicas}: the device plugin pins each MPS client to {gpu_memory_mib / p.replicas:.0f} MiB "
            f"(memory / N), below the {per:.0f} MiB one replica needs"
        )
    return None


def replicas_for_target(
    mode: str,
    gpu_boundness: float | None = None,
    *,
    kind: str | None = None,
    gpu_fill: float | None = None,
    p99_target: float | None = None,
    p50_target: float | None = None,
    max_replicas: int | None = None,
    cpu_cores: float | None = None,
    gpu_memory_mib: float | None = None,
    replica_memory_mib: float | None = None,
    calibration: Calibration | None = None,
    gpu: str | None = None,
    tolerance: float = 0.02,
    llm: bool = False,
) -> ReplicaChoice:
    """The replicas per GPU that give the most throughput per GPU within the limits given.

    Targets are latency inflations against one replica alone (p99_target=2.0: p99 at most
    twice solo). ``cpu_cores`` are the cores one GPU's replicas may use (each replica keeps
    one busy); ``gpu_memory_mib`` and ``replica_memory_mib`` (the model's own footprint) cap N
    by memory, with the per-replica overhead added. Of the N within ``tolerance`` of the best
    throughput the smallest is chosen: beyond the GPU's bound more replicas only add latency.
    Raises NoFeasiblePlan when no N meets the limits.
    """
    if mode in ("dedicated", "mig"):
        raise InputError(
            f"replicas_for_target chooses replicas sharing one GPU; mode {mode!r} runs one replica per "
            "GPU or slice: use predict() for it"
        )
    for name, target in (("p99_target", p99_target), ("p50_target", p50_target)):
        if target is not None and target < 1:
            raise InputError(f"{name} is latency under sharing / latency alone, at least 1; got {target!r}")
    calibration = calibration or load_calibration(gpu)
    limit = max_replicas or DEFAULT_MAX_REPLICAS
    if mode in ("mps", "mps-limits") and gpu is not None:
        from gpukit.hardware import get_gpu

        limit = min(limit, get_gpu(gpu).mps_max_clients)
    fits: list[Prediction] = []
    rejected: list[tuple[int, str]] = []
    per_core = calibration.overheads.cpu_cores_per_replica
    for n in range(1, limit + 1):
        p = predict(
            mode, n, gpu_boundness, kind=kind, gpu_fill=gpu_fill, calibration=calibration, gpu=gpu, llm=llm
        )
        why = None
        if cpu_cores is not None and n * per_core > cpu_cores:
            why = f"N={n}: needs {n * per_core:g} CPU cores (one per replica), {cpu_cores:g} available"
        why = why or _memory_fits(p, gpu_memory_mib, replica_memory_mib, calibration.overheads.mps_server_mib)
        if why is None and p99_target is not None and p.p99_inflation > p99_target:
            why = f"N={n}: p99 {p.p99_inflation:.2f}x solo exceeds the target {p99_target:g}x"
        if why is None and p50_target is not None and p.p50_inflation > p50_target:
            why = f"N={n}: p50 {p.p50_inflation:.2f}x solo exceeds the target {p50_target:g}x"
        if why is None:
            fits.append(p)
        else:
            rejected.append((n, why))
    if not fits:
        raise NoFeasiblePlan(
            f"no number of {mode} replicas per GPU meets the limits; first: {rejected[0][1]}",
            [why for _, why in rejected],
        )
    best = max(p.aggregate_throughput for p in fits)
    chosen = next(p for p in fits if p.aggregate_throughput >= (1 - tolerance) * best)
    targeted = p99_target is not None or p50_target is not None
    objective = "latency target" if targeted else "throughput per GPU"
    above = [why for n, why in rejected if n == chosen.replicas + 1]
    if chosen.replicas < fits[-1].replicas:
        why_not_more = f"more replicas add no throughput (within {tolerance:.0%}), only latency"
    elif above:
        why_not_more = f"one more does not fit: {above[0]}"
    else:
        why_not_more = f"the most considered ({limit})"
    reason = (
        f"{chosen.replicas} {mode} replicas per GPU give {chosen.aggregate_throughput:.2f}x one dedicated "
        f"GPU's throughput ({chosen.per_replica_throughput:.2f}x each), p99 {chosen.p99_inflation:.1f}x solo; "
        f"{why_not_more}"
    )
    return ReplicaChoice(
        mode=mode,
        replicas=chosen.replicas,
        prediction=chosen,
        objective=objective,
        reason=reason,
        candidates=tuple(fits),
        rejected=tuple(why for _, why in rejected),
    )


def compare_modes(
    replicas: int,
    gpu_boundness: float | None = None,
    *,
    kind: str | None = None,
    gpu_fill: float | None = None,
    calibration: Calibration | None = None,
    gpu: str | None = None,
    cpu_cores: float | None = None,
) -> dict[str, Prediction]:
    """Predictions for the same N in every measurable mode, plus dedicated: the table a plan shows."""
    calibration = calibration or load_calibration(gpu)
    out = {"dedicated": predict("dedicated", 1, gpu_boundness, kind=kind, gpu_fill=gpu_fill, calibration=calibration, gpu=gpu)}
    for mode in ("time-slicing", "mps", "mps-limits"):
        out[mode] = predict(
            mode, replicas, gpu_boundness, kind=kind, gpu_fill=gpu_fill, calibration=calibration, gpu=gpu, cpu_cores=cpu_cores
        )
    return out
