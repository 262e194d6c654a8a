"""One case per object kind and GPU set-up: golden YAML, schema validation, and the rules each
case exists to show (Kueue suspend paths, KAI labels, DRA claims, resource names, ...).

Regenerate the golden files on purpose with GPUKIT_REGENERATE_GOLDEN=1; CI never sets it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import gpukit as gk
from gpukit.validate import validate_objects

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "manifests"
REGENERATE = os.environ.get("GPUKIT_REGENERATE_GOLDEN") == "1"

DDP = {
    "kind": "training",
    "workers": 2,
    "gpus": 8,
    "team": "team-research",
    "command": ["torchrun", "train.py"],
}
LLM = {
    "kind": "inference",
    "workers": 2,
    "gpus": 8,
    "gpu_memory": "500Gi",
    "team": "team-vision",
    "image": "vllm/vllm-openai:v0.8.5",
}

# id -> (workload, fleet name, installed overrides, plan overrides)
CASES: dict[str, tuple[dict[str, Any], str, dict[str, bool], dict[str, Any]]] = {
    "trainjob-kueue": (DDP, "no-volcano", {}, {}),
    "pytorchjob-kai": (DDP, "kai", {}, {}),
    "jobset-kueue": (DDP, "default", {"volcano": False, "jobset": True}, {}),
    "indexed-job-kueue": (DDP, "default", {"volcano": False}, {}),
    "volcano-job-preemptible": ({**DDP, "preemptible": True}, "default", {}, {}),
    "lws-volcano": (LLM, "default", {"lws": True}, {}),
    "lws-kueue": (LLM, "no-volcano", {}, {}),
    "dra-mig-deployment": (
        {"kind": "inference", "gpu_memory": "6Gi", "isolation": "strict", "replicas": 3},
        "dra",
        {},
        {},
    ),
    "dra-dedicated-jobset": (DDP, "dra", {}, {}),
    "dra-time-slicing-pod": (
        {"kind": "interactive", "isolation": "none", "namespace": "team-vision"},
        "dra",
        {},
        {},
    ),
    "dra-mps-deployment": (
        {
            "kind": "inference",
            "gpu_memory": "3Gi",
            "isolation": "process",
            "priority": "throughput",
            "replicas": 2,
        },
        "default",
        {"dra": True},
        {},
    ),
    "mig-single-strategy": (
        {"kind": "inference", "gpu_memory": "40Gi", "isolation": "strict"},
        "no-volcano",
        {},
        {},
    ),
    "time-slicing-renamed-kai": (
        {"kind": "ci", "gpu_memory": "2Gi", "command": ["pytest", "-m", "gpu"]},
        "kai",
        {},
        {},
    ),
    "volcano-podgroup-job": (
        {"kind": "batch-inference", "gpu_memory": "20Gi", "replicas": 2, "team": "team-research"},
        "default",
        {},
        {"scheduler": "volcano", "queue": "team-research"},
    ),
}


def _plan(fleet, case: str) -> gk.Plan:
    workload, fleet_name, installed, overrides = CASES[case]
    p = gk.plan(gk.Workload(name=case, **workload), fleet(fleet_name, **installed))
    return p.model_copy(update=overrides) if overrides else p


def _pods(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every pod spec inside the objects, whatever the kind nests it under."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "containers" in node and isinstance(node["containers"], list):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for obj in objects:
        walk(obj.get("spec", {}))
    return found


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (obj,) = [o for o in objects if o["kind"] == kind]
    return obj


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_matches_golden(fleet, case):
    text = gk.to_yaml(gk.render(_plan(fleet, case)))
    golden = GOLDEN / f"{case}.yaml"
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden file for {case}; run with GPUKIT_REGENERATE_GOLDEN=1"
    assert text == golden.read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_passes_the_schemas_and_is_deterministic(fleet, case):
    objects = gk.render(_plan(fleet, case))
    assert [str(i) for i in validate_objects(objects)] == []
    text = gk.to_yaml(objects)
    assert text == gk.to_yaml(gk.render(_plan(fleet, case)))
    assert list(yaml.safe_load_all(text)) == objects


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_pod_tolerates_its_pool_and_selects_its_product(fleet, case):
    p = _plan(fleet, case)
    pods = _pods(gk.render(p))
    assert pods
    for pod in pods:
        if "nodeSelector" not in pod:  # a TrainJob patch's container-only entry
            continue
        assert pod["nodeSelector"]["nvidia.com/gpu.product"].startswith(p.pool.gpu_product)
        for taint in p.pool.taints:
            assert any(
                t["key"] == taint.key and t["effect"] == taint.effect for t in pod["tolerations"]
            )


@pytest.mark.parametrize("case", sorted(CASES))
def test_claims_and_services_come_before_what_uses_them(fleet, case):
    kinds = [o["kind"] for o in gk.render(_plan(fleet, case))]
    first_workload = min(
        i
        for i, k in enumerate(kinds)
        if k not in ("ResourceClaimTemplate", "ResourceClaim", "Service", "PodGroup")
    )
    assert all(
        k not in ("ResourceClaimTemplate", "ResourceClaim", "Service", "PodGroup")
        for k in kinds[first_workload:]
    )


# -- what each case is there to show --------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "kind", "suspend_path"),
    [
        ("trainjob-kueue", "TrainJob", ("spec", "suspend")),
        ("jobset-kueue", "JobSet", ("spec", "suspend")),
        ("indexed-job-kueue", "Job", ("spec", "suspend")),
    ],
)
def test_kueue_managed_kinds_start_suspended_with_the_queue_label(fleet, case, kind, suspend_path):
    p = _plan(fleet, case)
    obj = _one(gk.render(p), kind)
    assert obj["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == p.queue
    node: Any = obj
    for key in suspend_path:
        node = node[key]
    assert node is True


def test_pytorchjob_suspends_through_run_policy(fleet):
    p = _plan(fleet, "pytorchjob-kai").model_copy(
        update={"scheduler": "kueue", "queue": "team-research"}
    )
    job = _one(gk.render(p), "PyTorchJob")
    assert job["spec"]["runPolicy"] == {"suspend": True}
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-research"
    assert [str(i) for i in validate_objects([job])] == []


def test_lws_gets_the_queue_label_and_no_suspend(fleet):
    lws = _one(gk.render(_plan(fleet, "lws-kueue")), "LeaderWorkerSet")
    assert lws["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-vision"
    assert "suspend" not in lws["spec"]
    template = lws["spec"]["leaderWorkerTemplate"]
    assert template["size"] == 2
    assert "ports" in template["leaderTemplate"]["spec"]["containers"][0]
    assert "ports" not in template["workerTemplate"]["spec"]["containers"][0]


def test_lws_service_selects_the_leaders(fleet):
    objects = gk.render(_plan(fleet, "lws-volcano"))
    service = _one(objects, "Service")
    assert service["spec"]["selector"] == {
        "leaderworkerset.sigs.k8s.io/name": "lws-volcano",
        "role": "leader",
    }
    lws = _one(objects, "LeaderWorkerSet")
    assert (
        lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["metadata"]["labels"]["role"]
        == "leader"
    )
    for pod in _pods([lws]):
        assert pod["schedulerName"] == "volcano"


def test_kai_job_names_the_scheduler_and_the_queue_on_object_and_pods(fleet):
    job = _one(gk.render(_plan(fleet, "pytorchjob-kai")), "PyTorchJob")
    assert job["metadata"]["labels"]["kai.scheduler/queue"] == "team-research"
    for pod in _pods([job]):
        assert pod["schedulerName"] == "kai-scheduler"
    for replica in job["spec"]["pytorchReplicaSpecs"].values():
        assert replica["template"]["metadata"]["labels"]["kai.scheduler/queue"] == "team-research"
        assert replica["template"]["spec"]["containers"][0]["name"] == "pytorch"
    assert job["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] == 1


def test_preemptible_gang_carries_the_priority_class(fleet):
    job = _one(gk.render(_plan(fleet, "volcano-job-preemptible")), "Job")
    assert job["spec"]["priorityClassName"] == "gpukit-preemptible"
    assert job["spec"]["plugins"].keys() == {"pytorch", "env", "svc"}
    assert job["spec"]["minAvailable"] == sum(t["replicas"] for t in job["spec"]["tasks"]) == 2


def test_plain_pods_under_volcano_get_a_podgroup_and_the_group_annotation(fleet):
    objects = gk.render(_plan(fleet, "volcano-podgroup-job"))
    group = _one(objects, "PodGroup")
    job = _one(objects, "Job")
    assert group["spec"] == {"minMember": 2, "queue": "team-research"}
    template = job["spec"]["template"]
    assert (
        template["metadata"]["annotations"]["scheduling.k8s.io/group-name"]
        == group["metadata"]["name"]
    )
    assert template["spec"]["schedulerName"] == "volcano"


@pytest.mark.parametrize(
    ("case", "resource", "product_suffix"),
    [
        ("mig-single-strategy", "nvidia.com/gpu", "-MIG-3g.71gb"),
        ("time-slicing-renamed-kai", "nvidia.com/gpu.shared", ""),
        ("indexed-job-kueue", "nvidia.com/gpu", ""),
    ],
)
def test_gpu_resource_name_and_product_label_follow_the_pool(fleet, case, resource, product_suffix):
    p = _plan(fleet, case)
    for pod in _pods(gk.render(p)):
        limits = pod["containers"][0]["resources"]["limits"]
        assert limits[resource] == p.choice.gpus
        assert pod["nodeSelector"]["nvidia.com/gpu.product"] == p.pool.gpu_product + product_suffix


def test_distributed_pods_get_rendezvous_nccl_and_shm(fleet):
    objects = gk.render(_plan(fleet, "indexed-job-kueue"))
    service = _one(objects, "Service")
    assert service["spec"]["clusterIP"] == "None"
    job = _one(objects, "Job")
    assert job["spec"]["completionMode"] == "Indexed"
    pod = job["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["NCCL_DEBUG"]["value"] == "WARN"
    assert "NCCL_SOCKET_IFNAME" not in env  # cluster-specific: never guessed
    assert env["PET_NNODES"]["value"] == "2"
    # c10d rendezvous assigns node ranks; a static rank would only be ignored
    assert env["PET_RDZV_BACKEND"]["value"] == "c10d" and "PET_NODE_RANK" not in env
    assert env["MASTER_ADDR"]["value"] == f"indexed-job-kueue-0.{service['metadata']['name']}"
    assert pod["subdomain"] == service["metadata"]["name"]
    assert {"name": "dshm", "emptyDir": {"medium": "Memory"}} in pod["volumes"]


def test_trainjob_patches_reach_the_runtime_node_container(fleet):
    job = _one(gk.render(_plan(fleet, "trainjob-kueue")), "TrainJob")
    assert job["spec"]["runtimeRef"]["name"] == "torch-distributed"
    assert job["spec"]["trainer"]["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == 8
    (patch,) = job["spec"]["runtimePatches"]
    (replicated,) = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    assert replicated["name"] == "node"
    pod = replicated["template"]["spec"]["template"]["spec"]
    assert pod["containers"] == [
        {"name": "node", "volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"}]}
    ]


@pytest.mark.parametrize(
    ("case", "claim_kind", "device_class", "reference"),
    [
        (
            "dra-mig-deployment",
            "ResourceClaimTemplate",
            "mig.nvidia.com",
            "resourceClaimTemplateName",
        ),
        (
            "dra-dedicated-jobset",
            "ResourceClaimTemplate",
            "gpu.nvidia.com",
            "resourceClaimTemplateName",
        ),
        # the dra fleet's driver runs with consumable shares: a claim per pod, for a share
        (
            "dra-time-slicing-pod",
            "ResourceClaimTemplate",
            "gpu.nvidia.com",
            "resourceClaimTemplateName",
        ),
        ("dra-mps-deployment", "ResourceClaim", "gpu.nvidia.com", "resourceClaimName"),
    ],
)
def test_dra_pods_reference_a_claim_of_the_driver_device_class(
    fleet, case, claim_kind, device_class, reference
):
    p = _plan(fleet, case)
    objects = gk.render(p)
    claim = _one(objects, claim_kind)
    devices = (
        claim["spec"]["spec"]["devices"]
        if claim_kind == "ResourceClaimTemplate"
        else claim["spec"]["devices"]
    )
    (request,) = devices["requests"]
    # the choice: the request itself, or the first of its prioritized list
    chosen = request["exactly"] if "exactly" in request else request["firstAvailable"][0]
    assert chosen["deviceClassName"] == device_class
    if p.sharing == "dedicated":
        assert chosen["count"] == p.choice.gpus
    if p.sharing == "mig":
        assert f"== '{p.choice.mig_profile}'" in chosen["selectors"][0]["cel"]["expression"]
    for pod in _pods(objects):
        assert pod["resourceClaims"] == [{"name": "gpu", reference: claim["metadata"]["name"]}]
        resources = pod["containers"][0]["resources"]
        assert resources["claims"] == [{"name": "gpu"}]
        assert not any(k.startswith("nvidia.com/") for k in resources["limits"])


@pytest.mark.parametrize("strategy", ["MPS"])
def test_dra_shared_claims_carry_the_sharing_strategy(fleet, strategy):
    # time-slicing's shared claim: tests/dra/test_claims.py (it depends on the driver's gates)
    claim = _one(gk.render(_plan(fleet, "dra-mps-deployment")), "ResourceClaim")
    (config,) = claim["spec"]["devices"]["config"]
    assert config["requests"] == ["gpu"]
    assert config["opaque"]["driver"] == "gpu.nvidia.com"
    assert config["opaque"]["parameters"]["sharing"]["strategy"] == strategy
    if strategy == "MPS":
        mps = config["opaque"]["parameters"]["sharing"]["mpsConfig"]
        assert mps["defaultActiveThreadPercentage"] == 25  # 4 replicas per GPU in the pool
        quarter = gk.get_gpu("L4").memory_bytes // 4 // 2**20  # an equal split, in MiB
        assert mps["defaultPinnedDeviceMemoryLimit"] == f"{quarter}Mi"


def test_dra_shared_claim_refuses_more_pods_than_shares(fleet):
    p = gk.plan(
        gk.Workload(
            name="many", kind="batch-inference", gpu_memory="3Gi", isolation="process", replicas=8
        ),
        fleet("default", dra=True),
    )
    assert p.sharing == "mps"
    with pytest.raises(gk.InputError, match=r"4 shares.*runs 8 pods.*lower replicas to 4"):
        gk.render(p)
