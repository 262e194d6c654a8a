"""Pictures for the widgets: MIG slot grids and used/free bars as inline SVG, plus small HTML.

Pure string building (no ipywidgets), so the drawings are testable and deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = [
    "Block",
    "code_block",
    "compute_colour",
    "notice",
    "slot_grid_svg",
    "usage_bar_svg",
]

#: One colour per compute size (1g, 2g, 3g, 4g, 7g); media-extension profiles get their own.
_COMPUTE_COLOURS = {
    1: "#4e79a7",
    2: "#59a14f",
    3: "#f28e2b",
    4: "#e15759",
    7: "#76b7b2",
}
_MEDIA_COLOUR = "#b07aa1"
_OTHER_COLOUR = "#9c755f"

SLOT_W = 58
ROW_H = 34
LABEL_W = 64
HEADER_H = 16


@dataclass(frozen=True)
class Block:
    """One GPU instance to draw: profile name, first memory slot, slots covered, compute."""

    profile: str
    start: int
    size: int
    compute: int
    media: bool = False


def compute_colour(compute: int, media: bool = False) -> str:
    if media:
        return _MEDIA_COLOUR
    return _COMPUTE_COLOURS.get(compute, _OTHER_COLOUR)


def slot_grid_svg(
    slots: int,
    rows: Sequence[tuple[str, Iterable[Block]]],
    *,
    title: str | None = None,
    css_class: str = "gpukit-slot-grid",
) -> str:
    """The memory-slot grid of one or more GPUs: a row per GPU, instances as coloured blocks.

    ``rows`` holds (row label, blocks) pairs; each block sits at its start slot and spans
    its size. Empty slots stay grey, so free room and unusable slots show at a glance.
    """
    width = LABEL_W + slots * SLOT_W + 2
    top = HEADER_H + (18 if title else 0)
    height = top + len(rows) * (ROW_H + 6) + 2
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            'font-family="sans-serif" role="img">'
        )
    ]
    if title:
        out.append(f'<text x="0" y="13" font-size="13" font-weight="bold">{escape(title)}</text>')
    for slot in range(slots):
        x = LABEL_W + slot * SLOT_W + SLOT_W / 2
        out.append(
            f'<text x="{x:g}" y="{top - 4}" font-size="10" fill="#666" '
            f'text-anchor="middle">slot {slot}</text>'
        )
    for index, (label, blocks) in enumerate(rows):
        y = top + index * (ROW_H + 6)
        out.append(
            f'<text x="0" y="{y + ROW_H / 2 + 4:g}" font-size="11" fill="#333">{escape(label)}</text>'
        )
        for slot in range(slots):
            x = LABEL_W + slot * SLOT_W
            out.append(
                f'<rect x="{x + 1}" y="{y}" width="{SLOT_W - 2}" height="{ROW_H}" rx="3" '
                'fill="#eeeeee" stroke="#cccccc"/>'
            )
        for block in sorted(blocks, key=lambda b: (b.start, b.profile)):
            x = LABEL_W + block.start * SLOT_W
            w = block.size * SLOT_W
            colour = compute_colour(block.compute, block.media)
            out.append(
                f'<g class="gpukit-instance" data-profile="{escape(block.profile)}" '
                f'data-start="{block.start}">'
                f'<rect x="{x + 2}" y="{y + 2}" width="{w - 4}" height="{ROW_H - 4}" rx="4" '
                f'fill="{colour}" stroke="#333333"/>'
                f'<text x="{x + w / 2:g}" y="{y + ROW_H / 2 + 4:g}" font-size="11" fill="white" '
                f'text-anchor="middle">{escape(block.profile)}</text>'
                "</g>"
            )
    out.append("</svg>")
    return "".join(out)


def usage_bar_svg(used: float, total: float, *, width: int = 260, unit: str = "GPUs") -> str:
    """A used/free bar with the figures written beside it."""
    share = 0.0 if total <= 0 else min(max(used / total, 0.0), 1.0)
    free = max(total - used, 0)
    filled = round(share * width)
    colour = "#e15759" if share >= 0.9 else "#f28e2b" if share >= 0.7 else "#59a14f"
    text = f"{_num(used)} used / {_num(free)} free of {_num(total)} {unit}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gpukit-usage" width="{width + 250}" '
        f'height="18" font-family="sans-serif" role="img">'
        f'<rect x="0" y="2" width="{width}" height="14" rx="3" fill="#eeeeee" stroke="#cccccc"/>'
        f'<rect x="0" y="2" width="{filled}" height="14" rx="3" fill="{colour}"/>'
        f'<text x="{width + 8}" y="13" font-size="11" fill="#333">{escape(text)}</text>'
        "</svg>"
    )


def _num(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def code_block(text: str, css_class: str) -> str:
    return (
        f'<pre class="{escape(css_class)}" style="max-height:22em;overflow:auto;'
        'background:#f7f7f7;border:1px solid #ddd;padding:6px;font-size:12px;margin:0">'
        f"{escape(text)}</pre>"
    )


def notice(text: str, kind: str, css_class: str = "gpukit-notice") -> str:
    """A coloured one-paragraph note: kind is 'error', 'warning', 'ok' or 'info'."""
    colours = {
        "error": ("#fdecea", "#b3261e"),
        "warning": ("#fff4e5", "#8a5300"),
        "ok": ("#e9f5ec", "#1e6b34"),
        "info": ("#eef3fb", "#1f4e8c"),
    }
    background, foreground = colours[kind]
    return (
        f'<div class="{escape(css_class)} gpukit-{kind}" style="background:{background};'
        f'color:{foreground};padding:6px 8px;border-radius:4px;margin:2px 0">{escape(text)}</div>'
    )
