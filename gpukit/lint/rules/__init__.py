"""Every lint rule, registered by id (GPU001...) when this package is imported."""

from __future__ import annotations

from gpukit.lint.rules import (  # noqa: F401 - registers rules
    configs,
    containers,
    pods,
    scheduling,
    serving,
    topology,
)
from gpukit.lint.rules._registry import RULES as _REGISTERED

__all__ = ["RULES"]

#: Rules by id, in id order.
RULES = dict(sorted(_REGISTERED.items()))
