"""Fleet: what a cluster offers (node pools, GPU sharing set-up, schedulers, queues)."""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gpukit import vocab
from gpukit._loading import load_documents, read_text, validate_model
from gpukit.dra.settings import DraSettings
from gpukit.errors import FleetError, GpukitError
from gpukit.hardware import GpuModel, MigProfile, get_gpu
from gpukit.quantity import check_memory_unit, parse_quantity
from gpukit.topology.model import Topology

__all__ = [
    "VERSIONED_COMPONENTS",
    "Fleet",
    "Installed",
    "MigConfig",
    "NodePool",
    "Queue",
    "Sharing",
    "Taint",
    "default_fleet",
    "load_fleet",
    "parse_version",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: The taint the GPU Operator and most managed clusters put on GPU nodes.
GPU_TAINT_KEY = vocab.GPU_TAINT


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
    price_per_hour: float | None = Field(
        default=None, ge=0, description="per GPU; overrides catalog"
    )
    gpus_in_use: int = Field(
        default=0, ge=0, description="GPUs already allocated; free = total_gpus - gpus_in_use"
    )
    cpu_per_node: int | None = Field(default=None, ge=1)
    memory_per_node: str | None = None
    kai_fractions: int | None = Field(
        default=None,
        ge=2,
        description="KAI scheduler GPU sharing on this pool: pods ask for 1/N of a GPU with "
        "KAI's gpu-fraction annotation (KAI installed with global.gpuSharing=true); the "
        "device plugin keeps advertising whole nvidia.com/gpu",
    )

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
        if self.kai_fractions is not None and (self.mig is not None or self.sharing is not None):
            raise ValueError(
                f"pool {self.name!r}: kai_fractions shares whole GPUs through the KAI "
                "scheduler, so the pool's GPUs must not be MIG-partitioned or shared by the "
                "device plugin; remove 'mig'/'sharing' or 'kai_fractions'"
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
    karpenter: bool = Field(
        default=False, description="Karpenter provisions the GPU nodes (scale-up on pending pods)"
    )
    kserve: bool = False


#: Components a fleet may give a version for (``versions:``), as gpukit renders for them.
VERSIONED_COMPONENTS = (
    "kueue",
    "trainer",
    "volcano",
    "kai",
    "karpenter",
    "lws",
    "jobset",
    "kserve",
)


def parse_version(text: str) -> tuple[int, ...]:
    """``"0.15"``, ``"v0.15.2"`` -> (0, 15, 2); ValueError for anything else."""
    match = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?", text.strip())
    if match is None:
        raise ValueError(f"version {text!r} is not of the form 0.15 or v0.15.2")
    return tuple(int(g) for g in match.groups() if g is not None)


class Fleet(BaseModel):
    """A cluster's GPU capacity and the machinery around it."""

    model_config = _FROZEN

    name: str = "fleet"
    description: str | None = None
    node_pools: tuple[NodePool, ...] = Field(min_length=1)
    installed: Installed = Installed()
    dra: DraSettings = Field(
        default=DraSettings(),
        description="the NVIDIA DRA driver's version and gates (read when installed.dra)",
    )
    queues: tuple[Queue, ...] = ()
    versions: dict[str, str] = Field(
        default_factory=dict,
        description="component -> the version the cluster runs (e.g. kueue: 0.14); gpukit "
        "renders for it, else for its newest supported API",
    )
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

    @field_validator("versions")
    @classmethod
    def _known_versions(cls, value: dict[str, str]) -> dict[str, str]:
        for component, version in value.items():
            if component not in VERSIONED_COMPONENTS:
                raise ValueError(
                    f"versions: no component {component!r}; known: {', '.join(VERSIONED_COMPONENTS)}"
                )
            try:
                parse_version(str(version))
            except ValueError as exc:
                raise ValueError(f"versions.{component}: {exc}") from None
        return {k: str(v) for k, v in value.items()}

    def version(self, component: str) -> tuple[int, ...] | None:
        """The version of ``component`` the fleet says it runs, or None (not said)."""
        text = self.versions.get(component)
        return parse_version(text) if text is not None else None

    @model_validator(mode="after")
    def _unique_pools(self) -> Fleet:
        names = [p.name for p in self.node_pools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"node pool names must be unique; repeated: {', '.join(duplicates)}")
        kai_pools = [p.name for p in self.node_pools if p.kai_fractions is not None]
        if kai_pools and not self.installed.kai:
            raise ValueError(
                f"pool(s) {', '.join(kai_pools)} set kai_fractions but installed.kai is false; "
                "set installed.kai: true or remove kai_fractions"
            )
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
        raise FleetError(
            f"no node pool {name!r}{did_you_mean(name, names)}; pools: {', '.join(names)}"
        )

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
