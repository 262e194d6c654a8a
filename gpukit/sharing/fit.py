"""Fitting the sharing model to measured rows: each workload's character and the GPU's constants."""

from __future__ import annotations

import math
from collections.abc import Callable

from gpukit.sharing.calibration import (
    Calibration,
    ModelConstants,
    MpsConstants,
    MpsLimitsConstants,
    TimeSlicingConstants,
    WorkloadCalibration,
)
from gpukit.sharing.model import WorkloadProfile, predict_row

__all__ = ["STARTING_CONSTANTS", "fit_calibration", "row_errors"]

#: Where a fit starts (and what a mode keeps when no row measures it): round numbers read off
#: the H200 reference's conclusions (time-slicing ~0.96 at N >= 2; MPS ~1.02; limits ~0.96).
STARTING_CONSTANTS = ModelConstants(
    time_slicing=TimeSlicingConstants(efficiency=0.96, fill_penalty=0.15, knee=2.0, tail=1.03),
    mps=MpsConstants(efficiency=1.02, knee=2.0, tail=1.05),
    mps_limits=MpsLimitsConstants(efficiency=0.96, sm_exponent=1.2, tail=1.08),
)

# (section, field, lower, upper): the constants a fit may move, and how far.
_CONSTANT_BOUNDS = (
    ("time_slicing", "efficiency", 0.5, 1.2),
    ("time_slicing", "fill_penalty", 0.0, 0.6),
    ("time_slicing", "knee", 1.0, 8.0),
    ("time_slicing", "tail", 0.8, 2.0),
    ("mps", "efficiency", 0.5, 1.3),
    ("mps", "knee", 1.0, 8.0),
    ("mps", "tail", 0.8, 2.0),
    ("mps_limits", "efficiency", 0.5, 1.2),
    ("mps_limits", "sm_exponent", 0.3, 3.0),
    ("mps_limits", "tail", 0.8, 2.0),
)
_SECTION_MODE = {"time_slicing": "time-slicing", "mps": "mps", "mps_limits": "mps-limits"}
_STEPS = (1.2, 1.05, 1.01, 1.002)
_MIN_CHARACTER = 0.02  # gpu_boundness and gpu_fill floor: below it the model divides by ~0


def _weight(workload: WorkloadCalibration) -> float:
    # Rows whose solo reference is itself noisy (eager PyTorch on a shared CPU: +-30 %) may
    # not pull the GPU's constants as hard as tight rows do.
    return 1.0 / (1.0 + (workload.noise / 0.2) ** 2)


def _profile(w: WorkloadCalibration, b: float, f: float) -> WorkloadProfile:
    return WorkloadProfile(
        gpu_boundness=b,
        gpu_fill=f,
        solo_tail=max(1.0, w.solo.tail),
        solo_mean_over_p50=w.solo.mean_over_p50,
        like=w.name,
    )


def row_errors(
    w: WorkloadCalibration, constants: ModelConstants, b: float | None = None, f: float | None = None
) -> list[tuple[int, tuple[float, float, float, float]]]:
    """Per row: (index, predicted/measured - 1 for aggregate, per replica, p50, p99)."""
    b = w.gpu_boundness if b is None else b
    f = w.gpu_fill if f is None else f
    if b is None or f is None:
        raise ValueError(f"workload {w.name!r} is not fitted")
    profile = _profile(w, b, f)
    out = []
    for i, row in enumerate(w.rows):
        agg, per, p50, p99 = predict_row(row.mode, row.replicas, profile, constants)
        out.append(
            (i, (agg / row.aggregate - 1, per / row.per_replica - 1, p50 / row.p50 - 1, p99 / row.p99 - 1))
        )
    return out


def _loss_one(w: WorkloadCalibration, constants: ModelConstants, b: float, f: float) -> float:
    profile = _profile(w, b, f)
    total = 0.0
    for row in w.rows:
        agg, _, p50, p99 = predict_row(row.mode, row.replicas, profile, constants)
        total += (
            math.log(agg / row.aggregate) ** 2
            + math.log(p50 / row.p50) ** 2
            + math.log(p99 / row.p99) ** 2
        )
    return _weight(w) * total


def _descend(params: list[float], bounds: list[tuple[float, float]], loss: Callable[[list[float]], float]) -> list[float]:
    """Deterministic coordinate descent in log space: same rows, same result."""
    best = loss(params)
    for step in _STEPS:
        for _ in range(200):
            improved = False
            for i, (lo, hi) in enumerate(bounds):
                for factor in (step, 1 / step):
                    trial = params.copy()
                    trial[i] = min(hi, max(lo, params[i] * factor))
                    if trial[i] == params[i]:
                        continue
                    value = loss(trial)
                    if value < best - 1e-12:
                        params, best, improved = trial, value, True
            if not improved:
                break
    return params


def _with(constants: ModelConstants, values: list[float], active: list[int]) -> ModelConstants:
    data = constants.model_dump()
    for index, value in zip(active, values, strict=True):
        section, field, _, _ = _CONSTANT_BOUNDS[index]
        data[section][field] = value
    return ModelConstants.model_validate(data)


def _fit_character(w: WorkloadCalibration, constants: ModelConstants, start: tuple[float, float]) -> tuple[float, float]:
    values = _descend(
        list(start),
        [(_MIN_CHARACTER, 1.0), (_MIN_CHARACTER, 1.0)],
        lambda p: _loss_one(w, constants, p[0], p[1]),
    )
    return values[0], values[1]


def fit_calibration(
    calibration: Calibration, *, start: ModelConstants | None = None, rounds: int = 4
) -> Calibration:
    """The calibration with its constants and every workload's character fitted to its rows.

    Alternates: each workload's (gpu_boundness, gpu_fill) with the constants held, then the
    constants with the characters held. A mode no row measures keeps its starting constants.
    """
    constants = start or calibration.model or STARTING_CONSTANTS
    measured = {row.mode for w in calibration.workloads for row in w.rows if row.replicas > 1}
    active = [i for i, (section, *_rest) in enumerate(_CONSTANT_BOUNDS) if _SECTION_MODE[section] in measured]
    characters = {
        w.name: (w.gpu_boundness or 0.5, w.gpu_fill or 0.5) for w in calibration.workloads
    }
    for _ in range(rounds):
        characters = {
            w.name: _fit_character(w, constants, characters[w.name]) for w in calibration.workloads
        }
        if not active:
            break

        def total(values: list[float], constants: ModelConstants = constants, characters: dict = characters) -> float:  # type: ignore[type-arg]
            trial = _with(constants, values, active)
            return sum(_loss_one(w, trial, *characters[w.name]) for w in calibration.workloads)

        start_values = [getattr(getattr(constants, _CONSTANT_BOUNDS[i][0]), _CONSTANT_BOUNDS[i][1]) for i in active]
        fitted = _descend(start_values, [(_CONSTANT_BOUNDS[i][2], _CONSTANT_BOUNDS[i][3]) for i in active], total)
        constants = _with(constants, fitted, active)
    constants = _rounded(constants)
    workloads = tuple(
        w.model_copy(update={"gpu_boundness": round(characters[w.name][0], 4), "gpu_fill": round(characters[w.name][1], 4)})
        for w in calibration.workloads
    )
    return calibration.model_copy(update={"model": constants, "workloads": workloads})


def _rounded(constants: ModelConstants) -> ModelConstants:
    data = constants.model_dump()
    for section in data.values():
        for key, value in section.items():
            section[key] = round(value, 4)
    return ModelConstants.model_validate(data)
