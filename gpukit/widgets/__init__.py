"""Notebook widgets over the core functions: Planner, MigDesigner, FleetView and RolloutView.

Needs the widgets extra (`pip install 'gpukit[widgets]'`). The widgets hold no decision
logic: they call gpukit.plan, gpukit.render, gpukit.to_yaml, the MIG engine and gpukit.kube,
exactly as a notebook user would, and draw the answers.

>>> from gpukit.widgets import Planner, MigDesigner, FleetView   # doctest: +SKIP
>>> Planner()                                                     # doctest: +SKIP
"""

from __future__ import annotations

try:
    import ipywidgets  # noqa: F401
except ImportError:  # pragma: no cover - exercised by a subprocess test with the module hidden
    from gpukit.errors import MissingExtraError

    raise MissingExtraError.for_module("ipywidgets", "widgets") from None

from gpukit.widgets.fleet_view import FleetView
from gpukit.widgets.mig_designer import MigDesigner
from gpukit.widgets.planner import Planner
from gpukit.widgets.rollout_view import RolloutView

__all__ = ["FleetView", "MigDesigner", "Planner", "RolloutView"]
