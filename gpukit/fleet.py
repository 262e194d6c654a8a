"""Fleet: what a cluster offers (node pools, GPU sharing set-up, schedulers, queues)."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gpukit._loading import load_documents, read_text, validate_model
from gpukit.errors import FleetError, GpukitError
from gpukit.hardware import GpuModel, MigProfile, get_gpu
from gpukit.quantity import check_memory_unit, parse_quantity
from gpukit.topology.model import Topology

__all__ = [
    "Fleet",
    "Installed",
    "MigConfig",
    "NodePool",
    "Queue",
    "Sharing",
    "Taint",
    "default_fleet",
    "load_fleet",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: The taint the GPU Operator and most managed clusters put on GPU nodes.
GPU_TAINT_KEY = "nvidia.com/gpu"


class Taint(BaseModel):
    model_config = _FROZEN

    key: str
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class MigConfig(BaseModel):
    """How a pool's GPUs are partitioned: the device plugin's strategy and each GPU's layout."""

    model_config = _FROZEN

    strategy: Literal["single", "mixed"] = "mixed"
    layout: dict[str, int] = Field(
        default_factory=dict, description="profile name -> instances on every GPU of the pool"
    )
    config_name: str | None = Field(
        default=None, description="the nvidia.com/mig.config label value that selects it"
    )


class Sharing(BaseModel):
    """The device plugin's sharing config on a pool: time-slicing or MPS replicas per GPU."""

    model_config = _FROZEN

    mode: Literal["time-slicing", "mps"]
    replicas: int = Field(ge=2, description="replicas advertised per GPU (device plugin: >= 2)")
    rename_by_default: bool = Field(
        default=False, description="advertise nvidia.com/gpu.shared instead of nvidia.com/gpu"
    )
    fail_requests_greater_than_one: bool = True
    config_name: str | None = Field(
        default=None, description="the nvidia.com/device-plugin.config label value"
    )


class NodePool(BaseModel):
    """Identical GPU nodes: one GPU model, one sharing set-up."""

    model_config = _FROZEN

    name: str
    gpu: str = Field(description="GPU model: a catalog key, alias or GFD product label")
    gpus_per_node: int = Field(ge=1)
    nodes: int = Field(ge=0)
    product: str | None = Field(
        default=None, description="nvidia.com/gpu.product as GFD writes it; default from catalog"
    )
    mig: MigConfig | None = None
    sharing: Sharing | None = None
    device_plugin: Literal["operator", "standalone"] = Field(
        default="operator",
        description="who serves the pool's GPUs: the GPU Operator's device plugin, or a "
        "standalone NVIDIA device plugin chart (the operator's plugin and GFD switched off "
        "on these nodes); needed for MPS beside mixed-strategy MIG pools",
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="node labels that select this pool"
    )
    taints: tuple[Taint, ...] = (Taint(key=GPU_TAINT_KEY),)
    price_per_hour: float | None = Field(default=None, ge=0, description="per GPU; overrides catalog")
    gpus_in_use: int = Field(
        default=0, ge=0, description="GPUs already allocated; free = total_gpus - gpus_in_use"
    )
    cpu_per_node: int | None = Field(default=None, ge=1)
    memory_per_node: str | None = None

    @field_validator("memory_per_node", mode="before")
    @classmethod
    def _memory_unit(cls, value: Any) -> Any:
        if value is not None:
            parse_quantity(value)
            check_memory_unit(value)
            return str(value)
        return value

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, value: str) -> str:
        try:
            return get_gpu(value).key
        except GpukitError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _consistent(self) -> NodePool:
        model = get_gpu(self.gpu)
        if self.gpus_in_use > self.total_gpus:
            raise ValueError(
                f"pool {self.name!r}: gpus_in_use {self.gpus_in_use} is more than the pool's "
                f"{self.total_gpus} GPUs ({self.nodes} nodes x {self.gpus_per_node})"
            )
        if self.mig is not None:
            if model.mig is None:
                raise ValueError(
                    f"pool {self.name!r}: {model.key} is not MIG-capable; remove 'mig' "
                    "or use a MIG-capable GPU (A100, A30, H100, H200, B200, ...)"
                )
            for profile in self.mig.layout:
                try:
                    model.profile(profile)
                except GpukitError as exc:
                    raise ValueError(f"pool {self.name!r}: mig.layout: {exc}") from None
            if self.mig.strategy == "single" and len(self.mig.layout) > 1:
                raise ValueError(
                    f"pool {self.name!r}: the single MIG strategy needs one profile type per "
                    f"node, got {sorted(self.mig.layout)}; use strategy 'mixed'"
                )
            if self.sharing is not None and self.sharing.mode == "mps":
                raise ValueError(
                    f"pool {self.name!r}: the device plugin does not support MPS on MIG "
                    "devices; remove 'sharing' or 'mig'"
                )
        return self

    # -- derived facts -----------------------------------------------------------------

    @property
    def model(self) -> GpuModel:
        return get_gpu(self.gpu)

    @property
    def total_gpus(self) -> int:
        return self.gpus_per_node * self.nodes

    @property
    def gpu_product(self) -> str:
        return self.product or self.model.product

    @property
    def free_gpus(self) -> int:
        return self.total_gpus - self.gpus_in_use

    @property
    def price(self) -> float:
        """Price per GPU-hour: the pool's override, the catalog's, or 1.0 when unknown."""
        if self.price_per_hour is not None:
            return self.price_per_hour
        return self.model.price_per_hour if self.model.price_per_hour is not None else 1.0

    @property
    def mig_profiles(self) -> list[tuple[MigProfile, int]]:
        """(profile, instances per GPU) of the pool's MIG layout, smallest first."""
        if self.mig is None:
            return []
        pairs = [(self.model.profile(name), count) for name, count in self.mig.layout.items()]
        return sorted(pairs, key=lambda pc: (pc[0].memory_slices, pc[0].compute_slices))

    @property
    def offers_whole_gpus(self) -> bool:
        return self.mig is None and self.sharing is None


class Queue(BaseModel):
    """A queue jobs can be submitted to: a Kueue LocalQueue, a Volcano Queue or a KAI Queue."""

    model_config = _FROZEN

    name: str
    scheduler: Literal["kueue", "volcano", "kai"]
    team: str | None = None
    namespace: str | None = Field(default=None, description="LocalQueue namespace (Kueue)")
    cluster_queue: str | None = Field(default=None, description="ClusterQueue behind it (Kueue)")


class Installed(BaseModel):
    """Schedulers and operators present in the cluster."""

    model_config = _FROZEN

    volcano: bool = False
    kueue: bool = False
    kai: bool = False
    gpu_operator: bool = True
    dcgm_exporter: bool = True
    kubeflow_trainer: bool = False
    training_operator: bool = False
    jobset: bool = False
    lws: bool = False
    dra: bool = False


class Fleet(BaseModel):
    """A cluster's GPU capacity and the machinery around it."""

    model_config = _FROZEN

    name: str = "fleet"
    description: str | None = None
    node_pools: tuple[NodePool, ...] = Field(min_length=1)
    installed: Installed = Installed()
    queues: tuple[Queue, ...] = ()
    calibration: str | None = Field(
        default=None,
        description="folder of <gpu>.yaml sharing calibrations written by 'gpukit calibrate "
        "import'; a relative path is read from the fleet file's folder",
    )
    topology: Topology | None = Field(
        default=None,
        description="network levels as node labels, broadest first, and each pool's nodes "
        "per domain (gpukit.topology)",
    )

    @model_validator(mode="after")
    def _unique_pools(self) -> Fleet:
        names = [p.name for p in self.node_pools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"node pool names must be unique; repeated: {', '.join(duplicates)}")
        for queue in self.queues:
            if queue.scheduler == "kueue" and not self.installed.kueue:
                raise ValueError(
                    f"queue {queue.name!r} is a Kueue queue but installed.kueue is false; "
                    "set installed.kueue: true or remove the queue"
                )
            if queue.scheduler == "kai" and not self.installed.kai:
                raise ValueError(
                    f"queue {queue.name!r} is a KAI queue but installed.kai is false; "
                    "set installed.kai: true or remove the queue"
                )
            if queue.scheduler == "volcano" and not self.installed.volcano:
                raise ValueError(
                    f"queue {queue.name!r} is a Volcano queue but installed.volcano is false; "
                    "set installed.volcano: true or remove the queue"
                )
        if self.topology is not None:
            for pool in self.topology.pools:
                if pool not in names:
                    from gpukit.errors import did_you_mean

                    raise ValueError(
                        f"topology.pools: no node pool {pool!r}{did_you_mean(pool, names)}; "
                        f"pools: {', '.join(names)}"
                    )
        return self

    def pool(self, name: str) -> NodePool:
        for pool in self.node_pools:
            if pool.name == name:
                return pool
        from gpukit.errors import did_you_mean

        names = [p.name for p in self.node_pools]
        raise FleetError(f"no node pool {name!r}{did_you_mean(name, names)}; pools: {', '.join(names)}")

    def queue_for(self, scheduler: str, team: str | None, queue: str | None) -> Queue | None:
        """The queue a workload names, or its team's queue, for the given scheduler."""
        candidates = [q for q in self.queues if q.scheduler == scheduler]
        if queue:
            return next((q for q in candidates if q.name == queue), None)
        if team:
            return next((q for q in candidates if q.team == team), None)
        return None

    @property
    def gpu_models(self) -> list[str]:
        return sorted({p.model.key for p in self.node_pools})


def load_fleet(source: str | Path) -> Fleet:
    """A Fleet from a YAML or JSON file ('-' is standard input)."""
    label, text = read_text(source)
    docs = [doc for _, doc in load_documents(label, text)]
    if len(docs) != 1:
        raise FleetError(f"{label}: a fleet file holds exactly one document, found {len(docs)}")
    fleet = validate_model(Fleet, docs[0], label, FleetError)
    if fleet.calibration and str(source) != "-" and not Path(fleet.calibration).is_absolute():
        folder = Path(source).resolve().parent / fleet.calibration
        fleet = fleet.model_copy(update={"calibration": str(folder)})
    return fleet


@functools.cache
def default_fleet() -> Fleet:
    """The embedded default fleet: a realistic mixed cluster (see README, 'The default fleet')."""
    text = resources.files("gpukit").joinpath("data/default-fleet.yaml").read_text()
    docs = [doc for _, doc in load_documents("default-fleet.yaml", text)]
    return validate_model(Fleet, docs[0], "default-fleet.yaml", FleetError)
