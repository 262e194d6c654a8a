"""Every lint rule: a case that fires it and one that does not; every fix re-lints clean."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from gpukit.fleet import Fleet, NodePool, Taint, default_fleet
from gpukit.lint import RULES, fix_objects, fix_text, lint
from gpukit.workload import Workload

GPU = "nvidia.com/gpu"
TOLERATION = {"key": GPU, "operator": "Exists", "effect": "NoSchedule"}
SMALL = {"cpu": "2", "memory": "8Gi"}


def ctr(limits: dict[str, Any] | None = None, requests: dict[str, Any] | None = None,
        **extra: Any) -> dict[str, Any]:
    """A container; GPUs go in limits, CPU and memory in requests unless given."""
    resources: dict[str, Any] = {}
    if limits is not None:
        resources["limits"] = limits
    resources["requests"] = {**SMALL, **(requests or {})}
    return {"name": "main", "image": "nvcr.io/nvidia/cuda:12.4.1-base", "resources": resources, **extra}


def podspec(*containers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"containers": list(containers) or [ctr({GPU: 1})], "tolerations": [TOLERATION], **extra}


def pod(*containers: dict[str, Any], name: str = "p", **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": podspec(*containers, **extra)}


def deployment(*containers: dict[str, Any], name: str = "d", annotations: dict[str, str] | None = None,
               **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": podspec(*containers, **extra)}}}


def llm(limits: dict[str, Any], *flags: str, engine: str = "vllm", startup: bool = True,
        cache: bool = True, **extra: Any) -> dict[str, Any]:
    """An LLM server container: vllm serve or sglang.launch_server with ``flags``; a start-up
    probe and HF_HOME on a volume named 'cache' unless told otherwise."""
    head = ["vllm", "serve", "m"] if engine == "vllm" else ["python3", "-m", "sglang.launch_server", "--model-path", "m"]
    extra_fields: dict[str, Any] = {"command": [*head, *flags]}
    if startup:
        extra_fields["startupProbe"] = {"httpGet": {"path": "/health", "port": 8000}}
    if cache:
        extra_fields["env"] = [{"name": "HF_HOME", "value": "/models"}]
        extra_fields["volumeMounts"] = [{"name": "cache", "mountPath": "/models"}]
    return ctr(limits, **{**extra_fields, **extra})


SHARED = "nvidia.com/gpu.shared"
MIG_1G = "nvidia.com/mig-1g.10gb"


def job(*containers: dict[str, Any], name: str = "j", labels: dict[str, str] | None = None,
        **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ml"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"template": {"spec": {**podspec(*containers, **extra), "restartPolicy": "Never"}}}}


SHM_VOLUME = {"name": "dshm", "emptyDir": {"medium": "Memory"}}
SHM_MOUNT = {"name": "dshm", "mountPath": "/dev/shm"}


def pytorchjob(workers: int = 2, *, shm: bool = True, gang: dict[str, Any] | None = None,
               labels: dict[str, str] | None = None, scheduler: str | None = None) -> dict[str, Any]:
    container = ctr({GPU: 1}, command=["torchrun", "train.py"])
    extra: dict[str, Any] = {}
    if shm:
        container["volumeMounts"] = [SHM_MOUNT]
        extra["volumes"] = [SHM_VOLUME]
    if scheduler:
        extra["schedulerName"] = scheduler
    template = {"spec": podspec(container, **extra)}
    spec: dict[str, Any] = {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "template": copy.deepcopy(template)},
        "Worker": {"replicas": workers, "template": copy.deepcopy(template)},
    }}
    if gang:
        spec["runPolicy"] = {"schedulingPolicy": gang}
    meta: dict[str, Any] = {"name": "ddp", "namespace": "ml"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta, "spec": spec}


def local_queue(name: str, namespace: str = "ml") -> dict[str, Any]:
    return {"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "LocalQueue",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"clusterQueue": "cq"}}


def volcano_job(min_available: int, replicas: tuple[int, ...] = (2, 2),
                task_min: int | None = None) -> dict[str, Any]:
    tasks = []
    for i, n in enumerate(replicas):
        task: dict[str, Any] = {"name": f"t{i}", "replicas": n, "template": {"spec": podspec()}}
        if task_min is not None and i == 0:
            task["minAvailable"] = task_min
        tasks.append(task)
    return {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": {"name": "vj"},
            "spec": {"minAvailable": min_available, "schedulerName": "volcano", "tasks": tasks}}


def dp_config(**sharing: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"version": "v1"}
    flags = sharing.pop("flags", None)
    if flags:
        doc["flags"] = flags
    doc["sharing"] = sharing
    return doc


def time_slicing(replicas: int = 4, fail: bool | None = True, **extra: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"resources": [{"name": GPU, "replicas": replicas}], **extra}
    if fail is not None:
        block["failRequestsGreaterThanOne"] = fail
    return block


def configmap(key: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
            "data": {key: yaml.safe_dump(inner, sort_keys=False)}}


def mig_parted(counts: dict[str, int], device_filter: str | None = "0x233010DE") -> dict[str, Any]:
    entry: dict[str, Any] = {"devices": "all", "mig-enabled": True, "mig-devices": counts}
    if device_filter:
        entry = {"device-filter": [device_filter], **entry}
    return {"version": "v1", "mig-configs": {"custom": [entry]}}


ONE_POOL = Fleet(name="one", node_pools=(NodePool(name="all", gpu="A100-80GB", gpus_per_node=8, nodes=4),))
NO_TAINT = Fleet(name="bare", node_pools=(NodePool(name="a", gpu="A100-80GB", gpus_per_node=8, nodes=1,
                                                    taints=()),))
CUSTOM_TAINT = Fleet(name="tainted", node_pools=(NodePool(
    name="a", gpu="A100-80GB", gpus_per_node=8, nodes=1, taints=(Taint(key="gpu", value="a100"),)),))


# (id, rule, objects, lint kwargs, fires)

RACK_LABEL = "example.com/rack"
TAS_REQUIRED = "kueue.x-k8s.io/podset-required-topology"
#: Four 8-GPU nodes a rack, two racks (gpukit.topology).
RACKED = Fleet(
    node_pools=(NodePool(name="h100", gpu="H100-80GB", gpus_per_node=8, nodes=8,
                         labels={"nodegroup": "h100"}),),
    topology={"levels": [{"name": "rack", "label": RACK_LABEL}, {"name": "host"}],
              "pools": {"h100": {"rack": 4}}},
)


def indexed_gpu_job(pods: int, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """An Indexed Job of ``pods`` 8-GPU pods (distributed training), pod-template annotations."""
    obj = job(ctr({GPU: 8}), name="train")
    obj["spec"].update(completions=pods, parallelism=pods, completionMode="Indexed")
    if annotations:
        obj["spec"]["template"]["metadata"] = {"annotations": annotations}
    return obj


CASES: list[tuple[str, str, list[Any], dict[str, Any], bool]] = [
    ("request-without-limit", "GPU001", [pod(ctr(None, {GPU: 1}))], {}, True),
    ("request-differs-from-limit", "GPU001", [pod(ctr({GPU: 2}, {GPU: 1}))], {}, True),
    ("fractional-request-without-limit", "GPU001", [pod(ctr(None, {GPU: "0.5"}))], {}, True),
    ("limit-only", "GPU001", [pod(ctr({GPU: 1}))], {}, False),
    ("request-equals-limit", "GPU001", [pod(ctr({GPU: "2"}, {GPU: 2}))], {}, False),
    ("half-gpu", "GPU002", [pod(ctr({GPU: "0.5"}))], {}, True),
    ("milli-gpu", "GPU002", [pod(ctr({GPU: "500m"}))], {}, True),
    ("float-gpu", "GPU002", [pod(ctr({GPU: 1.5}))], {}, True),
    ("not-a-quantity", "GPU002", [pod(ctr({GPU: "one"}))], {}, True),
    ("whole-gpus", "GPU002", [pod(ctr({GPU: "2"}))], {}, False),
    ("gpu-and-mig", "GPU003", [pod(ctr({GPU: 1, "nvidia.com/mig-1g.10gb": 1}))], {}, True),
    ("mig-only", "GPU003", [pod(ctr({"nvidia.com/mig-1g.10gb": 1}))], {}, False),
    ("gpu-and-mig-in-two-containers", "GPU003",
     [pod(ctr({GPU: 1}), ctr({"nvidia.com/mig-1g.10gb": 1}, name="side"))], {}, False),
    ("misspelt-profile", "GPU004", [pod(ctr({"nvidia.com/mig-1g.10gbb": 1}))], {}, True),
    ("nonexistent-profile", "GPU004", [pod(ctr({"nvidia.com/mig-9g.99gb": 1}))], {}, True),
    ("real-profile", "GPU004", [pod(ctr({"nvidia.com/mig-1g.5gb": 1}))], {}, False),
    ("media-profile-resource-form", "GPU004", [pod(ctr({"nvidia.com/mig-1g.10gb.me": 1}))], {}, False),
    ("profile-missing-from-fleet", "GPU005", [pod(ctr({"nvidia.com/mig-1g.5gb": 1}))],
     {"fleet": default_fleet()}, True),
    ("profile-in-fleet", "GPU005", [pod(ctr({"nvidia.com/mig-1g.10gb": 1}))],
     {"fleet": default_fleet()}, False),
    ("profile-without-fleet", "GPU005", [pod(ctr({"nvidia.com/mig-1g.5gb": 1}))], {}, False),
    ("two-shared-replicas", "GPU006", [pod(ctr({"nvidia.com/gpu.shared": 2}))], {}, True),
    ("two-on-shared-product", "GPU006",
     [pod(ctr({GPU: 2}), nodeSelector={"nvidia.com/gpu.product": "NVIDIA-L4-SHARED"})], {}, True),
    ("two-on-time-sliced-pool", "GPU006",
     [pod(ctr({GPU: 2}), nodeSelector={"nvidia.com/gpu.product": "NVIDIA-L4"})],
     {"fleet": default_fleet()}, True),
    ("two-whole-gpus", "GPU006", [pod(ctr({GPU: 2}))], {}, False),
    ("one-shared-replica", "GPU006", [pod(ctr({"nvidia.com/gpu.shared": 1}))], {}, False),
    ("small-workload-file", "GPU007", [deployment(ctr({GPU: 1}), name="small")],
     {"fleet": default_fleet(), "workloads": [Workload(name="small", kind="inference", gpu_memory="4Gi")]},
     True),
    ("small-annotation", "GPU007",
     [deployment(ctr({GPU: 1}), name="bert", annotations={"gpukit.io/gpu-memory": "4Gi"})],
     {"fleet": default_fleet()}, True),
    ("small-annotation-no-fleet", "GPU007",
     [deployment(ctr({GPU: 1}), name="bert", annotations={"gpukit.io/gpu-memory": "4Gi"})], {}, True),
    ("small-annotation-default-fleet-assumed", "GPU007",
     [deployment(ctr({GPU: 1}), name="bert", annotations={"gpukit.io/gpu-memory": "4Gi"})],
     {"fleet": "default"}, True),
    ("small-batch-to-shared-gpu", "GPU007", [job(ctr({GPU: 1}), name="embed")],
     {"fleet": default_fleet(),
      "workloads": [Workload(name="embed", kind="batch-inference", gpu_memory="4Gi")]}, True),
    ("small-on-a-single-strategy-mig-slice", "GPU007",
     [deployment(ctr({GPU: 1}), name="bert", annotations={"gpukit.io/gpu-memory": "4Gi"},
                 nodeSelector={"nvidia.com/gpu.product": "NVIDIA-H200-MIG-3g.71gb"})],
     {"fleet": default_fleet()}, False),
    ("large-workload", "GPU007", [deployment(ctr({GPU: 1}), name="big")],
     {"workloads": [Workload(name="big", kind="inference", gpu_memory="70Gi")]}, False),
    ("no-memory-hint", "GPU007", [deployment(ctr({GPU: 1}), name="small")], {}, False),
    ("more-gpus-than-a-node", "GPU008", [pod(ctr({GPU: 32}))], {"fleet": default_fleet()}, True),
    ("a-full-node", "GPU008", [pod(ctr({GPU: 8}))], {"fleet": default_fleet()}, False),
    ("visible-devices-without-request", "GPU009",
     [pod(ctr(None, env=[{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]))], {}, True),
    ("visible-devices-void", "GPU009",
     [pod(ctr(None, env=[{"name": "NVIDIA_VISIBLE_DEVICES", "value": "void"}]))], {}, False),
    ("visible-devices-in-daemonset", "GPU009",
     [{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "exporter"},
       "spec": {"template": {"spec": podspec(ctr(None, env=[{"name": "NVIDIA_VISIBLE_DEVICES",
                                                              "value": "all"}]))}}}], {}, False),
    ("no-toleration", "GPU010", [pod(tolerations=[])], {}, True),
    ("fleet-custom-taint", "GPU010", [pod()], {"fleet": CUSTOM_TAINT}, True),
    ("tolerated", "GPU010", [pod()], {}, False),
    ("tolerate-everything", "GPU010", [pod(tolerations=[{"operator": "Exists"}])], {}, False),
    ("fleet-without-taints", "GPU010", [pod(tolerations=[])], {"fleet": NO_TAINT}, False),
    ("several-models", "GPU011", [pod()], {"fleet": default_fleet()}, True),
    ("product-pinned", "GPU011",
     [pod(nodeSelector={"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"})], {"fleet": default_fleet()}, False),
    ("one-model", "GPU011", [pod()], {"fleet": ONE_POOL}, False),
    ("latest-image", "GPU012", [pod(ctr({GPU: 1}, image="pytorch/pytorch:latest"))], {}, True),
    ("untagged-image", "GPU012", [pod(ctr({GPU: 1}, image="registry.local:5000/team/train"))], {}, True),
    ("pinned-image", "GPU012", [pod(ctr({GPU: 1}, image="registry.local:5000/team/train:1.2"))], {}, False),
    ("digest-image", "GPU012", [pod(ctr({GPU: 1}, image="team/train@sha256:" + "a" * 64))], {}, False),
    ("latest-without-gpu", "GPU012", [pod(ctr(None, image="busybox:latest"))], {}, False),
    ("no-cpu-memory", "GPU013",
     [pod({"name": "main", "image": "cuda:12.4", "resources": {"limits": {GPU: 1}}})], {}, True),
    ("cpu-memory-requested", "GPU013", [pod()], {}, False),
    ("ddp-without-shm", "GPU014", [pytorchjob(shm=False, scheduler="volcano")], {}, True),
    ("ddp-with-shm", "GPU014", [pytorchjob(scheduler="volcano")], {}, False),
    ("single-pod-job", "GPU014", [pytorchjob(0, shm=False)], {}, False),
    ("ddp-no-gang", "GPU015", [pytorchjob()], {}, True),
    ("ddp-no-gang-kueue", "GPU015", [pytorchjob(), local_queue("ml-queue")], {}, True),
    ("ddp-no-gang-volcano", "GPU015", [pytorchjob()], {"fleet": ONE_POOL.model_copy(
        update={"installed": ONE_POOL.installed.model_copy(update={"volcano": True})})}, True),
    ("ddp-volcano", "GPU015", [pytorchjob(scheduler="volcano")], {}, False),
    ("ddp-scheduling-policy", "GPU015", [pytorchjob(gang={"minAvailable": 3})], {}, False),
    ("ddp-kueue-label", "GPU015",
     [pytorchjob(labels={"kueue.x-k8s.io/queue-name": "ml-queue"}), local_queue("ml-queue")], {}, False),
    ("gpu-job-kueue-cluster", "GPU016", [job(), local_queue("ml-queue")], {}, True),
    ("gpu-job-kueue-fleet", "GPU016", [job()], {"fleet": default_fleet()}, True),
    ("gpu-job-queued", "GPU016",
     [job(labels={"kueue.x-k8s.io/queue-name": "ml-queue"}), local_queue("ml-queue")], {}, False),
    ("gpu-job-no-kueue", "GPU016", [job()], {}, False),
    ("queue-undefined", "GPU017", [job(labels={"kueue.x-k8s.io/queue-name": "ml-queue"})], {}, True),
    ("queue-misspelt", "GPU017",
     [job(labels={"kueue.x-k8s.io/queue-name": "ml-queeu"}), local_queue("ml-queue")], {}, True),
    ("queue-other-namespace", "GPU017",
     [job(labels={"kueue.x-k8s.io/queue-name": "ml-queue"}), local_queue("ml-queue", "other")], {}, True),
    ("queue-defined", "GPU017",
     [job(labels={"kueue.x-k8s.io/queue-name": "ml-queue"}), local_queue("ml-queue")], {}, False),
    ("min-available-too-big", "GPU018", [volcano_job(5)], {}, True),
    ("task-min-available-too-big", "GPU018", [volcano_job(4, task_min=3)], {}, True),
    ("min-available-fits", "GPU018", [volcano_job(4, task_min=2)], {}, False),
    ("one-selector-for-all", "GPU019",
     [deployment(nodeSelector={"pool": "gpu"}), dict(pytorchjob(), spec={"pytorchReplicaSpecs": {
         "Worker": {"replicas": 2, "template": {"spec": podspec(nodeSelector={"pool": "gpu"})}}}})],
     {}, True),
    ("one-pool-fleet", "GPU019", [],
     {"fleet": ONE_POOL, "workloads": [Workload(name="t", kind="training", gpus=8),
                                        Workload(name="s", kind="inference", gpu_memory="4Gi")]}, True),
    ("pools-per-use", "GPU019",
     [deployment(nodeSelector={"pool": "small"}), dict(pytorchjob(), spec={"pytorchReplicaSpecs": {
         "Worker": {"replicas": 2, "template": {"spec": podspec(nodeSelector={"pool": "train"})}}}})],
     {}, False),
    ("one-pool-one-use", "GPU019", [],
     {"fleet": ONE_POOL, "workloads": [Workload(name="t", kind="training", gpus=8)]}, False),
    ("privileged-gpu", "GPU020", [pod(ctr({GPU: 1}, securityContext={"privileged": True}))], {}, True),
    ("privileged-without-gpu", "GPU020", [pod(ctr(None, securityContext={"privileged": True}))], {}, False),
    ("mps-mixed-mig", "GPU021", [dp_config(mps=time_slicing(fail=None), flags={"migStrategy": "mixed"})],
     {}, True),
    ("mps-on-mig-resource", "GPU021",
     [dp_config(mps={"resources": [{"name": "nvidia.com/mig-1g.10gb", "replicas": 2}]})], {}, True),
    ("mps-whole-gpus", "GPU021", [dp_config(mps=time_slicing(fail=None), flags={"migStrategy": "none"})],
     {}, False),
    ("time-slicing-default", "GPU022", [dp_config(timeSlicing=time_slicing(fail=None))], {}, True),
    ("time-slicing-false", "GPU022", [dp_config(timeSlicing=time_slicing(fail=False))], {}, True),
    ("time-slicing-in-configmap", "GPU022",
     [configmap("t4", dp_config(timeSlicing=time_slicing(fail=None)))], {}, True),
    ("time-slicing-strict", "GPU022", [dp_config(timeSlicing=time_slicing())], {}, False),
    ("misspelt-key", "GPU023",
     [dp_config(timeSlicing={"failRequestGreaterThanOne": True, **time_slicing(fail=None)})], {}, True),
    ("misspelt-flag", "GPU023", [{"version": "v1", "flags": {"migStratgy": "none"}}], {}, True),
    ("unknown-flag", "GPU023", [{"version": "v1", "flags": {"zzz": 1}}], {}, True),
    ("known-keys", "GPU023",
     [{"version": "v1", "flags": {"migStrategy": "none", "plugin": {"deviceIDStrategy": "uuid"}},
       "sharing": {"timeSlicing": time_slicing(renameByDefault=True)}}], {}, False),
    ("replicas-one", "GPU024", [dp_config(timeSlicing=time_slicing(replicas=1))], {}, True),
    ("mig-strategy-case", "GPU024", [{"version": "v1", "flags": {"migStrategy": "Mixed"}}], {}, True),
    ("mps-too-many", "GPU024", [dp_config(mps={"resources": [{"name": GPU, "replicas": 64}]})], {}, True),
    ("empty-resources", "GPU024", [dp_config(timeSlicing={"resources": []})], {}, True),
    ("valid-values", "GPU024", [dp_config(timeSlicing=time_slicing(replicas=2))], {}, False),
    ("both-sharing", "GPU025", [dp_config(timeSlicing=time_slicing(), mps=time_slicing(fail=None))], {}, True),
    ("one-sharing", "GPU025", [dp_config(mps=time_slicing(fail=None))], {}, False),
    ("mig-parted-overfull", "GPU026", [mig_parted({"1g.10gb": 7, "3g.40gb": 1})], {}, True),
    ("mig-parted-foreign-profile", "GPU026", [mig_parted({"1g.5gb": 7})], {}, True),
    ("mig-parted-in-configmap", "GPU026",
     [configmap("config.yaml", mig_parted({"1g.10gb": 8}))], {}, True),
    ("mig-parted-valid", "GPU026", [mig_parted({"3g.40gb": 1, "1g.10gb": 4})], {}, False),
    ("dcgm-off-in-values", "GPU027",
     [{"operator": {"defaultRuntime": "containerd"}, "dcgmExporter": {"enabled": False}}], {}, True),
    ("dcgm-off-in-clusterpolicy", "GPU027",
     [{"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "metadata": {"name": "cluster-policy"},
       "spec": {"dcgmExporter": {"enabled": False}}}], {}, True),
    ("dcgm-off-in-fleet", "GPU027", [], {"fleet": ONE_POOL.model_copy(
        update={"installed": ONE_POOL.installed.model_copy(update={"dcgm_exporter": False})})}, True),
    ("dcgm-on", "GPU027",
     [{"operator": {"defaultRuntime": "containerd"}, "dcgmExporter": {"enabled": True}}], {}, False),
    # -- LLM serving (gpukit/lint/rules/serving.py) --
    ("vllm-0.9-on-a-share", "GPU040",
     [deployment(llm({SHARED: 1}, "--gpu-memory-utilization", "0.9"))], {}, True),
    ("vllm-0.4-on-a-share", "GPU040",
     [deployment(llm({SHARED: 1}, "--gpu-memory-utilization=0.4"))], {}, False),
    ("sglang-0.98-on-a-slice", "GPU040",
     [deployment(llm({MIG_1G: 1}, "--mem-fraction-static", "0.98", engine="sglang"))], {}, True),
    ("vllm-0.9-on-a-whole-gpu", "GPU040",
     [deployment(llm({GPU: 1}, "--gpu-memory-utilization", "0.95"))], {}, False),
    ("tp-8-on-4-gpus", "GPU041", [deployment(llm({GPU: 4}, "--tensor-parallel-size", "8"))], {}, True),
    ("sglang-tp-2-on-1-gpu", "GPU041", [deployment(llm({GPU: 1}, "--tp", "2", engine="sglang"))], {}, True),
    ("tp-4-on-4-gpus", "GPU041", [deployment(llm({GPU: 4}, "-tp", "4"))], {}, False),
    ("no-startup-probe", "GPU042", [deployment(llm({GPU: 1}, startup=False))], {}, True),
    ("startup-probe", "GPU042", [deployment(llm({GPU: 1}))], {}, False),
    ("model-on-container-disk", "GPU043", [deployment(llm({GPU: 1}, cache=False))], {}, True),
    ("model-on-emptydir", "GPU043",
     [deployment(llm({GPU: 1}, cache=False, volumeMounts=[{"name": "c", "mountPath": "/root/.cache/huggingface"}]),
                 volumes=[{"name": "c", "emptyDir": {}}])], {}, True),
    ("model-cache-on-a-claim", "GPU043",
     [deployment(llm({GPU: 1}), volumes=[{"name": "cache", "persistentVolumeClaim": {"claimName": "models"}}])],
     {}, False),
    ("topology-constraint-missing", "GPU028", [indexed_gpu_job(4)], {"fleet": RACKED}, True),
    ("topology-constraint-set", "GPU028",
     [indexed_gpu_job(4, {TAS_REQUIRED: RACK_LABEL})], {"fleet": RACKED}, False),
    ("topology-no-topology-fleet", "GPU028", [indexed_gpu_job(4)], {"fleet": ONE_POOL}, False),
    ("topology-rack-too-small", "GPU029",
     [indexed_gpu_job(8, {TAS_REQUIRED: RACK_LABEL})], {"fleet": RACKED}, True),
    ("topology-unknown-level", "GPU029",
     [indexed_gpu_job(2, {TAS_REQUIRED: "example.com/row"})], {"fleet": RACKED}, True),
    ("topology-rack-holds", "GPU029",
     [indexed_gpu_job(4, {TAS_REQUIRED: RACK_LABEL})], {"fleet": RACKED}, False),
]


def _ids(objects: list[Any], **kwargs: Any) -> set[str]:
    return {f.rule for f in lint(objects, **kwargs)}


@pytest.mark.parametrize(("rule", "objects", "kwargs", "fires"), [c[1:] for c in CASES],
                         ids=[f"{c[1]}-{c[0]}" for c in CASES])
def test_rule(rule: str, objects: list[Any], kwargs: dict[str, Any], fires: bool) -> None:
    assert (rule in _ids(objects, **kwargs)) is fires


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    firing = {c[1] for c in CASES if c[4]}
    quiet = {c[1] for c in CASES if not c[4]}
    assert set(RULES) == firing == quiet
    assert len(RULES) >= 20


#: Firing cases of fixable rules where no fix is right: gpukit cannot know the answer, so
#: the message says what to do instead.
NO_FIX = {
    "not-a-quantity", "nonexistent-profile", "ddp-no-gang", "gpu-job-kueue-fleet",
    "queue-undefined", "queue-other-namespace", "unknown-flag", "replicas-one", "mps-too-many",
    "empty-resources", "dcgm-off-in-fleet",
    # A MIG slice or share and its node selector are fleet facts: with no fleet, or with the
    # default fleet standing in for one, the finding says to give the cluster's fleet.
    "small-annotation-no-fleet", "small-annotation-default-fleet-assumed",
}
FIXABLE = [c for c in CASES if c[4] and RULES[c[1]].fixable and c[0] not in NO_FIX]
UNFIXED = [c for c in CASES if c[0] in NO_FIX]


@pytest.mark.parametrize(("rule", "objects", "kwargs"), [c[1:4] for c in FIXABLE],
                         ids=[f"{c[1]}-{c[0]}" for c in FIXABLE])
def test_fix_relints_clean(rule: str, objects: list[Any], kwargs: dict[str, Any]) -> None:
    before = lint(objects, **kwargs)
    assert all(f.fixable for f in before if f.rule == rule)
    fixed = fix_objects(objects, before)
    after = _ids(fixed, **kwargs)
    assert rule not in after
    assert after <= {f.rule for f in before}, "a fix introduced a new finding"


@pytest.mark.parametrize(("rule", "objects", "kwargs"), [c[1:4] for c in FIXABLE],
                         ids=[f"{c[1]}-{c[0]}" for c in FIXABLE])
def test_fix_text_round_trip_relints_clean(tmp_path, rule: str, objects: list[Any],
                                           kwargs: dict[str, Any]) -> None:
    path = tmp_path / "in.yaml"
    path.write_text("# kept comment\n" + yaml.safe_dump_all(objects, sort_keys=False))
    findings = lint(path, **kwargs)
    new = fix_text(path.read_text(), findings)
    assert "# kept comment" in new
    out = tmp_path / "out.yaml"
    out.write_text(new)
    after = {f.rule for f in lint(out, **kwargs)}
    assert rule not in after
    assert after <= {f.rule for f in findings}


@pytest.mark.parametrize(("rule", "objects", "kwargs"), [c[1:4] for c in UNFIXED],
                         ids=[f"{c[1]}-{c[0]}" for c in UNFIXED])
def test_no_fix_when_the_answer_is_unknown(rule: str, objects: list[Any], kwargs: dict[str, Any]) -> None:
    mine = [f for f in lint(objects, **kwargs) if f.rule == rule]
    assert mine and not any(f.fixable for f in mine)


@pytest.mark.parametrize(("namespace", "severity", "fixable"), [
    ("team-nlp", "warning", True),   # a LocalQueue of the fleet serves it: bypassing it is a problem
    ("default", "info", False),      # none does: the planner sends work of no team here too
], ids=["queue-in-namespace", "no-queue-in-namespace"])
def test_queue_missing_agrees_with_the_planner(namespace: str, severity: str, fixable: bool) -> None:
    obj = job()
    obj["metadata"]["namespace"] = namespace
    (finding,) = [f for f in lint([obj], fleet=default_fleet()) if f.rule == "GPU016"]
    assert (finding.severity, finding.fixable) == (severity, fixable)
    if fixable:
        assert finding.message.endswith("label it kueue.x-k8s.io/queue-name: team-nlp")
    else:
        assert f"no LocalQueue serves namespace {namespace!r}" in finding.message
