"""Builders for realistic cluster objects: GPU nodes with GFD labels, pods, events, CRDs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from gpukit.hardware import get_gpu
from gpukit.quantity import MIB

__all__ = ["COMPONENT_CRDS", "component_crds", "crd", "event", "gpu_node", "namespace", "pod"]

Obj = dict[str, Any]

GPU_TAINT = {"key": "nvidia.com/gpu", "effect": "NoSchedule"}
_TIME = "2026-01-01T00:00:00Z"


def gpu_node(
    name: str,
    product: str,
    gpus: int = 8,
    *,
    mig_strategy: str | None = None,
    mig_config: str | None = None,
    mig_layout: Mapping[str, int] | None = None,
    sharing: str | None = None,
    replicas: int = 1,
    rename_by_default: bool = False,
    device_plugin_config: str | None = None,
    labels: Mapping[str, str] | None = None,
    taints: Sequence[Obj] = (GPU_TAINT,),
    cpu: str = "128",
    memory: str = "1Ti",
    ready: bool = True,
    unschedulable: bool = False,
) -> Obj:
    """A Node as the GPU Operator, GPU Feature Discovery and the device plugin leave it.

    ``product`` is the NVML name GFD writes (``NVIDIA-H100-80GB-HBM3``); ``mig_layout`` is
    instances per GPU. Labels and allocatable resources follow the device plugin's rules:
    ``-SHARED`` and ``-MIG-<profile>`` product suffixes, ``gpu.replicas`` 0 on MIG GPUs under
    mixed, ``mig-<profile>.count`` per node, ``nvidia.com/gpu.shared`` when renamed.
    """
    model = get_gpu(product)
    major, minor = model.compute_capability.split(".")
    shared = sharing in ("time-slicing", "mps") and replicas >= 2
    node_labels: dict[str, str] = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.family": model.family,
        "nvidia.com/gpu.compute.major": major,
        "nvidia.com/gpu.compute.minor": minor,
        "nvidia.com/mig.capable": "true" if model.mig_capable else "false",
        "nvidia.com/gpu.deploy.device-plugin": "true",
        "nvidia.com/gpu.deploy.gpu-feature-discovery": "true",
        "nvidia.com/gpu.deploy.dcgm-exporter": "true",
        "nvidia.com/cuda.driver-version.major": "580",
    }
    allocatable: dict[str, str] = {}
    gpu_resource = "nvidia.com/gpu.shared" if shared and rename_by_default else "nvidia.com/gpu"
    suffix = "-SHARED" if shared and not rename_by_default else ""
    if mig_strategy:
        node_labels["nvidia.com/mig.strategy"] = mig_strategy
    if model.mig_capable:
        node_labels["nvidia.com/mig.config"] = mig_config or (
            "custom" if mig_layout else "all-disabled"
        )
        node_labels["nvidia.com/mig.config.state"] = "success"
    if mig_layout and mig_strategy == "single":
        ((profile_name, per_gpu),) = mig_layout.items()
        profile = model.profile(profile_name)
        devices = per_gpu * gpus
        node_labels.update(
            {
                "nvidia.com/gpu.product": f"{product}-MIG-{profile.name}{suffix}",
                "nvidia.com/gpu.count": str(devices),
                "nvidia.com/gpu.memory": str(profile.memory_bytes // MIB),
                "nvidia.com/gpu.replicas": str(replicas if shared else 1),
                "nvidia.com/gpu.sharing-strategy": sharing if shared else "none",
            }
        )
        allocatable[gpu_resource] = str(devices * (replicas if shared else 1))
    elif mig_layout:
        node_labels.update(
            {
                "nvidia.com/gpu.product": product,
                "nvidia.com/gpu.count": str(gpus),
                "nvidia.com/gpu.memory": str(model.memory_bytes // MIB),
                "nvidia.com/gpu.replicas": "0",
                "nvidia.com/gpu.sharing-strategy": "none",
            }
        )
        for profile_name, per_gpu in mig_layout.items():
            profile = model.profile(profile_name)
            label = profile.resource_name  # '+' is not allowed in label keys
            devices = per_gpu * gpus
            node_labels.update(
                {
                    f"{label}.count": str(devices),
                    f"{label}.memory": str(profile.memory_bytes // MIB),
                    f"{label}.product": f"{product}-MIG-{profile.name}{suffix}",
                    f"{label}.replicas": str(replicas if shared else 1),
                    f"{label}.sharing-strategy": sharing if shared else "none",
                }
            )
            resource = profile.resource_name + (".shared" if shared and rename_by_default else "")
            allocatable[resource] = str(devices * (replicas if shared else 1))
    else:
        node_labels.update(
            {
                "nvidia.com/gpu.product": product + suffix,
                "nvidia.com/gpu.count": str(gpus),
                "nvidia.com/gpu.memory": str(model.memory_bytes // MIB),
                "nvidia.com/gpu.replicas": str(replicas if shared else 1),
                "nvidia.com/gpu.sharing-strategy": sharing if shared else "none",
            }
        )
        if sharing == "mps":
            node_labels["nvidia.com/mps.capable"] = "true"
        allocatable[gpu_resource] = str(gpus * (replicas if shared else 1))
    if device_plugin_config:
        node_labels["nvidia.com/device-plugin.config"] = device_plugin_config
    node_labels.update(labels or {})
    resources = {"cpu": cpu, "memory": memory, "pods": "110", **dict(sorted(allocatable.items()))}
    spec: Obj = {}
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": dict(sorted(node_labels.items()))},
        "spec": spec,
        "status": {
            "capacity": dict(resources),
            "allocatable": dict(resources),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": f"boot-{name}",
                "containerRuntimeVersion": "containerd://2.1.0",
                "kernelVersion": "6.8.0",
                "kubeProxyVersion": "v1.34.0",
                "kubeletVersion": "v1.34.0",
                "machineID": f"machine-{name}",
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04 LTS",
                "systemUUID": f"uuid-{name}",
            },
        },
    }


def pod(
    name: str,
    namespace: str = "default",
    *,
    node: str | None = None,
    phase: str = "Running",
    limits: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    unschedulable: str | None = None,
    waiting: tuple[str, str] | None = None,
    reason: str | None = None,
    message: str | None = None,
    image: str = "busybox:1.36",
) -> Obj:
    """A Pod; ``unschedulable`` is the scheduler's message (PodScheduled=False, Pending)."""
    container: Obj = {"name": "main", "image": image}
    if limits:
        container["resources"] = {"limits": {k: str(v) for k, v in limits.items()}}
    spec: Obj = {"containers": [container], "restartPolicy": "Never"}
    if node:
        spec["nodeName"] = node
    status: Obj = {"phase": "Pending" if unschedulable else phase}
    if unschedulable:
        status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": unschedulable,
                "lastTransitionTime": _TIME,
            }
        ]
    elif node:
        status["conditions"] = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": _TIME}
        ]
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    if waiting:
        status["containerStatuses"] = [
            {
                "name": "main",
                "image": image,
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": waiting[0], "message": waiting[1]}},
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": spec,
        "status": status,
    }


def event(
    involved: Obj,
    reason: str,
    message: str,
    *,
    type: str = "Warning",
    component: str = "default-scheduler",
    count: int = 1,
    time: str = _TIME,
) -> Obj:
    """A core/v1 Event about ``involved`` (any object with apiVersion, kind and metadata)."""
    meta = involved["metadata"]
    digest = hashlib.sha256(f"{meta['name']}/{reason}/{message}".encode()).hexdigest()[:16]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{digest}",
            "namespace": meta.get("namespace", "default"),
        },
        "involvedObject": {
            "apiVersion": involved["apiVersion"],
            "kind": involved["kind"],
            "name": meta["name"],
            "namespace": meta.get("namespace", "default"),
            **({"uid": meta["uid"]} if "uid" in meta else {}),
        },
        "reason": reason,
        "message": message,
        "type": type,
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": time,
        "lastTimestamp": time,
        "count": count,
    }


def namespace(name: str, labels: Mapping[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, **({"labels": dict(labels)} if labels else {})},
    }


def crd(
    group: str,
    kind: str,
    plural: str | None = None,
    versions: Sequence[str] = ("v1",),
    *,
    namespaced: bool = True,
    short_names: Sequence[str] = (),
) -> Obj:
    """A minimal CustomResourceDefinition (no schema pruning), every version served."""
    plural = plural or kind.lower() + "s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                **({"shortNames": list(short_names)} if short_names else {}),
            },
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": i == 0,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                    "subresources": {"status": {}},
                }
                for i, v in enumerate(versions)
            ],
        },
    }


#: The CRDs each scheduler or operator installs (kinds gpukit reads or writes), minimal form.
COMPONENT_CRDS: dict[str, tuple[tuple[str, str, str, tuple[str, ...], bool], ...]] = {
    "kueue": (
        ("kueue.x-k8s.io", "ClusterQueue", "clusterqueues", ("v1beta2", "v1beta1"), False),
        ("kueue.x-k8s.io", "LocalQueue", "localqueues", ("v1beta2", "v1beta1"), True),
        ("kueue.x-k8s.io", "ResourceFlavor", "resourceflavors", ("v1beta2", "v1beta1"), False),
        ("kueue.x-k8s.io", "Workload", "workloads", ("v1beta2", "v1beta1"), True),
    ),
    "volcano": (
        ("batch.volcano.sh", "Job", "jobs", ("v1alpha1",), True),
        ("scheduling.volcano.sh", "Queue", "queues", ("v1beta1",), False),
        ("scheduling.volcano.sh", "PodGroup", "podgroups", ("v1beta1",), True),
    ),
    "kubeflow-trainer": (
        ("trainer.kubeflow.org", "TrainJob", "trainjobs", ("v1alpha1",), True),
        (
            "trainer.kubeflow.org",
            "ClusterTrainingRuntime",
            "clustertrainingruntimes",
            ("v1alpha1",),
            False,
        ),
    ),
    "training-operator": (("kubeflow.org", "PyTorchJob", "pytorchjobs", ("v1",), True),),
    "jobset": (("jobset.x-k8s.io", "JobSet", "jobsets", ("v1alpha2",), True),),
    "lws": (("leaderworkerset.x-k8s.io", "LeaderWorkerSet", "leaderworkersets", ("v1",), True),),
    "kai": (
        ("scheduling.run.ai", "Queue", "queues", ("v2",), False),
        ("scheduling.run.ai", "PodGroup", "podgroups", ("v2alpha2",), True),
    ),
    "gpu-operator": (("nvidia.com", "ClusterPolicy", "clusterpolicies", ("v1",), False),),
}


def component_crds(*components: str) -> list[Obj]:
    """Minimal CRDs of the named components (keys of COMPONENT_CRDS)."""
    return [
        crd(group, kind, plural, versions, namespaced=namespaced)
        for component in components
        for group, kind, plural, versions, namespaced in COMPONENT_CRDS[component]
    ]
