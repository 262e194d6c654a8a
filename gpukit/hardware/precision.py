"""What happens when a workload computes in a precision its GPU model has no Tensor Cores for.

The facts (which model has which native precision) are data in ``data/gpus.yaml``, read by
:meth:`gpukit.hardware.GpuModel.supports`. This module turns a gap into the sentence a
platform engineer would write: what runs instead, what it costs, which GPUs would run it
natively. The advisor calls :func:`precision_gap` for the options it weighs.

>>> from gpukit.hardware import get_gpu
>>> precision_gap(get_gpu("H100"), "fp8") is None
True
>>> print(precision_gap(get_gpu("T4"), "bf16"))
T4 has no native bf16 (its Tensor Cores run fp16, int8, int4): bf16 work runs as fp16 (training may overflow without loss scaling) or is emulated in fp32 at several times the cost; a GPU with bf16 runs it natively: Ampere or newer (A10, L4, A30-24GB, A10G, ...)
"""

from __future__ import annotations

from gpukit.hardware.catalog import WEIGHT_ONLY, GpuModel, catalog

__all__ = ["models_supporting", "precision_gap"]

# What runs instead of each precision when it is not native, and at what cost. Weight-only
# kernels (the weights stored small, dequantised to fp16/bf16 inside each matmul) are what
# serving engines use for low-bit weights on GPUs without the matching Tensor Cores.
_INSTEAD = {
    "tf32": "fp32 matmuls run on the CUDA cores at the plain fp32 rate, far below a TF32 "
    "Tensor Core",
    "bf16": "bf16 work runs as fp16 (training may overflow without loss scaling) or is "
    "emulated in fp32 at several times the cost",
    "fp16": "fp16 work runs on the CUDA cores without Tensor Cores, several times slower",
    "fp8": "FP8 weights are served by weight-only kernels (dequantised to fp16/bf16 in each "
    "matmul): memory stays at FP8 size, compute runs at the fp16/bf16 rate plus the "
    "dequantisation cost; FP8 training needs FP8 Tensor Cores",
    "int8": "int8 runs without int8 Tensor Cores (weight-only kernels, or DP4A on the CUDA "
    "cores), at the fp16 rate or below",
    "int4": "int4 weights are served by weight-only kernels (dequantised to fp16/bf16 or "
    "fp8 in each matmul): memory stays at int4 size, compute runs at the dequantised rate",
    "fp4": "FP4 weights are served by weight-only kernels (dequantised to a wider format in "
    "each matmul): memory stays at FP4 size, compute runs at the wider format's rate",
}

# The oldest family with each precision native, for the "runs it natively" hint.
_FIRST = {
    "tf32": "Ampere or newer",
    "bf16": "Ampere or newer",
    "fp16": "Volta or newer",
    "fp8": "Ada, Hopper or Blackwell",
    "int8": "Turing or newer",
    "int4": "Turing, Ampere or Ada",
    "fp4": "Blackwell",
}


def models_supporting(precision: str) -> list[GpuModel]:
    """Catalog models with ``precision`` native, in catalog order."""
    return [gpu for gpu in catalog() if gpu.supports(precision)]


def precision_gap(model: GpuModel, precision: str) -> str | None:
    """None when ``model`` computes in ``precision`` natively; else what happens instead.

    The sentence names the model's native precisions, what runs in their place and at what
    cost, and the GPUs that would run it natively. An unknown precision is an InputError.
    """
    if model.supports(precision):
        return None
    wanted = WEIGHT_ONLY.get(precision.strip().lower(), precision.strip().lower())
    native = ", ".join(model.precisions) or "none"
    priced = sorted(
        (g for g in models_supporting(wanted) if g.price_per_hour is not None),
        key=lambda g: (g.price_per_hour, g.key),
    )
    examples = ", ".join(g.key for g in priced[:4])
    return (
        f"{model.key} has no native {wanted} (its Tensor Cores run {native}): "
        f"{_INSTEAD[wanted]}; a GPU with {wanted} runs it natively: {_FIRST[wanted]} "
        f"({examples}, ...)"
    )
