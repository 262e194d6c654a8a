"""Workload: what a person knows about a GPU job, as a frozen, validated model."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from gpukit._loading import load_documents, read_text, validate_model
from gpukit.errors import WorkloadError
from gpukit.models import Architecture, architecture, from_hf_config
from gpukit.quantity import check_memory_unit, parse_quantity

__all__ = [
    "DEFAULT_IMAGE",
    "KINDS",
    "ModelSpec",
    "Workload",
    "load_workloads",
]

Kind = Literal["training", "fine-tuning", "inference", "batch-inference", "interactive", "ci"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
Isolation = Literal["strict", "process", "none"]
Priority = Literal["latency", "throughput", "cost"]
Precision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4", "awq", "gptq"]
Mode = Literal["inference", "training", "lora", "qlora"]
KvCacheDtype = Literal["auto", "bf16", "fp16", "fp8"]
Engine = Literal["vllm", "sglang"]
Optimizer = Literal["adamw", "adamw-bf16", "adamw-8bit", "sgd"]
Sharding = Literal["auto", "ddp", "zero1", "zero2", "zero3", "fsdp"]

#: Image used when a workload names none: pinned, never ':latest'.
DEFAULT_IMAGE = "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PARAMS = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[kKmMbBtT]?)\s*$")
_PARAM_UNITS = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}

#: Kinds that train (whole GPUs by default, /dev/shm, gang when multi-worker).
TRAINING_KINDS = frozenset({"training", "fine-tuning"})
#: Kinds that serve requests or score data.
INFERENCE_KINDS = frozenset({"inference", "batch-inference"})


def _dns_label(field: str, value: str, max_len: int = 63) -> str:
    if not _DNS_LABEL.match(value) or len(value) > max_len:
        fixed = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:max_len] or "my-job"
        raise ValueError(
            f"{value!r} is not a valid Kubernetes name (DNS-1123 label: lowercase letters, "
            f"digits and '-', starting and ending with a letter or digit, at most {max_len} "
            f"characters); try {fixed!r}"
        )
    return value


class ModelSpec(BaseModel):
    """A model to size GPU memory from: a catalog name, a config.json, or a parameter count.

    ``name`` (a catalog entry, see ``gpukit.models``) or ``config`` (a Hugging Face config.json
    on disk) give the architecture, from which weights, KV cache and activations follow;
    explicit shape fields (layers, hidden_size, kv_heads, ...) override it. ``params`` alone
    sizes weights only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, description="catalog model name: 'Llama-3.1-8B'")
    config: str | None = Field(
        default=None,
        description="path of a Hugging Face config.json, read from disk (relative: to the "
        "working directory); never downloaded",
    )
    params: float | None = Field(default=None, description="parameter count: 7e9 or '7B'")
    precision: Precision = "bf16"
    mode: Mode = "inference"
    sequence_length: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1)
    layers: int | None = Field(default=None, ge=1)
    hidden_size: int | None = Field(default=None, ge=1)
    kv_heads: int | None = Field(default=None, ge=1)
    head_dim: int | None = Field(default=None, ge=1)
    intermediate_size: int | None = Field(default=None, ge=1)
    vocab_size: int | None = Field(default=None, ge=1)
    kv_cache: str | None = Field(default=None, description="KV-cache size as a quantity")
    max_concurrency: int | None = Field(
        default=None, ge=1, description="sequences served at once (serving with an architecture)"
    )
    context_length: int | None = Field(
        default=None, ge=1, description="tokens per sequence, prompt and output (--max-model-len)"
    )
    kv_cache_dtype: KvCacheDtype = "auto"
    optimizer: Optimizer = "adamw"
    master_weights: bool = Field(default=True, description="fp32 master weights (mixed precision)")
    gradient_checkpointing: bool | None = Field(default=None, description="None: gpukit decides")
    lora_rank: int = Field(default=16, ge=1)
    sharding: Sharding = "auto"

    @field_validator("params", mode="before")
    @classmethod
    def _parse_params(cls, value: Any) -> float | None:
        if isinstance(value, str):
            match = _PARAMS.match(value)
            if not match:
                raise ValueError(
                    f"{value!r} is not a parameter count; write it as a number (7e9) "
                    "or with a suffix K, M, B or T ('7B', '350M')"
                )
            return float(match["n"]) * _PARAM_UNITS[match["unit"].lower()]
        return value

    @field_validator("params")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError(f"{value!r} parameters is impossible; give a positive count ('7B')")
        return value

    @field_validator("kv_cache")
    @classmethod
    def _kv_quantity(cls, value: str | None) -> str | None:
        if value is not None and parse_quantity(value) < 0:
            raise ValueError(f"{value!r} is negative; give a size such as '4Gi'")
        return value

    @field_validator("name")
    @classmethod
    def _known_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return architecture(value).name
        except WorkloadError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _sized(self) -> ModelSpec:
        if self.name is not None and self.config is not None:
            raise ValueError("give model.name or model.config, not both")
        if self.name is None and self.config is None and self.params is None:
            raise ValueError(
                "model needs name (a catalog model such as 'Llama-3.1-8B'), config (a "
                "config.json path) or params ('7B')"
            )
        try:
            # Read now, so a bad file is reported where it is named.
            arch = self.architecture() if self.config is not None or self.params is None else None
        except WorkloadError as exc:
            raise ValueError(str(exc)) from None
        if self.params is None and arch is not None:
            # Fill in the count, so code that reads params (widgets, sizing) sees the
            # architecture's.
            object.__setattr__(self, "params", arch.params)
        return self

    def architecture(self) -> Architecture | None:
        """The model's architecture with explicit fields applied, or None for params only.

        Raises WorkloadError when ``config`` names a file that cannot be read as a config.json.
        """
        if self.name is not None:
            arch = architecture(self.name)
        elif self.config is not None:
            arch = from_hf_config(self.config)
        else:
            return None
        updates = {
            f: getattr(self, f)
            for f in ("layers", "hidden_size", "kv_heads", "head_dim", "intermediate_size", "vocab_size")
            if getattr(self, f) is not None
        }
        if self.params is not None:
            updates["params_override"] = self.params
        return arch.model_copy(update=updates) if updates else arch


class Workload(BaseModel):
    """A GPU job described by intent, not by resource names.

    >>> Workload(name="bert-serve", kind="inference", gpu_memory="6Gi", isolation="strict").kind
    'inference'
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(description="DNS-1123 label; names the rendered objects")]
    kind: Kind
    gpus: int | None = Field(
        default=None, ge=1, description="whole GPUs per worker or replica; None lets gpukit decide"
    )
    workers: int = Field(default=1, ge=1, description="pods that must run together (training)")
    replicas: int = Field(default=1, ge=1, description="independent serving or batch replicas")
    gpu_memory: str | None = Field(
        default=None, description="GPU memory needed per worker or replica, a Kubernetes quantity"
    )
    model: ModelSpec | None = None
    isolation: Isolation | None = Field(
        default=None, description="strict: hardware isolation; process: trusted processes; none"
    )
    priority: Priority | None = None
    utilisation: float | None = Field(default=None, gt=0, le=1)
    gpu_boundness: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of a request's time the GPU is busy (1 saturating; ~0.25 eager "
        "PyTorch serving at batch 1); default by kind",
    )
    gpu_fill: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of the GPU its kernels occupy while running (1 large matmuls; "
        "~0.3-0.5 small-batch kernels); default by kind",
    )
    latency_target: float | None = Field(
        default=None, ge=1, description="p99 latency allowed under sharing, as a multiple of running alone"
    )
    team: str | None = None
    queue: str | None = None
    preemptible: bool = False
    image: str = DEFAULT_IMAGE
    command: tuple[str, ...] = ()
    namespace: str | None = None
    cpu: str | None = Field(default=None, description="CPU request per pod, a quantity")
    memory: str | None = Field(default=None, description="memory request per pod, a quantity")
    engine: Engine = Field(
        default="vllm",
        description="LLM serving engine for inference with a named model (model.name or "
        "model.config): vllm or sglang",
    )
    serve_model: str | None = Field(
        default=None,
        description="what an LLM engine loads: a Hugging Face repo id ('meta-llama/"
        "Llama-3.1-8B-Instruct') or a path on the model cache; default: the catalog model's "
        "repo. A quantised precision (awq, gptq) needs its quantised checkpoint here",
    )
    model_cache: str | None = Field(
        default=None,
        description="model cache for an LLM server: an existing PersistentVolumeClaim's name, "
        "or a size ('200Gi') for a new claim; default: a claim sized from the model",
    )
    max_replicas: int | None = Field(
        default=None,
        ge=1,
        description="LLM serving: scale between replicas and this on the engine's queue length "
        "(an HPA on a custom metric); None keeps a fixed replica count",
    )

    @field_validator("name")
    @classmethod
    def _name_is_dns_label(cls, value: str) -> str:
        return _dns_label("name", value)

    @field_validator("namespace", "team", "queue")
    @classmethod
    def _optional_dns_label(cls, value: str | None) -> str | None:
        return None if value is None else _dns_label("name", value)

    @field_validator("gpu_memory", "cpu", "memory", mode="before")
    @classmethod
    def _quantity(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"{value!r} is not a quantity; write it like '6Gi' or '500m'")
        amount = parse_quantity(value)
        if amount <= 0:
            raise ValueError(f"{value!r} must be positive; write it like '6Gi'")
        if info.field_name in ("gpu_memory", "memory"):
            check_memory_unit(value)
        return str(value)

    @field_validator("model_cache")
    @classmethod
    def _model_cache(cls, value: str | None) -> str | None:
        if value is None or not value[:1].isdigit():
            return None if value is None else _dns_label("model_cache", value, 253)
        check_memory_unit(value)
        return value

    @field_validator("command", mode="before")
    @classmethod
    def _command(cls, value: Any) -> Any:
        if isinstance(value, str):
            return ("sh", "-c", value)
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not value or any(c.isspace() for c in value):
            raise ValueError(f"{value!r} is not an image reference; write it like 'repo/image:tag'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        # Multi-node serving (one model across nodes) is the one non-training gang.
        if self.workers > 1 and self.kind not in TRAINING_KINDS | {"inference"}:
            raise ValueError(
                f"workers={self.workers} is for pods that must run together; "
                f"a {self.kind} workload scales with replicas instead"
            )
        return self

    # -- derived facts the rules read ------------------------------------------------

    @property
    def is_training(self) -> bool:
        return self.kind in TRAINING_KINDS

    @property
    def is_distributed(self) -> bool:
        """Pods that must start together: several workers."""
        return self.workers > 1

    @property
    def gpu_memory_bytes(self) -> int | None:
        """The explicit memory need in bytes, if one was given."""
        return None if self.gpu_memory is None else int(parse_quantity(self.gpu_memory))

    @property
    def effective_isolation(self) -> str:
        """The isolation asked for, or the kind's default when none was given."""
        if self.isolation:
            return self.isolation
        if self.kind in ("interactive", "ci"):
            return "none"
        return "process" if self.kind in INFERENCE_KINDS else "strict"

    @property
    def effective_priority(self) -> str:
        if self.priority:
            return self.priority
        return {"inference": "latency", "batch-inference": "throughput"}.get(self.kind, "cost")

    @property
    def effective_namespace(self) -> str:
        return self.namespace or self.team or "default"



def workload_files(sources: Iterable[str | Path]) -> list[str]:
    """Files and '-' as given; folders walked recursively for YAML/JSON files (sorted,
    hidden ones skipped), the way every gpukit command reads folders."""
    from gpukit._yaml import expand_paths
    from gpukit.errors import ManifestError

    try:
        return list(expand_paths(list(sources)))
    except ManifestError as exc:
        raise WorkloadError(str(exc)) from None


def load_workloads(*sources: str | Path) -> list[Workload]:
    """Every workload in the given files or folders ('-' is standard input).

    A file may hold one workload, several YAML documents, or a list. Names must be unique:
    they name the rendered objects and output folders.
    """
    workloads: list[Workload] = []
    seen: dict[str, str] = {}
    for label, text in (read_text(f) for f in workload_files(sources)):
        for index, doc in load_documents(label, text):
            items = doc if isinstance(doc, list) else [doc]
            for item in items:
                name = item.get("name") if isinstance(item, dict) else None
                where = label + (f" (document {index + 1})" if index else "")
                where += f", workload {name!r}" if isinstance(name, str) else ""
                workload = validate_model(Workload, item, where, WorkloadError)
                if workload.name in seen:
                    raise WorkloadError(
                        f"{where}: name {workload.name!r} is already used in {seen[workload.name]}; "
                        "workload names must be unique"
                    )
                seen[workload.name] = label
                workloads.append(workload)
    if not workloads:
        raise WorkloadError(f"{', '.join(str(s) for s in sources)}: no workloads found")
    return workloads
