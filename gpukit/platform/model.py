"""The platform plan: what a fleet must have in place to run a set of workloads, before rendering."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gpukit.advisor import Plan, plan
from gpukit.errors import FleetError
from gpukit.fleet import Fleet, NodePool
from gpukit.manifests.scheduling import scheduling
from gpukit.quantity import GIB, parse_quantity
from gpukit.vocab import DEVICE_PLUGIN_CONFIG_LABEL, GPU, GPU_SHARED, KAI_DEFAULT_QUEUE
from gpukit.workload import Workload

__all__ = [
    "DevicePluginConfig",
    "NodeClassRef",
    "PlatformOptions",
    "PlatformPlan",
    "StandalonePlugin",
    "platform_plan",
    "pool_resources",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: Requests the renderers give a pod that names none (pods.resources): per whole GPU, and
#: per share or slice. Quotas of pools that do not declare their CPU and memory use them.
CPU_PER_GPU, MEMORY_PER_GPU = 4, 16 * GIB
CPU_PER_SHARE, MEMORY_PER_SHARE = 2, 8 * GIB


class NodeClassRef(BaseModel):
    """The Karpenter node class a GPU NodePool launches from (cloud-specific)."""

    model_config = _FROZEN

    group: str = "karpenter.k8s.aws"
    kind: str = "EC2NodeClass"
    name: str = "default"


class PlatformOptions(BaseModel):
    """Names and choices of the platform bundle that a fleet file does not say."""

    model_config = _FROZEN

    operator_namespace: str = "gpu-operator"
    device_plugin_configmap: str = "gpukit-device-plugin-config"
    mig_configmap: str = "gpukit-mig-parted-config"
    cluster_queue: str = Field(
        default="gpukit-gpus",
        description="ClusterQueue for Kueue queues whose fleet entry names none",
    )
    cohort: str = "gpukit"
    node_class: NodeClassRef = NodeClassRef()
    capacity_type: Literal["on-demand", "spot"] = "on-demand"


@dataclass(frozen=True)
class DevicePluginConfig:
    """One named device-plugin config (a key of the ConfigMap) and the pools that use it."""

    name: str
    mode: str
    replicas: int
    rename_by_default: bool
    fail_requests_greater_than_one: bool
    resources: tuple[str, ...]
    pools: tuple[str, ...]

    def spec(self) -> dict[str, Any]:
        """The config file (``version: v1``) as the device plugin reads it."""
        key = "timeSlicing" if self.mode == "time-slicing" else "mps"
        return {
            "version": "v1",
            "sharing": {
                key: {
                    "renameByDefault": self.rename_by_default,
                    "failRequestsGreaterThanOne": self.fail_requests_greater_than_one,
                    "resources": [
                        {"name": name, "replicas": self.replicas} for name in self.resources
                    ],
                }
            },
        }


#: The label a standalone device plugin's config-manager reads (the same one the operator's does).
CONFIG_LABEL = DEVICE_PLUGIN_CONFIG_LABEL


@dataclass(frozen=True)
class StandalonePlugin:
    """A pool served by its own NVIDIA device plugin chart instead of the GPU Operator's.

    ``config`` is None for a pool without sharing (the plugin then only gets its MIG
    strategy); ``selector`` is the node labels that confine the chart's DaemonSets to the
    pool: the pool's own labels, or else the config label the labeling script sets (its
    value is unique to this pool).
    """

    pool: str
    config_name: str
    config: DevicePluginConfig | None
    mig_strategy: str
    selector: dict[str, str]

    def config_file(self) -> dict[str, Any]:
        """The config file (``version: v1``): the strategy lives in the file, since the chart
        sets no MIG_STRATEGY env unless told to, and the file is shared with GFD."""
        out: dict[str, Any] = {"version": "v1", "flags": {"migStrategy": self.mig_strategy}}
        if self.config is not None:
            out["sharing"] = self.config.spec()["sharing"]
        return out


@dataclass(frozen=True)
class LocalQueueSpec:
    name: str
    namespace: str
    cluster_queue: str


@dataclass(frozen=True)
class PlatformPlan:
    """Everything the platform renderers read, decided once."""

    fleet: Fleet
    options: PlatformOptions
    plans: tuple[Plan, ...]
    device_plugin: tuple[DevicePluginConfig, ...]  # the operator's plugin reads these
    mig_configs: dict[str, str]  # pool -> nvidia.com/mig.config value
    local_queues: tuple[LocalQueueSpec, ...]
    cluster_queues: tuple[str, ...]
    volcano_queues: tuple[str, ...]
    kai_queues: tuple[str, ...]
    namespaces: tuple[str, ...]
    estimated: tuple[str, ...] = field(default=())  # pools whose CPU/memory quota is estimated
    #: (pool, GPU resource) -> units the planned workloads ask for at once, all pods running
    demand: dict[tuple[str, str], int] = field(default_factory=dict)
    #: the same, counting only the workloads Kueue admits (those its quotas govern)
    kueue_demand: dict[tuple[str, str], int] = field(default_factory=dict)
    #: pools served by a standalone device plugin chart, in fleet order
    standalone: tuple[StandalonePlugin, ...] = ()

    @property
    def kueue_ignores_gpus(self) -> bool:
        """Kueue quotas are rendered, but the fleet turned Kueue's DRA integration off, so its
        quotas do not count ResourceClaims (on by default since Kueue 0.18: gpukit.dra.kueue)."""
        return (
            self.dra
            and self.fleet.installed.kueue
            and bool(self.cluster_queues)
            and not self.fleet.dra.kueue_gate("KueueDRAIntegration")
        )

    @property
    def warnings(self) -> tuple[str, ...]:
        """Pools whose GPUs the planned workloads would overbook if they all ran at once, and
        quotas that cannot be enforced."""
        out = []
        if self.kueue_ignores_gpus:
            out.append(
                "GPU quota is not enforced by Kueue on this DRA fleet: pods get GPUs through "
                "ResourceClaims, which ClusterQueue quotas do not count; the ClusterQueues "
                "limit cpu and memory only"
            )
        standalone = [p.name for p in self.fleet.node_pools if p.device_plugin == "standalone"]
        if self.dra and standalone:
            out.append(
                f"pool(s) {', '.join(standalone)}: device_plugin standalone is ignored on this "
                "DRA fleet: the NVIDIA DRA driver allocates every GPU and no device plugin runs"
            )
        from gpukit.integrations import integrations

        for integration in integrations():
            if integration.platform_warnings is not None:
                out.extend(integration.platform_warnings(self))
        for (pool_name, resource), wanted in sorted(self.demand.items()):
            pool = self.fleet.pool(pool_name)
            capacity = _gpu_resources(pool).get(resource, 0)
            if wanted > capacity:
                out.append(
                    f"pool {pool_name}: the workloads ask for {wanted} {resource} at once but "
                    f"the pool has {capacity}; some will queue (Kueue) or stay pending"
                )
        return tuple(out)

    @property
    def dra(self) -> bool:
        return self.fleet.installed.dra

    def device_plugin_config(self, pool: str) -> str | None:
        """The nvidia.com/device-plugin.config value of the pool's nodes, if they need one."""
        for config in self.device_plugin:
            if pool in config.pools:
                return config.name
        plugin = self.standalone_plugin(pool)
        return plugin.config_name if plugin is not None else None

    def standalone_plugin(self, pool: str) -> StandalonePlugin | None:
        return next((s for s in self.standalone if s.pool == pool), None)

    @property
    def mig_strategy(self) -> str:
        """The GPU Operator's one, cluster-wide MIG strategy."""
        strategies = {p.mig.strategy for p in self.fleet.node_pools if p.mig is not None}
        return strategies.pop() if strategies else "none"


def _gpu_resources(pool: NodePool) -> dict[str, int]:
    """Extended resources the pool's nodes advertise in all, as the device plugin counts them."""
    replicas = pool.sharing.replicas if pool.sharing else 1
    if pool.mig is not None:
        out: dict[str, int] = {}
        for profile, count in pool.mig_profiles:
            name = profile.resource_name if pool.mig.strategy == "mixed" else GPU
            if pool.sharing is not None and pool.sharing.rename_by_default:
                name += ".shared"  # time-sliced MIG devices are renamed like whole GPUs
            out[name] = out.get(name, 0) + count * pool.total_gpus * replicas
        return out
    if pool.sharing is not None and pool.sharing.rename_by_default:
        return {GPU_SHARED: pool.total_gpus * replicas}
    return {GPU: pool.total_gpus * replicas}


def pool_resources(pool: NodePool) -> tuple[dict[str, int], bool]:
    """(cpu cores, memory bytes and GPU resources of the whole pool, whether CPU/memory are
    estimated from the per-GPU defaults because the fleet does not declare them)."""
    gpu = _gpu_resources(pool)
    units = sum(gpu.values())
    whole = pool.offers_whole_gpus
    estimated = pool.cpu_per_node is None or pool.memory_per_node is None
    cpu = (
        pool.cpu_per_node * pool.nodes
        if pool.cpu_per_node is not None
        else units * (CPU_PER_GPU if whole else CPU_PER_SHARE)
    )
    memory = (
        int(parse_quantity(pool.memory_per_node)) * pool.nodes
        if pool.memory_per_node is not None
        else units * (MEMORY_PER_GPU if whole else MEMORY_PER_SHARE)
    )
    return {"cpu": cpu, "memory": memory, **dict(sorted(gpu.items()))}, estimated


def _gpu_resource_names(pool: NodePool) -> tuple[str, ...]:
    """Names the sharing config lists: the resource every GPU (or MIG device) is advertised as."""
    if pool.mig is not None and pool.mig.strategy == "mixed":
        return tuple(p.resource_name for p, _ in pool.mig_profiles)
    return (GPU,)


def _config_name(pool: NodePool) -> str:
    share = pool.sharing
    if share is None:
        return pool.name  # only standalone pools without sharing get a config of their own
    return share.config_name or f"{share.mode}-{share.replicas}" + (
        "-shared" if share.rename_by_default else ""
    )


def _pool_config(pool: NodePool) -> DevicePluginConfig | None:
    share = pool.sharing
    if share is None:
        return None
    return DevicePluginConfig(
        name=_config_name(pool),
        mode=share.mode,
        replicas=share.replicas,
        rename_by_default=share.rename_by_default,
        fail_requests_greater_than_one=share.fail_requests_greater_than_one,
        resources=_gpu_resource_names(pool),
        pools=(pool.name,),
    )


def _device_plugin_configs(fleet: Fleet) -> tuple[DevicePluginConfig, ...]:
    """The named configs of the GPU Operator's device plugin (standalone pools not among them:
    the operator's plugin does not run on their nodes)."""
    if fleet.installed.dra:
        return ()  # DRA claims carry their own sharing config; the device plugin is off
    configs: dict[str, DevicePluginConfig] = {}
    for pool in fleet.node_pools:
        share = pool.sharing
        if share is None or pool.device_plugin == "standalone":
            continue
        name = _config_name(pool)
        config = DevicePluginConfig(
            name=name,
            mode=share.mode,
            replicas=share.replicas,
            rename_by_default=share.rename_by_default,
            fail_requests_greater_than_one=share.fail_requests_greater_than_one,
            resources=_gpu_resource_names(pool),
            pools=(pool.name,),
        )
        known = configs.get(name)
        if known is None:
            configs[name] = config
        elif known.spec() != config.spec():
            raise FleetError(
                f"pools {known.pools[0]!r} and {pool.name!r} both name device-plugin config "
                f"{name!r} but share GPUs differently; give one of them another sharing.config_name"
            )
        else:
            configs[name] = DevicePluginConfig(
                **{**known.__dict__, "pools": (*known.pools, pool.name)}
            )
    return tuple(configs[n] for n in sorted(configs))


def _standalone_plugins(fleet: Fleet) -> tuple[StandalonePlugin, ...]:
    if fleet.installed.dra:
        return ()  # no device plugin at all: the DRA driver serves every pool (warned)
    pools = [p for p in fleet.node_pools if p.device_plugin == "standalone"]
    out = []
    for pool in pools:
        name = _config_name(pool)
        # The config label confines the standalone DaemonSets and picks the operator's config
        # elsewhere: a name shared with another pool would put two plugins on its nodes.
        others = [
            p.name
            for p in fleet.node_pools
            if p is not pool
            and (p.sharing is not None or p.device_plugin == "standalone")
            and _config_name(p) == name
        ]
        if others:
            raise FleetError(
                f"pool {pool.name!r} runs a standalone device plugin, but its device-plugin "
                f"config name {name!r} is also used by pool(s) {', '.join(others)}; give "
                f"{pool.name!r} a sharing.config_name of its own"
            )
        selector = dict(sorted(pool.labels.items())) or {CONFIG_LABEL: name}
        strategy = pool.mig.strategy if pool.mig is not None else "none"
        out.append(StandalonePlugin(pool.name, name, _pool_config(pool), strategy, selector))
    return tuple(out)


def _check_mps_with_mixed_mig(fleet: Fleet, strategies: list[str]) -> None:
    """The GPU Operator exports ``mig.strategy`` as MIG_STRATEGY to every device plugin, and
    the environment wins over a per-node config's ``flags.migStrategy``; the plugin refuses to
    start with MPS under ``mixed`` ("using --mig-strategy=mixed is not supported with MPS").
    ClusterPolicy has no per-node MIG strategy, so such a fleet cannot be configured."""
    if fleet.installed.dra or strategies != ["mixed"]:
        return  # DRA turns the device plugin off; single and none run MPS
    mps = [
        p.name
        for p in fleet.node_pools
        if p.sharing is not None and p.sharing.mode == "mps" and p.device_plugin == "operator"
    ]
    if not mps:
        return  # standalone MPS pools get a plugin of their own with migStrategy none
    mig = [p.name for p in fleet.node_pools if p.mig is not None]
    raise FleetError(
        f"MPS pool(s) {', '.join(mps)} cannot run beside mixed-strategy MIG pool(s) "
        f"{', '.join(mig)} under the GPU Operator's device plugin: the operator sets "
        "MIG_STRATEGY=mixed on every node's plugin, which then refuses to start with MPS; "
        "set `device_plugin: standalone` on the MPS pool(s) (gpukit then renders a separate "
        "device plugin for them), or share them by time-slicing, or give every MIG pool "
        "strategy 'single' with one profile per layout (e.g. {1g.10gb: 7})"
    )


def _mig_configs(fleet: Fleet) -> dict[str, str]:
    from gpukit.platform.mig import mig_config_names

    return mig_config_names(fleet)


def platform_plan(
    fleet: Fleet, workloads: Iterable[Workload], options: PlatformOptions | None = None
) -> PlatformPlan:
    """Plan every workload on ``fleet`` and collect what the cluster needs for all of them.

    Raises NoFeasiblePlan for a workload the fleet cannot run, FleetError for a fleet the
    GPU Operator cannot be configured for (one MIG strategy per cluster).
    """
    options = options or PlatformOptions()
    strategies = sorted({p.mig.strategy for p in fleet.node_pools if p.mig is not None})
    if len(strategies) > 1:
        pools = ", ".join(f"{p.name}={p.mig.strategy}" for p in fleet.node_pools if p.mig)
        raise FleetError(
            f"the GPU Operator sets one MIG strategy for the whole cluster, but pools use "
            f"{' and '.join(strategies)} ({pools}); use 'mixed' for every MIG pool"
        )
    _check_mps_with_mixed_mig(fleet, strategies)

    device_plugin = _device_plugin_configs(fleet)
    standalone = _standalone_plugins(fleet)
    mig_configs = _mig_configs(fleet)  # fleet errors first: they are the user's to fix
    if fleet.installed.dra and fleet.dra.gate("DynamicMIG"):
        mig_configs = {}  # the DRA driver makes MIG devices per claim: no layout set ahead
    plans = tuple(plan(w, fleet) for w in workloads)
    installed = fleet.installed
    local: dict[tuple[str, str], LocalQueueSpec] = {}
    if installed.kueue:
        for queue in fleet.queues:
            if queue.scheduler == "kueue":
                namespace = queue.namespace or queue.team or "default"
                local[(namespace, queue.name)] = LocalQueueSpec(
                    queue.name, namespace, queue.cluster_queue or options.cluster_queue
                )
        for p in plans:
            if p.scheduler in ("kai", "volcano"):
                continue  # queued by their own scheduler, not through a LocalQueue
            w = p.workload
            name = p.queue if p.scheduler == "kueue" else (w.queue or w.team)
            if name and (p.namespace, name) not in local:
                # A team with no queue yet gets one, so its next plan can go through Kueue.
                local[(p.namespace, name)] = LocalQueueSpec(
                    name, p.namespace, options.cluster_queue
                )
    local_queues = tuple(local[k] for k in sorted(local))

    volcano: set[str] = set()
    if installed.volcano:
        volcano.update(q.name for q in fleet.queues if q.scheduler == "volcano")
        volcano.update(p.queue for p in plans if p.scheduler == "volcano" and p.queue)
        volcano.discard("default")  # Volcano creates its default queue itself
    kai: set[str] = set()
    if installed.kai:
        kai.update(q for p in plans if (q := scheduling(p).kai_queue))
        kai.discard(KAI_DEFAULT_QUEUE)  # KAI's own (its install or quick start creates it)

    namespaces = {options.operator_namespace, *(q.namespace for q in local_queues)}
    namespaces.update(p.namespace for p in plans)
    namespaces.discard("default")
    estimated = tuple(p.name for p in fleet.node_pools if pool_resources(p)[1])
    demand: dict[tuple[str, str], int] = {}
    kueue_demand: dict[tuple[str, str], int] = {}
    for p in plans:
        key = (p.choice.pool, p.choice.resource_name)
        demand[key] = demand.get(key, 0) + p.choice.gpus * p.pods
        if p.scheduler == "kueue":
            kueue_demand[key] = kueue_demand.get(key, 0) + p.choice.gpus * p.pods
    return PlatformPlan(
        fleet=fleet,
        options=options,
        plans=plans,
        device_plugin=device_plugin,
        mig_configs=mig_configs,
        local_queues=local_queues,
        cluster_queues=tuple(sorted({q.cluster_queue for q in local_queues})),
        volcano_queues=tuple(sorted(volcano)),
        kai_queues=tuple(sorted(kai)),
        namespaces=tuple(sorted(namespaces)),
        estimated=estimated,
        demand=dict(sorted(demand.items())),
        kueue_demand=dict(sorted(kueue_demand.items())),
        standalone=standalone,
    )


def split(total: int, parts: int, index: int) -> int:
    """The index-th of ``parts`` near-equal integer shares of ``total`` (the first ones get the
    remainder), so the shares always add up to the total."""
    base, extra = divmod(total, parts)
    return base + (1 if index < extra else 0)


def env_name(pool: str) -> str:
    """A shell variable name for a pool: GPUKIT_NODES_<POOL>."""
    return "GPUKIT_NODES_" + re.sub(r"[^A-Za-z0-9]", "_", pool).upper()
