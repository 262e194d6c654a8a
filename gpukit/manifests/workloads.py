"""Workload manifests from a Plan: Pod, Deployment + Service, Job, Volcano Job."""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.errors import GpukitError
from gpukit.fleet import NodePool
from gpukit.quantity import GIB, format_bytes

__all__ = ["render_workload"]

Obj = dict[str, Any]

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
#: Port of the rendezvous (torchrun / PyTorch plugin) and of served models.
RENDEZVOUS_PORT = 23456
SERVING_PORT = 8000


def _labels(plan: Plan) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": plan.name,
        "app.kubernetes.io/managed-by": "gpukit",
        "gpukit.io/sharing": plan.sharing,
    }


def _metadata(plan: Plan, labels: dict[str, str] | None = None) -> Obj:
    return {"name": plan.name, "namespace": plan.namespace, "labels": labels or _labels(plan)}


def node_selector(plan: Plan) -> dict[str, str]:
    """GPU Feature Discovery labels that pin the pod to the planned pool's nodes."""
    pool = plan.pool
    product = pool.gpu_product
    selector: dict[str, str] = {}
    if pool.mig is not None:
        if pool.mig.strategy == "single":
            product = f"{product}-MIG-{plan.choice.mig_profile}"
        if pool.mig.config_name:
            selector["nvidia.com/mig.config"] = pool.mig.config_name
    if pool.sharing is not None:
        if not pool.sharing.rename_by_default:
            product += "-SHARED"  # GFD marks shared GPUs in the product label
        selector["nvidia.com/gpu.sharing-strategy"] = pool.sharing.mode
    selector["nvidia.com/gpu.product"] = product
    selector.update(pool.labels)
    return dict(sorted(selector.items()))


def _tolerations(pool: NodePool) -> list[Obj]:
    tolerations = []
    for taint in pool.taints:
        toleration: Obj = {"key": taint.key}
        if taint.value is None:
            toleration["operator"] = "Exists"
        else:
            toleration.update(operator="Equal", value=taint.value)
        toleration["effect"] = taint.effect
        tolerations.append(toleration)
    return tolerations


def _resources(plan: Plan) -> Obj:
    w, choice = plan.workload, plan.choice
    whole = choice.sharing == "dedicated"
    cpu = w.cpu or (str(4 * choice.gpus) if whole else "2")
    memory = w.memory or (format_bytes(16 * GIB * choice.gpus) if whole else "8Gi")
    return {
        "requests": {"cpu": cpu, "memory": memory},
        # Extended resources go in limits (requests default to them); memory limit = request.
        "limits": {"memory": memory, choice.resource_name: choice.gpus},
    }


def container(plan: Plan, name: str = "main", env: list[Obj] | None = None) -> Obj:
    w = plan.workload
    spec: Obj = {"name": name, "image": w.image}
    if w.command:
        spec["command"] = list(w.command)
    if env:
        spec["env"] = env
    if w.kind == "inference":
        spec["ports"] = [{"name": "http", "containerPort": SERVING_PORT}]
    spec["resources"] = _resources(plan)
    if w.is_training:
        spec["volumeMounts"] = [{"name": "dshm", "mountPath": "/dev/shm"}]
    return spec


def pod_spec(plan: Plan, restart_policy: str | None, env: list[Obj] | None = None) -> Obj:
    spec: Obj = {}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    spec["nodeSelector"] = node_selector(plan)
    spec["tolerations"] = _tolerations(plan.pool)
    spec["containers"] = [container(plan, env=env)]
    if plan.workload.is_training:
        # PyTorch data loaders share tensors through /dev/shm; the container default is 64 MiB.
        spec["volumes"] = [{"name": "dshm", "emptyDir": {"medium": "Memory"}}]
    return spec


def _queued(plan: Plan, labels: dict[str, str]) -> dict[str, str]:
    if plan.scheduler == "kueue" and plan.queue:
        return {**labels, QUEUE_LABEL: plan.queue}
    return labels


def render_pod(plan: Plan) -> list[Obj]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _metadata(plan, _queued(plan, _labels(plan))),
            "spec": pod_spec(plan, "Never" if plan.workload.kind == "ci" else "Always"),
        }
    ]


def render_deployment(plan: Plan) -> list[Obj]:
    labels = _labels(plan)
    selector = {"app.kubernetes.io/name": plan.name}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(plan, _queued(plan, labels)),
        "spec": {
            "replicas": plan.workload.replicas,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec(plan, None)},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(plan),
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    return [service, deployment]


def render_job(plan: Plan) -> list[Obj]:
    """batch/v1 Job; several workers become an Indexed Job with a headless Service."""
    w = plan.workload
    labels = _labels(plan)
    pods = w.workers if w.is_distributed else w.replicas
    spec: Obj = {}
    if plan.scheduler == "kueue":
        spec["suspend"] = True  # Kueue unsuspends the Job when it admits it
    spec.update(parallelism=pods, completions=pods, backoffLimit=0 if w.is_distributed else 3)
    objects: list[Obj] = []
    env = None
    template_spec_extra: Obj = {}
    if w.is_distributed:
        spec["completionMode"] = "Indexed"
        env = [
            {"name": "MASTER_ADDR", "value": f"{w.name}-0.{w.name}"},
            {"name": "MASTER_PORT", "value": str(RENDEZVOUS_PORT)},
            {"name": "WORLD_SIZE", "value": str(w.workers)},
            {"name": "NNODES", "value": str(w.workers)},
            {"name": "NPROC_PER_NODE", "value": str(plan.choice.gpus)},
        ]
        template_spec_extra["subdomain"] = w.name
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _metadata(plan),
                "spec": {
                    "clusterIP": "None",
                    "selector": {"job-name": w.name},
                    "ports": [{"name": "rendezvous", "port": RENDEZVOUS_PORT}],
                },
            }
        )
    pod = pod_spec(plan, "Never" if w.is_distributed else "OnFailure", env=env)
    spec["template"] = {"metadata": {"labels": labels}, "spec": {**template_spec_extra, **pod}}
    objects.append(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _metadata(plan, _queued(plan, labels)),
            "spec": spec,
        }
    )
    return objects


def render_volcano_job(plan: Plan) -> list[Obj]:
    """A Volcano Job: master and worker tasks started as one gang, PyTorch env injected."""
    w = plan.workload
    labels = _labels(plan)

    def task(name: str, replicas: int) -> Obj:
        pod = pod_spec(plan, "OnFailure")
        pod["containers"][0]["name"] = name
        return {
            "name": name,
            "replicas": replicas,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        }

    master = task("master", 1)
    master["policies"] = [{"event": "TaskCompleted", "action": "CompleteJob"}]
    tasks = [master]
    if w.workers > 1:
        tasks.append(task("worker", w.workers - 1))
    return [
        {
            "apiVersion": "batch.volcano.sh/v1alpha1",
            "kind": "Job",
            "metadata": _metadata(plan),
            "spec": {
                "minAvailable": w.workers,
                "schedulerName": "volcano",
                "queue": plan.queue or "default",
                "maxRetry": 3,
                "policies": [{"event": "PodEvicted", "action": "RestartJob"}],
                "plugins": {
                    # pytorch: MASTER_ADDR/PORT, WORLD_SIZE, RANK per pod; svc: stable pod DNS.
                    "pytorch": ["--master=master", "--worker=worker", f"--port={RENDEZVOUS_PORT}"],
                    "svc": [],
                },
                "tasks": tasks,
            },
        }
    ]


def render_workload(plan: Plan) -> list[Obj]:
    """The objects that run the planned workload, in apply order."""
    w = plan.workload
    if plan.scheduler == "volcano":
        return render_volcano_job(plan)
    if w.kind == "inference":
        if w.is_distributed:
            raise GpukitError(
                f"{w.name}: multi-node serving (workers={w.workers}) renders as a "
                "LeaderWorkerSet, which this version does not emit yet; serve on one node"
            )
        return render_deployment(plan)
    if w.kind == "interactive":
        return render_pod(plan)
    return render_job(plan)
