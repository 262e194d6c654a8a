"""The drawings: deterministic SVG with blocks at their slots, bars clamped, text escaped."""

from __future__ import annotations

import re

import pytest

from gpukit.widgets._draw import Block, compute_colour, notice, slot_grid_svg, usage_bar_svg


def test_blocks_sit_at_their_start_and_span_their_size():
    svg = slot_grid_svg(8, [("GPU", [Block("3g.40gb", 4, 4, 3), Block("1g.10gb", 0, 1, 1)])])
    rects = re.findall(r'<rect x="(\d+)" y="\d+" width="(\d+)" height="\d+" rx="4" fill="([^"]+)"', svg)
    # sorted by start: the 1g at slot 0 first, then the 3g over slots 4..7
    assert rects == [("66", "54", compute_colour(1)), ("298", "228", compute_colour(3))]
    assert svg.count('rx="3" fill="#eeeeee"') == 8


def test_one_row_per_gpu_and_same_input_same_bytes():
    rows = [(f"gpu{i}", [Block("7g.80gb", 0, 8, 7)]) for i in range(3)]
    assert slot_grid_svg(8, rows) == slot_grid_svg(8, rows)
    assert slot_grid_svg(8, rows).count('class="gpukit-instance"') == 3


def test_text_is_escaped():
    svg = slot_grid_svg(4, [("<b>", [Block("<x>", 0, 1, 1)])], title="a & b")
    assert "<b>" not in svg and "&lt;x&gt;" in svg and "a &amp; b" in svg
    assert "&lt;script&gt;" in notice("<script>", "error")


@pytest.mark.parametrize(
    ("used", "total", "text", "width"),
    [
        pytest.param(0, 8, "0 used / 8 free of 8 GPUs", 0, id="empty"),
        pytest.param(4, 8, "4 used / 4 free of 8 GPUs", 130, id="half"),
        pytest.param(12, 8, "12 used / 0 free of 8 GPUs", 260, id="over-clamped"),
        pytest.param(1.5, 4, "1.50 used / 2.50 free of 4 GPUs", 98, id="fraction"),
        pytest.param(0, 0, "0 used / 0 free of 0 GPUs", 0, id="no-gpus"),
    ],
)
def test_usage_bar(used, total, text, width):
    svg = usage_bar_svg(used, total)
    assert text in svg
    assert re.findall(r'<rect x="0" y="2" width="(\d+)" height="14" rx="3" fill="#(?!eeeeee)', svg) == [str(width)]
