"""The packer's inputs (MigDemand, GpuSlot) and outputs (PackingPlan and its parts)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from gpukit.hardware.mig import canonical_counts
from gpukit.hardware.migparted import DEFAULT_CONFIGMAP, MigPartedEntry, mig_parted_configmap
from gpukit.quantity import parse_quantity

__all__ = ["GpuAssignment", "GpuSlot", "MigDemand", "PackingPlan", "Unplaced"]


_FROZEN = ConfigDict(frozen=True, extra="forbid")


# ----------------------------------------------------------------------------- inputs


class MigDemand(BaseModel):
    """Instances wanted: a MIG profile, or the memory (and compute) a workload needs."""

    model_config = _FROZEN

    name: str | None = None
    count: int = Field(default=1, ge=1)
    profile: str | None = Field(default=None, description="e.g. 1g.10gb; names are per GPU model")
    memory: str | int | None = Field(default=None, description="e.g. 30Gi: smallest profile holding it")
    compute: int = Field(default=1, ge=1, description="compute slices needed with 'memory'")
    gpu: str | None = Field(default=None, description="only on this GPU model")

    @model_validator(mode="after")
    def _one_of(self) -> MigDemand:
        if (self.profile is None) == (self.memory is None):
            raise ValueError("give exactly one of 'profile' (e.g. 1g.10gb) or 'memory' (e.g. 20Gi)")
        if self.memory is not None:
            parse_quantity(self.memory)
        return self


class GpuSlot(BaseModel):
    """One GPU that may be partitioned: where it is, its model, and its current MIG layout.

    ``current`` None means MIG is off (or unknown); ``{}`` means MIG on with no instances.
    """

    model_config = _FROZEN

    node: str
    index: int = Field(ge=0)
    model: str
    current: dict[str, int] | None = None

    @field_validator("model")
    @classmethod
    def _known(cls, value: str) -> str:
        from gpukit.hardware.catalog import get_gpu

        return get_gpu(value).key

    @field_validator("current")
    @classmethod
    def _canonical_layout(cls, value: dict[str, int] | None, info: ValidationInfo) -> dict[str, int] | None:
        # Profile names as the catalog spells them ('1g.10gb.me' -> '1g.10gb+me').
        if value and "model" in info.data:
            return canonical_counts(info.data["model"], value)
        return value


# ----------------------------------------------------------------------------- outputs


class Unplaced(BaseModel):
    model_config = _FROZEN

    demand: str
    count: int
    reason: str


class GpuAssignment(BaseModel):
    """One GPU's outcome: its layout (None: MIG off), placement, what it hosts, if it changes."""

    model_config = _FROZEN

    node: str
    index: int
    model: str
    layout: dict[str, int] | None
    placement: str | None = None
    hosts: tuple[tuple[str, str, int], ...] = Field(
        default=(), description="(demand, profile, instances) placed on this GPU"
    )
    used: bool = False
    changed: bool = False


class PackingPlan(BaseModel):
    """Per-GPU layouts, node labels and mig-parted configs for a set of MIG demands."""

    model_config = _FROZEN

    gpus: tuple[GpuAssignment, ...]
    node_labels: dict[str, str]
    configs: dict[str, tuple[MigPartedEntry, ...]]
    gpus_used: int
    gpus_changed: int
    nodes_changed: tuple[str, ...]
    lower_bound: int = Field(
        description="no plan places this demand on fewer GPUs (fleet LP, ignoring GPU counts "
        "per model); counts all demand that some fleet model can hold, placed or not"
    )
    unplaced: tuple[Unplaced, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unplaced

    def configmap(self, *, name: str = DEFAULT_CONFIGMAP, namespace: str = "gpu-operator") -> dict[str, Any]:
        """The mig-parted ConfigMap for the MIG manager (see :func:`mig_parted_configmap`)."""
        return mig_parted_configmap(self.configs, name=name, namespace=namespace)

    def to_dict(self) -> dict[str, Any]:
        """A plain, deterministic summary for YAML/JSON output."""
        return {
            "gpus_used": self.gpus_used,
            "lower_bound": self.lower_bound,
            "gpus_changed": self.gpus_changed,
            "nodes_changed": list(self.nodes_changed),
            "unplaced": [u.model_dump() for u in self.unplaced],
            "node_labels": {n: {"nvidia.com/mig.config": c} for n, c in self.node_labels.items()},
            "gpus": [
                {
                    "node": g.node,
                    "index": g.index,
                    "model": g.model,
                    "layout": g.layout,
                    "placement": g.placement,
                    "used": g.used,
                    "changed": g.changed,
                    "hosts": [{"demand": d, "profile": p, "count": c} for d, p, c in g.hosts],
                }
                for g in self.gpus
            ],
            "notes": list(self.notes),
        }


