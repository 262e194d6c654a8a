"""Kubernetes resource quantities ("500m", "0.9Gi", "6Gi", "1e3"), parsed exactly."""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = [
    "GIB",
    "MIB",
    "check_memory_unit",
    "format_bytes",
    "format_gib",
    "format_gib_float",
    "parse_quantity",
]

MIB = 1024**2
GIB = 1024**3

_BINARY = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?:(?P<bin>Ki|Mi|Gi|Ti|Pi|Ei)|(?P<exp>[eE][+-]?\d+)|(?P<dec>[numkMGTPE])?)$"
)
ALLOWED = "a number with an optional suffix: Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent (e.g. 6Gi, 500m, 1e9)"


def parse_quantity(value: str | int | float) -> Fraction:
    """Return the exact value of a Kubernetes quantity.

    >>> parse_quantity("6Gi") == 6 * 1024**3
    True
    >>> parse_quantity("500m")
    Fraction(1, 2)
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity; expected {ALLOWED}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity; expected {ALLOWED}")
    number = Fraction(match["num"])
    if match["bin"]:
        return number * _BINARY[match["bin"]]
    if match["exp"]:
        exponent = int(match["exp"][1:])
        if abs(exponent) > 64:  # 10**huge would hang; no real quantity is that big or small
            raise ValueError(f"{value!r}: exponent {exponent} is out of range (at most 64)")
        return number * Fraction(10) ** exponent
    return number * _DECIMAL[match["dec"] or ""]


def check_memory_unit(value: str | float) -> None:
    """Refuse a memory quantity with no unit: ``gpu_memory: 20`` is 20 bytes to Kubernetes,
    never what was meant. ValueError names the fix ("did you mean 20Gi?")."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if isinstance(value, (int, float)) or (match and not (match["bin"] or match["dec"] or match["exp"])):
        number = text.rstrip(".") if match else text
        raise ValueError(
            f"{value!r} has no unit, so it would mean {number} bytes; did you mean {number}Gi? "
            "Write memory with a unit (6Gi, 512Mi, 80G)"
        )


def format_gib(n_bytes: int | Fraction) -> str:
    """Bytes as GiB for people: '6 GiB', '9.5 GiB'."""
    gib = float(Fraction(n_bytes) / GIB)
    return f"{gib:.1f} GiB".replace(".0 GiB", " GiB")


def format_gib_float(n_bytes: float) -> str:
    """format_gib's text without Fractions, for hot paths (the planner's explanations).

    The same text: an int or float divided by GIB (a power of two) rounds exactly as the
    Fraction does.
    """
    return f"{n_bytes / GIB:.1f} GiB".replace(".0 GiB", " GiB")


def format_bytes(n_bytes: int | Fraction) -> str:
    """Bytes as the shortest exact Kubernetes quantity ('6Gi', '512Mi', '1000')."""
    value = Fraction(n_bytes)
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if value >= unit and (value / unit).denominator == 1:
            return f"{value // unit}{suffix}"
    return str(int(value)) if value.denominator == 1 else str(float(value))
