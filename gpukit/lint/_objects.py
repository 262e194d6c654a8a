"""Views over loaded documents: what kind of thing each is, and where its pods and GPUs are.

Every accessor tolerates any shape (a list where a mapping belongs, a number where a name
belongs): lint must report on broken manifests, never crash on them.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

from gpukit import vocab
from gpukit._yaml import Loaded
from gpukit.quantity import parse_quantity

__all__ = [
    "GPU",
    "GPU_SHARED",
    "GPU_TAINT",
    "MIG_PREFIX",
    "Container",
    "Doc",
    "PodSite",
    "as_int",
    "as_list",
    "as_map",
    "gpu_resource_kind",
    "mig_profile_of",
    "quantity",
    "queue_label",
]

GPU = vocab.GPU
GPU_SHARED = vocab.GPU_SHARED
MIG_PREFIX = vocab.MIG_RESOURCE_PREFIX
GPU_TAINT = vocab.GPU_TAINT
PRODUCT_LABEL = vocab.GPU_PRODUCT_LABEL
QUEUE_LABEL = vocab.KUEUE_QUEUE_LABEL

Loc = tuple[Any, ...]

# Quantities with exponents beyond this are nonsense for GPUs and slow to compute exactly.
_MAX_EXPONENT = 30
_EXPONENT = re.compile(r"[eE]([+-]?\d+)$")


def as_map(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_int(value: Any, default: int) -> int:
    """An integer field, or ``default`` when it is missing or not an integer."""
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def quantity(value: Any) -> Fraction | None:
    """The exact value of a Kubernetes quantity, or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return _text_quantity(value)
    if not isinstance(value, (int, float)):
        return None
    try:
        return parse_quantity(value)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


@functools.lru_cache(maxsize=4096)
def _text_quantity(value: str) -> Fraction | None:
    match = _EXPONENT.search(value.strip())
    if match and abs(int(match.group(1))) > _MAX_EXPONENT:
        return None
    try:
        return parse_quantity(value)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def gpu_resource_kind(name: Any) -> str | None:
    """'gpu', 'shared' (a time-sliced or MPS replica under a .shared name), 'mig', or None."""
    if not isinstance(name, str):
        return None
    if name == GPU:
        return "gpu"
    if name == GPU_SHARED:
        return "shared"
    if name.startswith(MIG_PREFIX) and len(name) > len(MIG_PREFIX):
        return "mig"
    return None


def mig_profile_of(name: str) -> str:
    """'nvidia.com/mig-1g.10gb.me.shared' -> '1g.10gb.me' (catalog lookups accept either form)."""
    return name.removeprefix(MIG_PREFIX).removesuffix(".shared")


@dataclass
class Container:
    """A container, or a container-like block (a TrainJob's trainer) with GPU resources."""

    loc: Loc
    data: dict[Any, Any]
    resources_key: str = "resources"
    init: bool = False
    _amounts: dict[str, Fraction | None] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        fallback = "trainer" if self.resources_key == "resourcesPerNode" else "?"
        return as_str(self.data.get("name")) or fallback

    @property
    def resources_loc(self) -> Loc:
        return (*self.loc, self.resources_key)

    @property
    def resources(self) -> dict[Any, Any]:
        return as_map(self.data.get(self.resources_key))

    @property
    def limits(self) -> dict[Any, Any]:
        return as_map(self.resources.get("limits"))

    @property
    def requests(self) -> dict[Any, Any]:
        return as_map(self.resources.get("requests"))

    @cached_property
    def gpu_names(self) -> list[str]:
        """GPU resource names in limits or requests, in order of first appearance."""
        names: list[str] = []
        for section in (self.limits, self.requests):
            for key in section:
                if gpu_resource_kind(key) and key not in names:
                    names.append(key)
        return names

    def gpu_amount(self, name: str) -> Fraction | None:
        """The amount the scheduler counts: the limit, else the request."""
        if name not in self._amounts:
            limits = self.limits
            self._amounts[name] = quantity(limits[name] if name in limits else self.requests.get(name))
        return self._amounts[name]

    @cached_property
    def uses_gpu(self) -> bool:
        return any((self.gpu_amount(n) or 0) > 0 for n in self.gpu_names)

    @property
    def image(self) -> str | None:
        return as_str(self.data.get("image"))


@dataclass
class PodSite:
    """Where a pod template sits in an object, and how many pods it stands for."""

    role: str
    spec_loc: Loc | None  # None: the object describes pods without a PodSpec (TrainJob)
    spec: dict[Any, Any]
    meta_loc: Loc | None
    meta: dict[Any, Any]
    replicas: int
    containers: list[Container] = field(default_factory=list)

    @property
    def title(self) -> str:
        """How messages name the pods: 'the pod', 'the Worker pods', 'the task ps pods'."""
        return "the pod" if self.role == "pod" else f"the {self.role} pods"

    @property
    def app_containers(self) -> list[Container]:
        return [c for c in self.containers if not c.init]

    @property
    def gpu_containers(self) -> list[Container]:
        return [c for c in self.containers if c.uses_gpu]

    @cached_property
    def uses_gpu(self) -> bool:
        return any(c.uses_gpu for c in self.containers)

    def gpus(self, name: str) -> Fraction:
        """Units of resource ``name`` the pod needs: app containers add up, init ones overlap."""
        app = sum((c.gpu_amount(name) or 0 for c in self.app_containers), Fraction(0))
        init = max((c.gpu_amount(name) or 0 for c in self.containers if c.init), default=0)
        return max(app, Fraction(init))

    @property
    def labels(self) -> dict[Any, Any]:
        return as_map(self.meta.get("labels"))

    @property
    def annotations(self) -> dict[Any, Any]:
        return as_map(self.meta.get("annotations"))

    @property
    def node_selector(self) -> dict[Any, Any]:
        return as_map(self.spec.get("nodeSelector"))

    def selected_labels(self) -> dict[str, set[str] | None]:
        """Node labels the pod requires: nodeSelector, and required node affinity 'In'/'Exists'."""
        out: dict[str, set[str] | None] = {}
        for key, value in self.node_selector.items():
            if isinstance(key, str):
                out[key] = {str(value)}
        affinity = as_map(as_map(self.spec.get("affinity")).get("nodeAffinity"))
        required = as_map(affinity.get("requiredDuringSchedulingIgnoredDuringExecution"))
        for term in as_list(required.get("nodeSelectorTerms")):
            for expr in as_list(as_map(term).get("matchExpressions")):
                expr = as_map(expr)
                key, op = expr.get("key"), expr.get("operator")
                if not isinstance(key, str):
                    continue
                if op == "In":
                    out[key] = {str(v) for v in as_list(expr.get("values"))}
                elif op == "Exists":
                    out.setdefault(key, None)
        return out

    @property
    def scheduler(self) -> str | None:
        return as_str(self.spec.get("schedulerName"))


# Kinds whose pod template is spec.template, with spec.replicas (or parallelism) pods.
_TEMPLATE_KINDS = {
    "Deployment": "replicas",
    "StatefulSet": "replicas",
    "ReplicaSet": "replicas",
    "ReplicationController": "replicas",
    "DaemonSet": None,
    "Job": "parallelism",
}

#: Kinds whose pods form one distributed job (all must run for any to make progress).
DISTRIBUTED_KINDS = frozenset(
    {"PyTorchJob", "TFJob", "MPIJob", "PaddleJob", "XGBoostJob", "JAXJob", "MXJob", "JobSet",
     "TrainJob", "TrainingRuntime", "ClusterTrainingRuntime", "LeaderWorkerSet"}
)

#: Kinds that run batch work: the ones a queue or gang scheduler should admit.
BATCH_KINDS = frozenset(
    {"Job", "CronJob", "JobSet", "TrainJob", "RayJob", "MPIJob", "PyTorchJob", "TFJob",
     "PaddleJob", "XGBoostJob", "JAXJob", "MXJob"}
)


@dataclass
class Doc:
    """One object or config to lint: where it came from and what it is."""

    file: str
    index: int
    obj: Any
    loaded: Loaded | None = field(default=None, repr=False)
    base: Loc = ()  # where the object sits in its YAML document (List items)
    embed: Loc = ()  # the string that holds it, when it is a nested document
    outer: Loaded | None = field(default=None, repr=False)  # the document holding that string
    owner: Doc | None = field(default=None, repr=False)  # the object holding that string

    @property
    def data(self) -> dict[Any, Any]:
        return as_map(self.obj)

    @property
    def kind(self) -> str | None:
        return as_str(self.data.get("kind"))

    @property
    def api_version(self) -> str:
        return as_str(self.data.get("apiVersion")) or ""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    @property
    def metadata(self) -> dict[Any, Any]:
        return as_map(self.data.get("metadata"))

    @property
    def name(self) -> str | None:
        name = self.metadata.get("name")
        return str(name) if isinstance(name, (str, int)) and not isinstance(name, bool) else None

    @property
    def namespace(self) -> str | None:
        return as_str(self.metadata.get("namespace"))

    @property
    def labels(self) -> dict[Any, Any]:
        return as_map(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[Any, Any]:
        return as_map(self.metadata.get("annotations"))

    @property
    def spec(self) -> dict[Any, Any]:
        return as_map(self.data.get("spec"))

    @property
    def is_object(self) -> bool:
        return bool(self.kind) and bool(self.api_version)

    @cached_property
    def category(self) -> str:
        """'object', 'device-plugin', 'mig-parted', 'operator-values' or 'other'."""
        data = self.data
        if self.is_object:
            return "object"
        if not data:
            return "other"
        if "mig-configs" in data:
            return "mig-parted"
        if "sharing" in data or ("flags" in data and "version" in data):
            return "device-plugin"
        if len(_OPERATOR_KEYS.intersection(k for k in data if isinstance(k, str))) >= 2:
            return "operator-values"
        return "other"

    @cached_property
    def pods(self) -> list[PodSite]:
        """Every pod template in the object, with how many pods each stands for."""
        if not self.is_object:
            return []
        return list(_pod_sites(self))

    @cached_property
    def uses_gpu(self) -> bool:
        return any(p.uses_gpu for p in self.pods)

    @property
    def is_distributed(self) -> bool:
        """Pods that only make progress together: a multi-pod training job or serving group."""
        if self.total_pods < 2:
            return False
        if self.kind in DISTRIBUTED_KINDS or self.group == "batch.volcano.sh":
            return True
        return (
            self.kind == "Job"
            and self.group == "batch"
            and self.spec.get("completionMode") == "Indexed"
        )

    @property
    def gpu_pods(self) -> int:
        """Pods of this object that request GPUs."""
        return sum(p.replicas for p in self.pods if p.uses_gpu)

    @property
    def total_pods(self) -> int:
        return sum(p.replicas for p in self.pods)


_OPERATOR_KEYS = frozenset(
    {"operator", "driver", "toolkit", "devicePlugin", "dcgmExporter", "dcgm", "gfd", "migManager",
     "mig", "nfd", "node-feature-discovery", "validator", "vgpuManager", "sandboxWorkloads", "cdi"}
)


def _site(role: str, loc: Loc, template: Any, replicas: int) -> PodSite | None:
    """A site for a PodTemplateSpec at ``loc``."""
    template = as_map(template)
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return None
    return _spec_site(role, (*loc, "spec"), spec, (*loc, "metadata"), as_map(template.get("metadata")), replicas)


def _spec_site(role: str, spec_loc: Loc, spec: dict[Any, Any], meta_loc: Loc | None,
               meta: dict[Any, Any], replicas: int) -> PodSite:
    containers = []
    for key, init in (("initContainers", True), ("containers", False)):
        for i, c in enumerate(as_list(spec.get(key))):
            if isinstance(c, dict):
                containers.append(Container((*spec_loc, key, i), c, init=init))
    return PodSite(role, spec_loc, spec, meta_loc, meta, max(replicas, 0), containers)


def _pod_sites(doc: Doc):
    kind, group, spec = doc.kind, doc.group, doc.spec
    if kind == "Pod" and not group:
        yield _spec_site("pod", ("spec",), spec, ("metadata",), doc.metadata, 1)
        return
    if kind == "PodTemplate" and not group:
        site = _site("template", ("template",), doc.data.get("template"), 1)
        if site:
            yield site
        return
    if kind in _TEMPLATE_KINDS and group in ("", "apps", "batch", "extensions"):
        field_name = _TEMPLATE_KINDS[kind]
        replicas = as_int(spec.get(field_name), 1) if field_name else 1
        site = _site(kind.lower(), ("spec", "template"), spec.get("template"), replicas)
        if site:
            yield site
        return
    if kind == "CronJob" and group == "batch":
        job = as_map(as_map(spec.get("jobTemplate")).get("spec"))
        site = _site("job", ("spec", "jobTemplate", "spec", "template"), job.get("template"),
                     as_int(job.get("parallelism"), 1))
        if site:
            yield site
        return
    if group in ("batch.volcano.sh", "flow.volcano.sh"):
        base: Loc = ("spec",)
        job = spec
        if kind == "CronJob":
            base = ("spec", "jobTemplate", "spec")
            job = as_map(as_map(spec.get("jobTemplate")).get("spec"))
        for i, task in enumerate(as_list(job.get("tasks"))):
            task = as_map(task)
            name = as_str(task.get("name")) or str(i)
            site = _site(f"task {name}", (*base, "tasks", i, "template"), task.get("template"),
                         as_int(task.get("replicas"), 1))
            if site:
                yield site
        return
    if group == "kubeflow.org":
        for key, specs in spec.items():
            if isinstance(key, str) and key.endswith("ReplicaSpecs"):
                for role, rs in as_map(specs).items():
                    rs = as_map(rs)
                    site = _site(str(role), ("spec", key, role, "template"), rs.get("template"),
                                 as_int(rs.get("replicas"), 1))
                    if site:
                        yield site
        return
    if group == "jobset.x-k8s.io" and kind == "JobSet":
        yield from _replicated_jobs(("spec",), spec, None)
        return
    if group == "trainer.kubeflow.org" and kind in ("TrainingRuntime", "ClusterTrainingRuntime"):
        nodes = as_int(as_map(spec.get("mlPolicy")).get("numNodes"), 1)
        template = as_map(as_map(spec.get("template")).get("spec"))
        yield from _replicated_jobs(("spec", "template", "spec"), template, nodes)
        return
    if group == "trainer.kubeflow.org" and kind == "TrainJob":
        trainer = spec.get("trainer")
        if isinstance(trainer, dict):
            nodes = as_int(trainer.get("numNodes"), 1)
            site = PodSite("trainer", None, {}, None, {}, max(nodes, 0))
            site.containers.append(Container(("spec", "trainer"), trainer, "resourcesPerNode"))
            yield site
        return
    if group == "leaderworkerset.x-k8s.io" and kind == "LeaderWorkerSet":
        lwt = as_map(spec.get("leaderWorkerTemplate"))
        groups = as_int(spec.get("replicas"), 1)
        size = as_int(lwt.get("size"), 1)
        has_leader = isinstance(lwt.get("leaderTemplate"), dict)
        base = ("spec", "leaderWorkerTemplate")
        if has_leader:
            site = _site("leader", (*base, "leaderTemplate"), lwt.get("leaderTemplate"), groups)
            if site:
                yield site
        workers = groups * (size - 1 if has_leader else size)
        site = _site("worker", (*base, "workerTemplate"), lwt.get("workerTemplate"), workers)
        if site:
            yield site
        return
    if group == "ray.io":
        cluster_key = {"RayCluster": None, "RayJob": "rayClusterSpec", "RayService": "rayClusterConfig"}
        if kind not in cluster_key:
            return
        base = ("spec",) if cluster_key[kind] is None else ("spec", cluster_key[kind])
        cluster = spec if cluster_key[kind] is None else as_map(spec.get(cluster_key[kind]))
        head = as_map(cluster.get("headGroupSpec"))
        site = _site("head", (*base, "headGroupSpec", "template"), head.get("template"), 1)
        if site:
            yield site
        for i, grp in enumerate(as_list(cluster.get("workerGroupSpecs"))):
            grp = as_map(grp)
            name = as_str(grp.get("groupName")) or str(i)
            replicas = as_int(grp.get("replicas"), as_int(grp.get("minReplicas"), 1))
            replicas *= max(as_int(grp.get("numOfHosts"), 1), 1)
            site = _site(f"workers {name}", (*base, "workerGroupSpecs", i, "template"),
                         grp.get("template"), replicas)
            if site:
                yield site
        if kind == "RayJob":
            site = _site("submitter", ("spec", "submitterPodTemplate"), spec.get("submitterPodTemplate"), 1)
            if site:
                yield site


def _replicated_jobs(base: Loc, spec: dict[Any, Any], nodes: int | None):
    for i, rj in enumerate(as_list(spec.get("replicatedJobs"))):
        rj = as_map(rj)
        name = as_str(rj.get("name")) or str(i)
        job = as_map(as_map(rj.get("template")).get("spec"))
        replicas = as_int(rj.get("replicas"), 1)
        if nodes is not None and name == "node":
            per_job = nodes  # the Trainer runtime's "node" job runs numNodes pods
        else:
            per_job = as_int(job.get("parallelism"), 1)
        site = _site(f"job {name}", (*base, "replicatedJobs", i, "template", "spec", "template"),
                     job.get("template"), replicas * per_job)
        if site:
            yield site


def queue_label(doc: Doc) -> str | None:
    """The Kueue queue a batch object names (CronJobs carry it on their job template)."""
    value = doc.labels.get(QUEUE_LABEL)
    if value is None and doc.kind == "CronJob":
        template = as_map(doc.spec.get("jobTemplate"))
        value = as_map(as_map(template.get("metadata")).get("labels")).get(QUEUE_LABEL)
    if value is None:
        # Older Kueue versions read the annotation.
        value = doc.annotations.get(QUEUE_LABEL)
    return as_str(value)
