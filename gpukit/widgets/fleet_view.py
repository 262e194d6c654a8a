"""FleetView: a fleet's node pools and GPUs, with used/free bars and MIG layouts drawn per GPU."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path

import ipywidgets as W

import gpukit
from gpukit.errors import GpukitError
from gpukit.fleet import NodePool
from gpukit.widgets._cluster import detect_cluster
from gpukit.widgets._draw import notice, slot_grid_svg, usage_bar_svg
from gpukit.widgets._mig import check_layout

__all__ = ["FleetView", "gpus_in_use"]

#: GPUs drawn per MIG pool before the rest are summarised (they share one layout).
MAX_GPUS_DRAWN = 8


def gpus_in_use(pool: NodePool, plans: Iterable[gpukit.Plan]) -> float:
    """GPUs of ``pool`` the given plans occupy: whole GPUs, MIG memory slots, or shares."""
    used = 0.0
    for plan in plans:
        if plan.choice.pool != pool.name:
            continue
        c = plan.choice
        if c.sharing == "dedicated":
            used += c.gpus * plan.pods
        elif c.sharing == "mig":
            profile = pool.model.profile(c.mig_profile or "")
            used += profile.memory_slices / pool.model.mig.memory_slices * c.gpus * plan.pods  # type: ignore[union-attr]
        elif pool.sharing is not None:
            used += c.gpus * plan.pods / pool.sharing.replicas
    return used


class FleetView(W.VBox):
    """Every node pool of a fleet: GPUs used and free, sharing set-up, MIG layouts per GPU.

    ``fleet`` is a Fleet, a fleet file, ``"live"`` (gpukit.kube discovery) or None (the
    embedded default). Usage comes from ``used`` (GPUs in use per pool, e.g. from a live
    inventory) and from ``plans`` placed on the fleet.
    """

    def __init__(
        self,
        fleet: gpukit.Fleet | str | Path | None = None,
        *,
        used: Mapping[str, float] | None = None,
        plans: Iterable[gpukit.Plan] = (),
    ) -> None:
        self.error: str | None = None
        self.plans = list(plans)
        self.used = dict(used or {})
        body: list[W.Widget]
        try:
            self.fleet = self._resolve(fleet)
        except GpukitError as exc:
            self.fleet = None
            self.error = str(exc)
            body = [W.HTML(notice(self.error, "error", "gpukit-error"))]
        else:
            body = [self._pool_widget(pool) for pool in self.fleet.node_pools]
        title = f"gpukit fleet: {self.fleet.name}" if self.fleet else "gpukit fleet"
        header = W.HTML(f"<h3 style='margin:0 0 6px 0'>{escape(title)}</h3>" + self._installed())
        super().__init__([header, *body], layout=W.Layout(border="1px solid #ddd", padding="8px"))
        self.add_class("gpukit-fleet-view")

    @staticmethod
    def _resolve(fleet: gpukit.Fleet | str | Path | None) -> gpukit.Fleet:
        if fleet is None:
            return gpukit.default_fleet()
        if isinstance(fleet, gpukit.Fleet):
            return fleet
        if str(fleet) == "live":
            return detect_cluster().discover()
        return gpukit.load_fleet(fleet)

    def _installed(self) -> str:
        if self.fleet is None:
            return ""
        on = [name for name, value in self.fleet.installed.model_dump().items() if value]
        queues = ", ".join(f"{q.name} ({q.scheduler})" for q in self.fleet.queues)
        return (
            f"<div>installed: {escape(', '.join(on) or 'nothing')}"
            + (f"<br>queues: {escape(queues)}" if queues else "")
            + "</div>"
        )

    def pool_usage(self, pool: NodePool) -> float:
        """GPUs in use in ``pool``: the given figure plus what the plans occupy."""
        return self.used.get(pool.name, 0.0) + gpus_in_use(pool, self.plans)

    def _pool_widget(self, pool: NodePool) -> W.HTML:
        model = pool.model
        if pool.mig is not None:
            setup = f"MIG {pool.mig.strategy}" + (
                f" (config {pool.mig.config_name})" if pool.mig.config_name else ""
            )
        elif pool.sharing is not None:
            setup = (
                f"{pool.sharing.mode}, {pool.sharing.replicas} replicas per GPU "
                f"({pool.sharing.replicas * pool.total_gpus} shares)"
            )
        else:
            setup = "whole GPUs"
        head = (
            f"<div style='margin-top:8px'><b>{escape(pool.name)}</b> · {escape(model.key)} · "
            f"{pool.nodes} node(s) × {pool.gpus_per_node} GPU(s) · {escape(setup)} · "
            f"${pool.price:.2f}/GPU-h</div>"
        )
        bar = usage_bar_svg(self.pool_usage(pool), pool.total_gpus)
        grid = ""
        if pool.mig is not None and model.mig is not None and pool.total_gpus:
            try:
                check = check_layout(model.key, pool.mig.layout)
            except GpukitError as exc:
                grid = notice(f"MIG layout of pool {pool.name}: {exc}", "error", "gpukit-error")
            else:
                if not check.valid:
                    grid = notice(f"MIG layout of pool {pool.name}: {check.reason}", "error", "gpukit-error")
                else:
                    shown = min(pool.total_gpus, MAX_GPUS_DRAWN)
                    rows = [
                        (f"n{i // pool.gpus_per_node}/gpu{i % pool.gpus_per_node}", check.blocks)
                        for i in range(shown)
                    ]
                    grid = slot_grid_svg(model.mig.memory_slices, rows, css_class="gpukit-pool-grid")
                    if pool.total_gpus > shown:
                        grid += f"<div><small>… and {pool.total_gpus - shown} more GPUs with the same layout</small></div>"
        widget = W.HTML(head + bar + grid)
        widget.add_class("gpukit-pool")
        return widget
