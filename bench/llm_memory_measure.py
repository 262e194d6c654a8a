"""Measured GPU memory of Llama-shaped models: serving with a KV cache, one training step.

Run on one GPU (no downloads: models are built from their configs with random weights):

    OUT=/tmp/out python3 bench/llm_memory_measure.py            # writes $OUT/llm-memory.json
    OUT=/tmp/out python3 bench/llm_memory_measure.py --set extra  # MoE, sliding window
    python3 bench/llm_memory_measure.py --device cpu --tiny     # smoke test of the script

What it measures, each row on a fresh model:

- serving: an 8B-shaped (Llama-3.1-8B config) and a 1B-shaped (Llama-3.2-1B config) model in
  bf16, one prefill forward with ``use_cache=True`` over batch x sequence tokens, only the last
  token's logits (as a serving engine does). Recorded: weights (allocated after load), the
  KV cache (the tensors the cache holds, and allocated after the forward minus weights), the
  peak allocated and reserved during the forward, and the device's used memory (NVML).
- training: one 1B-shaped model, batch x sequence tokens, labels = inputs, two optimizer steps:
  bf16 weights with AdamW (states in bf16), fp32 master weights with bf16 autocast and AdamW,
  bf16 with gradient checkpointing, and LoRA adapters (rank 16 on every projection, fp32
  adapters as peft keeps them) on a frozen bf16 base. Recorded: the peak of the second step
  (steady state) and of both.

gpukit's estimator is held to this table by tests/models/test_measured.py. Keep it under
6 minutes on an H200; it takes about 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time

import torch
import transformers
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig

GIB = 1024**3

#: The published config.json fields of the two shapes (Hugging Face hub repos
#: meta-llama/Llama-3.1-8B and meta-llama/Llama-3.2-1B), typed in here: no download.
SHAPES = {
    "Llama-3.1-8B": {
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "vocab_size": 128256,
        "tie_word_embeddings": False,
        "rope_theta": 500000.0,
        "max_position_embeddings": 131072,
        "rms_norm_eps": 1e-5,
    },
    "Llama-3.2-1B": {
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 64,
        "vocab_size": 128256,
        "tie_word_embeddings": True,
        "rope_theta": 500000.0,
        "max_position_embeddings": 131072,
        "rms_norm_eps": 1e-5,
    },
}
TINY = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "vocab_size": 512,
    "tie_word_embeddings": True,
    "max_position_embeddings": 2048,
}

SERVE_ROWS = {
    "Llama-3.1-8B": [(1, 2048), (8, 4096), (32, 2048), (4, 16384), (16, 8192)],
    "Llama-3.2-1B": [(1, 4096), (16, 4096), (64, 2048), (8, 16384)],
}
#: --set extra: a mixture of experts (all experts resident) and sliding-window layers (the
#: cache of a sliding layer stops at its window), from the published configs of
#: Qwen/Qwen3-30B-A3B and google/gemma-2-9b. Softcapping is off: it changes no memory.
EXTRA_SHAPES = {
    "Qwen3-30B-A3B": {
        "model_type": "qwen3_moe",
        "hidden_size": 2048,
        "intermediate_size": 6144,
        "moe_intermediate_size": 768,
        "num_hidden_layers": 48,
        "num_attention_heads": 32,
        "num_key_value_heads": 4,
        "head_dim": 128,
        "num_experts": 128,
        "num_experts_per_tok": 8,
        "decoder_sparse_step": 1,
        "mlp_only_layers": [],
        "vocab_size": 151936,
        "tie_word_embeddings": False,
        "max_position_embeddings": 40960,
        "rope_theta": 1000000.0,
    },
    "Gemma-2-9B": {
        "model_type": "gemma2",
        "hidden_size": 3584,
        "intermediate_size": 14336,
        "num_hidden_layers": 42,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 256,
        "vocab_size": 256000,
        "sliding_window": 4096,
        "tie_word_embeddings": True,
        "max_position_embeddings": 8192,
        "query_pre_attn_scalar": 256,
        "attn_logit_softcapping": None,
        "final_logit_softcapping": None,
    },
}
EXTRA_ROWS = {
    "Qwen3-30B-A3B": [(2, 2048), (8, 4096)],
    "Gemma-2-9B": [(4, 2048), (2, 8192)],
}
TRAIN_ROWS = [(4, 2048), (8, 2048)]
TRAIN_MODES = ["bf16-adamw", "fp32-master-adamw", "bf16-adamw-checkpointing", "lora-r16"]
LORA_RANK = 16
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


class Meter:
    """Allocated / reserved from PyTorch and used from NVML (the whole device)."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith("cuda")
        self.nvml = None
        if self.cuda:
            try:
                import pynvml

                pynvml.nvmlInit()
                self.nvml = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
                self.pynvml = pynvml
            except Exception as exc:  # noqa: BLE001 - NVML is a nice-to-have; say why and go on
                log("NVML not available:", exc)

    def clean(self) -> None:
        gc.collect()
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()

    def reset_peak(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()

    def allocated(self) -> int:
        return torch.cuda.memory_allocated() if self.cuda else 0

    def peak(self) -> dict:
        if not self.cuda:
            return {"peak_allocated": 0, "peak_reserved": 0, "nvml_used": 0}
        torch.cuda.synchronize()
        used = None
        if self.nvml is not None:
            used = int(self.pynvml.nvmlDeviceGetMemoryInfo(self.nvml).used)
        return {
            "peak_allocated": int(torch.cuda.max_memory_allocated()),
            "peak_reserved": int(torch.cuda.max_memory_reserved()),
            "nvml_used": used,
        }


def build(shape: dict, dtype: torch.dtype, device: str) -> nn.Module:
    fields = dict(shape)
    model_type = fields.pop("model_type", None)
    config = AutoConfig.for_model(model_type, **fields) if model_type else LlamaConfig(**fields)
    config.use_cache = True
    with torch.device(device):
        try:
            model = AutoModelForCausalLM.from_config(
                config, dtype=dtype, attn_implementation="sdpa"
            )
        except TypeError:  # transformers 4.x spells it torch_dtype
            model = AutoModelForCausalLM.from_config(
                config, torch_dtype=dtype, attn_implementation="sdpa"
            )
    return model.to(device=device, dtype=dtype)


def param_bytes(model: nn.Module) -> int:
    seen = {}
    for p in model.parameters():
        seen[p.data_ptr()] = p.numel() * p.element_size()
    return sum(seen.values())


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in {p.data_ptr(): p for p in model.parameters()}.values())


def cache_tensor_bytes(cache: object) -> int | None:
    """Bytes of the K and V tensors a transformers cache holds (4.x and 5.x layouts)."""
    tensors = []
    layers = getattr(cache, "layers", None)
    if layers:
        for layer in layers:
            tensors += [getattr(layer, "keys", None), getattr(layer, "values", None)]
    else:
        tensors += list(getattr(cache, "key_cache", []) or [])
        tensors += list(getattr(cache, "value_cache", []) or [])
    tensors = [t for t in tensors if isinstance(t, torch.Tensor)]
    return sum(t.numel() * t.element_size() for t in tensors) if tensors else None


def serve_rows(meter: Meter, device: str, shapes: dict, rows: dict) -> list[dict]:
    out = []
    for name, shape in shapes.items():
        meter.clean()
        base = meter.allocated()
        model = build(shape, torch.bfloat16, device).eval()
        meter.clean()
        weights = meter.allocated() - base
        log(f"{name}: {param_count(model) / 1e9:.3f}B params, {weights / GIB:.2f} GiB")
        for batch, seq in rows[name]:
            meter.clean()
            ids = torch.randint(0, shape["vocab_size"], (batch, seq), device=device)
            before = meter.allocated()
            with torch.inference_mode():
                result = model(input_ids=ids, use_cache=True, logits_to_keep=1)
            cache = result.past_key_values
            del result
            gc.collect()
            peak = meter.peak()
            kv_alloc = meter.allocated() - before
            row = {
                "model": name,
                "phase": "prefill",
                "dtype": "bf16",
                "kv_dtype": "bf16",
                "batch": batch,
                "seq": seq,
                "params": param_count(model),
                "weights_bytes": weights,
                "weights_param_bytes": param_bytes(model),
                "kv_cache_bytes": cache_tensor_bytes(cache),
                "kv_allocated_bytes": kv_alloc,
                "weights_plus_kv_bytes": weights + kv_alloc,
                **peak,
            }
            log(
                f"  serve b={batch} s={seq}: kv {kv_alloc / GIB:.2f} GiB, "
                f"peak {peak['peak_allocated'] / GIB:.2f} GiB"
            )
            out.append(row)
            del cache, ids
        del model
    meter.clean()
    return out


class LoraLinear(nn.Module):
    """A frozen linear layer plus a trained low-rank update, B @ A, scaled by alpha / r."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        base.weight.requires_grad_(False)
        dev = base.weight.device
        # fp32 adapters on a bf16 base: what peft does by default (autocast_adapter_dtype).
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features, device=dev))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank, device=dev))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = (x.to(self.lora_a.dtype) @ self.lora_a.t() @ self.lora_b.t()) * self.scale
        return self.base(x) + update.to(x.dtype)


def add_lora(model: nn.Module, rank: int) -> None:
    for p in model.parameters():
        p.requires_grad_(False)
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and child_name in LORA_TARGETS:
                setattr(module, child_name, LoraLinear(child, rank, alpha=2 * rank))


def train_rows(meter: Meter, device: str, shape: dict, name: str, rows: list) -> list[dict]:
    out = []
    fused = device.startswith("cuda")
    for mode in TRAIN_MODES:
        for batch, seq in rows:
            meter.clean()
            base = meter.allocated()
            dtype = torch.float32 if mode == "fp32-master-adamw" else torch.bfloat16
            model = build(shape, dtype, device)
            model.config.use_cache = False
            if mode == "lora-r16":
                add_lora(model, LORA_RANK)
            if mode.endswith("checkpointing"):
                model.gradient_checkpointing_enable(
                    gradient_checkpointing_kwargs={"use_reentrant": False}
                )
            model.train()
            trainable = [p for p in model.parameters() if p.requires_grad]
            opt = torch.optim.AdamW(trainable, lr=1e-5, fused=fused)
            meter.clean()
            weights = meter.allocated() - base
            ids = torch.randint(0, shape["vocab_size"], (batch, seq), device=device)
            peaks = []
            started = time.perf_counter()
            for _step in range(2):
                meter.reset_peak()
                with torch.autocast(
                    device_type="cuda" if fused else "cpu",
                    dtype=torch.bfloat16,
                    enabled=mode == "fp32-master-adamw",
                ):
                    loss = model(input_ids=ids, labels=ids).loss
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                del loss
                peaks.append(meter.peak())
            row = {
                "model": name,
                "phase": "train-step",
                "mode": mode,
                "batch": batch,
                "seq": seq,
                "params": param_count(model),
                "trainable_params": sum(p.numel() for p in trainable),
                "weights_bytes": weights,
                "optimizer": "torch.optim.AdamW(fused)" if fused else "torch.optim.AdamW",
                "gradient_checkpointing": mode.endswith("checkpointing"),
                "first_step": peaks[0],
                **peaks[1],
                "seconds": round(time.perf_counter() - started, 2),
            }
            log(
                f"  train {mode} b={batch} s={seq}: peak "
                f"{row['peak_allocated'] / GIB:.2f} GiB (first step "
                f"{peaks[0]['peak_allocated'] / GIB:.2f})"
            )
            out.append(row)
            del model, opt, trainable, ids
    meter.clean()
    return out


def environment(device: str) -> dict:
    env = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": device,
    }
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        env["gpu"] = props.name
        env["gpu_total_bytes"] = int(props.total_memory)
        env["cuda"] = torch.version.cuda
        try:
            query = "--query-gpu=driver_version,memory.total,memory.used"
            smi = subprocess.run(
                ["nvidia-smi", query, "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.strip()
            env["nvidia_smi"] = smi
            env["driver"] = smi.split(",")[0].strip()
        except (OSError, subprocess.SubprocessError) as exc:
            env["nvidia_smi"] = f"unavailable: {exc}"
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes: a smoke test")
    parser.add_argument(
        "--set",
        default="llama",
        choices=["llama", "extra"],
        help="llama: 8B and 1B serving, 1B training (llm-memory.json); extra: MoE and "
        "sliding-window serving (llm-memory-extra.json)",
    )
    parser.add_argument("--out", default=os.environ.get("OUT", "."))
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("no CUDA device; use --device cpu --tiny for a smoke test")
    torch.manual_seed(0)
    meter = Meter(args.device)
    started = time.perf_counter()
    # The CUDA context and the allocator's first block, before any model exists.
    if meter.cuda:
        torch.zeros(1, device=args.device)
        torch.cuda.synchronize()
    idle = meter.peak()
    if args.tiny:
        shapes = {"tiny": TINY}
        serve = serve_rows(meter, args.device, shapes, {"tiny": [(2, 64)]})
        train = train_rows(meter, args.device, TINY, "tiny", [(2, 64)])
    elif args.set == "extra":
        serve = serve_rows(meter, args.device, EXTRA_SHAPES, EXTRA_ROWS)
        train = []
    else:
        serve = serve_rows(meter, args.device, SHAPES, SERVE_ROWS)
        train = train_rows(meter, args.device, SHAPES["Llama-3.2-1B"], "Llama-3.2-1B", TRAIN_ROWS)
    result = {
        "about": "peak GPU memory of Llama-shaped models, random weights, bench/llm_memory_measure.py",
        "environment": environment(args.device),
        "context_nvml_used_bytes": idle["nvml_used"],
        "seconds": round(time.perf_counter() - started, 1),
        "serve": serve,
        "train": train,
    }
    os.makedirs(args.out, exist_ok=True)
    name = "llm-memory-extra.json" if args.set == "extra" and not args.tiny else "llm-memory.json"
    path = os.path.join(args.out, name)
    with open(path, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    log(f"wrote {path} in {result['seconds']} s")


if __name__ == "__main__":
    main()
