"""The sharing model: throughput and latency of N replicas on one GPU, per sharing mode (pure).

A workload is described by two numbers, both relative to running alone on a whole GPU:

- ``gpu_boundness`` b: the share of a request's time the GPU is busy with it (1 for a job that
  keeps the GPU busy; ~0.25 for eager PyTorch inference at batch 1, which waits on CPU launches);
- ``gpu_fill`` f: the share of the GPU its kernels occupy while they run (1 for large matrix
  products; ~0.3-0.5 for small-batch inference kernels, which leave SMs idle).

Per mode, for N replicas (X = aggregate throughput / solo, smin a smooth minimum):

- time-slicing runs one context at a time: X = smin(N, (e - p (1 - f)) / b), e ~ 0.96;
- MPS runs clients' kernels concurrently: X = smin(N, e / (f b));
- MPS with the device plugin's limits gives each client s = (100 // N) % of the SMs, so no
  client waits for another, but each runs at speed s ** (f ** k): per replica
  1 / ((1 - b) + b / speed), X = N x that;
- MIG (not measured) is assumed like a limited share with s = the slice's compute and memory share
  (the small-kernel law), except for memory-bandwidth-bound work (an LLM's decode), which runs
  at the slice's memory share: s = memory slices / all memory slices, each memory slice carrying
  its part of the memory bandwidth;
- dedicated is the reference, 1.

Latency in a closed loop follows throughput: p50 inflation = N / X (widened by the solo skew
as replicas queue), p99 = max(solo p99, p50 x the mode's queueing tail). The constants are fitted
per GPU from measured rows (gpukit/sharing/fit.py) and live in calibration files.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gpukit.errors import InputError, did_you_mean
from gpukit.sharing.calibration import (
    Calibration,
    ModelConstants,
    WorkloadCalibration,
    kind_defaults,
    llm_defaults,
    load_calibration,
)

__all__ = [
    "MODES",
    "Prediction",
    "WorkloadProfile",
    "aggregate_ratio",
    "predict",
    "predict_row",
    "workload_profile",
]

Mode = Literal["dedicated", "time-slicing", "mps", "mps-limits", "mig"]
MODES: tuple[str, ...] = Mode.__args__  # type: ignore[attr-defined]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: Where the MIG assumption comes from (the reference measured no MIG slice).
MIG_ASSUMPTION = (
    "MIG not measured: a slice is assumed to run like a dedicated GPU scaled by its share "
    "(the smaller of compute slices / all compute slices and memory slices / all memory "
    "slices), with the small-kernel law fitted for MPS limits; source: NVIDIA MIG User "
    "Guide (slices own their SMs and memory), gpu-sharing-measurements.md 'Not measured'"
)


#: The law a MIG slice is scaled by for memory-bandwidth-bound work.
MIG_BANDWIDTH_LAW = (
    "law: memory-bandwidth bound (LLM decode streams the weights and KV cache every token), so "
    "a slice runs at its memory share, memory slices / all memory slices: a GPU memory slice "
    "is about one eighth of the GPU's memory resources, capacity and bandwidth both (NVIDIA MIG "
    "User Guide, 'GPU Memory Slice'); its compute share does not help a bandwidth-bound kernel"
)
#: The law a MIG slice is scaled by for everything else.
MIG_COMPUTE_LAW = (
    "law: small-kernel (compute): the slice's share of compute and memory, softened by how "
    "little of the GPU the kernels fill"
)


class WorkloadProfile(BaseModel):
    """What the model needs to know about a workload, and where each number came from."""

    model_config = _FROZEN

    gpu_boundness: float = Field(gt=0, le=1)
    gpu_fill: float = Field(gt=0, le=1)
    solo_tail: float = Field(default=1.05, ge=1, description="p99 / p50 alone")
    solo_mean_over_p50: float = Field(default=1.0, gt=0)
    like: str | None = Field(default=None, description="measured workload it resembles")
    source: str = ""
    bound: Literal["compute", "memory-bandwidth"] = "compute"


class Prediction(BaseModel):
    """Predicted figures for N replicas of one workload sharing one GPU, against one alone.

    Throughputs are relative to one replica alone on a dedicated GPU; inflations are latency
    under sharing over latency alone (closed loop: every replica always busy, the worst case).
    """

    model_config = _FROZEN

    mode: Mode
    replicas: int
    aggregate_throughput: float
    per_replica_throughput: float
    p50_inflation: float
    p99_inflation: float
    cpu_cores: float = Field(description="CPU cores the replicas keep busy (spin-waiting on the GPU)")
    gpu_memory_overhead_mib: float = Field(
        description="GPU memory per replica beyond what its framework allocates"
    )
    sm_share: float | None = Field(
        default=None, description="SM share each replica is limited to (mps-limits, mig)"
    )
    profile: WorkloadProfile
    source: str
    assumptions: tuple[str, ...] = ()

    def summary(self) -> str:
        """One sentence: '8 mps replicas: each 0.83x of a dedicated GPU, 6.7x together; ...'."""
        what = "replica" if self.replicas == 1 else "replicas"
        return (
            f"{self.replicas} {self.mode} {what}: each {self.per_replica_throughput:.2f}x "
            f"of a dedicated GPU's throughput, {self.aggregate_throughput:.2f}x together; "
            f"p50 {self.p50_inflation:.1f}x and p99 {self.p99_inflation:.1f}x solo latency "
            f"(source: {self.source})"
        )


# -- the formulas --------------------------------------------------------------------------


def _smin(a: float, b: float, knee: float) -> float:
    return (a**-knee + b**-knee) ** (-1.0 / knee)


def limits_sm_share(replicas: int) -> float:
    """SM share the device plugin's MPS sets per client: 100 // N percent."""
    return (100 // replicas) / 100.0


def _speed(share: float, fill: float, constants: ModelConstants, efficiency: float) -> float:
    return min(1.0, efficiency * share ** (fill**constants.mps_limits.sm_exponent))


def _per_replica_limited(b: float, speed: float) -> float:
    return 1.0 / ((1.0 - b) + b / speed)


def aggregate_ratio(
    mode: str, replicas: int, b: float, f: float, constants: ModelConstants, *, share: float | None = None
) -> tuple[float, float]:
    """(aggregate throughput / solo, the mode's queueing tail) for N replicas."""
    n = replicas
    if mode == "dedicated" or (n == 1 and mode != "mig"):
        return 1.0, constants.time_slicing.tail
    if mode == "time-slicing":
        c = constants.time_slicing
        bound = (c.efficiency - c.fill_penalty * (1.0 - f)) / b
        return _smin(n, bound, c.knee), c.tail
    if mode == "mps":
        c = constants.mps
        return _smin(n, c.efficiency / (f * b), c.knee), c.tail
    if mode == "mps-limits":
        c = constants.mps_limits
        speed = _speed(limits_sm_share(n) if share is None else share, f, constants, c.efficiency)
        return n * _per_replica_limited(b, speed), c.tail
    if mode == "mig":
        if share is None:
            raise InputError("mode 'mig' needs a MIG profile; pass mig_profile='1g.18gb' and the gpu")
        # Isolated slice: no neighbour's work to wait behind, so no MPS efficiency loss.
        speed = _speed(share, f, constants, 1.0)
        return n * _per_replica_limited(b, speed), 1.0
    raise InputError(f"unknown sharing mode {mode!r}{did_you_mean(mode, MODES)}; modes: {', '.join(MODES)}")


def predict_row(
    mode: str,
    replicas: int,
    profile: WorkloadProfile,
    constants: ModelConstants,
    *,
    share: float | None = None,
    effective_replicas: int | None = None,
) -> tuple[float, float, float, float]:
    """(aggregate, per replica, p50 inflation, p99 inflation) for one configuration."""
    b, f = profile.gpu_boundness, profile.gpu_fill
    running = replicas if effective_replicas is None else max(1, min(replicas, effective_replicas))
    if mode == "mps-limits" and share is None:
        share = limits_sm_share(replicas)  # the plugin sets the share by replicas, not by cores
    aggregate, tail = aggregate_ratio(mode, running, b, f, constants, share=share)
    per = aggregate / replicas
    if mode == "mig":
        # A slice is a smaller GPU of its own: nobody to queue behind, the whole latency
        # distribution stretches by the slowdown.
        return aggregate, per, 1.0 / per, 1.0 / per
    waiting = max(0.0, 1.0 - per)
    # As replicas queue, requests start back to back and the solo skew (mean above median)
    # moves into the median.
    p50 = (1.0 / per) * (1.0 + (profile.solo_mean_over_p50 - 1.0) * waiting)
    p99 = max(1.0, p50 * tail / profile.solo_tail)
    return aggregate, per, p50, p99


# -- the public API ------------------------------------------------------------------------


def workload_profile(
    gpu_boundness: float | None = None,
    *,
    kind: str | None = None,
    gpu_fill: float | None = None,
    calibration: Calibration | None = None,
    llm: bool = False,
) -> WorkloadProfile:
    """A workload's profile: given numbers, else its kind's defaults (data/kinds.yaml).

    ``llm``: the workload serves an autoregressive language model; kinds with an ``llm``
    entry in kinds.yaml (serving) take that character instead, memory-bandwidth bound.
    Latency shape (solo p99/p50 and mean/p50) comes from the most similar measured workload.
    """
    calibration = calibration or load_calibration()
    defaults = kind_defaults()
    default = None
    if kind is not None:
        if kind not in defaults:
            raise InputError(
                f"unknown workload kind {kind!r}{did_you_mean(kind, defaults)}; "
                f"kinds: {', '.join(defaults)}"
            )
        default = defaults[kind]
        if llm and kind in llm_defaults():
            default = llm_defaults()[kind]
            kind = f"{kind} (LLM)"
    if gpu_boundness is None and default is None:
        raise InputError(
            "the sharing model needs gpu_boundness (0-1, share of a request the GPU is busy) "
            "or a workload kind to take it from; e.g. kind='inference'"
        )
    for name, value in (("gpu_boundness", gpu_boundness), ("gpu_fill", gpu_fill)):
        if value is not None and not (0 < value <= 1):
            raise InputError(f"{name} must be in (0, 1], got {value!r}; 1 means always busy / full GPU")
    sources = []
    if gpu_boundness is None:
        assert default is not None
        gpu_boundness = default.gpu_boundness
        sources.append(f"gpu_boundness {gpu_boundness:g}: default for kind {kind!r} ({default.why})")
    else:
        sources.append(f"gpu_boundness {gpu_boundness:g}: given")
    if gpu_fill is None:
        if default is not None:
            gpu_fill = default.gpu_fill
            sources.append(f"gpu_fill {gpu_fill:g}: default for kind {kind!r}")
        else:
            gpu_fill = _fill_like(gpu_boundness, calibration)
            sources.append(f"gpu_fill {gpu_fill:g}: from the measured workload nearest in gpu_boundness")
    else:
        sources.append(f"gpu_fill {gpu_fill:g}: given")
    like = _nearest(gpu_boundness, gpu_fill, calibration, prefer=default.like if default else None)
    return WorkloadProfile(
        gpu_boundness=gpu_boundness,
        gpu_fill=gpu_fill,
        solo_tail=max(1.0, like.solo.tail),
        solo_mean_over_p50=like.solo.mean_over_p50,
        like=like.name,
        source="; ".join(sources) + f"; latency shape of measured workload {like.name!r}",
        bound=default.bound if default is not None else "compute",
    )


def _fitted(calibration: Calibration) -> list[WorkloadCalibration]:
    return [w for w in calibration.workloads if w.fitted]


def _nearest(b: float, f: float, calibration: Calibration, prefer: str | None) -> WorkloadCalibration:
    fitted = _fitted(calibration)
    if prefer is not None:
        for w in fitted:
            if w.name == prefer:
                return w
    if not fitted:
        raise InputError(f"calibration {calibration.label} is not fitted; run 'gpukit calibrate import' on it")
    return min(
        fitted,
        key=lambda w: (math.log(w.gpu_boundness / b) ** 2 + math.log(w.gpu_fill / f) ** 2, w.name),  # type: ignore[operator]
    )


def _fill_like(b: float, calibration: Calibration) -> float:
    fitted = _fitted(calibration)
    if not fitted:
        return 1.0
    near = min(fitted, key=lambda w: (abs(math.log(w.gpu_boundness / b)), w.name))  # type: ignore[operator]
    return near.gpu_fill  # type: ignore[return-value]


def _memory_overhead(calibration: Calibration, share: float) -> float:
    o = calibration.overheads
    if share >= 1.0:
        return o.gpu_memory_per_replica_mib
    # Measured only at full share and at the smallest plugin share; straight line between.
    span = 1.0 - o.min_sm_share
    t = max(0.0, (share - o.min_sm_share) / span) if span > 0 else 1.0
    return o.gpu_memory_per_replica_min_mib + t * (o.gpu_memory_per_replica_mib - o.gpu_memory_per_replica_min_mib)


def _mig_share(gpu: str | None, mig_profile: str, bound: str = "compute") -> tuple[float, str]:
    from gpukit.hardware import get_gpu

    if gpu is None:
        raise InputError(f"MIG profile {mig_profile!r} needs the GPU model it is on; pass gpu='H100'")
    model = get_gpu(gpu)
    profile = model.profile(mig_profile)
    assert model.mig is not None
    memory = profile.memory_slices / model.mig.memory_slices
    if bound == "memory-bandwidth":
        return memory, (
            f"{profile.name} on {model.key}: {profile.memory_slices}/{model.mig.memory_slices} "
            f"memory slices, memory-bandwidth share {memory:.3f} of the GPU"
        )
    share = min(profile.compute_slices / model.mig.compute_slices, memory)
    return share, f"{profile.name} on {model.key}: share {share:.3f} of the GPU"


def predict(
    mode: str,
    replicas: int = 1,
    gpu_boundness: float | None = None,
    *,
    kind: str | None = None,
    gpu_fill: float | None = None,
    calibration: Calibration | None = None,
    gpu: str | None = None,
    mig_profile: str | None = None,
    cpu_cores: float | None = None,
    llm: bool = False,
) -> Prediction:
    """Predicted throughput and latency of ``replicas`` copies of a workload on one GPU.

    ``mode``: dedicated | time-slicing | mps | mps-limits | mig. The device plugin's
    ``sharing.mps`` always sets per-client limits, so a Kubernetes MPS share is
    ``mps-limits``; ``mps`` is an MPS daemon without limits. For ``mig``, ``replicas`` is the
    number of slices of ``mig_profile`` (each one replica). ``cpu_cores``: cores the replicas
    of one GPU can have; fewer than replicas caps throughput. ``calibration`` defaults to the
    GPU's own, else the shipped H200 reference (said in ``assumptions``). ``llm``: the
    workload serves a language model (see :func:`workload_profile`); a MIG slice then runs at
    its memory-bandwidth share, and the law that applies is said in ``assumptions``.
    """
    if mode not in MODES:
        raise InputError(f"unknown sharing mode {mode!r}{did_you_mean(mode, MODES)}; modes: {', '.join(MODES)}")
    if not isinstance(replicas, int) or replicas < 1:
        raise InputError(f"replicas must be a whole number >= 1, got {replicas!r}")
    if mode == "dedicated" and replicas != 1:
        raise InputError(
            f"a dedicated GPU runs one replica, got replicas={replicas}; "
            "use time-slicing, mps, mps-limits or mig to put several on one GPU"
        )
    assumptions: list[str] = []
    if calibration is None:
        calibration = load_calibration(gpu)
    if calibration.model is None:
        raise InputError(
            f"calibration {calibration.label} has no fitted model; "
            "run 'gpukit calibrate import' on it to fit one"
        )
    if gpu is not None:
        from gpukit.hardware import get_gpu

        if get_gpu(gpu).key != calibration.gpu:
            assumptions.append(
                f"measured on {calibration.gpu}, not {get_gpu(gpu).key}: ratios assumed to carry "
                "over (the measurements say qualitatively, not in absolute numbers)"
            )
    profile = workload_profile(gpu_boundness, kind=kind, gpu_fill=gpu_fill, calibration=calibration, llm=llm)
    share: float | None = None
    source = calibration.label
    if mode == "mig":
        if mig_profile is None:
            raise InputError("mode 'mig' needs mig_profile (e.g. '1g.18gb') and gpu")
        share, what = _mig_share(gpu or calibration.gpu, mig_profile, profile.bound)
        if profile.bound == "memory-bandwidth":
            assumptions.append(f"MIG not measured; {MIG_BANDWIDTH_LAW}; {what}")
            source = "assumption (MIG not measured); memory-bandwidth law"
        else:
            assumptions.append(f"{MIG_ASSUMPTION}; {MIG_COMPUTE_LAW}; {what}")
            source = f"assumption (MIG not measured); small-kernel law from {calibration.label}"
    elif mig_profile is not None:
        raise InputError(f"mig_profile is only for mode 'mig', not {mode!r}; drop it or use mode='mig'")
    elif mode == "mps-limits":
        share = limits_sm_share(replicas)
    effective = None
    per_core = calibration.overheads.cpu_cores_per_replica
    if cpu_cores is not None and per_core > 0 and cpu_cores < replicas * per_core:
        effective = max(1, int(cpu_cores // per_core))
        assumptions.append(
            f"{replicas} replicas on {cpu_cores:g} CPU cores: each replica spin-waits a core, so "
            f"throughput is taken as that of {effective} replicas"
        )
    aggregate, per, p50, p99 = predict_row(
        mode, replicas, profile, calibration.model, share=share, effective_replicas=effective
    )
    if mode in ("mps", "mps-limits") and replicas == 1:
        assumptions.append("one MPS client runs like a plain process (measured 0.97-1.02x)")
    return Prediction(
        mode=mode,  # type: ignore[arg-type]
        replicas=replicas,
        aggregate_throughput=round(aggregate, 6),
        per_replica_throughput=round(per, 6),
        p50_inflation=round(p50, 6),
        p99_inflation=round(p99, 6),
        cpu_cores=replicas * per_core,
        gpu_memory_overhead_mib=round(_memory_overhead(calibration, share if share is not None else 1.0), 1),
        sm_share=share,
        profile=profile,
        source=source,
        assumptions=tuple(assumptions),
    )
