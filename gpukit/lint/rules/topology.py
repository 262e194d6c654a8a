"""Topology rules: distributed GPU jobs without a network-topology constraint on a fleet that
declares one, and required levels that no domain of the fleet can hold (gpukit.topology)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gpukit import vocab
from gpukit.lint._context import Context
from gpukit.lint._model import Hit
from gpukit.lint._objects import Doc, as_int, as_map
from gpukit.lint.rules._registry import rule
from gpukit.topology.model import Level, Topology
from gpukit.topology.planning import nodes_spanned
from gpukit.topology.render import (
    KAI_PREFERRED_ANNOTATION,
    KAI_REQUIRED_ANNOTATION,
    KUEUE_REQUIRED_ANNOTATION,
)

__all__: list[str] = []

_KUEUE_PREFIX = "kueue.x-k8s.io/podset-"
_GPU = vocab.GPU


def _has_constraint(doc: Doc, topo: Topology) -> bool:
    """Any topology constraint: Kueue pod-set annotations, Volcano networkTopology, KAI's
    placement annotations, or pod affinity on one of the fleet's level labels."""
    if "networkTopology" in doc.spec:
        return True
    if KAI_REQUIRED_ANNOTATION in doc.annotations or KAI_PREFERRED_ANNOTATION in doc.annotations:
        return True
    labels = {level.label for level in topo.levels}
    for site in doc.pods:
        if any(str(k).startswith(_KUEUE_PREFIX) and "topology" in str(k) for k in site.annotations):
            return True
        affinity = as_map(as_map(site.spec.get("affinity")).get("podAffinity"))
        for term in affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or []:
            if as_map(term).get("topologyKey") in labels:
                return True
        for term in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            if as_map(as_map(term).get("podAffinityTerm")).get("topologyKey") in labels:
                return True
    return False


def _off_topology(doc: Doc, ctx: Context, topo: Topology) -> bool:
    """The GPU pods select (by node labels) only pools the topology does not cover."""
    chosen = set()
    for site in doc.pods:
        if not site.uses_gpu:
            continue
        selected = site.selected_labels()
        for pool in ctx.pools:
            if pool.labels and all(
                selected.get(k) is not None and v in selected[k]  # type: ignore[operator]
                for k, v in pool.labels.items()
            ):
                chosen.add(pool.name)
    return bool(chosen) and not chosen & set(topo.pools)


@rule("GPU028", "warning", "topology-constraint-missing",
      "a distributed GPU job with no network-topology constraint on a fleet that declares "
      "topology levels")  # fmt: skip
def topology_missing(doc: Doc, ctx: Context) -> Iterator[Hit]:
    topo = ctx.fleet.topology if ctx.fleet is not None else None
    if topo is None or not doc.uses_gpu or not doc.is_distributed or _has_constraint(doc, topo):
        return
    if _off_topology(doc, ctx, topo):
        return
    levels = ", ".join(f"{lv.name} ({lv.label})" for lv in topo.levels)
    yield Hit(
        ("metadata",) if "metadata" in doc.data else (),
        f"{doc.total_pods} pods that exchange data every step, with no topology constraint: "
        f"they may land in different racks and run at the speed of the slowest link; the "
        f"fleet declares {levels}: let 'gpukit plan' pick the level (Kueue "
        f"{KUEUE_REQUIRED_ANNOTATION} on the pod templates, Volcano spec.networkTopology, or "
        f"KAI {KAI_REQUIRED_ANNOTATION})",
    )


def _required(doc: Doc, topo: Topology) -> Iterator[tuple[tuple[Any, ...], str, Level | None]]:
    """(location, what names it, the level or None) of every required level in ``doc``."""
    by_label = {lv.label: lv for lv in topo.levels}
    for site in doc.pods:
        value = site.annotations.get(KUEUE_REQUIRED_ANNOTATION)
        if value is not None and site.meta_loc is not None:
            loc = (*site.meta_loc, "annotations", KUEUE_REQUIRED_ANNOTATION)
            yield loc, f"{KUEUE_REQUIRED_ANNOTATION}: {value}", by_label.get(str(value))
    value = doc.annotations.get(KAI_REQUIRED_ANNOTATION)
    if value is not None:
        loc = ("metadata", "annotations", KAI_REQUIRED_ANNOTATION)
        yield loc, f"{KAI_REQUIRED_ANNOTATION}: {value}", by_label.get(str(value))
    network = as_map(doc.spec.get("networkTopology"))
    if network and network.get("mode", "hard") == "hard" and "highestTierAllowed" in network:
        tier = as_int(network.get("highestTierAllowed"), 0)
        levels = topo.network_levels
        level = levels[tier - 1] if 1 <= tier <= len(levels) else None
        loc = ("spec", "networkTopology", "highestTierAllowed")
        yield loc, f"networkTopology hard, highestTierAllowed: {tier}", level


@rule("GPU029", "error", "topology-level-unholdable",
      "a required topology level that no level of the fleet can hold: unknown to the fleet, "
      "or every domain of it smaller than the job")  # fmt: skip
def topology_unholdable(doc: Doc, ctx: Context) -> Iterator[Hit]:
    topo = ctx.fleet.topology if ctx.fleet is not None else None
    if topo is None or ctx.fleet is None or not doc.uses_gpu:
        return
    pods = doc.gpu_pods
    gpus = max((int(site.gpus(_GPU)) for site in doc.pods if site.uses_gpu), default=1)
    known = ", ".join(f"{lv.name} ({lv.label})" for lv in topo.levels)
    for loc, named, level in _required(doc, topo):
        if level is None:
            yield Hit(
                loc,
                f"{named}: no level of the fleet's topology is that (levels: {known}; Volcano "
                f"tiers 1-{len(topo.network_levels)}): the job can never be placed; name one "
                "of them",
            )
            continue
        sizes = []
        for pool in ctx.fleet.node_pools:
            size = topo.nodes_per(pool.name, level.name)
            if size is None:
                continue
            nodes = nodes_spanned(pool.gpus_per_node, pods, max(gpus, 1))
            if size >= nodes:
                break
            sizes.append(f"pool {pool.name}: {nodes} nodes needed, {size} per {level.name}")
        else:
            if sizes:
                yield Hit(
                    loc,
                    f"{named}: {pods} pods of {gpus} GPUs fit in no single {level.name} "
                    f"({'; '.join(sizes)}): the job waits forever; require a broader level, "
                    "or prefer this one (podset-preferred-topology, mode soft, "
                    "topology-preferred-placement)",
                )
