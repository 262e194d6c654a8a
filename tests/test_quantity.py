"""Kubernetes quantities parse exactly; nonsense is refused quickly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpukit.quantity import GIB, format_bytes, parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("6Gi", 6 * GIB),
        ("0.5Gi", GIB // 2),
        ("500m", Fraction(1, 2)),
        ("1e3", 1000),
        ("1E-3", Fraction(1, 1000)),
        ("2k", 2000),
        ("1.5", Fraction(3, 2)),
        (".5", Fraction(1, 2)),
        (7, 7),
    ],
)
def test_parse_exact(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "six", "6GB", "6 Gi", "1e999999999", "--1", True])
def test_refused(text):
    with pytest.raises(ValueError):
        parse_quantity(text)


@given(st.integers(min_value=0, max_value=2**50))
def test_format_bytes_round_trips(n):
    assert parse_quantity(format_bytes(n)) == n
