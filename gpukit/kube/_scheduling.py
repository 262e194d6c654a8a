"""explain_scheduling(): why a pod or gang waits, turned into what to do, naming the fleet."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from gpukit.errors import GpukitError
from gpukit.fleet import Fleet, NodePool

__all__ = ["Advice", "explain_scheduling"]


class Advice(BaseModel):
    """One finding about why something waits or fails, and what to do about it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    message: str


_NODES = re.compile(
    r"(?P<free>\d+)/(?P<total>\d+) nodes are (?:un)?available:\s*(?P<reasons>.*)", re.DOTALL
)
_ITEM = re.compile(r"^(?P<count>\d+)\s+(?P<reason>.+)$", re.DOTALL)
_INSUFFICIENT = re.compile(r"^Insufficient (?P<resource>\S+)$")
_TAINT = re.compile(r"(?:untolerated taint|had taint) \{(?P<key>[^:}]+):\s*(?P<value>[^}]*)\}")
_GANG = re.compile(r"pod group is not ready, (?P<pending>\d+) Pending, (?P<min>\d+) minAvailable")
_KUEUE_SHORT = re.compile(
    r"insufficient unused quota for (?P<resource>\S+) in flavor "
    r"(?P<flavor>[^,\s]+),\s*(?P<more>[\d.]+\w*) more needed"
)
_KUEUE_MAX = re.compile(
    r"insufficient quota for (?P<resource>\S+) in flavor (?P<flavor>[^,\s]+),"
    r"\s*request > maximum capacity \((?P<req>[^ ]+) > (?P<max>[^)]+)\)"
)
_KUEUE_MISSING = re.compile(r"resource (?P<resource>\S+) unavailable in ClusterQueue")


def _split_reasons(text: str) -> list[tuple[int, str]]:
    # Stop at the preemption summary the scheduler appends.
    text = re.split(r"\.\s*preemption:", text, maxsplit=1)[0].strip().rstrip(".")
    items = []
    for part in re.split(r",\s+(?=\d+\s)", text):
        match = _ITEM.match(part.strip())
        if match:
            items.append((int(match["count"]), match["reason"].strip()))
    return items


def _layout_text(pool: NodePool) -> str:
    assert pool.mig is not None
    parts = " + ".join(f"{count}x {profile.name}" for profile, count in pool.mig_profiles)
    config = pool.mig.config_name or "custom"
    return f"{pool.name} ({pool.model.key}, {config}: {parts} per GPU, {pool.total_gpus} GPUs)"


def _mig_pools(fleet: Fleet) -> list[NodePool]:
    return [p for p in fleet.node_pools if p.mig is not None and p.mig.layout]


def _profile_resource(pool: NodePool, profile_name: str) -> str:
    return pool.model.profile(profile_name).resource_name


def _mig_advice(resource: str, nodes: int, fleet: Fleet | None) -> Advice:
    profile = resource.removeprefix("nvidia.com/mig-").removesuffix(".shared")
    if fleet is None:
        return Advice(
            code="INSUFFICIENT_MIG",
            message=(
                f"no node has a free {resource} ({nodes} nodes lack it); run gpukit discover to see "
                "the cluster's MIG layouts, then wait for running pods, request another profile, "
                "or set a layout with that profile through the nodes' nvidia.com/mig.config label"
            ),
        )
    pools = _mig_pools(fleet)
    if not pools:
        return Advice(
            code="NO_MIG_POOL",
            message=(
                f"no node offers {resource}: fleet {fleet.name!r} has no MIG-partitioned pool; "
                "consider whole GPUs (nvidia.com/gpu) or a shared GPU, or partition a MIG-capable "
                "pool (label its nodes nvidia.com/mig.config=<layout>; this evicts their GPU pods)"
            ),
        )
    layouts = "; ".join(_layout_text(p) for p in pools)
    offering = []
    for pool in pools:
        for prof, count in pool.mig_profiles:
            if prof.resource_name == f"nvidia.com/mig-{profile}":
                offering.append((pool, count * pool.total_gpus))
    if offering:
        names = ", ".join(f"{p.name} ({n} in all)" for p, n in offering)
        return Advice(
            code="INSUFFICIENT_MIG",
            message=(
                f"no node has a free {resource} ({nodes} nodes lack one); the fleet's MIG layouts "
                f"are {layouts}; pools offering it: {names}; consider waiting for running pods to "
                f"release them, another profile from these layouts, or moving more nodes to a "
                f"layout with {profile} (nvidia.com/mig.config; gpukit mig layouts lists them)"
            ),
        )
    available = sorted({prof.resource_name for p in pools for prof, _ in p.mig_profiles})
    return Advice(
        code="NO_MIG_PROFILE",
        message=(
            f"no node offers {resource}: no MIG layout in the fleet has {profile}; the fleet's MIG "
            f"layouts are {layouts}; consider requesting one of {', '.join(available)}, or "
            f"relabelling a pool's nodes with an nvidia.com/mig.config layout that includes "
            f"{profile} (this evicts their GPU pods)"
        ),
    )


def _largest_request(pool: NodePool) -> int:
    """The most of the pool's GPU resource one pod can get on one node."""
    if pool.sharing is None:
        return pool.gpus_per_node
    if pool.sharing.fail_requests_greater_than_one:
        return 1  # the device plugin rejects larger requests of a shared resource
    return pool.gpus_per_node * pool.sharing.replicas


def _gpu_advice(
    resource: str, nodes: int, fleet: Fleet | None, requests: Mapping[str, int] | None
) -> Advice:
    wanted = (requests or {}).get(resource)
    shared = resource.endswith(".shared")
    if fleet is None:
        return Advice(
            code="INSUFFICIENT_GPU",
            message=(
                f"no node has {wanted or 'enough'} free {resource} ({nodes} nodes lack it); wait for "
                "running pods to finish, ask for fewer GPUs per pod, or run gpukit discover and "
                "gpukit plan --fleet live for a MIG slice or a shared GPU"
            ),
        )
    if shared:
        pools = [p for p in fleet.node_pools if p.sharing and p.sharing.rename_by_default]
    else:
        pools = [p for p in fleet.node_pools if p.mig is None or p.mig.strategy == "single"]
        pools = [p for p in pools if not (p.sharing and p.sharing.rename_by_default)]
    if not pools:
        return Advice(
            code="NO_GPU_POOL",
            message=(
                f"no pool in fleet {fleet.name!r} advertises {resource}; request what the fleet "
                f"offers (gpukit inventory lists each node's resources)"
            ),
        )
    biggest = max(_largest_request(p) for p in pools)
    described = ", ".join(
        f"{p.name} ({p.nodes} nodes x {p.gpus_per_node} {p.model.key}"
        + (f", {p.sharing.mode} x{p.sharing.replicas}" if p.sharing else "")
        + ")"
        for p in pools
    )
    if wanted and wanted > biggest:
        return Advice(
            code="GPU_REQUEST_TOO_BIG",
            message=(
                f"the pod asks for {wanted} {resource} but the largest node offers {biggest}; "
                f"spread the work over more pods (workers) with fewer GPUs each; pools: {described}"
            ),
        )
    return Advice(
        code="INSUFFICIENT_GPU",
        message=(
            f"no node has {wanted or 'enough'} free {resource} ({nodes} nodes lack it); pools "
            f"offering it: {described}; consider waiting for running pods to finish, fewer GPUs per "
            "pod, or a MIG slice or shared GPU if the job fits (gpukit plan lists the alternatives)"
        ),
    )


def _node_reason(
    count: int, reason: str, fleet: Fleet | None, requests: Mapping[str, int] | None
) -> Advice | None:
    insufficient = _INSUFFICIENT.match(reason)
    if insufficient:
        resource = insufficient["resource"]
        if resource.startswith("nvidia.com/mig-"):
            return _mig_advice(resource, count, fleet)
        if resource.startswith("nvidia.com/gpu"):
            return _gpu_advice(resource, count, fleet, requests)
        if resource in ("cpu", "memory"):
            sizes = ""
            if fleet is not None:
                facts = [
                    f"{p.name}: {p.cpu_per_node} CPUs, {p.memory_per_node} memory"
                    for p in fleet.node_pools
                    if p.cpu_per_node or p.memory_per_node
                ]
                sizes = f" (GPU nodes: {'; '.join(facts)})" if facts else ""
            return Advice(
                code=f"INSUFFICIENT_{resource.upper()}",
                message=(
                    f"{count} nodes lack the pod's {resource} request; lower the {resource} request "
                    f"or free room on the GPU nodes{sizes}"
                ),
            )
        return Advice(
            code="INSUFFICIENT_RESOURCE",
            message=(
                f"{count} nodes lack {resource}; check that the device plugin advertising it runs "
                "on the target nodes (gpukit inventory)"
            ),
        )
    taint = _TAINT.search(reason)
    if taint:
        key, value = taint["key"].strip(), taint["value"].strip()
        if key.startswith("node-role.kubernetes.io/"):
            return None  # control-plane nodes: expected
        shown = f"{key}={value}" if value else key
        return Advice(
            code="UNTOLERATED_TAINT",
            message=(
                f"{count} nodes carry taint {shown} that the pod does not tolerate; add a toleration "
                "for it, or make the fleet's pool taints match the nodes (gpukit discover) so that "
                "gpukit render adds it"
            ),
        )
    if (
        "didn't match Pod's node affinity/selector" in reason
        or "didn't match node selector" in reason
    ):
        hint = ""
        if fleet is not None:
            products = sorted({p.gpu_product for p in fleet.node_pools})
            configs = sorted(
                {p.mig.config_name for p in fleet.node_pools if p.mig and p.mig.config_name}
            )
            hint = f"; the fleet's GPU products: {', '.join(products)}"
            if configs:
                hint += f"; MIG configs: {', '.join(configs)}"
        return Advice(
            code="SELECTOR_MISMATCH",
            message=(
                f"{count} nodes do not match the pod's nodeSelector or affinity{hint}; compare the "
                "selector's nvidia.com/gpu.product and nvidia.com/mig.config with the nodes' labels "
                "(gpukit discover, or plan with --fleet live)"
            ),
        )
    if "unschedulable" in reason:
        return Advice(code="CORDONED", message=f"{count} nodes are cordoned (unschedulable)")
    if reason.startswith("Too many pods"):
        return Advice(code="TOO_MANY_PODS", message=f"{count} nodes are at their pod limit")
    return Advice(code="NODES_UNAVAILABLE", message=f"{count} nodes: {reason}")


def explain_scheduling(
    message: str, fleet: Fleet | None = None, *, requests: Mapping[str, int] | None = None
) -> list[Advice]:
    """What to do about a FailedScheduling, Volcano gang or Kueue admission message.

    ``fleet`` (discovered or given) lets the advice name pools and MIG layouts; ``requests``
    (the pod's nvidia.com amounts) lets it tell "too big for any node" from "wait".

    >>> [a.code for a in explain_scheduling("0/5 nodes are available: 5 Insufficient nvidia.com/gpu.")]
    ['INSUFFICIENT_GPU']
    """
    if not message.strip():
        return []
    advice: list[Advice] = []
    try:
        gang = _GANG.search(message)
        if gang:
            advice.append(
                Advice(
                    code="GANG_NOT_READY",
                    message=(
                        f"Volcano holds the gang: {gang['pending']} pods are pending and all "
                        f"{gang['min']} (minAvailable) must fit at once; nothing starts until they do: "
                        "free capacity, use fewer workers or GPUs per worker, or check the queue's "
                        "capability"
                    ),
                )
            )
        short = _KUEUE_SHORT.search(message)
        if short:
            advice.append(
                Advice(
                    code="KUEUE_QUOTA",
                    message=(
                        f"Kueue has not admitted the job: flavor {short['flavor']} needs "
                        f"{short['more']} more unused {short['resource']} quota; it is admitted when "
                        "running workloads finish, or raise the ClusterQueue's nominalQuota or let it "
                        "borrow within a cohort"
                    ),
                )
            )
        capacity = _KUEUE_MAX.search(message)
        if capacity:
            advice.append(
                Advice(
                    code="KUEUE_QUOTA_TOO_SMALL",
                    message=(
                        f"Kueue can never admit the job in flavor {capacity['flavor']}: it asks for "
                        f"{capacity['req']} {capacity['resource']} but the quota is {capacity['max']}; "
                        "ask for less, or raise the ClusterQueue's nominalQuota"
                    ),
                )
            )
        missing = _KUEUE_MISSING.search(message)
        if missing:
            advice.append(
                Advice(
                    code="KUEUE_NO_RESOURCE",
                    message=(
                        f"the job's ClusterQueue has no quota for {missing['resource']}; add it to a "
                        "resourceGroup of the ClusterQueue, or submit to a queue that covers it"
                    ),
                )
            )
        nodes = _NODES.search(message)
        if nodes:
            for count, reason in _split_reasons(nodes["reasons"]):
                found = _node_reason(count, reason, fleet, requests)
                if found is not None:
                    advice.append(found)
    except GpukitError:
        pass  # a fleet that does not know a profile named in the message: keep what we have
    if not advice:
        advice.append(Advice(code="UNRECOGNISED", message=message.strip()))
    unique: list[Advice] = []
    for item in advice:
        if item not in unique:
            unique.append(item)
    return unique
