"""Training memory per GPU from a bare parameter count, under a named sharding strategy.

For a model given only as ``params`` (no architecture), the training need per GPU is the
states a strategy leaves on each GPU plus activations. Per trained parameter, mixed-precision
Adam keeps 2 B of 16-bit weights, 2 B of 16-bit gradients and 12 B of fp32 master weights and
moments; fp32 training 4 + 4 + 8 (Rajbhandari et al., "ZeRO: Memory Optimizations Toward
Training Trillion Parameter Models", SC 2020, section 5 and figure 1). Over N data-parallel
GPUs:

- DDP: every GPU holds everything, (2 + 2 + 12) P;
- ZeRO-1 (optimizer states sharded): (2 + 2) P + 12 P / N;
- ZeRO-2 (and gradients): 2 P + (2 + 12) P / N;
- ZeRO-3 / FSDP full shard (and weights): (2 + 2 + 12) P / N.

LoRA keeps the frozen base as weights (sharded only under ZeRO-3) and trains about 2 % of the
parameters with Adam. Activations are per GPU whatever the sharding: sized from the shape
when it is given, else a share of the states on each GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STRATEGIES", "ShardedNeed", "params_training_need"]

#: Sharding strategies, least first, with the name plans print (the architecture path's names).
STRATEGIES: tuple[tuple[str, int, str], ...] = (
    ("ddp", 0, "DDP"),
    ("zero1", 1, "ZeRO-1"),
    ("zero2", 2, "ZeRO-2"),
    ("zero3", 3, "FSDP full shard (ZeRO-3)"),
)


@dataclass(frozen=True)
class ShardedNeed:
    """One GPU's training need under one strategy, with the arithmetic as written."""

    per_gpu_bytes: int
    strategy: str  # '' on one GPU
    formula: str
    fits: bool
    note: str = ""  # which strategy was chosen and why, or that none fits


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def params_training_need(
    *,
    params: float,
    count: str,
    mode: str,
    precision: str,
    gpus: int,
    workers: int,
    budget: int,
    frozen_bytes_per_param: float,
    trainable_share: float,
    activation_bytes: float | None,
    activation_share: float,
    sharding: str = "auto",
) -> ShardedNeed:
    """The least sharding (or ``sharding`` when set) whose per-GPU need fits ``budget``, for
    pods of ``gpus`` GPUs, ``workers`` pods.

    ``activation_bytes``: the sized activations of one GPU's micro-batch, or None to take
    ``activation_share`` of the states left on each GPU. Nothing fitting gives the most
    sharded strategy, with ``fits`` False.
    """
    w_b, g_b, o_b = (4.0, 4.0, 8.0) if precision == "fp32" else (2.0, 2.0, 12.0)
    lora = mode in ("lora", "qlora")
    trained = params * (trainable_share if lora else 1.0)
    frozen = params * frozen_bytes_per_param if lora else 0.0
    wanted = {"fsdp": "zero3"}.get(sharding, sharding)
    per_pod, gpus = gpus, gpus * workers
    candidates = [s for s in STRATEGIES if wanted in ("auto", s[0])] if gpus > 1 else []
    # The numbers of every candidate first; the formula only for the one chosen.
    sized = []
    for key, stage, name in candidates or [("none", 0, "")]:
        n = gpus if key != "none" else 1
        shard_o, shard_g, shard_w = (n if stage >= k else 1 for k in (1, 2, 3))
        states = (
            (frozen + trained * w_b) / shard_w + trained * g_b / shard_g + trained * o_b / shard_o
        )
        acts = activation_bytes if activation_bytes is not None else states * activation_share
        sized.append((name, n, states, acts, states + acts))
    chosen = next((c for c in sized if c[4] <= budget), None) or min(sized, key=lambda c: c[4])
    name, n, states, acts, total = chosen
    what = f"{count} params"
    if lora:
        what += f" ({frozen_bytes_per_param:.3g} B frozen base + {trainable_share:.0%} trained)"
    formula = (
        f"{what} x ({w_b:g} weights + {g_b:g} gradients + {o_b:g} Adam) B"
        + (f" under {name} over {n} GPUs" if name else "")
        + f" = {_gib(states)} states per GPU + "
        + (
            f"activations {_gib(acts)}"
            if activation_bytes is not None
            else f"activations {activation_share:.0%} of that = {_gib(acts)}"
        )
        + f" = {_gib(total)} per GPU"
    )
    if per_pod > 1:
        formula += f" x {per_pod} GPUs per pod = {_gib(total * per_pod)}"
    strategy = f"{name} over {n} GPUs" if name else ""
    return _noted(ShardedNeed(int(total), strategy, formula, total <= budget), budget, gpus)


def _noted(need: ShardedNeed, budget: int, gpus: int) -> ShardedNeed:
    note = (
        f"sharding: {need.strategy or 'one GPU'}, the least whose per-GPU need fits "
        f"{_gib(budget)} (each GPU less 10% headroom); set model.sharding to choose"
        if need.fits
        else f"no sharding on {gpus} GPU(s) fits {_gib(budget)} per GPU; the least needs "
        f"{_gib(need.per_gpu_bytes)}: give more GPUs, LoRA or a smaller optimizer"
    )
    return ShardedNeed(need.per_gpu_bytes, need.strategy, need.formula, need.fits, note)
