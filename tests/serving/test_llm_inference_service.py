"""LLMInferenceService where the fleet's KServe serves it (0.16 and later), InferenceService
otherwise; the fleet's ``versions.kserve`` says which."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

import gpukit as gk
from gpukit.integrations import requirements

FLEET = Path(__file__).resolve().parents[2] / "examples" / "serving" / "fleet.yaml"
CHAT = {
    "kind": "inference",
    "isolation": "strict",
    "model": {"name": "Llama-3.1-8B", "context_length": 8192, "max_concurrency": 16},
}
WHOLE = {
    "kind": "inference",
    "gpus": 4,
    "replicas": 2,
    "model": {"name": "Llama-3.1-70B", "context_length": 8192, "max_concurrency": 32},
}
MULTI = {
    "kind": "inference",
    "gpus": 8,
    "workers": 2,
    "model": {"name": "Llama-3.1-405B", "precision": "fp8", "context_length": 8192},
}


def _fleet(version: str | None, kserve: bool = True) -> gk.Fleet:
    data = gk.load_fleet(FLEET).model_dump()
    data["installed"]["kserve"] = kserve
    data["versions"] = {} if version is None else {"kserve": version}
    return gk.Fleet.model_validate(data)


def _render(fields: dict[str, Any], fleet: gk.Fleet, **extra: Any) -> list[dict[str, Any]]:
    return gk.render(gk.plan(gk.Workload(name="chat", **{**fields, **extra}), fleet))


@pytest.mark.parametrize(
    "version, kserve, engine, fields, kinds",
    [
        (None, True, "vllm", CHAT, ["InferenceService"]),  # version not said: the old kind
        ("0.15.2", True, "vllm", CHAT, ["InferenceService"]),
        ("0.16", True, "vllm", CHAT, ["LLMInferenceService"]),
        ("v0.17.0", True, "vllm", CHAT, ["LLMInferenceService"]),
        ("0.16", True, "vllm", WHOLE, ["LLMInferenceService"]),
        ("0.16", True, "sglang", CHAT, ["InferenceService"]),  # the preset runs vLLM
        ("0.16", False, "vllm", CHAT, ["Deployment", "Service", "PersistentVolumeClaim"]),
    ],
)
def test_the_kind_follows_the_fleets_kserve(version, kserve, engine, fields, kinds):
    objects = _render(fields, _fleet(version, kserve), engine=engine)
    assert sorted(o["kind"] for o in objects) == sorted(kinds)


def test_multi_node_stays_a_leader_worker_set():
    kinds = {o["kind"] for o in _render(MULTI, _fleet("0.16"))}
    assert "LeaderWorkerSet" in kinds and "LLMInferenceService" not in kinds


def test_the_llm_inference_service_carries_the_plan():
    fleet = _fleet("0.16")
    plan = gk.plan(gk.Workload(name="chat", **WHOLE), fleet)
    (obj,) = gk.render(plan)
    assert (obj["apiVersion"], obj["kind"]) == ("serving.kserve.io/v1alpha1", "LLMInferenceService")
    spec = obj["spec"]
    assert spec["model"] == {"uri": "hf://meta-llama/Llama-3.1-70B", "name": "chat"}
    assert spec["replicas"] == 2
    assert spec["parallelism"] == {"tensor": 4}
    assert spec["router"] == {"route": {}, "gateway": {}, "scheduler": {}}
    (main,) = spec["template"]["containers"]
    assert main["name"] == "main"  # the preset's container, which the template merges into
    env = {e["name"]: e.get("value") for e in main["env"]}
    extra = env["VLLM_ADDITIONAL_ARGS"].split()
    assert any(a.startswith("--gpu-memory-utilization=0.") for a in extra)
    assert "--max-model-len=8192" in extra
    assert not any(a.startswith(("--tensor-parallel-size", "--pipeline-parallel")) for a in extra)
    assert main["resources"]["limits"][plan.choice.resource_name] == 4
    assert "httpGet" not in main["startupProbe"]
    assert main["startupProbe"]["failureThreshold"] * main["startupProbe"]["periodSeconds"] >= 60
    deployment = next(
        o
        for o in gk.render(gk.plan(gk.Workload(name="chat", **WHOLE), _fleet(None, False)))
        if o["kind"] == "Deployment"
    )
    pod = deployment["spec"]["template"]["spec"]
    assert spec["template"]["nodeSelector"] == pod["nodeSelector"]
    assert spec["template"]["tolerations"] == pod["tolerations"]
    assert requirements(obj) == [
        "KServe 0.16 or later (serving.kserve.io/v1alpha1 LLMInferenceService)"
    ]


def test_a_bad_kserve_version_names_the_field():
    with pytest.raises(pydantic.ValidationError, match=r"versions\.kserve: version 'new'"):
        _fleet("new")
