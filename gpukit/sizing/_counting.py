"""Counting GPUs and nodes for one node pool: MIG instances, time-slicing / MPS shares, whole GPUs.

What sizing adds up per pool (:class:`_Tally`) becomes a :class:`~gpukit.sizing.PoolSizing`
here: MIG instances packed by gpukit.hardware.packing, shares by replica count and memory,
dedicated pods onto whole nodes (gang jobs on nodes of their own).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from gpukit.fleet import Fleet, NodePool
from gpukit.hardware import GpuModel, get_gpu
from gpukit.sizing._report import PoolSizing

#: Nodes given to every pool when sizing ignores the fleet's current size.
_UNBOUNDED_NODES = 1_000_000


def mig_packing(model: GpuModel | str, counts: Mapping[str, int]) -> tuple[int, int]:
    """(GPUs, lower bound) for ``counts`` MIG instances (profile -> how many) on ``model``.

    The fleet packer (gpukit.hardware.packing.pack) on as many free GPUs as first-fit
    decreasing (gpukit.hardware.packing.first_fit_decreasing) needs; it never uses more.
    The lower bound is the packer's: no packing of these instances uses fewer GPUs.
    """
    from gpukit.hardware.packing import GpuSlot, MigDemand, first_fit_decreasing, pack

    model = model if isinstance(model, GpuModel) else get_gpu(model)
    counts = {name: n for name, n in counts.items() if n}
    if not counts:
        return 0, 0
    demands = [
        MigDemand(name=name, profile=name, count=n, gpu=model.key)
        for name, n in sorted(counts.items())
    ]
    one = [GpuSlot(node="n0", index=0, model=model.key)]
    upper, left = first_fit_decreasing(demands, one, limits=False)
    if left:  # pragma: no cover - every profile of the model fits an empty GPU
        raise ValueError(f"{left} MIG instances fit no {model.key}")
    slots = [GpuSlot(node=f"n{i // 8}", index=i % 8, model=model.key) for i in range(upper)]
    packed = pack(demands, slots)
    used = upper if packed.unplaced else min(upper, packed.gpus_used)
    return used, min(used, packed.lower_bound)


def mig_gpus_needed(model: GpuModel | str, counts: Mapping[str, int]) -> int:
    """GPUs of ``model`` that hold ``counts`` MIG instances (profile -> how many).

    Every GPU counted has a layout with a valid placement; see :func:`mig_packing`.
    """
    return mig_packing(model, counts)[0]


def _unbounded(fleet: Fleet) -> Fleet:
    pools = tuple(pool.model_copy(update={"nodes": _UNBOUNDED_NODES}) for pool in fleet.node_pools)
    return fleet.model_copy(update={"node_pools": pools})


def _job_nodes(workers: int, gpus: int, per_node: int) -> int:
    """Whole nodes one gang job of ``workers`` pods x ``gpus`` GPUs takes, kept to itself."""
    if gpus >= per_node:
        return workers * -(-gpus // per_node)
    return -(-workers // (per_node // gpus))


def _pod_nodes(pods_by_gpus: Mapping[int, int], per_node: int) -> int:
    """Nodes that hold single-node pods of several GPU counts (GPU count -> pods).

    Counts that divide the node's GPUs pack perfectly (sizes dividing one another): the
    total over the node size, rounded up, which no packing beats. Other counts go
    ``per_node // gpus`` to a node of their own (an upper bound; plans ask for powers of two).
    """
    fitting = sum(g * n for g, n in pods_by_gpus.items() if per_node % g == 0)
    nodes = -(-fitting // per_node)
    for g, n in pods_by_gpus.items():
        if per_node % g:
            nodes += -(-n // (per_node // g)) if g < per_node else n * -(-g // per_node)
    return nodes


def _share_gpus(pods: int, memory: int, gpu_memory: int, replicas: int) -> int:
    """GPUs (or MIG slices) for ``pods`` shares: by replica count and by memory.

    Plans give each pod at most a GPU's memory over its replicas (check_plan verifies it),
    so any ``replicas`` pods fit one GPU's memory and this count is reached.
    """
    if not pods:
        return 0
    return max(-(-pods // replicas), -(-memory // gpu_memory) if gpu_memory else 0)


@dataclass
class _Tally:
    """What one pool's plans add up to, before packing."""

    pods: int = 0
    workloads: int = 0
    single: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # GPUs/pod -> pods
    gang_gpus: int = 0
    gang_nodes: int = 0
    mig: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # profile -> instances
    # time-sliced MIG slices: profile -> [pods, memory with headroom]
    mig_shares: dict[str, list[int]] = field(default_factory=dict)
    shares: list[int] = field(default_factory=lambda: [0, 0])  # [pods, memory with headroom]
    naive_single: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    naive_gang_gpus: int = 0
    naive_gang_nodes: int = 0
    # (GPU-equivalents, workload, sharing, naive GPUs) per workload
    drivers: list[tuple[float, str, str, int]] = field(default_factory=list)


def _pool_sizing(pool: NodePool, t: _Tally) -> PoolSizing:
    per_node = pool.gpus_per_node
    replicas = pool.sharing.replicas if pool.sharing else 1
    mode = pool.sharing.mode if pool.sharing else "mig"
    by_sharing: dict[str, int] = defaultdict(int)
    dedicated = sum(g * n for g, n in t.single.items()) + t.gang_gpus
    by_sharing["dedicated"] += dedicated
    nodes = _pod_nodes(t.single, per_node) + t.gang_nodes
    mig_gpus = mig_bound = 0
    if t.mig_shares:
        # A pool time-slices all its MIG devices alike: each slice takes `replicas` pods
        # and its memory in their needs.
        slices = {
            profile: _share_gpus(n, mem, pool.model.profile(profile).memory_bytes, replicas)
            for profile, (n, mem) in t.mig_shares.items()
        }
        m, bound = mig_packing(pool.model, slices)
        by_sharing[mode] += m
        nodes += -(-m // per_node)
        mig_gpus, mig_bound = mig_gpus + m, mig_bound + bound
    if t.mig:
        m, bound = mig_packing(pool.model, t.mig)
        by_sharing["mig"] += m
        nodes += -(-m // per_node)
        mig_gpus, mig_bound = mig_gpus + m, mig_bound + bound
    if t.shares[0]:
        s = _share_gpus(t.shares[0], t.shares[1], pool.model.memory_bytes, replicas)
        by_sharing[pool.sharing.mode if pool.sharing else "shared"] += s
        nodes += -(-s // per_node)
    gpus = sum(by_sharing.values())
    naive_gpus = sum(g * n for g, n in t.naive_single.items()) + t.naive_gang_gpus
    naive_nodes = _pod_nodes(t.naive_single, per_node) + t.naive_gang_nodes
    price = pool.price
    return PoolSizing(
        pool=pool.name,
        gpu_model=pool.model.key,
        gpus_per_node=per_node,
        workloads=t.workloads,
        pods=t.pods,
        gpukit_gpus=gpus,
        gpukit_nodes=nodes,
        naive_gpus=naive_gpus,
        naive_nodes=naive_nodes,
        gpukit_cost_per_hour=round(gpus * price, 4),
        naive_cost_per_hour=round(naive_gpus * price, 4),
        gpukit_node_cost_per_hour=round(nodes * per_node * price, 4),
        naive_node_cost_per_hour=round(naive_nodes * per_node * price, 4),
        by_sharing={k: v for k, v in sorted(by_sharing.items()) if v},
        mig_gpus=mig_gpus,
        mig_lower_bound=mig_bound,
    )
