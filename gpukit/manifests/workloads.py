"""Workload manifests from a Plan: one renderer per object kind, chosen by kinds.object_kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.manifests.dra import claim_objects
from gpukit.manifests.kinds import ObjectKind, object_kind
from gpukit.manifests.order import apply_order
from gpukit.manifests.pods import (
    RENDEZVOUS_PORT,
    SERVING_PORT,
    container,
    nccl_env,
    node_selector,
    pod_spec,
    resources,
    tolerations,
    torchrun_env,
)
from gpukit.manifests.scheduling import (
    VOLCANO_GROUP_ANNOTATION,
    Scheduling,
    scheduling,
    volcano_podgroup,
)

__all__ = [
    "RENDERERS",
    "container",
    "node_selector",
    "pod_spec",
    "render_deployment",
    "render_job",
    "render_jobset",
    "render_leaderworkerset",
    "render_pod",
    "render_pytorchjob",
    "render_trainjob",
    "render_volcano_job",
    "render_workload",
]

Obj = dict[str, Any]

#: The Kubeflow Trainer v2 runtime a TrainJob runs on, and its trainer step's names.
TRAINING_RUNTIME = "torch-distributed"
TRAINER_JOB = "node"
TRAINER_CONTAINER = "node"
#: Who owns gpukit's entry in a TrainJob's runtimePatches.
PATCH_MANAGER = "gpukit.io/render"
LWS_NAME_LABEL = "leaderworkerset.sigs.k8s.io/name"
VOLCANO_QUEUE_ANNOTATION = "scheduling.volcano.sh/queue-name"


def _labels(plan: Plan) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": plan.name,
        "app.kubernetes.io/managed-by": "gpukit",
        "gpukit.io/sharing": plan.sharing,
    }


def _metadata(plan: Plan, labels: dict[str, str], name: str | None = None) -> Obj:
    return {"name": name or plan.name, "namespace": plan.namespace, "labels": labels}


def _object_labels(plan: Plan, sched: Scheduling) -> dict[str, str]:
    return {**_labels(plan), **sched.object_labels()}


def _template_metadata(plan: Plan, sched: Scheduling, extra: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"labels": {**_labels(plan), **sched.pod_labels(), **(extra or {})}}
    if sched.volcano:
        # Plain pods join the PodGroup rendered beside them (Volcano Jobs make their own).
        meta["annotations"] = {VOLCANO_GROUP_ANNOTATION: plan.name}
    return meta


def _headless_service(plan: Plan, selector: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(plan, _labels(plan)),
        "spec": {
            "clusterIP": "None",
            # Ranks resolve each other before they are Ready: no readiness gate on rendezvous.
            "publishNotReadyAddresses": True,
            "selector": selector,
            "ports": [{"name": "rendezvous", "port": RENDEZVOUS_PORT}],
        },
    }


def _side_objects(plan: Plan, sched: Scheduling, members: int) -> list[Obj]:
    """Objects a plain-pod workload needs beside it: its DRA claim and its Volcano PodGroup."""
    objects = claim_objects(plan, _labels(plan))
    if sched.volcano:
        objects.append(volcano_podgroup(plan, sched, members, _labels(plan)))
    return objects


# -- plain pods ------------------------------------------------------------------------------


def render_pod(plan: Plan) -> list[Obj]:
    """A single Pod: notebooks and dev shells."""
    sched = scheduling(plan)
    meta = _template_metadata(plan, sched)
    metadata = _metadata(plan, {**meta["labels"], **sched.object_labels()})
    if "annotations" in meta:
        metadata["annotations"] = meta["annotations"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": pod_spec(plan, "Never" if plan.workload.kind == "ci" else "Always", sched=sched),
    }
    return [*_side_objects(plan, sched, 1), pod]


def render_deployment(plan: Plan) -> list[Obj]:
    """Online inference: a Deployment of identical replicas behind a ClusterIP Service."""
    sched = scheduling(plan)
    selector = {"app.kubernetes.io/name": plan.name}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(plan, _object_labels(plan, sched)),
        "spec": {
            "replicas": plan.workload.replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": _template_metadata(plan, sched),
                "spec": pod_spec(plan, None, sched=sched),
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(plan, _labels(plan)),
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    return [*_side_objects(plan, sched, plan.workload.replicas), service, deployment]


def render_job(plan: Plan) -> list[Obj]:
    """batch/v1 Job; several workers become an Indexed Job with a headless Service."""
    w = plan.workload
    sched = scheduling(plan)
    pods = w.workers if w.is_distributed else w.replicas
    spec: Obj = {}
    if sched.kueue_queue:
        spec["suspend"] = True  # Kueue unsuspends the Job when it admits it
    spec.update(parallelism=pods, completions=pods, backoffLimit=0 if w.is_distributed else 3)
    objects = _side_objects(plan, sched, pods)
    env = None
    extra: Obj = {}
    if w.is_distributed:
        spec["completionMode"] = "Indexed"
        # Indexed Job pod host names: <job>-<completion index>, under the subdomain.
        env = torchrun_env(plan, f"{w.name}-0.{w.name}")
        extra["subdomain"] = w.name
        objects.append(_headless_service(plan, {"batch.kubernetes.io/job-name": w.name}))
    pod = pod_spec(
        plan, "Never" if w.is_distributed else "OnFailure", env=env, sched=sched, extra=extra
    )
    spec["template"] = {"metadata": _template_metadata(plan, sched), "spec": pod}
    objects.append(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _metadata(plan, _object_labels(plan, sched)),
            "spec": spec,
        }
    )
    return objects


# -- gang-scheduled training -----------------------------------------------------------------


def render_volcano_job(plan: Plan) -> list[Obj]:
    """A Volcano Job: master and worker tasks started as one gang.

    Volcano's pytorch plugin sets only MASTER_ADDR/PORT, WORLD_SIZE and RANK, which torchrun
    does not read, so every task also carries torchrun's PET_* settings, meeting at the
    master pod's stable name (svc plugin: <job>-<task>-<index>.<job>).
    """
    w = plan.workload
    sched = scheduling(plan)
    labels = _labels(plan)
    env = torchrun_env(plan, f"{w.name}-master-0.{w.name}", master_env=False)

    def task(name: str, replicas: int) -> Obj:
        # The Job's schedulerName reaches every pod; the priority class is set on the pods
        # too, so kube-level preemption sees it whatever the Volcano version copies.
        pod = pod_spec(
            plan,
            "OnFailure",
            env=env,
            container_name=name,
            sched=Scheduling(None, None, None, None, sched.priority_class),
        )
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
    spec: Obj = {
        "minAvailable": w.workers,
        "schedulerName": "volcano",
        "queue": sched.volcano_queue,
    }
    if sched.priority_class:
        spec["priorityClassName"] = sched.priority_class
    spec.update(
        maxRetry=3,
        policies=[{"event": "PodEvicted", "action": "RestartJob"}],
        plugins={
            # pytorch: MASTER_ADDR/PORT, WORLD_SIZE, RANK per pod; env: task index;
            # svc: a headless Service and stable pod host names, published before the pods
            # are Ready, since ranks resolve the master while they all start.
            "pytorch": ["--master=master", "--worker=worker", f"--port={RENDEZVOUS_PORT}"],
            "env": [],
            "svc": ["--publish-not-ready-addresses=true"],
        },
        tasks=tasks,
    )
    job = {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": _metadata(plan, labels),
        "spec": spec,
    }
    return [*claim_objects(plan, labels), job]


def render_pytorchjob(plan: Plan) -> list[Obj]:
    """A Kubeflow PyTorchJob (training operator v1): one Master and workers-1 Workers.

    The operator sets MASTER_ADDR/PORT, WORLD_SIZE, RANK and torchrun's PET_* variables.
    """
    w = plan.workload
    sched = scheduling(plan)

    def replica(count: int) -> Obj:
        pod = pod_spec(plan, None, env=nccl_env(), container_name="pytorch", sched=sched)
        return {
            "replicas": count,
            "restartPolicy": "OnFailure",
            "template": {"metadata": _template_metadata(plan, sched), "spec": pod},
        }

    spec: Obj = {}
    if sched.kueue_queue:
        spec["runPolicy"] = {"suspend": True}  # Kueue unsuspends it on admission
    spec["nprocPerNode"] = str(plan.choice.gpus)
    spec["pytorchReplicaSpecs"] = {"Master": replica(1), "Worker": replica(w.workers - 1)}
    job = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": _metadata(plan, _object_labels(plan, sched)),
        "spec": spec,
    }
    return [*claim_objects(plan, _labels(plan)), job]


def render_trainjob(plan: Plan) -> list[Obj]:
    """A Kubeflow Trainer v2 TrainJob on the ``torch-distributed`` ClusterTrainingRuntime.

    Trainer injects torchrun's PET_* variables. GPUs go in ``resourcesPerNode``; node
    selection, tolerations and /dev/shm reach the pods through one ``runtimePatches`` entry.
    """
    w = plan.workload
    sched = scheduling(plan)
    node_resources = resources(plan)
    trainer: Obj = {"numNodes": w.workers, "numProcPerNode": plan.choice.gpus, "image": w.image}
    if w.command:
        trainer["command"] = list(w.command)
    trainer["env"] = nccl_env()
    trainer["resourcesPerNode"] = node_resources
    pod: Obj = {"nodeSelector": node_selector(plan), "tolerations": tolerations(plan.pool)}
    main = container(plan, TRAINER_CONTAINER)
    if "volumeMounts" in main:
        pod["containers"] = [{"name": TRAINER_CONTAINER, "volumeMounts": main["volumeMounts"]}]
        pod["volumes"] = [{"name": "dshm", "emptyDir": {"medium": "Memory"}}]
    patch = {
        "manager": PATCH_MANAGER,
        "trainingRuntimeSpec": {
            "template": {
                "spec": {
                    "replicatedJobs": [
                        {
                            "name": TRAINER_JOB,
                            "template": {
                                "spec": {
                                    "template": {
                                        "metadata": {
                                            "labels": {**_labels(plan), **sched.pod_labels()}
                                        },
                                        "spec": pod,
                                    }
                                }
                            },
                        }
                    ]
                }
            }
        },
    }
    spec: Obj = {
        "runtimeRef": {
            "apiGroup": "trainer.kubeflow.org",
            "kind": "ClusterTrainingRuntime",
            "name": TRAINING_RUNTIME,
        }
    }
    if sched.kueue_queue:
        spec["suspend"] = True  # Kueue admits the TrainJob by setting it to false
    spec["trainer"] = trainer
    spec["runtimePatches"] = [patch]
    return [
        {
            "apiVersion": "trainer.kubeflow.org/v1alpha1",
            "kind": "TrainJob",
            "metadata": _metadata(plan, _object_labels(plan, sched)),
            "spec": spec,
        }
    ]


def render_jobset(plan: Plan) -> list[Obj]:
    """A JobSet of one Indexed Job, one pod per worker; JobSet gives the pods stable DNS."""
    w = plan.workload
    sched = scheduling(plan)
    replicated = "workers"
    # JobSet pod host names: <jobset>-<replicatedJob>-<job index>-<pod index>.<subdomain>.
    env = torchrun_env(plan, f"{w.name}-{replicated}-0-0.{w.name}")
    pod = pod_spec(plan, "Never", env=env, sched=sched)
    spec: Obj = {}
    if sched.kueue_queue:
        spec["suspend"] = True  # Kueue unsuspends the JobSet on admission
    spec["network"] = {"enableDNSHostnames": True, "publishNotReadyAddresses": True}
    spec["failurePolicy"] = {"maxRestarts": 3}
    spec["replicatedJobs"] = [
        {
            "name": replicated,
            "replicas": 1,
            "template": {
                "spec": {
                    "parallelism": w.workers,
                    "completions": w.workers,
                    "backoffLimit": 0,
                    "completionMode": "Indexed",
                    "template": {"metadata": _template_metadata(plan, sched), "spec": pod},
                }
            },
        }
    ]
    jobset = {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "metadata": _metadata(plan, _object_labels(plan, sched)),
        "spec": spec,
    }
    return [*claim_objects(plan, _labels(plan)), jobset]


# -- multi-node serving ----------------------------------------------------------------------


def render_leaderworkerset(plan: Plan) -> list[Obj]:
    """Multi-node serving: a LeaderWorkerSet (one leader + workers-1 workers per replica)
    and a Service in front of the leaders. LWS injects LWS_LEADER_ADDRESS and
    LWS_GROUP_SIZE for the serving runtime (vLLM, SGLang, ...) to form its group."""
    w = plan.workload
    sched = scheduling(plan)
    leader_meta = _template_metadata(plan, sched, {"role": "leader"})
    worker_meta = _template_metadata(plan, sched, {"role": "worker"})
    for meta in (leader_meta, worker_meta):
        meta.pop("annotations", None)  # LWS makes one PodGroup per group itself
    metadata = _metadata(plan, _object_labels(plan, sched))
    if sched.volcano:
        # The PodGroups LWS creates take their queue from this annotation.
        metadata["annotations"] = {VOLCANO_QUEUE_ANNOTATION: sched.volcano_queue}
    lws = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": metadata,
        "spec": {
            "replicas": w.replicas,
            "leaderWorkerTemplate": {
                "size": w.workers,
                # One lost pod breaks the model's tensor/pipeline group: restart the group.
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {
                    "metadata": leader_meta,
                    "spec": pod_spec(plan, None, env=nccl_env(), ports=True, sched=sched),
                },
                "workerTemplate": {
                    "metadata": worker_meta,
                    "spec": pod_spec(plan, None, env=nccl_env(), ports=False, sched=sched),
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(plan, _labels(plan)),
        "spec": {
            "selector": {LWS_NAME_LABEL: plan.name, "role": "leader"},
            "ports": [{"name": "http", "port": 80, "targetPort": SERVING_PORT}],
        },
    }
    return [*claim_objects(plan, _labels(plan)), service, lws]


RENDERERS: dict[ObjectKind, Callable[[Plan], list[Obj]]] = {
    "Pod": render_pod,
    "Deployment": render_deployment,
    "Job": render_job,
    "VolcanoJob": render_volcano_job,
    "PyTorchJob": render_pytorchjob,
    "TrainJob": render_trainjob,
    "JobSet": render_jobset,
    "LeaderWorkerSet": render_leaderworkerset,
}


def render_workload(plan: Plan) -> list[Obj]:
    """The objects that run the planned workload, in apply order."""
    return apply_order(RENDERERS[object_kind(plan)](plan))
