"""KFP task helpers: put a gpukit Plan on a Kubeflow Pipelines v2 task.

In the style of kfp-kubernetes: free functions that take a task and return it.

    from gpukit import kfp as gk_kfp
    gk_kfp.apply_plan(train_task, plan)
    gk_kfp.request_gpus(eval_task, "A100:2")

KFP v2 gives a task one accelerator resource with an integer count and no scheduler, queue-aware
Job or gang. What a plan needs beyond that (several workers started together, Volcano, a
second extended resource) cannot be put on a task: ``apply_plan`` says so in one line and
points to the ``launch_gpu_workload`` component, which submits the full manifests instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpukit.errors import GpukitError, MissingExtraError
from gpukit.vocab import (
    GPU,
    GPU_PRODUCT_LABEL,
    GPU_TAINT,
    KAI_SCHEDULER,
    KUEUE_QUEUE_LABEL,
    VOLCANO_SCHEDULER,
)

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor import Plan

__all__ = ["KfpCannotExpress", "apply_plan", "request_gpus", "request_mig"]

QUEUE_LABEL = KUEUE_QUEUE_LABEL  # kept for one release; gpukit.vocab names it
LAUNCHER = "components/launch_gpu_workload.yaml"


class KfpCannotExpress(GpukitError):
    """A plan needs something a KFP task cannot carry; use the launcher component."""


def _kubernetes() -> Any:
    try:
        from kfp import kubernetes
    except ImportError:
        raise MissingExtraError.for_module("kfp-kubernetes", "kfp") from None
    return kubernetes


def unsupported(plan: Plan) -> list[str]:
    """What of ``plan`` a single KFP task cannot express, one sentence each ([] when all)."""
    problems = []
    if plan.workload.workers > 1:
        problems.append(
            f"{plan.workload.workers} workers must start together (gang), but a KFP task is one pod"
        )
    if plan.scheduler in ("volcano", "kai"):
        name = VOLCANO_SCHEDULER if plan.scheduler == "volcano" else KAI_SCHEDULER
        problems.append(f"KFP cannot set schedulerName: {name} on a task")
    if plan.fleet.installed.dra:
        problems.append(
            "the fleet allocates GPUs through DRA ResourceClaims, which a KFP task cannot declare"
        )
    if plan.workload.replicas > 1:
        problems.append(f"a KFP task is one pod, not {plan.workload.replicas} replicas")
    return problems


def apply_plan(task: Any, plan: Plan) -> Any:
    """Put ``plan`` on ``task``: GPU resource and count, node selector, tolerations, queue label,
    /dev/shm, CPU and memory. Raises KfpCannotExpress for plans a task cannot carry."""
    problems = unsupported(plan)
    if problems:
        raise KfpCannotExpress(
            f"plan {plan.name!r} cannot run as one KFP task: {'; '.join(problems)}; "
            f"launch it with the launch_gpu_workload component ({LAUNCHER}) instead"
        )
    from gpukit.manifests import render

    kubernetes = _kubernetes()
    (pod,) = list(_pod_specs(render(plan)))
    container = pod["containers"][0]
    resources = container["resources"]
    task.set_accelerator_type(plan.choice.resource_name)
    task.set_accelerator_limit(plan.choice.gpus)
    task.set_cpu_request(str(resources["requests"]["cpu"]))
    task.set_memory_request(str(resources["requests"]["memory"]))
    task.set_memory_limit(str(resources["limits"]["memory"]))
    for key, value in pod.get("nodeSelector", {}).items():
        kubernetes.add_node_selector(task, label_key=key, label_value=value)
    for toleration in pod.get("tolerations", []):
        kubernetes.add_toleration(
            task,
            key=toleration["key"],
            operator=toleration["operator"],
            value=toleration.get("value"),
            effect=toleration.get("effect"),
        )
    if plan.scheduler == "kueue" and plan.queue:
        # Kueue manages plain pods only with its pod integration enabled for the namespace.
        kubernetes.add_pod_label(task, label_key=QUEUE_LABEL, label_value=plan.queue)
    for mount in container.get("volumeMounts", []):
        if mount["mountPath"] == "/dev/shm":
            kubernetes.empty_dir_mount(
                task, volume_name=mount["name"], mount_path="/dev/shm", medium="Memory"
            )
    for env in container.get("env", []):
        task.set_env_variable(env["name"], env["value"])
    return task


def request_gpus(task: Any, gpus: str) -> Any:
    """Whole GPUs of one model on a task: ``request_gpus(task, "A100:2")``."""
    from gpukit.hardware import parse_gpu

    spec = parse_gpu(gpus)
    kubernetes = _kubernetes()
    task.set_accelerator_type(GPU)
    task.set_accelerator_limit(spec.count)
    kubernetes.add_node_selector(task, label_key=GPU_PRODUCT_LABEL, label_value=spec.model.product)
    kubernetes.add_toleration(task, key=GPU_TAINT, operator="Exists", effect="NoSchedule")
    return task


def request_mig(task: Any, profile: str, gpu: str) -> Any:
    """One MIG slice (mixed strategy) on a task: ``request_mig(task, "1g.10gb", gpu="H100")``."""
    from gpukit.hardware import get_gpu

    model = get_gpu(gpu)
    mig = model.profile(profile)
    kubernetes = _kubernetes()
    task.set_accelerator_type(mig.resource_name)
    task.set_accelerator_limit(1)
    kubernetes.add_node_selector(task, label_key=GPU_PRODUCT_LABEL, label_value=model.product)
    kubernetes.add_toleration(task, key=GPU_TAINT, operator="Exists", effect="NoSchedule")
    return task


def _pod_specs(objects: list[dict[str, Any]]):
    for obj in objects:
        spec = obj.get("spec", {})
        if obj["kind"] == "Pod":
            yield spec
        elif obj["kind"] in ("Job", "Deployment") and "template" in spec:
            yield spec["template"]["spec"]
