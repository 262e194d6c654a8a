"""OptionPrediction: the sharing model's figures for one planned option, as a Plan carries them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["OptionPrediction"]


class OptionPrediction(BaseModel):
    """Predicted throughput and latency of one option (gpukit.sharing), and where they come from.

    Throughputs are relative to one replica alone on a dedicated GPU of the pool's model;
    inflations are latency under sharing over latency alone (closed loop, the worst case).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    option: str = Field(description="the option's label, as in alternatives and rejections")
    pool: str
    mode: str = Field(description="the model's mode: dedicated, time-slicing, mps-limits, mig")
    replicas: int = Field(description="replicas per GPU (MIG: per slice) the figures are for")
    pool_replicas: int = Field(description="shares the pool advertises per GPU (1: not shared)")
    aggregate_throughput: float
    per_replica_throughput: float
    p50_inflation: float
    p99_inflation: float
    cpu_cores_per_gpu: float
    gpu_memory_overhead_mib: float
    summary: str
    source: str
    assumptions: tuple[str, ...] = ()
    replicas_for_target: int | None = Field(
        default=None,
        description="most replicas per GPU that meet the latency target (or give "
        "the most throughput per GPU when no target is given)",
    )
    replicas_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
