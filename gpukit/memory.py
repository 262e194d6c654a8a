"""GPU memory need of a workload: the explicit figure, or an estimate from its model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from gpukit.quantity import GIB, format_gib, parse_quantity
from gpukit.workload import ModelSpec, Workload

__all__ = ["BYTES_PER_PARAM", "MemoryNeed", "estimate_model_memory", "memory_need"]

#: Bytes that hold one weight at each precision.
BYTES_PER_PARAM = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}

#: Full training with Adam in mixed precision: bf16 weights (2) and gradients (2), fp32 master
#: weights (4) and two Adam moments (4 + 4) = 16 bytes per parameter, before activations.
#: This is the figure of the ZeRO paper (Rajbhandari et al., 2020, section 3.1).
ADAM_MIXED_BYTES_PER_PARAM = 16.0
#: Activations, CUDA context and allocator slack on top of the weights when serving
#: (the common rule of thumb of ~20 % over the weights; KV cache beyond it when given).
INFERENCE_OVERHEAD = 0.20
#: Training activations with checkpointing off, as a share of the optimizer state (rough).
TRAINING_ACTIVATION_OVERHEAD = 0.25
#: Share of parameters LoRA adapters train (rank 8-64 on attention and MLP: ~0.5-2 %).
LORA_TRAINABLE_SHARE = 0.02


class MemoryNeed(BaseModel):
    """How much GPU memory one worker or replica needs, and how gpukit knows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bytes: int | None
    source: str  # "given" | "estimated" | "unknown"
    formula: str = ""

    @property
    def known(self) -> bool:
        return self.bytes is not None

    def describe(self) -> str:
        if self.bytes is None:
            return "no GPU memory need given"
        how = "given" if self.source == "given" else f"estimated: {self.formula}"
        return f"{format_gib(self.bytes)} ({how})"


def estimate_model_memory(spec: ModelSpec) -> MemoryNeed:
    """Estimate the GPU memory one copy of a model needs, with the formula shown."""
    params = spec.params
    weight_bytes = BYTES_PER_PARAM[spec.precision]
    billions = params / 1e9
    if spec.mode == "inference":
        weights = params * weight_bytes
        kv = int(parse_quantity(spec.kv_cache)) if spec.kv_cache else 0
        total = weights * (1 + INFERENCE_OVERHEAD) + kv
        formula = (
            f"{billions:g}B params x {weight_bytes:g} B ({spec.precision}) x "
            f"{1 + INFERENCE_OVERHEAD:g} overhead" + (f" + {format_gib(kv)} KV cache" if kv else "")
        )
    elif spec.mode == "training":
        total = params * ADAM_MIXED_BYTES_PER_PARAM * (1 + TRAINING_ACTIVATION_OVERHEAD)
        formula = (
            f"{billions:g}B params x {ADAM_MIXED_BYTES_PER_PARAM:g} B (mixed-precision Adam) x "
            f"{1 + TRAINING_ACTIVATION_OVERHEAD:g} activations"
        )
    else:
        # LoRA keeps the base frozen at its precision (QLoRA: 4-bit) and trains a few percent.
        base_bytes = BYTES_PER_PARAM["int4"] if spec.mode == "qlora" else weight_bytes
        adapters = params * LORA_TRAINABLE_SHARE * ADAM_MIXED_BYTES_PER_PARAM
        total = (params * base_bytes + adapters) * (1 + TRAINING_ACTIVATION_OVERHEAD)
        formula = (
            f"({billions:g}B x {base_bytes:g} B frozen base + {LORA_TRAINABLE_SHARE:.0%} trainable "
            f"x {ADAM_MIXED_BYTES_PER_PARAM:g} B) x {1 + TRAINING_ACTIVATION_OVERHEAD:g} activations"
        )
    return MemoryNeed(bytes=int(total), source="estimated", formula=formula)


def memory_need(workload: Workload) -> MemoryNeed:
    """The workload's memory need per worker: explicit ``gpu_memory`` always wins."""
    if workload.gpu_memory_bytes is not None:
        return MemoryNeed(bytes=workload.gpu_memory_bytes, source="given")
    if workload.model is not None:
        return estimate_model_memory(workload.model)
    return MemoryNeed(bytes=None, source="unknown")


def gib(n_bytes: int) -> float:
    return n_bytes / GIB
