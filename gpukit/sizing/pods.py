"""Pods that run today -> workloads to size: kind from owners and labels, GPUs from requests.

Input: a PodList (``kubectl get pods -A -o json``; streamed item by item, so a list of
any length is read within the per-item limits), JSON Lines of pods, a YAML List, or the
live cluster's pods (:func:`live_pods`, through :mod:`gpukit.kube`).

Each GPU pod is grouped with the other pods of its owner (a Deployment's ReplicaSets, a
StatefulSet, a Job, a training job's replicas ...) into one :class:`~gpukit.Workload`:

- kind: the ``gpukit.io/kind`` label if set; else from the owner and labels (the rules in
  :data:`KIND_RULES`, first match wins);
- GPUs: ``nvidia.com/gpu`` (whole GPUs), ``nvidia.com/mig-<profile>`` (a MIG slice: strict
  isolation, the slice's memory), ``nvidia.com/gpu.shared`` (a time-sliced share);
- GPU memory: the measured peak (:mod:`gpukit.sizing.usage`) when given, else the
  ``gpukit.io/gpu-memory`` annotation, else what the request implies;
- priority: latency for Guaranteed pods or a high / production priority class, cost and
  preemptible for BestEffort pods, negative priorities or a low / preemptible class.

The running pods of one training Job (or of a training operator's job) are one distributed
job: its workers. Pods of serving owners are replicas. Pods that ask for no GPU, and pods
that finished (Succeeded, Failed), are counted, not sized.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpukit import vocab
from gpukit.advisor import HEADROOM
from gpukit.errors import InputError, ManifestError
from gpukit.quantity import format_bytes, parse_quantity
from gpukit.workload import KINDS, Workload

__all__ = ["KIND_RULES", "PodWorkloads", "live_pods", "load_pods", "workloads_from_pods"]

Obj = dict[str, Any]

GPU = vocab.GPU
SHARED = vocab.GPU_SHARED
MIG_PREFIX = vocab.MIG_RESOURCE_PREFIX
KIND_LABEL = "gpukit.io/kind"
MEMORY_ANNOTATION = "gpukit.io/gpu-memory"

#: Labels that name a job of pods that run together (gang), checked in this order. Each is
#: the label the project's controller puts on the pods it creates: Kubeflow Training
#: Operator's JobNameLabel (PyTorchJob, TFJob, MPIJob ...), Volcano's JobNameKey, JobSet's
#: jobset-name label (also Kubeflow Trainer v2 TrainJobs, which run as JobSets), LWS's name.
GANG_LABELS = (
    ("training.kubeflow.org/job-name", "Kubeflow training job"),
    ("volcano.sh/job-name", "Volcano Job"),
    ("jobset.sigs.k8s.io/jobset-name", "JobSet"),
    ("leaderworkerset.sigs.k8s.io/name", "LeaderWorkerSet"),
)

#: (owner kind or label, name pattern or None, workload kind): first match wins.
KIND_RULES: tuple[tuple[str, str | None, str], ...] = (
    ("Kubeflow training job", None, "training"),
    ("Volcano Job", None, "training"),
    ("JobSet", None, "training"),
    ("LeaderWorkerSet", None, "inference"),
    ("Notebook", None, "interactive"),
    ("RayCluster", None, "batch-inference"),
    ("Job", r"infer|score|embed|batch|predict|eval", "batch-inference"),
    ("Job", r"tune|lora|sft|finetun", "fine-tuning"),
    ("Job", r"(^|-)(ci|test|tests|runner)(-|$)", "ci"),
    ("Job", None, "training"),
    ("Deployment", None, "inference"),
    ("StatefulSet", None, "inference"),
    ("DaemonSet", None, "inference"),
    ("ReplicaSet", None, "inference"),
    ("Pod", r"(^|-)(ci|test|tests|runner)(-|$)", "ci"),
    ("Pod", r"infer|serve|serving", "inference"),
    ("Pod", None, "interactive"),
)

_HIGH_CLASS = re.compile(r"high|critical|prod|serving|latency")
_LOW_CLASS = re.compile(r"\blow\b|(?<!non-)(?<!no-)preemptible|best-?effort|spot|batch|scavenger")
_FINISHED = frozenset({"Succeeded", "Failed"})
_MIB = 1024 * 1024


@dataclass(frozen=True)
class PodWorkloads:
    """Workloads built from pods, and what was left out and assumed."""

    workloads: tuple[Workload, ...]
    measured: frozenset[str]  # workloads sized on measured GPU memory
    sources: Mapping[str, str]  # workload -> "namespace/Owner name (n pods)"
    pods: int
    gpu_pods: int
    skipped: Mapping[str, int] = field(default_factory=dict)  # reason -> pods
    notes: tuple[str, ...] = ()


def load_pods(source: str | Path) -> Iterator[Obj]:
    """Pods from a file ('-' for standard input): a PodList (JSON or YAML), or JSON Lines."""
    import contextlib
    import io
    import sys

    from gpukit._yaml import (
        _CHUNK,
        _looks_like_json_lines,
        _Rejoined,
        stream_documents,
        stream_json_items,
        stream_json_lines,
        stream_source,
    )

    if str(source) != "-" and Path(source).suffix.lower() in (".yaml", ".yml", ".jsonl", ".ndjson"):
        yield from _pods_of(_docs(stream_source(source)), str(source))
        return
    with contextlib.ExitStack() as stack:
        if str(source) == "-":
            label = "<stdin>"
            raw = getattr(sys.stdin, "buffer", None)
            handle: Any = (
                io.TextIOWrapper(raw, encoding="utf-8-sig") if raw is not None else sys.stdin
            )
        else:
            label = str(source)
            try:
                handle = stack.enter_context(Path(source).open(encoding="utf-8-sig"))
            except FileNotFoundError:
                raise ManifestError(f"{label}: no such file; check the path") from None
            except OSError as exc:
                raise ManifestError(f"{label}: cannot be read ({exc.strerror or exc})") from None
        if str(source) == "-" and handle is not sys.stdin:
            # Leave standard input open for whoever reads it next.
            stack.callback(handle.detach)
        try:
            head = handle.read(_CHUNK)
        except UnicodeDecodeError:
            raise ManifestError(f"{label}: not UTF-8 text; give a JSON or YAML file") from None
        rest = _Rejoined(head, handle)
        stripped = head.lstrip()
        if _looks_like_json_lines(head):
            yield from _pods_of((d.value for d in stream_json_lines(label, rest)), label)
        elif stripped.startswith(("{", "[")):
            yield from _pods_of(stream_json_items(label, rest), label)
        else:
            yield from _pods_of((d.value for d in stream_documents(label, rest)), label)


def _docs(loaded: Iterable[tuple[str, Any]]) -> Iterator[Any]:
    for _, doc in loaded:
        yield doc.value


def _pods_of(docs: Iterable[Any], label: str) -> Iterator[Obj]:
    for doc in docs:
        if doc is None:
            continue
        if isinstance(doc, dict) and doc.get("kind") in ("List", "PodList"):
            items = doc.get("items") or []
        else:
            items = [doc]
        for item in items:
            if not isinstance(item, dict):
                raise InputError(f"{label}: expected Pod objects, got {type(item).__name__}")
            kind = item.get("kind", "Pod")
            if kind != "Pod":
                raise InputError(
                    f"{label}: expected Pods, got a {kind}; give `kubectl get pods -A -o json`"
                )
            yield item


def live_pods(context: str | None = None) -> list[Obj]:
    """Every pod of the current cluster (or kubeconfig ``context``), all namespaces."""
    from gpukit import kube

    with kube.connect(context) as cluster:
        items, _ = cluster.list(cluster.resource("v1", "Pod"))
    return items


# -- one pod ---------------------------------------------------------------------------------


@dataclass
class _Pod:
    namespace: str
    name: str
    owner_kind: str
    owner: str
    gpus: int
    mig: str | None
    shared: int
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    qos: str | None
    priority_class: str
    priority: int | None


def _requests(pod: Obj) -> dict[str, int]:
    """GPU resources the pod holds: containers summed, init containers as their maximum."""
    spec = pod.get("spec") or {}

    def of(container: Obj) -> dict[str, int]:
        res = container.get("resources") or {}
        merged = {**(res.get("requests") or {}), **(res.get("limits") or {})}
        out = {}
        for key, value in merged.items():
            if key == GPU or key == SHARED or key.startswith(MIG_PREFIX):
                try:
                    out[key] = int(parse_quantity(value))
                except ValueError:
                    where = f"pod {pod.get('metadata', {}).get('name')!r}"
                    raise InputError(f"{where}: {key} {value!r} is not a count") from None
        return out

    total: dict[str, int] = defaultdict(int)
    for c in spec.get("containers") or []:
        for k, v in of(c).items():
            total[k] += v
    for c in spec.get("initContainers") or []:
        for k, v in of(c).items():
            total[k] = max(total[k], v)
    return {k: v for k, v in total.items() if v}


def _owner(pod: Obj) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    for label, kind in GANG_LABELS:
        if labels.get(label):
            return kind, labels[label]
    if labels.get("notebook-name"):
        return "Notebook", labels["notebook-name"]
    if labels.get("ray.io/cluster"):
        return "RayCluster", labels["ray.io/cluster"]
    refs = meta.get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if ref is None:
        return "Pod", meta.get("name", "pod")
    kind, name = ref.get("kind", "Pod"), ref.get("name", "")
    template_hash = labels.get("pod-template-hash")
    if kind == "ReplicaSet" and template_hash and name.endswith("-" + template_hash):
        return "Deployment", name[: -len(template_hash) - 1]
    return kind, name


def _pod(item: Obj) -> _Pod | str:
    """The pod's facts, or why it is not sized."""
    meta = item.get("metadata") or {}
    status = item.get("status") or {}
    if status.get("phase") in _FINISHED:
        return "finished (Succeeded or Failed)"
    req = _requests(item)
    if not req:
        return "no GPU requested"
    mig = [k for k in req if k.startswith(MIG_PREFIX)]
    kind, owner = _owner(item)
    spec = item.get("spec") or {}
    return _Pod(
        namespace=meta.get("namespace") or "default",
        name=meta.get("name", ""),
        owner_kind=kind,
        owner=owner,
        gpus=req.get(GPU, 0),
        mig=mig[0].removeprefix(MIG_PREFIX).removesuffix(".shared") if mig else None,
        shared=req.get(SHARED, 0) + sum(req[k] for k in mig if k.endswith(".shared")),
        labels=meta.get("labels") or {},
        annotations=meta.get("annotations") or {},
        qos=status.get("qosClass"),
        priority_class=spec.get("priorityClassName") or "",
        priority=spec.get("priority"),
    )


def _kind(p: _Pod) -> str:
    given = p.labels.get(KIND_LABEL) or p.annotations.get(KIND_LABEL)
    if given:
        if given not in KINDS:
            raise InputError(
                f"pod {p.namespace}/{p.name}: label {KIND_LABEL}={given!r} is not a kind; "
                f"use one of {', '.join(KINDS)}"
            )
        return given
    for owner_kind, pattern, kind in KIND_RULES:
        if owner_kind == p.owner_kind and (pattern is None or re.search(pattern, p.owner.lower())):
            return kind
    return "training" if p.owner_kind.endswith("Job") else "inference"


def _name(namespace: str, owner: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", f"{namespace}-{owner}".lower()).strip("-") or "pod"
    if len(base) > 63:
        digest = hashlib.sha1(base.encode()).hexdigest()[:8]
        base = base[:54].rstrip("-") + "-" + digest
    name, n = base, 1
    while name in used:
        n += 1
        suffix = f"-{n}"
        name = base[: 63 - len(suffix)].rstrip("-") + suffix
    used.add(name)
    return name


def workloads_from_pods(
    pods: Iterable[Obj],
    usage: Mapping[tuple[str, str], int] | None = None,
) -> PodWorkloads:
    """One workload per owner and GPU request shape; ``usage``: (namespace, pod) -> peak bytes.

    With ``usage``, a pod's GPU memory is its measured peak (the planner adds its headroom);
    whole-GPU pods that are not training then may share. Without it, whole-GPU pods stay
    whole GPUs: a request for ``nvidia.com/gpu`` says how many GPUs a pod holds, not how much
    of them it uses.
    """
    from gpukit.hardware import catalog

    usage = usage or {}
    groups: dict[tuple[object, ...], list[_Pod]] = {}
    skipped: dict[str, int] = defaultdict(int)
    total = 0
    for item in pods:
        total += 1
        p = _pod(item)
        if isinstance(p, str):
            skipped[p] += 1
            continue
        key = (p.namespace, p.owner_kind, p.owner, p.gpus, p.mig, p.shared)
        groups.setdefault(key, []).append(p)

    profiles = {prof.name: prof.memory_bytes for model in catalog() for prof in model.profiles}
    workloads: list[Workload] = []
    measured: set[str] = set()
    sources: dict[str, str] = {}
    used: set[str] = set()
    gpu_pods = 0
    whole_unmeasured = 0
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        members = groups[key]
        first = members[0]
        gpu_pods += len(members)
        kind = _kind(first)
        peaks = [usage[(m.namespace, m.name)] for m in members if (m.namespace, m.name) in usage]
        peak = max(peaks) if peaks else None
        doc: dict[str, Any] = {"kind": kind, "namespace": first.namespace}
        gang = first.owner_kind in {k for _, k in GANG_LABELS[:3]} or (
            kind in ("training", "fine-tuning") and len(members) > 1 and first.owner_kind == "Job"
        )
        if gang and len(members) > 1:
            doc["workers"] = len(members)
        elif len(members) > 1:
            doc["replicas"] = len(members)
        memory = peak
        if first.mig is not None:
            doc["isolation"] = "strict"
            if memory is None and first.mig in profiles:
                memory = int(profiles[first.mig] / (1 + HEADROOM)) // _MIB * _MIB
        elif first.gpus:
            trains = kind in ("training", "fine-tuning") or "workers" in doc
            if peak is None or trains or first.gpus > 1:
                doc["gpus"] = first.gpus
                if peak is None and not trains and first.gpus == 1:
                    whole_unmeasured += len(members)
        else:
            doc["isolation"] = "none"
        annotated = first.annotations.get(MEMORY_ANNOTATION)
        if memory is None and annotated:
            memory = int(parse_quantity(annotated))
        if memory is not None and "gpus" not in doc:
            doc["gpu_memory"] = format_bytes(max(memory, _MIB) // _MIB * _MIB)
        priority, preemptible = _priority(first, kind)
        if priority:
            doc["priority"] = priority
        if preemptible:
            doc["preemptible"] = True
        name = _name(first.namespace, first.owner, used)
        doc["name"] = name
        try:
            workload = Workload.model_validate(doc)
        except ValueError as exc:
            raise InputError(f"pods of {first.namespace}/{first.owner}: {exc}") from None
        workloads.append(workload)
        if peak is not None and "gpus" not in doc:
            measured.add(name)
        sources[name] = f"{first.namespace}/{first.owner_kind} {first.owner} ({len(members)} pods)"

    notes = [
        f"{total} pods read: {gpu_pods} GPU pods in {len(workloads)} workloads"
        + "".join(f"; {n} {why}, not sized" for why, n in sorted(skipped.items()))
    ]
    if usage:
        notes.append(
            f"{sum(1 for w in workloads if w.name in measured)} workloads sized on measured "
            f"peak GPU memory (DCGM_FI_DEV_FB_USED) plus gpukit's {HEADROOM:.0%} headroom"
        )
    if whole_unmeasured:
        notes.append(
            f"{whole_unmeasured} whole-GPU pods without measured GPU memory are sized as whole "
            "GPUs: a request for nvidia.com/gpu says how many GPUs a pod holds, not how much of "
            "them it uses; give --prometheus URL or --metrics FILE (DCGM exporter's "
            "DCGM_FI_DEV_FB_USED) to size them on their measured peak"
        )
    return PodWorkloads(
        workloads=tuple(workloads),
        measured=frozenset(measured),
        sources=sources,
        pods=total,
        gpu_pods=gpu_pods,
        skipped=dict(skipped),
        notes=tuple(notes),
    )


def _priority(p: _Pod, kind: str) -> tuple[str | None, bool]:
    cls = p.priority_class.lower()
    if (
        (p.priority is not None and p.priority < 0)
        or _LOW_CLASS.search(cls)
        or p.qos == "BestEffort"
    ):
        return "cost", True
    if _HIGH_CLASS.search(cls) or (p.qos == "Guaranteed" and kind == "inference"):
        return "latency", False
    return None, False
