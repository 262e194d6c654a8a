"""The serving pod: the engine's container (command, probes, model cache, /dev/shm) on the
pod spec gpukit renders for the plan (node selection, tolerations, GPU resource, DRA claim).

Probes: the engine answers GET /health once the model is loaded (vLLM and SGLang both).
Readiness and liveness use it; a start-up probe holds them off while the weights load, long
enough for the model's size (:func:`startup_seconds`), so liveness never kills a pod that is
still loading.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gpukit.models.estimate import weight_bytes
from gpukit.quantity import GIB
from gpukit.serving.engines import (
    ENGINES,
    QUANTISED_CHECKPOINTS,
    Engine,
    sglang_args,
    vllm_args,
)
from gpukit.workload import DEFAULT_IMAGE

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan

__all__ = [
    "CACHE_MOUNT",
    "CACHE_VOLUME",
    "HF_TOKEN_SECRET",
    "cache_claim_name",
    "cache_size",
    "engine",
    "serve_pod",
    "startup_seconds",
]

Obj = dict[str, Any]

CACHE_VOLUME = "model-cache"
#: HF_HOME points here: downloads land on the claim and are found at the next start.
CACHE_MOUNT = "/models"
#: Secret with the Hugging Face token (key "token") for gated models; optional.
HF_TOKEN_SECRET = "hf-token"
#: Start-up allowance: a fixed part (engine start, CUDA graphs) plus the weights' load at an
#: assumed 100 MiB/s download on the first start (a cached start is far faster).
STARTUP_FIXED_S = 300
ASSUMED_DOWNLOAD_BYTES_PER_S = 100 * 2**20
PROBE_PERIOD_S = 10


def engine(plan: Plan) -> Engine:
    return ENGINES[plan.workload.engine]


def _weights(plan: Plan) -> float:
    """Bytes of the checkpoint the engine downloads: the quantised one for awq/gptq or a
    serve_model of the precision; the catalog's bf16 one otherwise (fp8 and the like are
    applied at load)."""
    w = plan.workload
    spec = w.model
    assert spec is not None
    arch = spec.architecture()
    assert arch is not None
    own = spec.precision in QUANTISED_CHECKPOINTS or w.serve_model is not None
    precision = spec.precision if own and spec.precision != "fp32" else "bf16"
    return weight_bytes(arch, precision)[0]


def startup_seconds(plan: Plan) -> int:
    """How long the start-up probe waits: a fixed part plus the download of the weights."""
    return STARTUP_FIXED_S + math.ceil(_weights(plan) / ASSUMED_DOWNLOAD_BYTES_PER_S)


def cache_size(plan: Plan) -> str:
    """A new cache claim's size: the given one, or the weights plus a quarter, in whole GiB."""
    given = plan.workload.model_cache
    if given is not None and given[:1].isdigit():
        return given
    return f"{max(10, math.ceil(_weights(plan) * 1.25 / GIB))}Gi"


def cache_claim_name(plan: Plan) -> str:
    """The PersistentVolumeClaim the model cache lives on: the user's, or ``<name>-model-cache``."""
    given = plan.workload.model_cache
    if given is not None and not given[:1].isdigit():
        return given
    return f"{plan.name}-{CACHE_VOLUME}"


def _probe(path: str, period: int, failures: int) -> Obj:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "failureThreshold": failures,
    }


def probes(plan: Plan) -> Obj:
    health = engine(plan).health_path
    return {
        "startupProbe": _probe(
            health, PROBE_PERIOD_S, math.ceil(startup_seconds(plan) / PROBE_PERIOD_S)
        ),
        "readinessProbe": _probe(health, PROBE_PERIOD_S, 3),
        "livenessProbe": _probe(health, 30, 3),
    }


def _env() -> list[Obj]:
    return [
        {"name": "HF_HOME", "value": CACHE_MOUNT},
        {
            "name": "HF_TOKEN",
            "valueFrom": {
                "secretKeyRef": {"name": HF_TOKEN_SECRET, "key": "token", "optional": True}
            },
        },
    ]


def serve_pod(plan: Plan, spec: Obj, role: str = "server") -> Obj:
    """``spec`` (a pod spec from gpukit.manifests.pods.pod_spec) running the engine.

    ``role``: ``server`` (one pod serves), ``leader`` or ``worker`` (a LeaderWorkerSet group).
    vLLM's multi-node mode runs on Ray: the leader heads the Ray cluster and serves, workers
    join it. SGLang's: every pod runs the server with its node rank.
    """
    eng = engine(plan)
    multi = role != "server"
    if eng.name == "vllm":
        args = vllm_args(plan, multi_node=multi)
        if role == "leader":
            command = ["sh", "-c", f"ray start --head --port=6379 && exec {' '.join(args)}"]
        elif role == "worker":
            command = [
                "sh",
                "-c",
                "exec ray start --address=$LWS_LEADER_ADDRESS:6379 --block",
            ]
        else:
            command = args
    else:
        command = sglang_args(plan, multi_node=multi)
    container = spec["containers"][0]
    image = plan.workload.image
    rebuilt: Obj = {
        "name": container["name"],
        "image": eng.image if image == DEFAULT_IMAGE else image,
        "command": command,
        "env": [*container.get("env", []), *_env()],
    }
    if role != "worker":
        rebuilt["ports"] = [{"name": "http", "containerPort": 8000}]
        rebuilt.update(probes(plan))
    rebuilt["resources"] = container["resources"]
    rebuilt["volumeMounts"] = [
        {"name": CACHE_VOLUME, "mountPath": CACHE_MOUNT},
        {"name": "dshm", "mountPath": "/dev/shm"},
    ]
    spec["containers"] = [rebuilt]
    spec["volumes"] = [
        {"name": CACHE_VOLUME, "persistentVolumeClaim": {"claimName": cache_claim_name(plan)}},
        # NCCL and the engines' worker processes pass tensors through shared memory.
        {"name": "dshm", "emptyDir": {"medium": "Memory"}},
    ]
    return spec
