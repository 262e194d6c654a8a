"""LLM memory from the architecture: serving (weights, KV cache, prefill, engine) and training.

Each estimate is a list of named terms with the arithmetic written out, so that a plan can
show it. Constants and where they come from:

- Weight bytes: bf16/fp16 2, fp8 and int8 1 per weight of the linear layers; int4 AWQ/GPTQ
  pack 4 bits plus, per group of 128 weights, one fp16 scale and one 4-bit zero point
  (AWQ and GPTQ's default group size 128): 4 + 20/128 bits. Embeddings, the LM head and norms
  stay 16-bit under these schemes (vLLM's AWQ, GPTQ and fp8 methods quantise linear layers).
- KV cache per token: 2 (K, V) x layers x KV heads x head dim x bytes; MLA (DeepSeek-V3)
  caches its compressed latent, (kv_lora_rank + qk_rope_head_dim) x layers x bytes; a
  sliding-window layer keeps at most its window (vLLM's hybrid KV cache manager); fp8 KV
  takes 1 byte per value. Measured on an H200 (gpukit/models/data/measured): exact to the byte.
- Prefill activations of one chunk of tokens, 16-bit, no autograd: the MLP's gate, up,
  activation and product at its intermediate width plus the hidden state, 2 x (4 x I + h)
  bytes per token; measured 3-6 % above the H200 figure (bench/llm_memory_measure.py).
- CUDA context and memory outside PyTorch's allocator: 1.3 GiB, measured on an H200
  (NVML used minus torch reserved, torch 2.11, driver 580); DESIGN.md's 0.5-0.8 GiB context
  plus about 0.6 GiB the driver keeps agree.
- vLLM's own overhead: CUDA graphs for the decode batch sizes and the sampler's warm-up
  buffers: 1 GiB (vLLM's start-up log reports graph capture at 0.3-1.5 GiB for 1B-70B models).
- Training: weights, gradients and optimizer states per parameter (ZeRO, Rajbhandari et al.
  SC 2020, section 3.1): AdamW keeps two moments (fp32: 8 B; bf16: 4 B; 8-bit Adam: 2 B,
  Dettmers et al. 2022), SGD with momentum one. Mixed precision keeps fp32 master weights
  and gradients; autocast adds a 16-bit copy of the weights during the forward.
- Training activations per token per layer (bf16, FlashAttention-style SDPA, SwiGLU,
  HF RMSNorm upcasting to fp32): 18h + 4 x KV width + 8I bytes, counted from what autograd
  saves; under autocast with fp32 master weights the residual stream is fp32 (+8h); with
  gradient checkpointing a layer keeps only its 2h-byte input, plus one layer recomputed at
  a time. Against the H200 measurement: within 2-4 % (bench/llm_memory_compare.py). Logits: 12 B per token per vocab
  entry (bf16 logits, their fp32 copy, fp32 log-probabilities and their gradient), fitted to
  the measurement (11.3-11.6 B). Peak = weights + optimizer states + the larger of (gradients)
  and (activations + logits): gradients fill while activations drain in the backward pass,
  which is what the measured peaks show (within 2 %).
- LoRA adapters (Hu et al. 2022) on q, k, v, o, gate, up and down, fp32 as peft keeps them
  (autocast_adapter_dtype); their inputs are cast to fp32 and saved (24h + 4I bytes per token
  per layer more), while the frozen projections keep no inputs for weight gradients (6h + 2I
  less). QLoRA (Dettmers et al. 2023): NF4 base, 4.127 bits per weight.
- Sharding (ZeRO stages; FSDP full shard = ZeRO-3): stage 1 shards optimizer states, 2 also
  gradients, 3 also weights, over the data-parallel GPUs. Tensor parallel divides weights,
  gradients, states and most activations by its degree within a node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gpukit.models import Architecture
from gpukit.quantity import GIB

__all__ = [
    "CUDA_CONTEXT_BYTES",
    "ENGINE_OVERHEAD_BYTES",
    "Estimate",
    "Term",
    "kv_bytes_per_sequence",
    "max_concurrency",
    "serving_estimate",
    "training_estimate",
    "weight_bytes",
]

CUDA_CONTEXT_BYTES = int(1.3 * GIB)
ENGINE_OVERHEAD_BYTES = int(1.0 * GIB)
#: vLLM's token budget for one scheduler step (chunked prefill), set explicitly in the plan.
PREFILL_CHUNK_TOKENS = 8192

#: Bytes per weight of a quantised linear layer.
LINEAR_BYTES = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": (4 + 20 / 128) / 8,
    "awq": (4 + 20 / 128) / 8,
    "gptq": (4 + 20 / 128) / 8,
    "nf4": 4.127 / 8,
}
KV_VALUE_BYTES = {"auto": None, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp32": 4.0}
#: Optimizer state bytes per trained parameter.
OPTIMIZER_BYTES = {"adamw": 8.0, "adamw-bf16": 4.0, "adamw-8bit": 2.0, "sgd": 4.0}
LOGIT_BYTES_PER_VOCAB = 12


def _gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


def _div(n: int) -> str:
    return f" / {n}" if n > 1 else ""


@dataclass(frozen=True)
class Term:
    name: str
    bytes: float
    formula: str


@dataclass(frozen=True)
class Estimate:
    """Memory of one GPU (or one model copy), term by term."""

    terms: tuple[Term, ...]
    notes: tuple[str, ...] = ()
    strategy: str = ""
    checkpointing: bool = False

    @property
    def bytes(self) -> int:
        return int(sum(t.bytes for t in self.terms))

    def term(self, name: str) -> float:
        return sum(t.bytes for t in self.terms if t.name == name)

    def formula(self) -> str:
        return " + ".join(f"{t.name} {t.formula}" for t in self.terms) + f" = {_gib(self.bytes)}"


def _embedding_params(arch: Architecture) -> float:
    return arch.vocab_size * arch.hidden_size * (1 if arch.tied_embeddings else 2)


def weight_bytes(arch: Architecture, precision: str) -> tuple[float, str]:
    """Bytes of the weights at a precision or quantisation, and the term as written."""
    per = LINEAR_BYTES[precision]
    if per >= 2:
        total = arch.params * per
        return total, f"{arch.params / 1e9:.2f}B x {per:g} B ({precision}) = {_gib(total)}"
    embed = _embedding_params(arch) + arch.other_params
    linear = arch.params - embed
    total = linear * per + embed * 2
    return total, (
        f"{linear / 1e9:.2f}B linear x {per:.3g} B ({precision}) + {embed / 1e9:.2f}B "
        f"embeddings/other x 2 B = {_gib(total)}"
    )


def _kv_value_bytes(kv_dtype: str, precision: str) -> float:
    per = KV_VALUE_BYTES.get(kv_dtype)
    if per is None:
        per = 4.0 if precision == "fp32" else 2.0  # "auto": the model's activation dtype
    return per


def kv_bytes_per_sequence(arch: Architecture, context: int, kv_bytes: float) -> float:
    full, sliding = arch.kv_tokens_cached(context)
    return arch.kv_values_per_token_layer() * (full + sliding) * kv_bytes


def _kv_formula(arch: Architecture, context: int, sequences: int, kv_bytes: float) -> str:
    per_layer = (
        f"({arch.kv_lora_rank} latent + {arch.qk_rope_head_dim} rope)"
        if arch.is_mla
        else f"2 x {arch.kv_heads} KV heads x {arch.head_dim}"
    )
    _full, sliding = arch.kv_tokens_cached(context)
    if sliding:
        tokens = (
            f"({arch.full_attention_layers} full layers x {context} + "
            f"{arch.layers - arch.full_attention_layers} sliding layers x "
            f"{min(context, arch.sliding_window or context)} tokens)"
        )
    else:
        tokens = f"{arch.layers} layers x {context} tokens"
    total = kv_bytes_per_sequence(arch, context, kv_bytes) * sequences
    return f"{per_layer} x {tokens} x {sequences} seqs x {kv_bytes:g} B = {_gib(total)}"


def _prefill_width(arch: Architecture) -> int:
    if arch.is_moe:
        return max(
            arch.intermediate_size if arch.dense_layers else 0,
            arch.active_experts * (arch.moe_intermediate_size or arch.intermediate_size),
        )
    return arch.intermediate_size


def serving_estimate(
    arch: Architecture,
    *,
    precision: str = "bf16",
    kv_dtype: str = "auto",
    context: int,
    concurrency: int,
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
    engine: bool = True,
    chunk_tokens: int = PREFILL_CHUNK_TOKENS,
) -> Estimate:
    """Memory of one GPU serving ``concurrency`` sequences of ``context`` tokens.

    Weights divide over tensor x pipeline parallel GPUs, the KV cache over PP stages and over
    TP ranks as far as its KV heads go (MLA's latent stays whole on each TP rank);
    activations, CUDA context and engine overhead do not.
    """
    shards = tensor_parallel * pipeline_parallel
    # KV heads split over TP ranks, but never finer than one head (then they are copied);
    # MLA's latent has no heads, and vLLM keeps it whole on every TP rank.
    kv_tp = 1 if arch.is_mla else min(tensor_parallel, arch.kv_heads)
    kv_shards = kv_tp * pipeline_parallel
    kv_per = _kv_value_bytes(kv_dtype, precision)
    weights, w_formula = weight_bytes(arch, precision)
    kv = kv_bytes_per_sequence(arch, context, kv_per) * concurrency
    chunk = min(chunk_tokens, context * concurrency)
    act_per_token = 2 * (4 * _prefill_width(arch) + arch.hidden_size) / tensor_parallel
    acts = chunk * act_per_token + concurrency * arch.vocab_size * 4  # last-token fp32 logits
    split = f" / {shards} GPUs" if shards > 1 else ""
    terms = [
        Term("weights", weights / shards, w_formula + split),
        Term(
            "KV",
            kv / kv_shards,
            _kv_formula(arch, context, concurrency, kv_per)
            + (f" / {kv_shards} GPUs" if kv_shards > 1 else ""),
        ),
        Term(
            "prefill",
            acts,
            f"{chunk} tokens x {act_per_token:,.0f} B + {concurrency} x {arch.vocab_size} "
            f"logits x 4 B = {_gib(acts)}",
        ),
        Term("CUDA context", CUDA_CONTEXT_BYTES, _gib(CUDA_CONTEXT_BYTES)),
    ]
    if engine:
        terms.append(
            Term(
                "engine",
                ENGINE_OVERHEAD_BYTES,
                f"{_gib(ENGINE_OVERHEAD_BYTES)} (vLLM CUDA graphs, sampler)",
            )
        )
    notes = [
        (
            f"{arch.name}: {arch.params / 1e9:.2f}B parameters derived from its architecture "
            f"({arch.source})"
        ),
        f"KV cache for {concurrency} concurrent sequences of {context} tokens"
        + (" (fp8 KV cache)" if kv_per == 1 else ""),
    ]
    if arch.sliding_window:
        notes.append(f"sliding-window layers keep at most {arch.sliding_window} tokens of KV cache")
    if arch.is_mla:
        notes.append("MLA: the cache holds the compressed latent, not K and V per head")
    if arch.is_moe:
        notes.append(
            f"MoE: all {arch.experts} experts are resident; {arch.active_experts} run per token"
        )
    return Estimate(tuple(terms), tuple(notes))


def max_concurrency(
    arch: Architecture,
    memory_bytes: float,
    *,
    context: int,
    precision: str = "bf16",
    kv_dtype: str = "auto",
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
    engine: bool = True,
) -> int:
    """The most sequences of ``context`` tokens whose KV cache fits ``memory_bytes`` per GPU."""

    def need(n: int) -> int:
        return serving_estimate(
            arch,
            precision=precision,
            kv_dtype=kv_dtype,
            context=context,
            concurrency=n,
            tensor_parallel=tensor_parallel,
            pipeline_parallel=pipeline_parallel,
            engine=engine,
        ).bytes

    if need(1) > memory_bytes:
        return 0
    # Linear once the prefill chunk is full: guess from the line, then step to the answer.
    far = 1 << 16
    per_seq = need(far + 1) - need(far)
    base = need(far) - far * per_seq
    n = max(1, math.floor((memory_bytes - base) / per_seq)) if per_seq > 0 else 1
    while n > 1 and need(n) > memory_bytes:
        n -= 1
    while need(n + 1) <= memory_bytes:
        n += 1
    return n


def _training_activations(
    arch: Architecture,
    tokens: int,
    checkpointing: bool,
    lora: bool,
    tensor_parallel: int,
    autocast: bool = False,
) -> tuple[float, str]:
    h, i = arch.hidden_size, _prefill_width(arch) if arch.is_moe else arch.intermediate_size
    kv_width = arch.kv_heads * arch.head_dim
    if lora:
        # A frozen projection keeps no input for its weight's gradient (-2h for each norm's
        # output, -2h attention output, -2i MLP product); the fp32 adapters keep fp32 copies
        # of every projection's input (q, k, v each cast apart): +24h + 4i.
        layer = (18 * h - 6 * h) + 4 * kv_width + (8 * i - 2 * i) + (24 * h + 4 * i)
    else:
        layer = 18 * h + 4 * kv_width + 8 * i
    if autocast:
        # fp32 residual stream: each norm keeps fp32 output and autocast's bf16 copy (+4h x 2).
        layer += 8 * h
    layer /= tensor_parallel
    if checkpointing:
        per_token = 2 * h * arch.layers + layer
        how = f"checkpointed: 2 x {h} x {arch.layers} layers + one layer {layer:,.0f} B"
    else:
        per_token = layer * arch.layers
        how = f"{layer:,.0f} B x {arch.layers} layers"
    logits = LOGIT_BYTES_PER_VOCAB * arch.vocab_size / tensor_parallel
    total = tokens * (per_token + logits)
    return total, (
        f"{tokens} tokens x ({how} + logits {LOGIT_BYTES_PER_VOCAB} x {arch.vocab_size}) = "
        f"{_gib(total)}"
    )


def training_estimate(
    arch: Architecture,
    *,
    mode: str = "training",
    precision: str = "bf16",
    optimizer: str = "adamw",
    master_weights: bool = True,
    batch: int = 1,
    sequence: int = 4096,
    checkpointing: bool = False,
    lora_params: float | None = None,
    sharding: str = "none",
    data_parallel: int = 1,
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
) -> Estimate:
    """Peak memory of one GPU for one training step under the given sharding."""
    lora = mode in ("lora", "qlora")
    params = arch.params
    tp = tensor_parallel * pipeline_parallel
    dp = max(1, data_parallel)
    st = {"none": 0, "ddp": 0, "zero1": 1, "zero2": 2, "zero3": 3}[sharding]
    terms: list[Term] = []
    notes: list[str] = []
    if lora:
        base_precision = "nf4" if mode == "qlora" else precision
        base, formula = weight_bytes(arch, base_precision)
        terms.append(Term("frozen base", base / tp, formula + (f" / {tp}" if tp > 1 else "")))
        trained = lora_params if lora_params is not None else lora_parameters(arch, 16)
        # Adapters, gradients and AdamW states in fp32 (peft's default adapter dtype).
        adapters = trained * (4 + 4 + OPTIMIZER_BYTES[optimizer])
        terms.append(
            Term(
                "adapters",
                adapters,
                f"{trained / 1e6:.1f}M x (4 + 4 + {OPTIMIZER_BYTES[optimizer]:g}) B = {_gib(adapters)}",
            )
        )
        grads = 0.0
        notes.append(f"LoRA: {trained / 1e6:.1f}M adapter parameters, fp32, on every projection")
    else:
        w_per = 4.0 if (master_weights or precision == "fp32") else LINEAR_BYTES[precision]
        g_per = w_per
        o_per = OPTIMIZER_BYTES[optimizer]
        shard_w = dp if st >= 3 else 1
        shard_g = dp if st >= 2 else 1
        shard_o = dp if st >= 1 else 1
        weights = params * w_per / tp / shard_w
        grads = params * g_per / tp / shard_g
        states = params * o_per / tp / shard_o
        terms.append(
            Term(
                "weights",
                weights,
                f"{params / 1e9:.2f}B x {w_per:g} B{_div(tp)}{_div(shard_w)} = {_gib(weights)}",
            )
        )
        terms.append(
            Term(
                "optimizer",
                states,
                f"{o_per:g} B ({optimizer}){_div(tp)}{_div(shard_o)} = {_gib(states)}",
            )
        )
        if master_weights and precision in ("bf16", "fp16"):
            if st >= 3:  # FSDP casts each unit as it gathers it: about two layers in flight
                copy = 2 * (params / arch.layers) * 2 / tp
                what = "two gathered layers"
            else:
                copy = params * 2 / tp
                what = "weights"
            terms.append(
                Term("autocast copy", copy, f"{precision} {what} for the forward = {_gib(copy)}")
            )
            notes.append("mixed precision: fp32 master weights and gradients, bf16 compute")
    acts, a_formula = _training_activations(
        arch,
        batch * sequence,
        checkpointing,
        lora,
        tensor_parallel,
        autocast=not lora and master_weights and precision in ("bf16", "fp16"),
    )
    if grads > acts:
        terms.append(
            Term("gradients", grads, f"{_gib(grads)} (more than activations {_gib(acts)})")
        )
    else:
        terms.append(Term("activations", acts, a_formula))
        if grads:
            notes.append(
                f"gradients ({_gib(grads)}) fill while activations drain: the peak holds the larger"
            )
    terms.append(Term("CUDA context", CUDA_CONTEXT_BYTES, _gib(CUDA_CONTEXT_BYTES)))
    names = {
        "none": "one GPU",
        "ddp": "DDP",
        "zero1": "ZeRO-1",
        "zero2": "ZeRO-2",
        "zero3": "FSDP full shard (ZeRO-3)",
    }
    over = f" over {dp} GPUs" if tp == 1 else f" across {dp} tensor-parallel groups"
    parts = [names[sharding] + (over if dp > 1 else "")] if dp > 1 or tp == 1 else []
    if tensor_parallel > 1:
        parts.append(f"tensor parallel {tensor_parallel} within a node")
    if pipeline_parallel > 1:
        parts.append(f"pipeline parallel {pipeline_parallel} across nodes")
    strategy = ", ".join(parts)
    notes.append(
        f"micro-batch {batch} x {sequence} tokens"
        + (", gradient checkpointing" if checkpointing else ", no gradient checkpointing")
    )
    return Estimate(tuple(terms), tuple(notes), strategy=strategy, checkpointing=checkpointing)


def lora_parameters(arch: Architecture, rank: int) -> float:
    """Adapter parameters of rank ``rank`` on q, k, v, o, gate, up and down of every layer."""
    h = arch.hidden_size
    q = arch.attention_heads * arch.head_dim
    kv = arch.kv_heads * arch.head_dim
    i = (
        arch.moe_intermediate_size or arch.intermediate_size
        if arch.is_moe
        else arch.intermediate_size
    )
    per_layer = rank * ((h + q) * 2 + (h + kv) * 2 + (h + i) * 3)
    return float(per_layer * arch.layers)
