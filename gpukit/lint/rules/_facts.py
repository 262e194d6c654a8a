"""Facts rules share: which pools offer a resource and match a pod, known MIG profiles, values."""

from __future__ import annotations

import difflib
import functools
import math
from fractions import Fraction
from typing import Any

from gpukit import vocab
from gpukit.errors import GpukitError
from gpukit.fleet import NodePool
from gpukit.hardware import catalog
from gpukit.lint._objects import (
    GPU,
    MIG_PREFIX,
    PRODUCT_LABEL,
    PodSite,
    gpu_resource_kind,
    mig_profile_of,
    quantity,
)

__all__ = [
    "SHARING_LABEL",
    "closest",
    "known_mig_resources",
    "pool_labels",
    "pool_units",
    "pools_for",
    "selects_shared",
    "whole_value",
]

SHARING_LABEL = vocab.GPU_SHARING_STRATEGY_LABEL
MIG_CONFIG_LABEL = vocab.MIG_CONFIG_LABEL


@functools.cache
def known_mig_resources() -> tuple[str, ...]:
    """Every MIG resource name (mixed strategy) of every catalog model, sorted."""
    names = {p.resource_name for gpu in catalog() for p in gpu.profiles}
    return tuple(sorted(names))


def mig_profile_exists(resource: str) -> bool:
    wanted = mig_profile_of(resource)
    return MIG_PREFIX + wanted in known_mig_resources()


def closest(value: str, allowed: Any, cutoff: float = 0.75) -> str | None:
    """The single closest allowed value, when one stands out; None otherwise."""
    choices = [a for a in allowed if isinstance(a, str)]
    close = difflib.get_close_matches(value, choices, n=2, cutoff=cutoff)
    if not close:
        lowered = {c.lower(): c for c in choices}
        return lowered.get(value.lower())
    if len(close) == 2 and difflib.SequenceMatcher(None, value, close[0]).ratio() == (
        difflib.SequenceMatcher(None, value, close[1]).ratio()
    ):
        return None
    return close[0]


def whole_value(raw: Any) -> Any:
    """A GPU quantity as a whole count: unchanged when whole, else rounded up (at least 1)."""
    amount = quantity(raw)
    if amount is None or (amount.denominator == 1 and amount > 0):
        return raw
    whole = max(1, math.ceil(amount))
    return str(whole) if isinstance(raw, str) else whole


def pool_labels(pool: NodePool) -> dict[str, str]:
    """The node labels GFD and the GPU Operator put on the pool's nodes, plus its own."""
    product = pool.gpu_product
    labels: dict[str, str] = {}
    if pool.mig is not None:
        if pool.mig.strategy == "single" and len(pool.mig.layout) == 1:
            product += "-MIG-" + next(iter(pool.mig.layout))
        if pool.mig.config_name:
            labels[MIG_CONFIG_LABEL] = pool.mig.config_name
    if pool.sharing is not None:
        if not pool.sharing.rename_by_default:
            product += "-SHARED"
        labels[SHARING_LABEL] = pool.sharing.mode
    labels[PRODUCT_LABEL] = product
    labels.update(pool.labels)
    return labels


def pool_units(pool: NodePool, resource: str) -> int:
    """How many units of ``resource`` one GPU of the pool advertises (0: not offered)."""
    kind = gpu_resource_kind(resource)
    if kind == "mig":
        if pool.mig is None or pool.mig.strategy != "mixed":
            return 0
        wanted = mig_profile_of(resource)
        for name, count in pool.mig.layout.items():
            try:
                profile = pool.model.profile(name)
            except GpukitError:
                continue
            if profile.resource_name == MIG_PREFIX + wanted or profile.name == wanted:
                return count
        return 0
    if kind == "shared":
        return pool.sharing.replicas if pool.sharing and pool.sharing.rename_by_default else 0
    if kind == "gpu":
        if pool.mig is not None:
            if pool.mig.strategy == "single" and len(pool.mig.layout) == 1:
                return next(iter(pool.mig.layout.values()))
            return 0
        if pool.sharing is not None:
            return 0 if pool.sharing.rename_by_default else pool.sharing.replicas
        return 1
    return 0


def _product_matches(pool: NodePool, values: set[str]) -> bool:
    for value in values:
        model = catalog().by_product(value)
        if model is not None and model.key == pool.model.key:
            return True
    return False


def pool_matches(pool: NodePool, selected: dict[str, set[str] | None]) -> bool:
    """Whether the pod's required node labels allow the pool (unknown label keys are ignored)."""
    labels = pool_labels(pool)
    for key, values in selected.items():
        if key == PRODUCT_LABEL and values is not None:
            if not _product_matches(pool, values):
                return False
        elif key in labels and values is not None and labels[key] not in values:
            return False
    return True


def pools_for(pools: tuple[NodePool, ...], site: PodSite, resource: str) -> list[NodePool]:
    """Pools that offer ``resource`` and that the pod's node selection allows."""
    selected = site.selected_labels()
    return [p for p in pools if pool_units(p, resource) > 0 and pool_matches(p, selected)]


def selects_shared(site: PodSite) -> bool:
    """The pod's node selection names time-sliced or MPS-shared GPUs."""
    selected = site.selected_labels()
    strategy = selected.get(SHARING_LABEL)
    if strategy and strategy <= {"time-slicing", "mps"}:
        return True
    products = selected.get(PRODUCT_LABEL)
    return bool(products) and all(p.endswith("-SHARED") for p in products)  # type: ignore[union-attr]


def selects_mig_slice(site: PodSite) -> bool:
    """The pod's node selection names single-strategy MIG devices (GFD's ``<GPU>-MIG-<profile>``
    product label): there ``nvidia.com/gpu`` is a MIG slice, not a whole GPU."""
    products = site.selected_labels().get(PRODUCT_LABEL)
    return bool(products) and all("-MIG-" in p for p in products)  # type: ignore[union-attr]


def gpu_count(site: PodSite, resource: str = GPU) -> Fraction:
    return site.gpus(resource)
