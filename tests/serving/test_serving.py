"""Serving a named model: one golden per engine x sharing mode, and what each part is for
(flags from the memory plan, probes, cache, GPU resource, multi-node, HPA, KServe)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

import gpukit as gk
from gpukit.hardware.catalog import catalog
from gpukit.lint import lint
from gpukit.validate import validate_objects

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "manifests"
SERVING = ROOT / "examples" / "serving"
REGENERATE = os.environ.get("GPUKIT_REGENERATE_GOLDEN") == "1"

MIG = {
    "kind": "inference",
    "isolation": "strict",
    "model": {"name": "Llama-3.1-8B", "context_length": 8192, "max_concurrency": 16},
}
MPS = {
    "kind": "inference",
    "isolation": "process",
    "priority": "throughput",
    "replicas": 2,
    "model": {"name": "Llama-3.2-1B", "context_length": 4096, "max_concurrency": 8},
}
WHOLE = {
    "kind": "inference",
    "gpus": 4,
    "max_replicas": 3,
    "model": {"name": "Llama-3.1-70B", "context_length": 8192, "max_concurrency": 32},
}
MULTI = {
    "kind": "inference",
    "gpus": 8,
    "workers": 2,
    "model": {"name": "Llama-3.1-405B", "precision": "fp8", "context_length": 8192},
}
MODES = {"mig": MIG, "mps": MPS, "whole": WHOLE, "multinode": MULTI}
CASES = [(engine, mode) for engine in ("vllm", "sglang") for mode in MODES]


def _fleet() -> gk.Fleet:
    return gk.load_fleet(SERVING / "fleet.yaml")


def _plan(engine: str, mode: str, fleet: gk.Fleet | None = None, **extra: Any) -> gk.Plan:
    workload = gk.Workload(
        name=f"serving-{engine}-{mode}", engine=engine, **{**MODES[mode], **extra}
    )
    p = gk.plan(workload, fleet or _fleet())
    if mode == "mps" and p.sharing != "mps":  # the fleet's L40S MPS pool, next best here
        alt = next(a for a in p.alternatives if a.sharing == "mps")
        p = p.model_copy(update={"choice": alt})
    return p


def _objects(engine: str, mode: str, **extra: Any) -> list[dict[str, Any]]:
    return gk.render(_plan(engine, mode, **extra))


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (obj,) = [o for o in objects if o["kind"] == kind]
    return obj


def _pod(objects: list[dict[str, Any]], role: str = "leader") -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == "Deployment":
            return obj["spec"]["template"]["spec"]
        if obj["kind"] == "LeaderWorkerSet":
            return obj["spec"]["leaderWorkerTemplate"][f"{role}Template"]["spec"]
    raise AssertionError("no pod template")


def _argv(container: dict[str, Any]) -> list[str]:
    command = container["command"]
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2])
    return command


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.mark.parametrize(("engine", "mode"), CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_serving_matches_golden(engine, mode):
    text = gk.to_yaml(_objects(engine, mode))
    golden = GOLDEN / f"serving-{engine}-{mode}.yaml"
    if REGENERATE:
        golden.write_text(text)
    assert golden.exists(), (
        f"no golden file serving-{engine}-{mode}; run with GPUKIT_REGENERATE_GOLDEN=1"
    )
    assert text == golden.read_text()


@pytest.mark.parametrize(("engine", "mode"), CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_serving_passes_the_schemas_and_lints_clean(engine, mode):
    objects = _objects(engine, mode)
    assert [str(i) for i in validate_objects(objects)] == []
    findings = [f for f in lint(objects, fleet=_fleet()) if f.rule.startswith("GPU04")]
    assert findings == []


@pytest.mark.parametrize(("engine", "mode"), CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_the_pod_gets_the_plans_gpu_and_node_selection(engine, mode):
    p = _plan(engine, mode)
    pod = _pod(gk.render(p))
    (container,) = pod["containers"]
    assert container["resources"]["limits"][p.choice.resource_name] == p.choice.gpus
    assert pod["nodeSelector"]["nvidia.com/gpu.product"].startswith(p.pool.gpu_product)
    assert {"name": "dshm", "emptyDir": {"medium": "Memory"}} in pod["volumes"]


@pytest.mark.parametrize(
    ("engine", "memory", "tp", "context", "seqs"),
    [
        (
            "vllm",
            "--gpu-memory-utilization",
            "--tensor-parallel-size",
            "--max-model-len",
            "--max-num-seqs",
        ),
        (
            "sglang",
            "--mem-fraction-static",
            "--tp-size",
            "--context-length",
            "--max-running-requests",
        ),
    ],
)
@pytest.mark.parametrize("mode", ["mig", "mps", "whole"])
def test_flags_come_from_the_memory_plan(engine, memory, tp, context, seqs, mode):
    p = _plan(engine, mode)
    argv = _argv(_pod(gk.render(p))["containers"][0])
    fraction = float(_flag(argv, memory))
    assert int(_flag(argv, tp)) == p.choice.gpus
    assert int(_flag(argv, context)) == MODES[mode]["model"]["context_length"]
    assert 1 <= int(_flag(argv, seqs)) <= MODES[mode]["model"]["max_concurrency"]
    if mode == "mps":  # the engine sees the whole L40S; its share is half of it
        share = p.choice.memory_bytes / catalog().get(p.choice.gpu_model).memory_bytes
        assert fraction <= share / 1.1 + 0.01
        assert fraction < 0.5
    else:
        assert 0.85 <= fraction <= 0.91


def test_quantisation_and_fp8_kv_cache_reach_both_engines():
    model = {**MIG["model"], "precision": "awq", "kv_cache_dtype": "fp8"}
    repo = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
    vllm = _argv(_pod(_objects("vllm", "mig", model=model, serve_model=repo))["containers"][0])
    sglang = _argv(_pod(_objects("sglang", "mig", model=model, serve_model=repo))["containers"][0])
    assert vllm[2] == repo and _flag(sglang, "--model-path") == repo
    assert _flag(vllm, "--quantization") == "awq" and _flag(vllm, "--kv-cache-dtype") == "fp8"
    assert _flag(sglang, "--quantization") == "awq"
    assert _flag(sglang, "--kv-cache-dtype") == "fp8_e4m3"


def test_a_quantised_checkpoint_must_be_named():
    model = {**MIG["model"], "precision": "gptq"}
    with pytest.raises(gk.GpukitError, match="set serve_model to its Hugging Face repo id"):
        _objects("vllm", "mig", model=model)


def test_the_cache_holds_the_checkpoint_downloaded():
    # fp8 is applied at load: the download is the catalog's bf16 checkpoint (405B x 2 B).
    claim = _one(_objects("vllm", "multinode"), "PersistentVolumeClaim")
    assert claim["spec"]["resources"]["requests"]["storage"] == "945Gi"  # 405.8B x 2 B x 1.25
    # A named fp8 checkpoint is about half that.
    named = _objects("vllm", "multinode", serve_model="meta-llama/Llama-3.1-405B-FP8")
    assert (
        _one(named, "PersistentVolumeClaim")["spec"]["resources"]["requests"]["storage"] == "478Gi"
    )  # fp8 linear layers, bf16 embeddings


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_probes_wait_out_the_load_on_health(engine):
    small = _pod(_objects(engine, "mig"))["containers"][0]
    big = _pod(_objects(engine, "multinode"))["containers"][0]
    for c in (small, big):
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["httpGet"] == {"path": "/health", "port": "http"}

    def allowance(c):
        return c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]

    assert allowance(small) >= 300
    assert allowance(big) > allowance(small)  # 405B loads longer than 8B


def test_the_model_cache_is_a_claim_sized_from_the_model_or_the_users():
    objects = _objects("vllm", "mig")
    claim = _one(objects, "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "19Gi"  # 16 GB of bf16 x 1.25
    pod = _pod(objects)
    assert {
        "name": "model-cache",
        "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]},
    } in pod["volumes"]
    assert {"name": "HF_HOME", "value": "/models"} in pod["containers"][0]["env"]
    # Several pods may sit on several nodes: ReadWriteMany.
    assert _one(_objects("vllm", "multinode"), "PersistentVolumeClaim")["spec"]["accessModes"] == [
        "ReadWriteMany"
    ]
    # An existing claim is used, not rendered; a size is honoured.
    existing = _objects("vllm", "mig", model_cache="shared-models")
    assert not [o for o in existing if o["kind"] == "PersistentVolumeClaim"]
    assert _pod(existing)["volumes"][0]["persistentVolumeClaim"]["claimName"] == "shared-models"
    sized = _one(_objects("vllm", "mig", model_cache="300Gi"), "PersistentVolumeClaim")
    assert sized["spec"]["resources"]["requests"]["storage"] == "300Gi"


def test_model_cache_is_checked():
    with pytest.raises(ValueError, match="has no unit"):
        gk.Workload(name="a", kind="inference", model_cache="300")
    with pytest.raises(ValueError, match="not a valid Kubernetes name"):
        gk.Workload(name="a", kind="inference", model_cache="Shared_Models")


def test_vllm_multinode_is_a_ray_cluster_tp_in_a_node_pp_across():
    objects = _objects("vllm", "multinode")
    lws = _one(objects, "LeaderWorkerSet")
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    leader = _pod(objects, "leader")["containers"][0]
    worker = _pod(objects, "worker")["containers"][0]
    assert leader["command"][2].startswith("ray start --head --port=6379 && exec vllm serve ")
    argv = _argv(leader)
    assert _flag(argv, "--tensor-parallel-size") == "8"
    assert _flag(argv, "--pipeline-parallel-size") == "2"
    assert _flag(argv, "--distributed-executor-backend") == "ray"
    assert "LWS_LEADER_ADDRESS" in worker["command"][2] and "--block" in worker["command"][2]
    assert "readinessProbe" not in worker  # workers serve no HTTP
    # Gang-started: Volcano makes one PodGroup per group from the queue annotation.
    assert lws["metadata"]["annotations"] == {"scheduling.volcano.sh/queue-name": "default"}


def test_sglang_multinode_every_pod_is_a_rank():
    objects = _objects("sglang", "multinode")
    for role in ("leader", "worker"):
        argv = _argv(_pod(objects, role)["containers"][0])
        assert _flag(argv, "--tp-size") == "8" and _flag(argv, "--pp-size") == "2"
        assert _flag(argv, "--nnodes") == "$(LWS_GROUP_SIZE)"
        assert _flag(argv, "--node-rank") == "$(LWS_WORKER_INDEX)"
        assert _flag(argv, "--dist-init-addr") == "$(LWS_LEADER_ADDRESS):20000"


@pytest.mark.parametrize(
    ("engine", "metric"),
    [("vllm", "vllm:num_requests_waiting"), ("sglang", "sglang:num_queue_reqs")],
)
def test_the_hpa_scales_on_the_engines_queue_not_gpu_utilisation(engine, metric):
    hpa = _one(_objects(engine, "whole"), "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"serving-{engine}-whole",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 3)
    (m,) = hpa["spec"]["metrics"]
    assert m["type"] == "Pods" and m["pods"]["metric"]["name"] == metric
    assert "DCGM" not in yaml.safe_dump(hpa)
    assert not [o for o in _objects(engine, "mig") if o["kind"] == "HorizontalPodAutoscaler"]


def test_a_workload_with_its_own_command_or_no_named_model_is_not_an_engine():
    own = gk.Workload(
        name="own", kind="inference", command=["python", "serve.py"], model=MIG["model"]
    )
    assert _one(gk.render(gk.plan(own)), "Deployment")["spec"]["template"]["spec"]["containers"][0][
        "command"
    ] == ["python", "serve.py"]
    bare = gk.Workload(name="bare", kind="inference", model={"params": "8B"})
    assert (
        "command"
        not in _one(gk.render(gk.plan(bare)), "Deployment")["spec"]["template"]["spec"][
            "containers"
        ][0]
    )


def test_kserve_renders_an_inference_service_only_when_installed():
    data = _fleet().model_dump()
    data["installed"]["kserve"] = True
    fleet = gk.Fleet.model_validate(data)
    p = gk.plan(gk.Workload(name="chat", **MIG), fleet)
    (isvc,) = gk.render(p)
    assert (isvc["apiVersion"], isvc["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    predictor = isvc["spec"]["predictor"]
    assert predictor["model"]["modelFormat"] == {"name": "huggingface"}
    assert "--model_id=meta-llama/Llama-3.1-8B" in predictor["model"]["args"]
    assert any(a.startswith("--gpu-memory-utilization=0.") for a in predictor["model"]["args"])
    assert predictor["model"]["resources"]["limits"][p.choice.resource_name] == 1
    assert (
        predictor["nodeSelector"]
        == _pod(gk.render(gk.plan(gk.Workload(name="chat", **MIG), _fleet())))["nodeSelector"]
    )
    assert "InferenceService" not in {o["kind"] for o in _objects("vllm", "mig")}


EXAMPLES = sorted(SERVING.glob("llama-*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_done_when_examples_render_valid_and_lint_clean(example):
    (workload,) = gk.load_workloads(example)
    objects = gk.render(gk.plan(workload, _fleet()))
    assert [str(i) for i in validate_objects(objects)] == []
    assert [f"{f.rule} {f.message}" for f in lint(objects, fleet=_fleet())] == []


def test_there_are_the_three_done_when_examples():
    assert {p.stem for p in EXAMPLES} == {
        "llama-8b-mig-slice",
        "llama-70b-4-gpus",
        "llama-405b-2-nodes",
    }


def test_lint_finds_the_anti_patterns_in_the_hand_written_bad_copies():
    found = {
        (f.rule, f.object.split("/")[-1] if f.object else None)
        for f in lint(
            [d for d in yaml.safe_load_all((SERVING / "bad-copies.yaml").read_text())],
            fleet=_fleet(),
        )
        if f.rule.startswith("GPU04")
    }
    assert found == {
        ("GPU040", "chat-on-a-share"),
        ("GPU042", "chat-on-a-share"),
        ("GPU043", "chat-on-a-share"),
        ("GPU041", "llama-70b-tp-mismatch"),
        ("GPU040", "sglang-on-a-slice"),
        ("GPU043", "sglang-on-a-slice"),
    }


def test_the_share_limit_comes_from_the_fleets_pool():
    (bad, *_) = list(yaml.safe_load_all((SERVING / "bad-copies.yaml").read_text()))
    (finding,) = [f for f in lint([bad], fleet=_fleet()) if f.rule == "GPU040"]
    assert "pool l40s-mps shares each GPU 2 ways" in finding.message
    assert "at most 0.45" in finding.message


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_on_a_dra_fleet_the_engine_gets_the_plans_claim(engine):
    fleet = gk.load_fleet(ROOT / "examples" / "fleets" / "dra.yaml")
    p = gk.plan(gk.Workload(name="chat", engine=engine, **MIG), fleet)
    objects = gk.render(p)
    assert [str(i) for i in validate_objects(objects)] == []
    pod = _pod(objects)
    assert pod["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "chat-gpu"}]
    assert pod["containers"][0]["resources"]["claims"] == [{"name": "gpu"}]
    assert _one(objects, "ResourceClaimTemplate")["metadata"]["name"] == "chat-gpu"
