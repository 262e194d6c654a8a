"""Open LLM architectures as data: the catalog, Hugging Face config.json reading, parameter counts.

Every catalog entry (``data/models.yaml``) names its source, the model's published
``config.json`` on the Hugging Face hub by repo id. Parameter counts are derived from the
shape (embeddings, attention, MLP or experts, norms), never typed in, and tests hold them to
the published totals. ``from_hf_config`` reads a ``config.json`` from disk; nothing is ever
downloaded.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpukit.errors import WorkloadError, did_you_mean

__all__ = ["Architecture", "architecture", "catalog", "from_hf_config"]


class Architecture(BaseModel):
    """The shape of a decoder-only transformer: what weights, KV cache and activations follow from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    source: str = Field(description="where the shape comes from: hf:<repo id> or a file")
    layers: int = Field(ge=1)
    hidden_size: int = Field(ge=1)
    attention_heads: int = Field(ge=1)
    kv_heads: int = Field(ge=1)
    head_dim: int = Field(ge=1)
    intermediate_size: int = Field(ge=1)
    vocab_size: int = Field(ge=1)
    tied_embeddings: bool = False
    qkv_bias: bool = False
    experts: int = Field(default=0, ge=0)
    active_experts: int = Field(default=0, ge=0)
    moe_intermediate_size: int | None = Field(default=None, ge=1)
    shared_experts: int = Field(default=0, ge=0)
    dense_layers: int = Field(default=0, ge=0)
    sliding_window: int | None = Field(default=None, ge=1)
    global_every: int | None = Field(default=None, ge=1)
    q_lora_rank: int | None = Field(default=None, ge=1)
    kv_lora_rank: int | None = Field(default=None, ge=1)
    qk_rope_head_dim: int | None = Field(default=None, ge=0)
    qk_nope_head_dim: int | None = Field(default=None, ge=0)
    v_head_dim: int | None = Field(default=None, ge=1)
    norms_per_layer: int = Field(default=2, ge=0)
    qk_norm: bool = False
    other_params: float = Field(default=0, ge=0, description="outside the decoder (vision encoder)")
    max_context: int | None = Field(default=None, ge=1)
    published_params: float | None = None
    active_params: float | None = None
    params_override: float | None = Field(default=None, gt=0, description="an explicit count")

    # -- derived ---------------------------------------------------------------------

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank is not None

    def _attention_params(self) -> int:
        h = self.hidden_size
        if self.is_mla:
            rope = self.qk_rope_head_dim or 0
            nope = self.qk_nope_head_dim or 0
            v_dim = self.v_head_dim or self.head_dim
            heads = self.attention_heads
            q = (
                h * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * heads * (nope + rope)
                if self.q_lora_rank
                else h * heads * (nope + rope)
            )
            kv_rank = self.kv_lora_rank or 0
            kv = h * (kv_rank + rope) + kv_rank + kv_rank * heads * (nope + v_dim)
            return q + kv + heads * v_dim * h
        q_out = self.attention_heads * self.head_dim
        kv_out = self.kv_heads * self.head_dim
        weights = h * q_out + 2 * h * kv_out + q_out * h
        return weights + ((q_out + 2 * kv_out) if self.qkv_bias else 0)

    def _mlp_params(self, intermediate: int) -> int:
        return 3 * self.hidden_size * intermediate  # gate, up and down projections (SwiGLU/GeGLU)

    def _layer_params(self, moe: bool, active: bool) -> int:
        total = self._attention_params() + self.norms_per_layer * self.hidden_size
        if self.qk_norm:
            total += 2 * self.head_dim
        if not moe:
            return total + self._mlp_params(self.intermediate_size)
        expert = self._mlp_params(self.moe_intermediate_size or self.intermediate_size)
        routed = self.active_experts if active else self.experts
        router = self.experts * self.hidden_size
        return total + (routed + self.shared_experts) * expert + router

    def _embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size * (1 if self.tied_embeddings else 2)

    def _count(self, active: bool) -> float:
        moe_layers = self.layers - self.dense_layers if self.is_moe else 0
        dense_layers = self.layers - moe_layers
        return (
            self._embedding_params()
            + self.hidden_size  # final norm
            + dense_layers * self._layer_params(False, active)
            + moe_layers * self._layer_params(True, active)
            + self.other_params
        )

    @property
    def params(self) -> float:
        """Every parameter the checkpoint holds: what the weights take in memory."""
        return self.params_override or self._count(active=False)

    @property
    def params_per_token(self) -> float:
        """Parameters one token passes through (all of them unless experts are routed)."""
        return self._count(active=True)

    @property
    def full_attention_layers(self) -> int:
        if self.sliding_window is None:
            return self.layers
        if self.global_every is None:
            return 0  # every layer slides (Mistral-7B-v0.1)
        return self.layers // self.global_every

    def kv_values_per_token_layer(self) -> int:
        """Values the cache keeps per token per attention layer: K and V, or MLA's latent."""
        if self.is_mla:
            return (self.kv_lora_rank or 0) + (self.qk_rope_head_dim or 0)
        return 2 * self.kv_heads * self.head_dim

    def kv_tokens_cached(self, context: int) -> tuple[int, int]:
        """(full-attention layers x tokens, sliding layers x tokens) for one sequence of context."""
        full = self.full_attention_layers
        sliding = self.layers - full
        window = min(context, self.sliding_window or context)
        return full * context, sliding * window

    def describe(self) -> str:
        kind = (
            f"MoE {self.experts} experts, {self.active_experts} active" if self.is_moe else "dense"
        )
        return f"{self.name}: {self.params / 1e9:.1f}B params ({kind}), {self.layers} layers"


@functools.lru_cache(maxsize=1)
def catalog() -> dict[str, Architecture]:
    """Every architecture of the embedded catalog, by name."""
    text = resources.files("gpukit.models").joinpath("data/models.yaml").read_text()
    raw = yaml.safe_load(text)
    return {name: Architecture(name=name, **fields) for name, fields in raw.items()}


def architecture(name: str) -> Architecture:
    """The catalog entry named ``name`` (case-insensitive), or an error with "did you mean"."""
    entries = catalog()
    if name in entries:
        return entries[name]
    lowered = {k.lower(): v for k, v in entries.items()}
    if name.lower() in lowered:
        return lowered[name.lower()]
    raise WorkloadError(
        f"model name {name!r} is not in the catalog{did_you_mean(name, entries)}; "
        f"known: {', '.join(sorted(entries))}; or give model.config (a config.json path) "
        "or params"
    )


#: config.json keys read, in order of preference, for each Architecture field.
_HF_KEYS: dict[str, tuple[str, ...]] = {
    "layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "attention_heads": ("num_attention_heads", "n_head"),
    "kv_heads": ("num_key_value_heads",),
    "head_dim": ("head_dim",),
    "intermediate_size": ("intermediate_size", "ffn_dim", "n_inner"),
    "vocab_size": ("vocab_size",),
    "tied_embeddings": ("tie_word_embeddings",),
    "qkv_bias": ("attention_bias", "qkv_bias"),
    "experts": ("num_local_experts", "num_experts", "n_routed_experts"),
    "active_experts": ("num_experts_per_tok",),
    "moe_intermediate_size": ("moe_intermediate_size",),
    "shared_experts": ("n_shared_experts",),
    "dense_layers": ("first_k_dense_replace",),
    "sliding_window": ("sliding_window",),
    "q_lora_rank": ("q_lora_rank",),
    "kv_lora_rank": ("kv_lora_rank",),
    "qk_rope_head_dim": ("qk_rope_head_dim",),
    "qk_nope_head_dim": ("qk_nope_head_dim",),
    "v_head_dim": ("v_head_dim",),
    "max_context": ("max_position_embeddings", "n_positions"),
}


def from_hf_config(path: str | Path, name: str | None = None) -> Architecture:
    """An Architecture from a Hugging Face ``config.json`` on disk (never the hub)."""
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        stamp = None
    return _from_hf_config(str(path), name, stamp)


@functools.lru_cache(maxsize=64)
def _from_hf_config(path: str, name: str | None, _stamp: int | None) -> Architecture:
    # Cached by path and modification time: a plan reads the same file several times.
    where = f"model.config {path!r}"
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise WorkloadError(f"{where}: no such file; give the path of a config.json") from None
    except (OSError, ValueError) as exc:
        raise WorkloadError(f"{where}: not a readable JSON config.json ({exc})") from None
    if not isinstance(data, dict):
        raise WorkloadError(f"{where}: a config.json holds one JSON object")
    if isinstance(data.get("text_config"), dict):  # multimodal checkpoints (Gemma 3, Llama 4)
        data = {**data, **data["text_config"]}
    fields: dict[str, Any] = {}
    for field, keys in _HF_KEYS.items():
        for key in keys:
            if data.get(key) is not None:
                fields[field] = data[key]
                break
    missing = [
        f for f in ("layers", "hidden_size", "attention_heads", "vocab_size") if f not in fields
    ]
    if missing:
        keys = ", ".join(_HF_KEYS[f][0] for f in missing)
        raise WorkloadError(f"{where}: lacks {keys}; is it a decoder-only LLM's config.json?")
    fields.setdefault("kv_heads", fields["attention_heads"])
    fields.setdefault("head_dim", fields["hidden_size"] // fields["attention_heads"])
    fields.setdefault("intermediate_size", 4 * fields["hidden_size"])
    if "qk_nope_head_dim" in fields:  # MLA: queries and keys are nope + rope wide
        fields["head_dim"] = fields["qk_nope_head_dim"] + fields.get("qk_rope_head_dim", 0)
    layer_types = data.get("layer_types")
    if isinstance(layer_types, list) and layer_types and fields.get("sliding_window"):
        full = sum(1 for t in layer_types if t == "full_attention")
        fields["global_every"] = max(1, len(layer_types) // full) if full else None
    elif isinstance(data.get("sliding_window_pattern"), int) and fields.get("sliding_window"):
        fields["global_every"] = data["sliding_window_pattern"]
    if data.get("use_sliding_window") is False:
        fields.pop("sliding_window", None)
    model_type = str(data.get("model_type", ""))
    if model_type.startswith("gemma"):
        fields["norms_per_layer"] = 4
    if model_type.startswith(("qwen3", "gemma3")):
        fields["qk_norm"] = True
    if not fields.get("experts"):
        fields.pop("active_experts", None)
    try:
        return Architecture(
            name=name or Path(path).parent.name or "model", source=str(path), **fields
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise WorkloadError(
            f"{where}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        ) from None
