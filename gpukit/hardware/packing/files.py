"""Reading demand and fleet files (formats in :mod:`gpukit.hardware.packing`) into packer inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gpukit.errors import InputError
from gpukit.hardware.catalog import catalog
from gpukit.hardware.mig import MigLayout
from gpukit.hardware.packing.models import GpuSlot, MigDemand

__all__ = ["load_demands", "load_gpu_slots", "slots_from_fleet"]


def load_demands(source: str | Path) -> list[MigDemand]:
    """Demands from a YAML/JSON demand file (format in the module docstring)."""
    from gpukit._loading import load_documents, read_text, validate_model

    label, text = read_text(source)
    docs = [doc for _, doc in load_documents(label, text)]
    if len(docs) != 1:
        raise InputError(f"{label}: a demand file holds one document, found {len(docs)}")
    doc = docs[0]
    items = doc.get("demands") if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and set(doc) - {"demands"}:
        extra = sorted(set(doc) - {"demands"})
        raise InputError(f"{label}: unknown top-level key(s) {', '.join(extra)}; a demand file has 'demands'")
    if not isinstance(items, list) or not items:
        raise InputError(f"{label}: expected 'demands:' with a non-empty list of demands")
    return [validate_model(MigDemand, item, f"{label}: demand {i + 1}", InputError) for i, item in enumerate(items)]


def load_gpu_slots(source: str | Path, *, whole_gpu_pools: bool = False) -> list[GpuSlot]:
    """GPUs from a fleet file: a gpukit Fleet (node_pools) or a simple list (module docstring).

    ``default`` is gpukit's embedded default fleet. From a Fleet, only pools with a ``mig``
    section are taken unless ``whole_gpu_pools`` (then MIG-capable pools of whole GPUs
    too, with MIG off).
    """
    from gpukit._loading import load_documents, read_text

    if str(source) == "default":
        from gpukit.fleet import default_fleet

        return slots_from_fleet(default_fleet(), whole_gpu_pools=whole_gpu_pools)
    label, text = read_text(source)
    docs = [doc for _, doc in load_documents(label, text)]
    if len(docs) != 1:
        raise InputError(f"{label}: a fleet file holds one document, found {len(docs)}")
    doc = docs[0]
    if isinstance(doc, dict) and "node_pools" in doc:
        return slots_from_fleet(_fleet_from(doc, label), whole_gpu_pools=whole_gpu_pools)
    items = doc.get("gpus") if isinstance(doc, dict) and set(doc) == {"gpus"} else doc
    if not isinstance(items, list) or not items:
        raise InputError(
            f"{label}: expected a Fleet (node_pools: ...) or a list of {{model, count}} items"
        )
    return _slots_from_list(items, label)


def _fleet_from(doc: Any, label: str) -> Any:
    from gpukit._loading import validate_model
    from gpukit.errors import FleetError
    from gpukit.fleet import Fleet

    return validate_model(Fleet, doc, label, FleetError)


def slots_from_fleet(fleet: Any, *, whole_gpu_pools: bool = False) -> list[GpuSlot]:
    """GpuSlots for a gpukit Fleet: node '<pool>-<i>', the pool's MIG layout as current layout.

    Pools without a ``mig`` section hold whole GPUs (training, large models); they are
    left out unless ``whole_gpu_pools``, and pools of GPUs that cannot do MIG always are.
    """
    out = []
    for pool in fleet.node_pools:
        mig = getattr(pool, "mig", None)
        if pool.model.mig is None or (mig is None and not whole_gpu_pools):
            continue
        current = dict(mig.layout) if mig is not None else None
        for n in range(pool.nodes):
            for i in range(pool.gpus_per_node):
                out.append(GpuSlot(node=f"{pool.name}-{n}", index=i, model=pool.gpu, current=current))
    if not out:
        raise InputError(
            "the fleet has no MIG pool (a node pool with 'mig:'); add one, or pass "
            "--whole-gpu-pools to let gpukit partition MIG-capable whole-GPU pools"
        )
    return out


_LIST_KEYS = {"model", "count", "gpus_per_node", "node", "layout"}


def _slots_from_list(items: list[Any], label: str) -> list[GpuSlot]:
    from gpukit.errors import did_you_mean

    out: list[GpuSlot] = []
    used_prefixes: dict[str, int] = {}
    for n, item in enumerate(items):
        where = f"{label}: item {n + 1}"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected a mapping like {{model: A100-40GB, count: 8}}")
        for key in item:
            if key not in _LIST_KEYS:
                raise InputError(
                    f"{where}: unknown key {key!r}{did_you_mean(str(key), _LIST_KEYS)}; "
                    f"allowed: {', '.join(sorted(_LIST_KEYS))}"
                )
        if "model" not in item:
            raise InputError(f"{where}: 'model' is required (e.g. A100-40GB)")
        model = catalog().get(str(item["model"]))
        count = item.get("count", 1)
        per_node = item.get("gpus_per_node", 8)
        for field, value in (("count", count), ("gpus_per_node", per_node)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{where}: {field!r} must be a whole number >= 1, got {value!r}")
        layout = item.get("layout")
        if layout is not None:
            if not isinstance(layout, dict):
                raise InputError(f"{where}: 'layout' is a mapping profile -> count, e.g. {{1g.10gb: 7}}")
            MigLayout.from_counts(model, layout)
        prefix = str(item.get("node") or model.key.lower())
        start = used_prefixes.get(prefix, 0)
        for i in range(count):
            node_no, gpu_no = divmod(i, per_node)
            out.append(GpuSlot(
                node=f"{prefix}-{start + node_no}", index=gpu_no, model=model.key,
                current=dict(layout) if layout is not None else None,
            ))
        used_prefixes[prefix] = start + -(-count // per_node)
    return out
