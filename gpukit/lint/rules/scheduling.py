"""Scheduling rules: gang scheduling, queues and quotas, Volcano job sizes, node pool layout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gpukit.errors import did_you_mean
from gpukit.lint._context import Context
from gpukit.lint._model import Edit, Hit
from gpukit.lint._objects import BATCH_KINDS, QUEUE_LABEL, Doc, as_int, as_list, as_map, queue_label
from gpukit.lint.rules._facts import closest
from gpukit.lint.rules._registry import rule, set_rule

__all__: list[str] = []

#: Schedulers that gang-schedule the pods of a job (given a PodGroup or a job operator).
_GANG_SCHEDULERS = frozenset({"volcano", "kai-scheduler", "yunikorn"})
#: Labels and annotations through which a scheduler groups or queues pods.
_GANG_MARKS = (
    "scheduling.k8s.io/group-name",
    "scheduling.x-k8s.io/pod-group",
    "pod-group.scheduling.sigs.k8s.io",
    "volcano.sh/queue-name",
    "scheduling.volcano.sh/queue-name",
    "kai.scheduler/queue",
    "ray.io/scheduler-name",
)


def _marked(labels_or_annotations: dict[Any, Any]) -> bool:
    return any(mark in labels_or_annotations for mark in _GANG_MARKS)


def _other_scheduler(doc: Doc) -> bool:
    """Volcano, KAI or another gang scheduler (or its queue) handles the object."""
    if _marked(doc.labels) or _marked(doc.annotations):
        return True
    for site in doc.pods:
        if site.scheduler in _GANG_SCHEDULERS or _marked(site.labels) or _marked(site.annotations):
            return True
    return False


def _gang(doc: Doc, ctx: Context) -> bool | None:
    """Whether the object is gang scheduled; None when that depends on an object not given."""
    if queue_label(doc) or _other_scheduler(doc):
        return True
    spec = doc.spec
    if doc.group == "kubeflow.org" and as_map(as_map(spec.get("runPolicy")).get("schedulingPolicy")):
        return True
    if doc.kind in ("TrainingRuntime", "ClusterTrainingRuntime"):
        return bool(as_map(spec.get("podGroupPolicy")))
    if doc.kind == "TrainJob":
        ref = as_map(spec.get("runtimeRef"))
        runtime = ctx.find(str(ref.get("kind") or "ClusterTrainingRuntime"), ref.get("name"))
        if runtime is None:
            return None
        return bool(as_map(runtime.spec.get("podGroupPolicy")))
    return False


def _distributed(doc: Doc) -> bool:
    return doc.is_distributed and doc.group != "batch.volcano.sh"


def _queue_edit(doc: Doc, ctx: Context) -> tuple[str | None, tuple[Edit, ...]]:
    """The one LocalQueue the object could use, and the edit that names it."""
    queues = ctx.queues_for(doc.namespace)
    if len(queues) != 1:
        return None, ()
    loc: tuple[Any, ...] = ("metadata", "labels", QUEUE_LABEL)
    if doc.kind == "CronJob":
        loc = ("spec", "jobTemplate", "metadata", "labels", QUEUE_LABEL)
    return queues[0], (Edit(op="set", loc=loc, value=queues[0]),)


@rule("GPU015", "warning", "gang-scheduling-missing",
      "a multi-pod distributed GPU job with no gang scheduling (Volcano, KAI, Kueue, coscheduling)",
      fixable=True)
def gang_missing(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if not doc.uses_gpu or not _distributed(doc) or _gang(doc, ctx) is not False:
        return
    queue, edits = _queue_edit(doc, ctx) if ctx.kueue_present else (None, ())
    if not edits and ctx.volcano_present and doc.group == "kubeflow.org":
        edits = (
            Edit(op="set", loc=("spec", "runPolicy", "schedulingPolicy", "minAvailable"),
                 value=doc.total_pods),
            *(Edit(op="set", loc=(*site.spec_loc, "schedulerName"), value="volcano")
              for site in doc.pods if site.spec_loc is not None),
        )
        fix = (f"set runPolicy.schedulingPolicy.minAvailable: {doc.total_pods} and schedulerName: "
               "volcano (the training operator then creates a PodGroup)")
    elif queue:
        fix = f"label it {QUEUE_LABEL}: {queue} (Kueue admits all pods or none)"
    else:
        fix = ("schedule it with Volcano (a PodGroup with minAvailable) or KAI, or submit it "
               f"through a Kueue queue ({QUEUE_LABEL})")
    yield Hit(
        ("metadata",) if "metadata" in doc.data else (),
        f"{doc.total_pods} pods that must all run, scheduled one by one: a partly placed job "
        f"holds GPUs while it waits and can deadlock with others; {fix}",
        edits,
    )


@rule("GPU016", "warning", "queue-missing",
      "a GPU batch job with no queue in a namespace that has a Kueue LocalQueue (no quota "
      "applies); info where no LocalQueue serves its namespace", fixable=True)
def queue_missing(doc: Doc, ctx: Context) -> Iterator[Hit]:
    """Agrees with the planner: work of no team (no LocalQueue where it runs) goes to the
    default scheduler by design, so that is information; skipping a queue that is there is not."""
    if doc.kind not in BATCH_KINDS or not ctx.kueue_present or not doc.uses_gpu:
        return
    if doc.group.endswith("volcano.sh"):
        return  # Volcano jobs wait in their Volcano queue (spec.queue)
    if queue_label(doc) or _other_scheduler(doc):
        return
    namespace = doc.namespace or "default"
    if not ctx.queues_for(doc.namespace):
        yield Hit(
            ("metadata",) if "metadata" in doc.data else (),
            f"this GPU {doc.kind} runs outside Kueue: no LocalQueue serves namespace "
            f"{namespace!r}, so no quota applies (gpukit plans work of no team this way); to "
            f"count it against a team's quota, create a LocalQueue in {namespace!r} or move it to "
            f"the team's namespace and label it {QUEUE_LABEL}",
            severity="info",
        )
        return
    queue, edits = _queue_edit(doc, ctx)
    fix = (f"label it {QUEUE_LABEL}: {queue}" if queue else
           f"label it {QUEUE_LABEL}: <LocalQueue of namespace {namespace}>")
    yield Hit(
        ("metadata",) if "metadata" in doc.data else (),
        f"this GPU {doc.kind} bypasses Kueue: no quota, fair sharing or preemption applies and it "
        f"competes with admitted jobs for GPUs; {fix}",
        edits,
    )


@rule("GPU017", "warning", "local-queue-undefined",
      "a kueue.x-k8s.io/queue-name that names a LocalQueue defined in none of the given files "
      "(or fleet)", fixable=True)
def local_queue_undefined(doc: Doc, ctx: Context) -> Iterator[Hit]:
    queue = queue_label(doc)
    if not queue or not doc.is_object:
        return
    usable = ctx.queues_for(doc.namespace)
    if queue in usable:
        return
    loc: tuple[Any, ...] = ("metadata", "labels", QUEUE_LABEL)
    if QUEUE_LABEL not in doc.labels:
        loc = ("spec", "jobTemplate", "metadata", "labels", QUEUE_LABEL) if doc.kind == "CronJob" else (
            "metadata", "annotations", QUEUE_LABEL)
    suggestion = closest(queue, usable, cutoff=0.7)
    edits = (Edit(op="set", loc=loc, value=suggestion),) if suggestion else ()
    where = f" in namespace {doc.namespace!r}" if doc.namespace else ""
    known = ", ".join(usable) if usable else "none"
    yield Hit(
        loc,
        f"LocalQueue {queue!r}{where} is defined in none of the given files or fleet"
        f"{did_you_mean(queue, usable)} (known: {known}); Kueue leaves the job suspended "
        "forever: fix the name, or lint the file that defines the queue with it",
        edits,
    )


@rule("GPU018", "error", "volcano-min-available",
      "a Volcano Job whose minAvailable exceeds its replicas (it never starts)", fixable=True)
def volcano_min_available(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if doc.group != "batch.volcano.sh" or doc.kind != "Job":
        return
    tasks = [as_map(t) for t in as_list(doc.spec.get("tasks"))]
    total = sum(max(as_int(t.get("replicas"), 1), 0) for t in tasks)
    wanted = doc.spec.get("minAvailable")
    if isinstance(wanted, int) and not isinstance(wanted, bool) and tasks and wanted > total:
        yield Hit(
            ("spec", "minAvailable"),
            f"minAvailable {wanted} exceeds the {total} replicas of all tasks; the gang can never "
            f"be complete and the job stays Pending: set minAvailable: {total}",
            (Edit(op="set", loc=("spec", "minAvailable"), value=total),),
        )
    for i, task in enumerate(tasks):
        minimum = task.get("minAvailable")
        replicas = max(as_int(task.get("replicas"), 1), 0)
        if isinstance(minimum, int) and not isinstance(minimum, bool) and minimum > replicas:
            yield Hit(
                ("spec", "tasks", i, "minAvailable"),
                f"task {task.get('name', i)!r}: minAvailable {minimum} exceeds its {replicas} "
                f"replicas; it can never be satisfied: set minAvailable: {replicas}",
                (Edit(op="set", loc=("spec", "tasks", i, "minAvailable"), value=replicas),),
            )


_CLASS_OF_WORKLOAD = {
    "training": "training", "fine-tuning": "training", "inference": "serving",
    "batch-inference": "batch", "interactive": "interactive", "ci": "interactive",
}


def _class(doc: Doc) -> str:
    if doc.kind in ("Deployment", "StatefulSet", "ReplicaSet", "LeaderWorkerSet", "RayService"):
        return "serving"
    if doc.kind == "Pod":
        return "interactive"
    if doc.kind in ("Job", "CronJob", "RayJob") and doc.gpu_pods <= 1:
        return "batch"
    return "training"


def _gpu_selector(doc: Doc) -> tuple[tuple[str, str], ...]:
    for site in doc.pods:
        if site.uses_gpu:
            return tuple(sorted((str(k), str(v)) for k, v in site.node_selector.items()))
    return ()


@set_rule("GPU019", "warning", "one-node-pool-for-everything",
          "training, serving and interactive GPU work all sent to one node pool")
def one_pool(ctx: Context) -> Iterator[tuple[Doc, Hit]]:
    gpu_docs = [d for d in ctx.docs if d.is_object and d.uses_gpu]
    if ctx.fleet is not None and len(ctx.fleet.node_pools) == 1:
        classes = {_CLASS_OF_WORKLOAD[w.kind] for w in ctx.workloads} | {_class(d) for d in gpu_docs}
        if len(classes) >= 2:
            pool = ctx.fleet.node_pools[0]
            yield (
                Doc(ctx.fleet_label, 0, None),
                Hit(
                    ("node_pools", 0),
                    f"fleet {ctx.fleet.name!r} has one GPU pool ({pool.name}) for "
                    f"{', '.join(sorted(classes))} work: small jobs take whole GPUs and block "
                    "training; add pools per use (MIG or time-sliced GPUs for small work, whole GPUs "
                    "for training)",
                ),
            )
            return
    if len(gpu_docs) < 2:
        return
    selectors = {_gpu_selector(d) for d in gpu_docs}
    classes = {_class(d) for d in gpu_docs}
    if len(selectors) == 1 and () not in selectors and len(classes) >= 2:
        first = gpu_docs[0]
        shown = ", ".join(f"{k}={v}" for k, v in next(iter(selectors)))
        yield (
            first,
            Hit(
                ("metadata",) if "metadata" in first.data else (),
                f"all {len(gpu_docs)} GPU workloads ({', '.join(sorted(classes))}) select the same "
                f"nodes ({shown}): one pool for everything means small jobs hold whole GPUs "
                "that training waits for; give small work its own MIG or time-sliced pool",
            ),
        )
