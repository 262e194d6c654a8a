"""Container rules: how GPUs are requested (limits, whole numbers, resource names, sizes)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from gpukit.errors import GpukitError, did_you_mean
from gpukit.lint._context import Context
from gpukit.lint._model import Edit, Hit
from gpukit.lint._objects import (
    GPU,
    Container,
    Doc,
    PodSite,
    as_list,
    as_map,
    gpu_resource_kind,
    quantity,
)
from gpukit.lint.rules._facts import (
    closest,
    known_mig_resources,
    mig_profile_exists,
    pool_units,
    pools_for,
    selects_mig_slice,
    selects_shared,
    whole_value,
)
from gpukit.lint.rules._registry import rule
from gpukit.quantity import format_gib

__all__: list[str] = []


def _containers(doc: Doc) -> Iterator[tuple[PodSite, Container]]:
    for site in doc.pods:
        for container in site.containers:
            yield site, container


def _fmt(value: Any) -> str:
    return str(value)


@rule("GPU001", "error", "gpu-request-limit-mismatch",
      "a GPU resource in requests without a limit, or with a request that differs from the limit",
      fixable=True)
def gpu_request_limit(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for _, c in _containers(doc):
        for name in c.gpu_names:
            if name not in c.requests:
                continue
            request = c.requests[name]
            loc = (*c.resources_loc, "requests", name)
            if name not in c.limits:
                yield Hit(
                    loc,
                    f"{name} is requested but has no limit; extended resources such as GPUs need "
                    f"a limit (the request defaults to it): set limits.{name}: {_fmt(whole_value(request))}",
                    (Edit(op="set", loc=(*c.resources_loc, "limits", name), value=whole_value(request)),),
                )
                continue
            limit = c.limits[name]
            if quantity(request) is not None and quantity(request) != quantity(limit):
                yield Hit(
                    loc,
                    f"{name} request {_fmt(request)} differs from limit {_fmt(limit)}; GPUs cannot be "
                    f"overcommitted, the API server rejects this: set the request equal to the limit "
                    f"({_fmt(whole_value(limit))}) or drop it",
                    (Edit(op="set", loc=loc, value=whole_value(limit)),),
                )


@rule("GPU002", "error", "gpu-fractional",
      "a fractional, negative or non-numeric GPU quantity (GPUs are whole devices)", fixable=True)
def gpu_fractional(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for _, c in _containers(doc):
        for section in ("limits", "requests"):
            values = c.limits if section == "limits" else c.requests
            for name, raw in values.items():
                if not gpu_resource_kind(name):
                    continue
                loc = (*c.resources_loc, section, name)
                amount = quantity(raw)
                if amount is None:
                    yield Hit(loc, f"{name}: {_fmt(raw)} is not a quantity; give a whole number of "
                                   "devices such as 1")
                elif amount < 0:
                    yield Hit(loc, f"{name}: {_fmt(raw)} is negative; give a whole number of devices "
                                   "such as 1, or remove it")
                elif amount.denominator != 1:
                    fixed = whole_value(raw)
                    yield Hit(
                        loc,
                        f"{name}: {_fmt(raw)} is not a whole number; the device plugin hands out whole "
                        f"devices (share a GPU with a MIG profile, time-slicing or MPS instead): set "
                        f"{_fmt(fixed)}",
                        (Edit(op="set", loc=loc, value=fixed),),
                    )


@rule("GPU003", "error", "gpu-and-mig-in-one-container",
      "a container that requests both nvidia.com/gpu and a nvidia.com/mig-* resource")
def gpu_and_mig(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for _, c in _containers(doc):
        kinds = {gpu_resource_kind(n): n for n in c.gpu_names}
        if "mig" in kinds and ({"gpu", "shared"} & kinds.keys()):
            whole = kinds.get("gpu") or kinds["shared"]
            yield Hit(
                (*c.resources_loc, "limits" if whole in c.limits else "requests", whole),
                f"container {c.name!r} requests {whole} and {kinds['mig']}; no node advertises both "
                "to one container (MIG GPUs hide nvidia.com/gpu under the mixed strategy): request "
                "one kind, or split the work into two containers or pods",
            )


@rule("GPU004", "error", "mig-profile-unknown",
      "a nvidia.com/mig-* resource whose profile exists on no GPU model", fixable=True)
def mig_profile_unknown(doc: Doc, ctx: Context) -> Iterator[Hit]:
    known = known_mig_resources()
    for _, c in _containers(doc):
        for name in c.gpu_names:
            if gpu_resource_kind(name) != "mig" or mig_profile_exists(name):
                continue
            base = name.removesuffix(".shared")
            suggestion = closest(base, known, cutoff=0.8)
            edits: tuple[Edit, ...] = ()
            if suggestion is not None:
                new = suggestion + name[len(base):]
                edits = tuple(
                    Edit(op="rename", loc=(*c.resources_loc, section, name), value=new)
                    for section, values in (("limits", c.limits), ("requests", c.requests))
                    if name in values
                )
            hint = did_you_mean(base, known) or ""
            yield Hit(
                (*c.resources_loc, "limits" if name in c.limits else "requests", name),
                f"{name} names no MIG profile of any GPU model{hint}; profiles are named "
                "<compute>g.<memory>gb per model (A100-40GB: 1g.5gb, H100-80GB: 1g.10gb): use one "
                "your GPUs offer",
                edits,
            )


@rule("GPU005", "error", "mig-profile-not-in-fleet",
      "a MIG resource that no node pool of the fleet offers", needs="fleet")
def mig_profile_not_in_fleet(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if ctx.fleet is None:
        return
    offered = sorted(
        {p.resource_name for pool in ctx.pools if pool.mig and pool.mig.strategy == "mixed"
         for p, _ in pool.mig_profiles}
    )
    for _, c in _containers(doc):
        for name in c.gpu_names:
            if gpu_resource_kind(name) != "mig" or not mig_profile_exists(name):
                continue
            if any(pool_units(pool, name) for pool in ctx.pools):
                continue
            there = ", ".join(offered) if offered else "none"
            yield Hit(
                (*c.resources_loc, "limits" if name in c.limits else "requests", name),
                f"no node pool of fleet {ctx.fleet.name!r} offers {name} (MIG resources there: "
                f"{there}); request one of those, or add the profile to a pool's MIG layout",
            )


@rule("GPU006", "error", "time-sliced-gpu-count",
      "more than one time-sliced or MPS-shared GPU in one container", fixable=True)
def time_sliced_count(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for site, c in _containers(doc):
        for name in c.gpu_names:
            amount = c.gpu_amount(name)
            if amount is None or amount <= 1:
                continue
            kind = gpu_resource_kind(name)
            shared = kind == "shared" or name.endswith(".shared")
            if not shared and kind == "gpu":
                if selects_shared(site):
                    shared = True
                elif ctx.fleet is not None:
                    pools = pools_for(ctx.pools, site, name)
                    shared = bool(pools) and all(p.sharing is not None for p in pools)
            if not shared:
                continue
            edits = tuple(
                Edit(op="set", loc=(*c.resources_loc, section, name), value="1" if isinstance(
                    values[name], str) else 1)
                for section, values in (("limits", c.limits), ("requests", c.requests))
                if name in values
            )
            yield Hit(
                (*c.resources_loc, "limits" if name in c.limits else "requests", name),
                f"container {c.name!r} asks for {amount} shared replicas of {name}; replicas of "
                "one GPU add no compute or memory and the device plugin rejects >1 when "
                "failRequestsGreaterThanOne is on: request 1, or whole GPUs for more",
                edits,
            )


_MEMORY_HINT = "gpukit.io/gpu-memory"
# Which kind of workload an object most likely is, when no workload file says.
_KIND_OF = {
    "Deployment": "inference", "StatefulSet": "inference", "ReplicaSet": "inference",
    "LeaderWorkerSet": "inference", "RayService": "inference", "Job": "batch-inference",
    "CronJob": "batch-inference", "Pod": "interactive", "PyTorchJob": "training",
    "TrainJob": "training", "JobSet": "training", "MPIJob": "training", "RayJob": "batch-inference",
}
_DNS = re.compile(r"[^a-z0-9-]+")


def _workload(doc: Doc, site: PodSite, ctx: Context) -> tuple[Any, str] | None:
    from gpukit.workload import Workload

    found = ctx.workload_for(doc)
    if found is not None:
        return found, f"workload {found.name!r}"
    hint = site.annotations.get(_MEMORY_HINT, doc.annotations.get(_MEMORY_HINT))
    if hint is None:
        return None
    name = _DNS.sub("-", (doc.name or "workload").lower()).strip("-")[:63] or "workload"
    try:
        made = Workload(name=name, kind=_KIND_OF.get(doc.kind or "", "inference"), gpu_memory=hint)
    except (GpukitError, ValueError):
        return None
    return made, f"annotation {_MEMORY_HINT}: {hint}"


@rule("GPU007", "warning", "whole-gpu-for-small-workload",
      "a whole GPU for a workload whose memory need (workload file or gpukit.io/gpu-memory "
      "annotation) fits a MIG slice or a shared GPU", fixable=True, needs="workloads")
def whole_gpu_small(doc: Doc, ctx: Context) -> Iterator[Hit]:
    """The fix (resource and node selector) is the plan on the lint run's fleet, so it is
    offered only with a fleet and names it; without one the finding says to give one."""
    for site in doc.pods:
        if site.spec_loc is None or selects_shared(site) or selects_mig_slice(site):
            continue
        whole = [c for c in site.app_containers if c.gpu_names == [GPU] and c.gpu_amount(GPU) == 1]
        if len(whole) != 1 or len(site.gpu_containers) != 1:
            continue
        found = _workload(doc, site, ctx)
        if found is None:
            continue
        workload, source = found
        if workload.is_distributed or (workload.gpus or 1) > 1:
            continue
        from gpukit.advisor import plan
        from gpukit.fleet import default_fleet
        from gpukit.manifests.workloads import node_selector

        # Without a fleet, gpukit's default fleet only decides whether the need is small.
        fleet = ctx.fleet or default_fleet()
        try:
            chosen = plan(workload, fleet)
        except (GpukitError, ValueError):
            continue
        if chosen.sharing == "dedicated" or not chosen.memory.known:
            continue
        c = whole[0]
        at = (*c.resources_loc, "limits" if GPU in c.limits else "requests", GPU)
        need = format_gib(chosen.memory.bytes or 0)
        if ctx.fleet is None:
            yield Hit(
                at,
                f"a whole GPU for a workload that needs {need} ({source}), which fits a MIG slice "
                "or a GPU share: lint with the cluster's fleet (--fleet FLEET.yaml) for the "
                "resource and node selector to request there",
            )
            continue
        resource = chosen.choice.resource_name
        edits: list[Edit] = []
        if resource != GPU:
            edits += [
                Edit(op="rename", loc=(*c.resources_loc, section, GPU), value=resource)
                for section, values in (("limits", c.limits), ("requests", c.requests))
                if GPU in values
            ]
        selector = node_selector(chosen)
        for key, value in selector.items():
            edits.append(Edit(op="set", loc=(*site.spec_loc, "nodeSelector", key), value=value))
        yield Hit(
            at,
            f"a whole GPU for a workload that needs {need} ({source}); on fleet {fleet.name!r} "
            f"gpukit plans {chosen.choice.label}: request {resource}: 1 on that pool instead",
            tuple(edits),
        )


@rule("GPU008", "error", "gpus-exceed-node",
      "a pod that needs more GPUs of a kind than any node of the fleet has", needs="fleet")
def gpus_exceed_node(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if ctx.fleet is None:
        return
    for site in doc.pods:
        names = {n for c in site.containers for n in c.gpu_names}
        for name in sorted(names):
            need = site.gpus(name)
            pools = pools_for(ctx.pools, site, name)
            if not pools or need <= 0:
                continue
            best = max(p.gpus_per_node * pool_units(p, name) for p in pools)
            if need > best:
                c = next(c for c in site.containers if name in c.gpu_names)
                yield Hit(
                    (*c.resources_loc, "limits" if name in c.limits else "requests", name),
                    f"one pod of {site.title} needs {need} {name} but the largest matching node in "
                    f"fleet {ctx.fleet.name!r} offers {best}; it can never schedule: spread the work "
                    f"over more pods of at most {best} each",
                )


_VISIBLE = "NVIDIA_VISIBLE_DEVICES"


@rule("GPU009", "warning", "gpus-visible-without-request",
      "NVIDIA_VISIBLE_DEVICES set in a container that requests no GPU (it bypasses the scheduler)",
      fixable=True)
def visible_devices(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if doc.kind == "DaemonSet":
        return  # node agents (monitoring, the device plugin itself) legitimately see every GPU
    for _, c in _containers(doc):
        if c.gpu_names or c.resources_key != "resources":
            continue
        for i, env in enumerate(as_list(c.data.get("env"))):
            env = as_map(env)
            value = env.get("value")
            if env.get("name") != _VISIBLE or not isinstance(value, str):
                continue
            if value.strip().lower() in ("", "void", "none"):
                continue
            yield Hit(
                (*c.loc, "env", i),
                f"container {c.name!r} sets {_VISIBLE}={value} without requesting a GPU: it uses "
                "GPUs the scheduler has given to other pods; request nvidia.com/gpu instead and "
                "remove the variable",
                (Edit(op="delete", loc=(*c.loc, "env", i)),),
            )


_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _unpinned(image: str) -> bool:
    if _DIGEST.search(image):
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


@rule("GPU012", "warning", "gpu-image-unpinned",
      "a ':latest' or untagged image on a GPU pod")
def image_unpinned(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for site in doc.pods:
        if not site.uses_gpu:
            continue
        for c in site.containers:
            image = c.image
            if image and _unpinned(image.strip()):
                yield Hit(
                    (*c.loc, "image"),
                    f"image {image!r} is not pinned; CUDA images must match the node's driver and "
                    "'latest' changes under you between pulls: pin a version tag or a digest",
                )


@rule("GPU013", "warning", "gpu-pod-without-cpu-memory",
      "a GPU container with no CPU or memory request")
def cpu_memory(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for _, c in _containers(doc):
        if not c.uses_gpu:
            continue
        missing = [r for r in ("cpu", "memory") if r not in c.requests and r not in c.limits]
        if missing:
            what = " and ".join(missing)
            yield Hit(
                c.resources_loc,
                f"container {c.name!r} requests GPUs but no {what}; the scheduler may pack it "
                f"next to pods that starve the GPU of data (and it gets evicted first): set "
                f"requests.{missing[0]}" + (f" and requests.{missing[1]}" if len(missing) > 1 else ""),
            )


@rule("GPU020", "warning", "privileged-gpu-container",
      "a privileged container that requests GPUs (it sees every GPU on the node)")
def privileged(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for _, c in _containers(doc):
        context = as_map(c.data.get("securityContext"))
        if c.uses_gpu and context.get("privileged") is True:
            yield Hit(
                (*c.loc, "securityContext", "privileged"),
                f"container {c.name!r} is privileged: it sees every GPU on the node, not only the "
                "ones it was given, and can disturb other pods' GPUs; drop privileged and add only "
                "the capabilities it needs",
            )
