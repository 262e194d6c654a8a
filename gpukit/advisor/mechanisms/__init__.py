"""Sharing mechanisms, one module each, and the one registry the advisor iterates.

Adding a mechanism: write a module with a :class:`Mechanism` subclass (its offers on a pool,
its label, capacity unit, memory view and sharing-model terms; override the rule hooks it
needs) and add one line to :data:`MECHANISMS`. The order is the order of
``Option.sharing``'s allowed values in error messages; on one pool at most one mechanism
offers units, so it orders nothing else.

DRA claims are not a mechanism here: with the DRA driver the same choice (whole GPUs, a MIG
device, a time-sliced or MPS share) is delivered through a claim instead of a device-plugin
resource (gpukit.manifests.dra). A mechanism only DRA offers (a consumable-capacity share,
say) would be one more module and one more line below.
"""

from __future__ import annotations

from gpukit.advisor.mechanisms.base import Mechanism, Offer, SharingModel
from gpukit.advisor.mechanisms.dedicated import Dedicated
from gpukit.advisor.mechanisms.kai_fraction import KaiFraction
from gpukit.advisor.mechanisms.mig import Mig
from gpukit.advisor.mechanisms.mps import Mps
from gpukit.advisor.mechanisms.time_slicing import TimeSlicing

__all__ = ["MECHANISMS", "Mechanism", "Offer", "SharingModel", "mechanism"]

#: Every mechanism by its ``sharing`` name: the one place a mechanism is registered (a plain
#: dict, read on every rule call; never changed after import).
MECHANISMS: dict[str, Mechanism] = {
    m.name: m for m in (Dedicated(), Mig(), TimeSlicing(), Mps(), KaiFraction())
}


def mechanism(name: str) -> Mechanism:
    """The mechanism called ``name`` (an option's ``sharing``)."""
    try:
        return MECHANISMS[name]
    except KeyError:
        raise ValueError(
            f"sharing {name!r} is no registered mechanism; known: {', '.join(MECHANISMS)}"
        ) from None
