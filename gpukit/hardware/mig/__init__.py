"""MIG layouts on one GPU model: placement of GPU instances on memory slots, and enumeration.

Validity is a placement question. Each profile may only start at certain memory slots and
occupies ``size`` consecutive ones; two instances may not share a slot; per-profile maxima
and the one-media-extension rule apply. A layout either has a :class:`Placement` (a start
for every instance, and a creation order that works on a real GPU) or is
:class:`Unplaceable` (the rule it breaks, and the nearest valid layouts).

>>> layout = MigLayout.from_counts("A100-40GB", {"3g.20gb": 1, "2g.10gb": 1, "1g.5gb": 2})
>>> str(layout.place())
'2g.10gb@0 + 1g.5gb@2 + 1g.5gb@3 + 3g.20gb@4'
>>> MigLayout.from_counts("A100-40GB", {"3g.20gb": 2, "1g.5gb": 1}).place().code
'memory'
"""

from gpukit.hardware.mig.geometry import (
    canonical_counts,
    maximal_multisets,
    place_counts,
    smallest_profile,
    valid_multisets,
)
from gpukit.hardware.mig.layout import (
    MigInstance,
    MigLayout,
    PlacedInstance,
    Placement,
    Unplaceable,
    maximal_layouts,
)

__all__ = [
    "MigInstance",
    "MigLayout",
    "PlacedInstance",
    "Placement",
    "Unplaceable",
    "canonical_counts",
    "maximal_layouts",
    "maximal_multisets",
    "place_counts",
    "smallest_profile",
    "valid_multisets",
]
