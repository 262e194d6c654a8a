"""Pod rules: where GPU pods may land (taints, GPU model selection) and what they mount."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gpukit.fleet import Taint
from gpukit.lint._context import Context
from gpukit.lint._model import Edit, Hit
from gpukit.lint._objects import GPU_TAINT, Doc, PodSite, as_list, as_map, as_str
from gpukit.lint.rules._facts import pools_for
from gpukit.lint.rules._registry import rule

__all__: list[str] = []


def _tolerates(tolerations: list[Any], taint: Taint) -> bool:
    for item in tolerations:
        t = as_map(item)
        effect = t.get("effect")
        if effect not in (None, "", taint.effect):
            continue
        key = t.get("key")
        operator = t.get("operator") or "Equal"
        if key in (None, ""):
            if operator == "Exists":
                return True
            continue
        if key != taint.key:
            continue
        if operator == "Exists":
            return True
        if operator == "Equal" and (t.get("value") or None) == (taint.value or None):
            return True
    return False


def _toleration(taint: Taint) -> dict[str, Any]:
    if taint.value is None:
        return {"key": taint.key, "operator": "Exists", "effect": taint.effect}
    return {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.effect}


def _gpu_names(site: PodSite) -> list[str]:
    names: list[str] = []
    for c in site.gpu_containers:
        names.extend(n for n in c.gpu_names if n not in names)
    return names


@rule("GPU010", "warning", "gpu-toleration-missing",
      "a GPU pod that does not tolerate the taint GPU nodes carry (nvidia.com/gpu)", fixable=True)
def toleration_missing(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for site in doc.pods:
        if site.spec_loc is None or not site.uses_gpu:
            continue
        taints: list[Taint] = []
        if ctx.fleet is None:
            taints = [Taint(key=GPU_TAINT)]
        else:
            for name in _gpu_names(site):
                for pool in pools_for(ctx.pools, site, name):
                    taints.extend(t for t in pool.taints if t.effect != "PreferNoSchedule" and t not in taints)
        tolerations = as_list(site.spec.get("tolerations"))
        for taint in taints:
            if _tolerates(tolerations, taint):
                continue
            shown = taint.key + (f"={taint.value}" if taint.value else "") + f":{taint.effect}"
            wanted = _toleration(taint)
            yield Hit(
                site.spec_loc,
                f"no toleration in {site.title} for the {shown} taint that GPU nodes carry; "
                f"GPU pods without it stay Pending: add a toleration {{key: {taint.key}, operator: "
                f"{wanted['operator']}, effect: {taint.effect}}}",
                (Edit(op="append", loc=(*site.spec_loc, "tolerations"), value=wanted),),
            )


@rule("GPU011", "warning", "gpu-model-selector-missing",
      "a GPU pod that can land on several GPU models of the fleet (no nvidia.com/gpu.product "
      "selector)", needs="fleet")
def product_selector(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if ctx.fleet is None:
        return
    for site in doc.pods:
        if site.spec_loc is None or not site.uses_gpu:
            continue
        for name in _gpu_names(site):
            models = sorted({p.model.key for p in pools_for(ctx.pools, site, name)})
            if len(models) < 2:
                continue
            products = sorted({p.gpu_product for p in pools_for(ctx.pools, site, name)})
            yield Hit(
                site.spec_loc,
                f"{name} in {site.title} can come from {', '.join(models)} in fleet "
                f"{ctx.fleet.name!r}; speed and memory differ, so pin one: add nodeSelector "
                f"nvidia.com/gpu.product: one of {', '.join(products)}",
            )
            break


def _is_pytorch(doc: Doc) -> bool:
    if doc.kind == "PyTorchJob":
        return True
    if doc.group == "batch.volcano.sh" and "pytorch" in as_map(doc.spec.get("plugins")):
        return True
    if doc.kind in ("TrainingRuntime", "ClusterTrainingRuntime", "TrainJob") and (
        "torch" in as_map(doc.spec.get("mlPolicy"))
        or "torch" in str(as_map(as_map(doc.spec.get("runtimeRef"))).get("name", ""))
    ):
        return True
    for site in doc.pods:
        for c in site.containers:
            text = " ".join(
                str(x) for x in (c.image or "", *as_list(c.data.get("command")), *as_list(c.data.get("args")))
            ).lower()
            if "torch" in text:
                return True
    return False


def _has_shm(c_data: dict[Any, Any]) -> bool:
    for mount in as_list(c_data.get("volumeMounts")):
        path = as_str(as_map(mount).get("mountPath"))
        if path is not None and path.rstrip("/") == "/dev/shm":
            return True
    return False


@rule("GPU014", "warning", "dev-shm-missing",
      "multi-worker PyTorch on GPUs without a memory-backed /dev/shm (NCCL and DataLoader "
      "workers fail on the 64 MiB default)", fixable=True)
def dev_shm(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if doc.gpu_pods < 2 or not doc.is_distributed or not _is_pytorch(doc):
        return
    for site in doc.pods:
        if site.spec_loc is None or not site.uses_gpu or site.spec.get("hostIPC") is True:
            continue
        lacking = [c for c in site.gpu_containers if not _has_shm(c.data)]
        if not lacking:
            continue
        volumes = as_list(site.spec.get("volumes"))
        names = {as_str(as_map(v).get("name")): as_map(v) for v in volumes}
        edits: list[Edit] = []
        name = "dshm"
        existing = names.get(name)
        if existing is None or as_map(existing.get("emptyDir")).get("medium") != "Memory":
            if existing is not None:
                name = "gpukit-dshm"
            if name not in names:
                edits.append(Edit(op="append", loc=(*site.spec_loc, "volumes"),
                                  value={"name": name, "emptyDir": {"medium": "Memory"}}))
        for c in lacking:
            edits.append(Edit(op="append", loc=(*c.loc, "volumeMounts"),
                              value={"name": name, "mountPath": "/dev/shm"}))
        yield Hit(
            site.spec_loc,
            f"{site.title} of this {doc.gpu_pods}-pod PyTorch job keep the container runtime's "
            "64 MiB /dev/shm; NCCL and DataLoader workers crash with 'bus error': mount an "
            "emptyDir with medium: Memory at /dev/shm",
            tuple(edits),
        )
