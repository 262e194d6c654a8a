"""Topology: the fleet's network levels as data, the constraint a gang needs, its rendering.

Modules: ``model`` (levels and pool layouts, read by the fleet file), ``planning`` (which
level must or should hold a gang, and why), ``render`` (each scheduler's objects and
fields), ``discover`` (levels from a live cluster's node labels). Names resolve lazily, so
that ``gpukit.fleet`` can import the model without the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gpukit._lazy import lazy_exports

__all__ = ["Constraint", "Level", "PoolLayout", "Topology", "constraint_for", "decide"]

_EXPORTS = {
    "Constraint": "gpukit.topology.planning",
    "Level": "gpukit.topology.model",
    "PoolLayout": "gpukit.topology.model",
    "Topology": "gpukit.topology.model",
    "constraint_for": "gpukit.topology.render",
    "decide": "gpukit.topology.planning",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # pragma: no cover
    from gpukit.topology.model import Level, PoolLayout, Topology
    from gpukit.topology.planning import Constraint, decide
    from gpukit.topology.render import constraint_for
