"""What each serving engine needs: its image, port, health and metrics, and its command line
from the memory plan (gpukit.memory.serving_settings).

Sources: vLLM's ``vllm serve`` options (vllm/engine/arg_utils.py: --gpu-memory-utilization,
--max-model-len, --max-num-seqs, --max-num-batched-tokens, --tensor-parallel-size,
--pipeline-parallel-size, --quantization, --kv-cache-dtype, --distributed-executor-backend)
and its OpenAI server's /health and /metrics routes (vllm/entrypoints/openai/api_server.py);
SGLang's ``python3 -m sglang.launch_server`` options (python/sglang/srt/server_args.py:
--model-path, --mem-fraction-static, --context-length, --max-running-requests,
--chunked-prefill-size, --tp-size, --pp-size, --nnodes, --node-rank, --dist-init-addr,
--enable-metrics) and its /health route (python/sglang/srt/entrypoints/http_server.py).
LeaderWorkerSet injects LWS_LEADER_ADDRESS, LWS_GROUP_SIZE and LWS_WORKER_INDEX into every
pod of a group (sigs.k8s.io/lws pkg/utils/pod: LwsLeaderAddress, LwsGroupSize, LwsWorkerIndex).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gpukit.errors import GpukitError
from gpukit.memory import serving_settings

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan

__all__ = ["ENGINES", "Engine", "engine_flags", "model_id"]

#: Quantisations whose checkpoints both engines load with --quantization <name>.
QUANTIZATION = {"awq": "awq", "gptq": "gptq", "fp8": "fp8"}
#: Ray's head port (vLLM multi-node) and SGLang's distributed init port.
RAY_PORT = 6379
SGLANG_DIST_PORT = 20000


@dataclass(frozen=True)
class Engine:
    """One serving engine: ``name`` (the workload's ``engine``), ``title``, pinned ``image``,
    the Prometheus metric of queued requests the HPA scales on."""

    name: str
    title: str
    image: str
    queue_metric: str
    health_path: str = "/health"


VLLM = Engine("vllm", "vLLM", "vllm/vllm-openai:v0.8.5", "vllm:num_requests_waiting")
SGLANG = Engine("sglang", "SGLang", "lmsysorg/sglang:v0.5.1.post3-cu126", "sglang:num_queue_reqs")
ENGINES: dict[str, Engine] = {e.name: e for e in (VLLM, SGLANG)}


#: Precisions that are a checkpoint of their own (the engines read the quantisation from its
#: config); fp8 and the others can be applied at load to the catalog's bf16 checkpoint.
QUANTISED_CHECKPOINTS = frozenset({"awq", "gptq"})


def model_id(plan: Plan) -> str:
    """What the engine loads: ``serve_model``, else the Hugging Face repo id the catalog names
    (``hf:<repo id>``), else the model's name."""
    w = plan.workload
    spec = w.model
    assert spec is not None
    if w.serve_model:
        return w.serve_model
    if spec.precision in QUANTISED_CHECKPOINTS:
        raise GpukitError(
            f"{w.name}: model.precision {spec.precision} is served from a quantised checkpoint, "
            "not the catalog's bf16 one; set serve_model to its Hugging Face repo id (an "
            f"{spec.precision.upper()} repo of {spec.name or 'the model'})"
        )
    arch = spec.architecture()
    assert arch is not None
    source = arch.source or ""
    return source[3:] if source.startswith("hf:") else arch.name


def engine_flags(plan: Plan) -> dict[str, object]:
    """The memory plan's flags, in vLLM's names (gpukit.memory.serving_settings), for what
    the plan gives one pod: a MIG slice shows its own memory, a share the whole device."""
    from gpukit.hardware.catalog import catalog

    choice = plan.choice
    gpu = catalog().get(choice.gpu_model)
    profile = choice.mig_profile
    device = gpu.profile(profile).memory_bytes if profile else gpu.memory_bytes
    allotted = (
        choice.memory_bytes // choice.gpus if choice.sharing == "dedicated" else choice.memory_bytes
    )
    # Serving with several workers is one copy of the model over them (a LeaderWorkerSet
    # group), whether the workload asked for the workers or the planner split the model.
    workers = choice.workers if choice.spans_nodes or plan.workload.workers > 1 else 1
    settings = serving_settings(
        plan.workload,
        device_bytes=device,
        allotted_bytes=allotted,
        gpus=choice.gpus,
        workers=workers,
    )
    assert settings is not None  # serves_model() checked there is an architecture
    flags = dict(settings[0])
    spec = plan.workload.model
    assert spec is not None
    if spec.precision in QUANTIZATION:
        flags["--quantization"] = QUANTIZATION[spec.precision]
    return flags


def _args(flags: dict[str, object]) -> list[str]:
    out: list[str] = []
    for key, value in flags.items():
        out += [key, str(value)]
    return out


def vllm_args(plan: Plan, *, multi_node: bool = False) -> list[str]:
    """``vllm serve`` and its flags; multi-node runs on the Ray cluster the leader heads."""
    flags = engine_flags(plan)
    if flags.get("--pipeline-parallel-size") == 1:
        flags.pop("--pipeline-parallel-size")
    args = ["vllm", "serve", model_id(plan), "--host", "0.0.0.0", "--port", "8000"]
    args += _args(flags)
    if multi_node:
        args += ["--distributed-executor-backend", "ray"]
    return args


#: vLLM flag -> SGLang flag with the same meaning.
_SGLANG_NAMES = {
    # SGLang's static pool is weights + KV cache; activations and CUDA graphs use the rest,
    # which the plan's 10 % headroom leaves.
    "--gpu-memory-utilization": "--mem-fraction-static",
    "--max-model-len": "--context-length",
    "--max-num-seqs": "--max-running-requests",
    "--max-num-batched-tokens": "--chunked-prefill-size",
    "--tensor-parallel-size": "--tp-size",
    "--pipeline-parallel-size": "--pp-size",
    "--quantization": "--quantization",
    "--kv-cache-dtype": "--kv-cache-dtype",
}
#: SGLang names fp8 KV cache by format.
_SGLANG_KV = {"fp8": "fp8_e4m3"}


def sglang_args(plan: Plan, *, multi_node: bool = False) -> list[str]:
    """``python3 -m sglang.launch_server`` and its flags; multi-node: every pod of the group
    runs it with its rank, the leader's address as the distributed init address."""
    flags = engine_flags(plan)
    translated: dict[str, object] = {}
    for key, value in flags.items():
        name = _SGLANG_NAMES[key]
        if name == "--pp-size" and value == 1:
            continue
        translated[name] = (
            _SGLANG_KV.get(str(value), value) if name == "--kv-cache-dtype" else value
        )
    args = ["python3", "-m", "sglang.launch_server", "--model-path", model_id(plan)]
    args += ["--host", "0.0.0.0", "--port", "8000"]
    args += _args(translated)
    args += ["--enable-metrics"]
    if multi_node:
        args += [
            "--nnodes",
            "$(LWS_GROUP_SIZE)",
            "--node-rank",
            "$(LWS_WORKER_INDEX)",
            "--dist-init-addr",
            f"$(LWS_LEADER_ADDRESS):{SGLANG_DIST_PORT}",
        ]
    return args
