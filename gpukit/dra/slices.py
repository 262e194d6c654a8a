"""Discovery from DRA objects: a node's GPUs from the driver's ResourceSlices, the driver's
consumable shares and dynamic MIG from what the slices publish.

A ResourceSlice (resource.k8s.io/v1) lists devices with ``attributes`` (typed values:
``string``, ``int``, ``bool``, ``version``) and ``capacity`` (``value`` quantities), keyed by
names that are either qualified (``gpu.nvidia.com/productName``) or in the driver's domain.
The NVIDIA driver publishes ``type`` (``gpu`` or ``mig``), ``productName``, MIG devices'
``profile`` and ``parentUUID``, and ``memory`` capacity; with consumable shares, devices
that ``allowMultipleAllocations`` and (for a share count) a ``shares`` capacity; with
dynamic MIG, ``sharedCounters`` on the slice that MIG devices consume.

The labels returned are the ones GPU Feature Discovery would write, so a node with no GFD
labels reads as one that has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gpukit.dra.names import DRIVER, SHARES_CAPACITY
from gpukit.quantity import MIB, parse_quantity

__all__ = ["SliceFindings", "read_slices"]

Obj = dict[str, Any]


def _value(entry: Obj | None) -> Any:
    if not entry:
        return None
    for kind in ("string", "int", "bool", "version"):
        if kind in entry:
            return entry[kind]
    return entry.get("value")


def _get(table: Obj | None, name: str) -> Any:
    table = table or {}
    return _value(table.get(name) or table.get(f"{DRIVER}/{name}"))


@dataclass
class _Node:
    product: str | None = None
    whole: int = 0
    parents: set[str] = field(default_factory=set)
    mig: dict[str, int] = field(default_factory=dict)
    memory: int | None = None


@dataclass(frozen=True)
class SliceFindings:
    """What the NVIDIA driver's ResourceSlices say: GFD-style labels per node, the driver's
    consumable shares (a count, ``memory``, or None) and whether dynamic MIG is on."""

    labels: dict[str, dict[str, str]]
    consumable_shares: int | str | None
    dynamic_mig: bool

    def settings(self) -> dict[str, Any]:
        """The Fleet's ``dra`` settings these findings imply (gates the slices show are on)."""
        gates: dict[str, bool] = {}
        out: dict[str, Any] = {}
        if self.consumable_shares is not None:
            gates["ConsumableShares"] = True
            out["consumable_shares"] = self.consumable_shares
        if self.dynamic_mig:
            gates["DynamicMIG"] = True
        if gates:
            out["feature_gates"] = gates
        return out


def read_slices(slices: Iterable[Obj]) -> SliceFindings:
    """Findings from ResourceSlice objects; slices of other drivers are ignored."""
    nodes: dict[str, _Node] = {}
    shares: set[int] = set()
    multiple = dynamic = False
    for item in slices:
        spec = item.get("spec") or {}
        if spec.get("driver") != DRIVER:
            continue
        if spec.get("sharedCounters"):
            dynamic = True
        name = spec.get("nodeName")
        if not name:
            continue
        node = nodes.setdefault(name, _Node())
        for device in spec.get("devices") or []:
            attributes, capacity = device.get("attributes"), device.get("capacity")
            kind = _get(attributes, "type")
            node.product = node.product or _get(attributes, "productName")
            if device.get("allowMultipleAllocations"):
                multiple = True
                count = _get(capacity, SHARES_CAPACITY)
                if count is not None:
                    shares.add(int(parse_quantity(count)))
            if device.get("consumesCounters"):
                dynamic = True
            if kind == "mig":
                profile = _get(attributes, "profile")
                if profile:
                    node.mig[profile] = node.mig.get(profile, 0) + 1
                parent = _get(attributes, "parentUUID")
                if parent:
                    node.parents.add(str(parent))
            elif kind == "gpu":
                node.whole += 1
                memory = _get(capacity, "memory")
                if memory is not None:
                    node.memory = int(parse_quantity(memory))
    labels: dict[str, dict[str, str]] = {}
    for name, node in sorted(nodes.items()):
        if not node.product:
            continue
        gpus = node.whole + len(node.parents)
        found = {
            "nvidia.com/gpu.product": str(node.product).replace(" ", "-"),
            "nvidia.com/gpu.count": str(gpus),
        }
        if node.memory:
            found["nvidia.com/gpu.memory"] = str(node.memory // MIB)
        for profile, count in sorted(node.mig.items()):
            found[f"nvidia.com/mig-{profile}.count"] = str(count)
        labels[name] = found
    consumable: int | str | None = None
    if len(shares) == 1:
        consumable = shares.pop()
    elif multiple and not shares:
        consumable = "memory"
    return SliceFindings(labels=labels, consumable_shares=consumable, dynamic_mig=dynamic)
