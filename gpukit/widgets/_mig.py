"""The one seam between the widgets and the MIG layout engine (gpukit.hardware.mig).

Widgets decide nothing about MIG: placement, validity, reasons and nearest valid layouts
come from the engine. This module only turns its answers into what the pictures need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gpukit.hardware import GpuModel, get_gpu
from gpukit.widgets._draw import Block

__all__ = ["LayoutCheck", "check_layout", "mig_parted_config"]


@dataclass(frozen=True)
class LayoutCheck:
    """What the designer shows for one set of profile counts on one GPU model."""

    gpu: str
    counts: dict[str, int]
    valid: bool
    blocks: tuple[Block, ...]  # what is drawn: the layout, or the largest part of it that fits
    left_out: dict[str, int] = field(default_factory=dict)  # asked for but not drawn
    reason: str = ""
    reasons: tuple[str, ...] = ()
    nearest: tuple[dict[str, int], ...] = ()
    nearest_text: tuple[str, ...] = ()
    command: str = ""  # nvidia-smi command that creates a valid layout


def _blocks(model: GpuModel, placement: object) -> tuple[Block, ...]:
    out = []
    for inst in placement.instances:  # type: ignore[attr-defined]
        profile = model.profile(inst.profile)
        out.append(
            Block(
                profile=inst.profile,
                start=inst.start,
                size=inst.size,
                compute=inst.compute_slices,
                media=profile.media_extensions,
            )
        )
    return tuple(out)


def check_layout(gpu: str, counts: Mapping[str, int]) -> LayoutCheck:
    """Ask the engine whether ``counts`` fits on ``gpu``; what to draw and say either way."""
    from gpukit.hardware.mig import MigLayout

    model = get_gpu(gpu)
    layout = MigLayout.from_counts(model, {k: v for k, v in counts.items() if v})
    wanted = layout.counts
    result = layout.place()
    if result.ok:
        return LayoutCheck(
            gpu=model.key,
            counts=wanted,
            valid=True,
            blocks=_blocks(model, result),
            command=result.nvidia_smi_command(),  # type: ignore[union-attr]
        )
    nearest = tuple(n.counts for n in result.nearest)  # type: ignore[union-attr]
    drawn: tuple[Block, ...] = ()
    left_out = dict(wanted)
    if result.nearest:  # type: ignore[union-attr]
        best = result.nearest[0].place()  # type: ignore[union-attr]
        if best.ok:
            drawn = _blocks(model, best)
            fitted = best.counts  # type: ignore[union-attr]
            left_out = {k: v - fitted.get(k, 0) for k, v in wanted.items() if v > fitted.get(k, 0)}
    return LayoutCheck(
        gpu=model.key,
        counts=wanted,
        valid=False,
        blocks=drawn,
        left_out=left_out,
        reason=result.reason,  # type: ignore[union-attr]
        reasons=tuple(result.reasons),  # type: ignore[union-attr]
        nearest=nearest,
        nearest_text=tuple(str(n) for n in result.nearest),  # type: ignore[union-attr]
    )


def mig_parted_config(gpu: str, counts: Mapping[str, int], name: str | None = None) -> tuple[str, str]:
    """(config name, ConfigMap YAML) of the MIG manager's mig-parted config for this layout.

    gpukit.hardware.migparted names the config as the GPU Operator would ('all-balanced',
    'all-1g.10gb', 'custom-...') unless ``name`` is given, and adds 'all-disabled' beside it.
    """
    from gpukit.hardware.mig import MigLayout
    from gpukit.hardware.migparted import mig_parted_configmap, node_configs
    from gpukit.manifests import to_yaml

    model = get_gpu(gpu)
    layout = MigLayout.from_counts(model, {k: v for k, v in counts.items() if v})
    layout.placement()  # refuse to export a layout the GPU cannot hold
    labels, configs = node_configs({"node": [(model, layout.counts)]})
    auto = labels["node"]
    chosen = name or auto
    configs = {(chosen if key == auto else key): entries for key, entries in configs.items()}
    return chosen, to_yaml(mig_parted_configmap(configs))
