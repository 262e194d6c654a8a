"""Precision: a plan runs the workload's numbers on a GPU model that computes them natively.

Which model has which Tensor Core formats is catalog data (``GpuModel.supports``, with each
model's whitepaper as source); :func:`gpukit.hardware.precision.precision_gap` says what runs
instead. The advisor uses them in three places:

- a rule rejects what cannot run at all: FP8 or FP4 *training* on a GPU without those Tensor
  Cores (mixed-precision FP8 recipes such as Transformer Engine's refuse to start there);
- among the options that pass, one without native support is dropped when an option of the
  same or a better preference rank computes natively (:func:`prefer_native`): precision comes
  after the sharing preference and before cost;
- when the chosen option still lacks it, the plan says what happens instead
  (PRECISION_NOT_NATIVE), e.g. FP8 weights served by weight-only kernels on an A100.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gpukit.advisor.reasons import Reason, ReasonCode, Rejection, reason, rejection
from gpukit.hardware import get_gpu
from gpukit.hardware.precision import precision_gap

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.option import Option
    from gpukit.workload import Workload

__all__ = [
    "compute_precision",
    "precision_facts",
    "precision_warning",
    "prefer_native",
    "rule_precision",
]

#: Weight formats gpukit's memory model serves with 16-bit activations and KV cache
#: (weight-only kernels: the weights are dequantised inside each matrix product), so the
#: Tensor Cores they need are fp16 ones (gpukit.memory.KV_BYTES says the same).
_WEIGHT_ONLY = {"int8": "fp16", "int4": "fp16", "awq": "fp16", "gptq": "fp16"}
#: Formats a training recipe must compute in natively: there is no weight-only way to train.
_TRAINING_NEEDS_NATIVE = frozenset({"fp8", "fp4"})


def compute_precision(workload: Workload) -> str | None:
    """The Tensor Core precision the workload's model computes in; None without a model."""
    return precision_facts(workload)[0]


def precision_facts(workload: Workload) -> tuple[str | None, str | None, bool]:
    """(precision computed in, precision as written, trained rather than served) of the model."""
    spec = workload.model
    if spec is None:
        return None, None, False
    return (
        _WEIGHT_ONLY.get(spec.precision, spec.precision),
        spec.precision,
        spec.mode != "inference",
    )


def _native(option: Option, precision: str) -> bool:
    return get_gpu(option.gpu_model).supports(precision)


def rule_precision(option: Option, ctx: Context) -> Rejection | None:
    """Reject FP8/FP4 training on a GPU model without FP8/FP4 Tensor Cores."""
    precision = ctx.precision
    if precision not in _TRAINING_NEEDS_NATIVE or not ctx.training_model:
        return None
    if _native(option, precision):
        return None
    return rejection(
        option.label,
        ReasonCode.PRECISION_NOT_SUPPORTED,
        f"{precision} training needs {precision} Tensor Cores, which {option.gpu_model} lacks "
        f"(FP8 recipes such as Transformer Engine's need compute capability 8.9 or newer); "
        f"train in bf16 (model.precision: bf16) or use a GPU with {precision}",
    )


def prefer_native(
    feasible: list[tuple[Option, int]], ctx: Context
) -> tuple[list[tuple[Option, int]], list[Rejection]]:
    """Drop options without native precision where one with it ranks the same or better."""
    precision = ctx.precision
    if precision is None:
        return feasible, []
    native = [rank for option, rank in feasible if _native(option, precision)]
    if not native:
        return feasible, []
    best_native = min(native)
    kept: list[tuple[Option, int]] = []
    dropped: list[Rejection] = []
    for option, rank in feasible:
        if rank >= best_native and not _native(option, precision):
            gap = precision_gap(get_gpu(option.gpu_model), precision)
            dropped.append(
                rejection(
                    option.label,
                    ReasonCode.PRECISION_NOT_NATIVE,
                    f"{gap}; an option that computes {precision} natively fits, so it is chosen",
                )
            )
        else:
            kept.append((option, rank))
    return kept, dropped


def precision_warning(choice: Option, ctx: Context) -> Reason | None:
    """PRECISION_NOT_NATIVE when the chosen GPU model lacks the workload's precision."""
    precision = ctx.precision
    if precision is None or _native(choice, precision):
        return None
    given = ctx.precision_given or precision
    asked = given if given == precision else f"{given} (computed in {precision})"
    return reason(
        ReasonCode.PRECISION_NOT_NATIVE,
        f"{asked} on {choice.gpu_model}: {precision_gap(get_gpu(choice.gpu_model), precision)}; "
        "no option in the fleet that suits this workload computes it natively",
    )
