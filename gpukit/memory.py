"""GPU memory need of a workload: the explicit figure, or an estimate from its model.

The estimate adds up the terms a practitioner would write on a whiteboard, and keeps both
the arithmetic (``formula``) and what it took for granted (``assumptions``) so that a plan
can show them. Sources of the constants:

- Mixed-precision Adam keeps 16 bytes per parameter (2 bf16 weights, 2 bf16 gradients,
  4 fp32 master weights, 4 + 4 fp32 Adam moments): Rajbhandari et al., "ZeRO: Memory
  Optimizations Toward Training Trillion Parameter Models", SC 2020, section 3.1. Pure fp32
  Adam also comes to 16 (4 + 4 + 8). Some frameworks keep an fp32 gradient copy too (18-20
  bytes); EleutherAI's "Transformer Math 101" (2023) gives that range.
- Inference needs the weights plus about 20 % for activations, CUDA context and the
  allocator ("Transformer Math 101", inference section), plus the KV cache.
- KV cache: 2 (K and V) x layers x hidden size x sequence length x batch x bytes per element
  (the same article; also vLLM's and Hugging Face's sizing notes). With grouped-query
  attention the real cache is smaller, so the formula errs high, which is the safe side.
- Training activations, 16-bit, no recomputation, per layer: s·b·h·(34 + 5·a·s/h) bytes
  (Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models",
  MLSys 2023, section 4.1). FlashAttention does not store the a·s² attention scores, so
  34·s·b·h per layer is used.
- LoRA trains small adapters on a frozen base: Hu et al., "LoRA", ICLR 2022. Ranks 8-64 on
  attention and MLP projections train roughly 0.5-2 % of the parameters; 2 % is assumed.
- QLoRA stores the frozen base in 4-bit NormalFloat with double-quantised constants
  (about 0.127 extra bits per parameter): Dettmers et al., "QLoRA", NeurIPS 2023.

A model given by architecture (``model.name`` from the catalog or ``model.config``, a
config.json) is sized term by term by :mod:`gpukit.models.estimate` instead: weights by
precision or quantisation, the KV cache its attention really keeps, one prefill chunk, CUDA
context and engine when serving; weights, gradients, optimizer states and activations under
a named sharding strategy when training. The flat percentages above apply to a bare
parameter count only.
"""

from __future__ import annotations

import functools
import math

from pydantic import BaseModel, ConfigDict

from gpukit.models import Architecture
from gpukit.models import estimate as llm
from gpukit.models.params_sharding import params_training_need
from gpukit.quantity import GIB, format_gib, format_gib_float, parse_quantity
from gpukit.workload import ModelSpec, Workload

__all__ = [
    "ADAM_BYTES_PER_PARAM",
    "BYTES_PER_PARAM",
    "MemoryNeed",
    "engine_settings",
    "estimate_model_memory",
    "kv_cache_bytes",
    "memory_need",
    "serving_settings",
    "trained_need",
]

#: Bytes that hold one weight at each precision.
BYTES_PER_PARAM = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5,
    # 4 bits plus a group-128 fp16 scale and 4-bit zero point (see gpukit.models.estimate)
    "awq": llm.LINEAR_BYTES["awq"], "gptq": llm.LINEAR_BYTES["gptq"],
}

#: Weights, gradients and Adam state per trained parameter (ZeRO, section 3.1).
ADAM_BYTES_PER_PARAM = 16.0
#: Kept under its old name: code outside this module may read it.
ADAM_MIXED_BYTES_PER_PARAM = ADAM_BYTES_PER_PARAM
#: Activations, CUDA context and allocator slack on top of the weights when serving.
INFERENCE_OVERHEAD = 0.20
#: Training activations when their shape is not given, as a share of weights and optimizer
#: state: short sequences, small batches or activation checkpointing. Give sequence_length,
#: layers and hidden_size for the sized term instead.
TRAINING_ACTIVATION_OVERHEAD = 0.25
#: Bytes of stored activations per token, per layer, per hidden unit (16-bit, FlashAttention,
#: no recomputation): Korthikanti et al. 2023.
ACTIVATION_BYTES_PER_TOKEN_LAYER_HIDDEN = 34
#: Share of parameters LoRA adapters train.
LORA_TRAINABLE_SHARE = 0.02
#: QLoRA's quantisation constants after double quantisation, bytes per parameter.
QLORA_CONSTANTS_BYTES_PER_PARAM = 0.127 / 8
#: Weight-only int8/int4 quantisation keeps activations and the KV cache in 16 bit.
KV_BYTES = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 2.0, "int4": 2.0, "awq": 2.0,
    "gptq": 2.0,
}


class MemoryNeed(BaseModel):
    """How much GPU memory one worker or replica needs, and how gpukit knows.

    For a model that must span several workers (a model bigger than a node), ``bytes`` is
    the need of one copy of the model, which the plan splits across its workers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bytes: int | None
    source: str  # "given" | "estimated" | "unknown"
    formula: str = ""
    assumptions: tuple[str, ...] = ()
    strategy: str = ""  # how a training job is sharded, when the estimate chose it
    #: The estimate already counts the CUDA context (and, serving, the engine's overhead):
    #: rules that add a per-process overhead should not add it again.
    context_included: bool = False
    #: Training with an architecture: one GPU's share of the need, and whether the estimate
    #: turned gradient checkpointing on.
    per_gpu_bytes: int | None = None
    checkpointing: bool | None = None

    @property
    def known(self) -> bool:
        return self.bytes is not None

    def describe(self) -> str:
        if self.bytes is None:
            return "no GPU memory need given"
        how = "given" if self.source == "given" else f"estimated: {self.formula}"
        under = f", under {self.strategy}" if self.strategy else ""
        return f"{format_gib_float(self.bytes)}{under} ({how})"


@functools.lru_cache(maxsize=1024)
def _quantity_bytes(text: str) -> int:
    return int(parse_quantity(text))


def _count(n: float) -> str:
    """7e9 -> '7B', 3.5e8 -> '350M': parameter counts as people write them."""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:g}{unit}"
    return f"{n:g}"


def kv_cache_bytes(spec: ModelSpec) -> tuple[int, str, tuple[str, ...]]:
    """KV-cache bytes, the term as written, and assumptions: the given size or the formula.

    2 x layers x hidden x sequence x batch x bytes per element; 0 when neither a size nor
    the model's shape is known (then an assumption says the cache is not counted).
    """
    if spec.kv_cache:
        size = int(parse_quantity(spec.kv_cache))
        return size, f"{format_gib(size)} KV cache (given)", ()
    if spec.layers and spec.hidden_size and spec.sequence_length:
        batch = spec.batch_size or 1
        per = KV_BYTES[spec.precision]
        size = int(2 * spec.layers * spec.hidden_size * spec.sequence_length * batch * per)
        term = (
            f"KV 2 x {spec.layers} layers x {spec.hidden_size} hidden x "
            f"{spec.sequence_length} tokens x batch {batch} x {per:g} B = {format_gib(size)}"
        )
        notes = ["the KV cache assumes full multi-head attention; grouped-query attention needs less"]
        if spec.batch_size is None:
            notes.append("batch size not given: KV cache for 1 sequence at a time")
        if per != BYTES_PER_PARAM[spec.precision]:
            notes.append(f"{spec.precision} weights with a 16-bit KV cache (weight-only quantisation)")
        return size, term, tuple(notes)
    missing = [
        f for f in ("sequence_length", "layers", "hidden_size") if getattr(spec, f) is None
    ]
    return 0, "", (f"KV cache not counted: give kv_cache, or {', '.join(missing)}",)


def _activations(spec: ModelSpec, states: float) -> tuple[float, str, tuple[str, ...]]:
    """Training activations: sized from the model's shape, else a share of the states."""
    if spec.layers and spec.hidden_size and spec.sequence_length:
        batch = spec.batch_size or 1
        size = float(
            ACTIVATION_BYTES_PER_TOKEN_LAYER_HIDDEN
            * spec.sequence_length
            * batch
            * spec.hidden_size
            * spec.layers
        )
        term = (
            f"activations {ACTIVATION_BYTES_PER_TOKEN_LAYER_HIDDEN} x {spec.sequence_length} tokens x "
            f"batch {batch} x {spec.hidden_size} hidden x {spec.layers} layers = {format_gib(size)}"
        )
        notes = ["activations stored for every layer (no checkpointing), FlashAttention"]
        if spec.batch_size is None:
            notes.append("batch size not given: activations for a micro-batch of 1")
        return size, term, tuple(notes)
    size = states * TRAINING_ACTIVATION_OVERHEAD
    return (
        size,
        f"activations {TRAINING_ACTIVATION_OVERHEAD:.0%} of that = {format_gib(size)}",
        (
            (
                "activations not sized (give sequence_length, layers and hidden_size): "
                f"{TRAINING_ACTIVATION_OVERHEAD:.0%} assumed"
            ),
        ),
    )


@functools.lru_cache(maxsize=4096)
def estimate_model_memory(spec: ModelSpec) -> MemoryNeed:
    """Estimate the GPU memory one copy of a model needs, with the formula shown.

    >>> estimate_model_memory(ModelSpec(params="7B", precision="bf16")).formula
    '7B params x 2 B (bf16) = 13.0 GiB weights + 20% overhead = 15.6 GiB'
    """
    if spec.name is not None or spec.config is not None:
        return _architecture_need(spec, None, 1)
    assert spec.params is not None  # ModelSpec requires params, name or config
    params = spec.params
    precision = spec.precision
    weight_bytes = BYTES_PER_PARAM[precision]
    count = _count(params)
    assumptions: list[str] = []
    if spec.mode == "inference":
        weights = params * weight_bytes
        kv, kv_term, notes = kv_cache_bytes(spec)
        assumptions += notes
        total = weights * (1 + INFERENCE_OVERHEAD) + kv
        formula = (
            f"{count} params x {weight_bytes:.3g} B ({precision}) = {format_gib(weights)} weights "
            f"+ {INFERENCE_OVERHEAD:.0%} overhead"
        )
        if kv:
            formula += f" + {kv_term}"
        assumptions.append(
            f"{INFERENCE_OVERHEAD:.0%} over the weights for activations, CUDA context and allocator"
        )
    elif spec.mode == "training":
        states = params * ADAM_BYTES_PER_PARAM
        acts, act_term, notes = _activations(spec, states)
        total = states + acts
        formula = (
            f"{count} params x {ADAM_BYTES_PER_PARAM:g} B (weights, gradients, Adam) = "
            f"{format_gib(states)} + {act_term}"
        )
        assumptions.append(
            "Adam with fp32 master weights and moments: 16 B per parameter (ZeRO); "
            "no optimizer-state sharding across GPUs"
        )
        if precision not in ("bf16", "fp16", "fp32"):
            assumptions.append(
                f"{precision} training still keeps fp32 master weights and Adam moments"
            )
        assumptions += notes
    else:
        qlora = spec.mode == "qlora"
        base_bytes = (
            BYTES_PER_PARAM["int4"] + QLORA_CONSTANTS_BYTES_PER_PARAM if qlora else weight_bytes
        )
        base = params * base_bytes
        adapters = params * LORA_TRAINABLE_SHARE * ADAM_BYTES_PER_PARAM
        acts, act_term, notes = _activations(spec, base + adapters)
        total = base + adapters + acts
        base_label = "4-bit NF4 base" if qlora else f"{precision} frozen base"
        formula = (
            f"{count} params x {base_bytes:.3g} B ({base_label}) = {format_gib(base)} + "
            f"{LORA_TRAINABLE_SHARE:.0%} trainable x {ADAM_BYTES_PER_PARAM:g} B "
            f"(adapters with Adam) = {format_gib(adapters)} + {act_term}"
        )
        assumptions.append(
            f"LoRA adapters train {LORA_TRAINABLE_SHARE:.0%} of the parameters (rank 8-64)"
        )
        if qlora:
            assumptions.append("QLoRA: NF4 base with double-quantised constants")
        assumptions += notes
    formula += f" = {format_gib(total)}"
    return MemoryNeed(
        bytes=int(total), source="estimated", formula=formula, assumptions=tuple(assumptions)
    )


def memory_need(workload: Workload) -> MemoryNeed:
    """The workload's memory need per worker: explicit ``gpu_memory`` always wins."""
    if workload.gpu_memory is not None:
        given = _quantity_bytes(workload.gpu_memory)
        notes: tuple[str, ...] = ()
        if workload.model is not None:
            estimate = estimate_model_memory(workload.model)
            notes = (
                (
                    "gpu_memory is given, so it wins over the model estimate "
                    f"({format_gib(estimate.bytes or 0)})"
                ),
            )
        return MemoryNeed(bytes=given, source="given", assumptions=notes)
    if workload.model is not None:
        spec = workload.model
        if spec.name is not None or spec.config is not None:
            return _architecture_need(spec, workload.gpus, workload.workers)
        if spec.mode != "inference" and ((workload.gpus or 1) > 1 or workload.workers > 1):
            # several GPUs: the sharding that fits an 80 GiB GPU (plan() sizes per option)
            gpus = workload.gpus or GPUS_PER_NODE
            return trained_need(spec, gpus, workload.workers, int(TRAINING_GPU_BUDGET * 1.1))
        return estimate_model_memory(spec)
    return MemoryNeed(bytes=None, source="unknown")


#: Training sharding is chosen so that one GPU needs at most this much: an 80 GiB GPU (A100,
#: H100) with the plan's 10 % headroom. Set model.sharding to choose another.
TRAINING_GPU_BUDGET = int(80 * GIB / 1.1)
#: GPUs per worker assumed for a multi-worker training job that does not say (one node).
GPUS_PER_NODE = 8
#: Context assumed for serving when neither context_length nor sequence_length is given.
DEFAULT_CONTEXT = 8192


def _serving_shape(spec: ModelSpec, arch: Architecture) -> tuple[int, int, list[str]]:
    notes = []
    context = spec.context_length or spec.sequence_length
    if context is None:
        context = min(DEFAULT_CONTEXT, arch.max_context or DEFAULT_CONTEXT)
        notes.append(f"context_length not given: {context} tokens per sequence assumed")
    elif arch.max_context and context > arch.max_context:
        notes.append(
            f"context_length {context} is more than {arch.name}'s {arch.max_context} "
            "(max_position_embeddings)"
        )
    concurrency = spec.max_concurrency or spec.batch_size
    if concurrency is None:
        concurrency = 1
        notes.append("max_concurrency not given: KV cache for 1 sequence at a time")
    return context, concurrency, notes


@functools.lru_cache(maxsize=1024)
def _architecture_need(
    spec: ModelSpec, gpus: int | None, workers: int, budget: int | None = None
) -> MemoryNeed:
    arch = spec.architecture()
    assert arch is not None  # guarded by the caller
    if spec.mode == "inference":
        context, concurrency, notes = _serving_shape(spec, arch)
        tp = gpus or 1
        est = llm.serving_estimate(
            arch, precision=spec.precision, kv_dtype=spec.kv_cache_dtype, context=context,
            concurrency=concurrency, tensor_parallel=tp, pipeline_parallel=workers,
        )
        copies = tp * workers  # the plan splits one copy's need over its GPUs
        total = est.bytes * copies
        formula = est.formula() + (f" per GPU x {copies} GPUs = {format_gib(total)}" if copies > 1 else "")
        return MemoryNeed(
            bytes=int(total), source="estimated", formula=formula,
            assumptions=(*est.notes, *notes), context_included=True,
        )
    return _training_need(spec, arch, gpus, workers, budget or TRAINING_GPU_BUDGET)


def _training_need(
    spec: ModelSpec, arch: Architecture, gpus: int | None, workers: int, budget: int
) -> MemoryNeed:
    notes: list[str] = []
    sequence = spec.sequence_length or spec.context_length or 4096
    batch = spec.batch_size or 1
    if spec.sequence_length is None and spec.context_length is None:
        notes.append("sequence_length not given: 4096 tokens assumed")
    if spec.batch_size is None:
        notes.append("batch_size not given: micro-batch of 1 per GPU")
    lora = spec.mode in ("lora", "qlora")
    common = {
        "mode": spec.mode, "precision": spec.precision if spec.precision in llm.LINEAR_BYTES else "bf16",
        "optimizer": spec.optimizer, "master_weights": spec.master_weights, "batch": batch,
        "sequence": sequence, "lora_params": llm.lora_parameters(arch, spec.lora_rank) if lora else None,
    }
    wanted = {"fsdp": "zero3"}.get(spec.sharding, spec.sharding)
    checkpointing = (
        [spec.gradient_checkpointing] if spec.gradient_checkpointing is not None else [False, True]
    )

    def choose(per_worker: int) -> llm.Estimate:
        """The least sharding (then checkpointing) whose per-GPU need fits the budget."""
        total_gpus = per_worker * workers
        if total_gpus == 1:
            candidates = [("none", 1)]
        elif wanted != "auto":
            candidates = [(wanted, 1), (wanted, per_worker)]
        elif lora:
            candidates = [("ddp", 1), ("zero3", 1), ("zero3", per_worker)]
        else:
            candidates = [("ddp", 1), ("zero1", 1), ("zero2", 1), ("zero3", 1), ("zero3", per_worker)]
        # Last resort across nodes: tensor parallel in each node, pipeline parallel across.
        layouts = [(sharding, tp, 1) for sharding, tp in candidates]
        if workers > 1 and wanted == "auto":
            layouts.append(("none", per_worker, workers))
        best = None
        for sharding, tp, pp in layouts:
            for ckpt in checkpointing:
                est = llm.training_estimate(
                    arch, **common, checkpointing=bool(ckpt), sharding=sharding,
                    data_parallel=total_gpus // (tp * pp), tensor_parallel=tp,
                    pipeline_parallel=pp,
                )
                if est.bytes <= budget:
                    return est
                if best is None or est.bytes < best.bytes:
                    best = est
        assert best is not None
        return best  # nothing fits: the layout that needs least, and a note says so

    if gpus is not None:
        per_worker = gpus
        est = choose(gpus)
    elif workers > 1:
        per_worker = GPUS_PER_NODE
        est = choose(per_worker)
        notes.append(f"gpus not given: {GPUS_PER_NODE} GPUs per worker (one node) assumed")
    else:  # one pod, GPUs open: the fewest (a power of two, within a node) that fit
        for per_worker in (1, 2, 4, GPUS_PER_NODE):
            est = choose(per_worker)
            if est.bytes <= budget:
                break
        if per_worker > 1:
            notes.append(f"gpus not given: {per_worker} GPUs in one pod, the fewest that fit")
    total_gpus = per_worker * workers
    assert est is not None
    fits = est.bytes <= budget
    if spec.sharding == "auto" and total_gpus > 1 and fits:
        notes.append(
            f"sharding chosen: {est.strategy}, the least sharding whose per-GPU need fits "
            f"{format_gib(budget)} (each GPU's memory less 10% headroom); set "
            "model.sharding to choose"
        )
    if not fits:
        notes.append(
            f"no layout on {total_gpus} GPU(s) fits {format_gib(budget)} per GPU; "
            f"the least, {est.strategy or 'one GPU'}, needs {format_gib(est.bytes)} per GPU: "
            "give more GPUs or workers, a smaller optimizer state (adamw-8bit), LoRA or a "
            "shorter micro-batch"
        )
    total = est.bytes * per_worker
    formula = est.formula() + (
        f" per GPU x {per_worker} GPUs per worker = {format_gib(total)}" if per_worker > 1 else ""
    )
    return MemoryNeed(
        bytes=int(total), source="estimated", formula=formula,
        assumptions=(*est.notes, *notes), strategy=est.strategy if total_gpus > 1 else "",
        context_included=True, per_gpu_bytes=est.bytes, checkpointing=est.checkpointing,
    )


@functools.lru_cache(maxsize=4096)  # specs are frozen: the same model on the same GPUs, once
def trained_need(spec: ModelSpec, gpus: int, workers: int, gpu_bytes: int) -> MemoryNeed:
    """The need of a trained model on one pod of ``gpus`` GPUs of ``gpu_bytes``, ``workers`` pods.

    Sized under the least sharding whose per-GPU need fits each GPU less the plan's 10 %
    headroom: ``bytes`` is the pod's (per GPU x gpus), ``strategy`` names the sharding.
    """
    budget = int(gpu_bytes / 1.1)
    if spec.name is not None or spec.config is not None:
        return _architecture_need(spec, gpus, workers, budget)
    one = estimate_model_memory(spec)
    total_gpus = gpus * workers
    if total_gpus == 1 and spec.mode == "training":
        return one.model_copy(update={"per_gpu_bytes": one.bytes})
    assert spec.params is not None
    frozen = BYTES_PER_PARAM["int4"] + QLORA_CONSTANTS_BYTES_PER_PARAM if spec.mode == "qlora" else None
    sized = spec.layers and spec.hidden_size and spec.sequence_length
    est = params_training_need(
        params=spec.params, count=_count(spec.params), mode=spec.mode, precision=spec.precision,
        gpus=gpus, workers=workers, budget=budget, sharding=spec.sharding,
        trainable_share=LORA_TRAINABLE_SHARE, activation_share=TRAINING_ACTIVATION_OVERHEAD,
        frozen_bytes_per_param=frozen or BYTES_PER_PARAM[spec.precision],
        activation_bytes=_activations(spec, 0.0)[0] if sized else None,
    )
    notes = [a for a in one.assumptions if "no optimizer-state sharding" not in a]
    return MemoryNeed(
        bytes=est.per_gpu_bytes * gpus, source="estimated", formula=est.formula,
        assumptions=(*notes, est.note), strategy=est.strategy, per_gpu_bytes=est.per_gpu_bytes,
    )


def serving_settings(
    workload: Workload, *, device_bytes: int, allotted_bytes: int, gpus: int, workers: int,
    device: str = "the whole GPU",
) -> tuple[dict[str, object], str] | None:
    """vLLM flags that fit what the plan gives one replica, and why; None without an architecture.

    ``device_bytes`` is the memory of the device as the engine sees it (a MIG slice shows its
    own memory; a time-sliced or MPS share shows the whole GPU), ``allotted_bytes`` what this
    replica may use of it. vLLM claims ``--gpu-memory-utilization`` of the device for weights,
    activations and KV cache, so on a share the fraction must be the share's, not 0.9.
    """
    spec = workload.model
    if spec is None or spec.mode != "inference" or (spec.name is None and spec.config is None):
        return None
    arch = spec.architecture()
    assert arch is not None
    context, concurrency, _ = _serving_shape(spec, arch)
    # Leave the plan's headroom free: vLLM's claim covers everything but other processes.
    budget = min(allotted_bytes, device_bytes) / (1 + 0.10)
    util = math.floor(budget / device_bytes * 100) / 100
    fits = llm.max_concurrency(
        arch, util * device_bytes, context=context, precision=spec.precision,
        kv_dtype=spec.kv_cache_dtype, tensor_parallel=gpus, pipeline_parallel=workers,
    )
    flags: dict[str, object] = {
        "--gpu-memory-utilization": util,
        "--max-model-len": context,
        "--max-num-seqs": max(1, min(concurrency, fits)) if fits else concurrency,
        "--max-num-batched-tokens": llm.PREFILL_CHUNK_TOKENS,
        "--tensor-parallel-size": gpus,
        "--pipeline-parallel-size": workers,
    }
    if spec.kv_cache_dtype == "fp8":
        flags["--kv-cache-dtype"] = "fp8"
    why = (
        f"vLLM claims --gpu-memory-utilization x the memory of the device it sees "
        f"({format_gib(device_bytes)}, {device}); {util:.2f} keeps it inside the "
        f"{format_gib(allotted_bytes)} this replica gets, with 10% headroom; that holds KV "
        f"cache for {fits} sequences of {context} tokens (asked: {concurrency})"
    )
    if fits < concurrency:
        why += f"; --max-num-seqs {flags['--max-num-seqs']} is what fits, the rest queue"
    if allotted_bytes < device_bytes * 0.99:
        why += (
            "; on a share vLLM starts only if that much is free when it starts, so "
            "neighbours must stay within their shares"
        )
    if gpus > 1:
        why += f"; tensor parallel over the pod's {gpus} GPUs"
    if workers > 1:
        why += f", pipeline parallel over {workers} nodes"
    return flags, why


def gib(n_bytes: int) -> float:
    return n_bytes / GIB


#: What each strategy is called where it is switched on.
_STRATEGY_SWITCH = {
    "DDP": "torch DistributedDataParallel",
    "ZeRO-1": "DeepSpeed ZeRO stage 1",
    "ZeRO-2": "DeepSpeed ZeRO stage 2",
    "FSDP full shard (ZeRO-3)": "PyTorch FSDP fully_shard / DeepSpeed ZeRO stage 3",
}


def engine_settings(workload: Workload, option: object, need: MemoryNeed) -> str | None:
    """The engine or launcher settings that fit a plan's chosen option, as one sentence.

    Serving: vLLM flags (``serving_settings``) for whole GPUs, a MIG slice or a share.
    Training: torchrun's shape, the sharding the estimate chose and where to switch it on,
    checkpointing and micro-batch, and the per-GPU need against what each GPU holds. None for
    models without an architecture.
    """
    spec = workload.model
    if spec is None or (spec.name is None and spec.config is None) or need.source != "estimated":
        return None
    from gpukit.hardware.catalog import catalog

    gpu = catalog().get(option.gpu_model)  # type: ignore[attr-defined]
    profile = option.mig_profile  # type: ignore[attr-defined]
    device = gpu.profile(profile).memory_bytes if profile else gpu.memory_bytes
    gpus = option.gpus  # type: ignore[attr-defined]
    sharing = option.sharing  # type: ignore[attr-defined]
    allotted = option.memory_bytes // gpus if sharing == "dedicated" else option.memory_bytes  # type: ignore[attr-defined]
    spans = option.spans_nodes  # type: ignore[attr-defined]
    if spec.mode != "inference":
        workers = option.workers  # type: ignore[attr-defined]
        if workload.gpu_memory is None and not need.per_gpu_bytes:  # sized for the choice
            need = _architecture_need(spec, gpus, workers)
        head = need.strategy.split(" over ")[0].split(" across ")[0].split(",")[0]
        switch = _STRATEGY_SWITCH.get(head)
        strategy = need.strategy or "one GPU, no sharding"
        per_gpu = need.per_gpu_bytes or 0
        return (
            f"torchrun --nnodes {workers} --nproc-per-node {gpus}; {strategy}"
            + (f" ({switch})" if switch else "")
            + f", gradient checkpointing {'on' if need.checkpointing else 'off'}, micro-batch "
            f"{spec.batch_size or 1} x {spec.sequence_length or spec.context_length or 4096} "
            f"tokens: {format_gib(per_gpu)} per GPU of the {format_gib(allotted)} each holds"
        )
    workers = option.workers if spans else 1  # type: ignore[attr-defined]
    if sharing == "dedicated":
        seen = "a whole GPU"
    elif sharing == "mig":
        seen = f"the MIG {profile} slice"
    else:
        seen = ("the whole MIG slice" if profile else "the whole GPU") + (
            f", of which this {sharing} replica gets a share"
        )
        if sharing == "mps":
            seen += (
                " (assumed: the client sees the GPU's total, not its MPS limit, as "
                "torch.cuda.mem_get_info's total)"
            )
    settings = serving_settings(
        workload, device_bytes=device, allotted_bytes=allotted, gpus=gpus, workers=workers,
        device=seen,
    )
    if settings is None:
        return None
    flags, why = settings
    return "vLLM: " + " ".join(f"{k} {v}" for k, v in flags.items()) + f"; {why}"
