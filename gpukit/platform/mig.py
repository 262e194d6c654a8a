"""MIG on the platform side: each MIG pool's mig-parted config, named as the fleet names it."""

from __future__ import annotations

from typing import Any

from gpukit.errors import FleetError
from gpukit.fleet import Fleet, NodePool
from gpukit.hardware.mig import MigLayout

__all__ = ["mig_config_names", "mig_parted_configmap"]


def _layout(pool: NodePool) -> dict[str, int]:
    """The pool's per-GPU layout, checked to be placeable on its GPU model."""
    assert pool.mig is not None  # callers pass MIG pools only
    if not pool.mig.layout:
        balanced = dict(pool.model.mig.balanced) if pool.model.mig else {}  # type: ignore[union-attr]
        hint = ", ".join(f"{k}: {v}" for k, v in balanced.items())
        raise FleetError(
            f"pool {pool.name!r}: mig.layout is empty, but gpukit writes the mig-parted config "
            f"from it; give the instances per GPU, e.g. layout: {{{hint}}}"
        )
    MigLayout.from_counts(pool.model, pool.mig.layout).placement()  # MigLayoutError if not
    return dict(pool.mig.layout)


def _node_configs(fleet: Fleet) -> tuple[dict[str, str], dict[str, list[Any]]]:
    """Per MIG pool, mig-parted's own config name; and the entries of each named config."""
    from gpukit.hardware.migparted import node_configs

    # Every node of a pool is alike: one "node" per pool is enough to name and build it.
    nodes = {
        pool.name: [(pool.model, _layout(pool))] * pool.gpus_per_node
        for pool in fleet.node_pools
        if pool.mig is not None
    }
    return node_configs(nodes)


def mig_config_names(fleet: Fleet) -> dict[str, str]:
    """Pool name -> the ``nvidia.com/mig.config`` value its nodes carry.

    The fleet's ``mig.config_name`` wins (workload node selectors name it); otherwise the
    name mig-parted's conventions give the layout (``all-balanced``, ``all-1g.10gb``, ...).
    """
    generated, _ = _node_configs(fleet)
    names: dict[str, str] = {}
    for pool in fleet.node_pools:
        if pool.mig is not None:
            names[pool.name] = pool.mig.config_name or generated[pool.name]
    return names


def mig_parted_configmap(fleet: Fleet, name: str, namespace: str) -> dict[str, Any] | None:
    """The mig-parted ConfigMap (key ``config.yaml``) for every MIG pool, or None without any.

    Holds ``all-disabled`` plus one named config per distinct pool layout; two pools that
    give one name to different layouts are a FleetError.
    """
    from gpukit.hardware.migparted import mig_parted_configmap as build

    generated, configs = _node_configs(fleet)
    if not generated:
        return None
    named: dict[str, list[Any]] = {"all-disabled": configs["all-disabled"]}
    owner: dict[str, str] = {}
    for pool in fleet.node_pools:
        if pool.mig is None:
            continue
        label = pool.mig.config_name or generated[pool.name]
        entries = configs[generated[pool.name]]
        if label in named and named[label] != entries:
            first = owner.get(label, "mig-parted's built-in")
            raise FleetError(
                f"pools {first!r} and {pool.name!r} both use mig.config_name {label!r} for "
                "different layouts; give one of them another config_name"
            )
        named[label] = entries
        owner[label] = pool.name
    ordered = {k: named[k] for k in sorted(named, key=lambda n: (n != "all-disabled", n))}
    return build(ordered, name=name, namespace=namespace)
