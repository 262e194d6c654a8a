"""FleetView: a fleet's node pools and GPUs, with used/free bars and MIG layouts drawn per GPU."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from typing import Any

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
    inventory), from ``plans`` placed on the fleet, and from ``packing`` (a
    gpukit.hardware.packing PackingPlan over ``slots_from_fleet(fleet)``), whose per-GPU
    layouts are then drawn instead of the pool's current one.
    """

    def __init__(
        self,
        fleet: gpukit.Fleet | str | Path | None = None,
        *,
        used: Mapping[str, float] | None = None,
        plans: Iterable[gpukit.Plan] = (),
        packing: Any = None,
    ) -> None:
        self.error: str | None = None
        self.plans = list(plans)
        self.used = dict(used or {})
        self.packing = packing
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
        """GPUs in use in ``pool``: the given figure, what the plans occupy, the packing's."""
        packed = sum(1 for g in self._packed(pool) if g.used)
        return self.used.get(pool.name, 0.0) + gpus_in_use(pool, self.plans) + packed

    def _packed(self, pool: NodePool) -> list[Any]:
        """The packing's GPUs of ``pool`` (its nodes are '<pool>-<n>', as slots_from_fleet names them)."""
        if self.packing is None:
            return []
        nodes = {f"{pool.name}-{n}": n for n in range(pool.nodes)}
        return sorted(
            (g for g in self.packing.gpus if g.node in nodes),
            key=lambda g: (nodes[g.node], g.index),
        )

    def _mig_rows(self, pool: NodePool) -> tuple[list[tuple[str, Any]], str]:
        """(label, blocks) per GPU drawn, and a note on what was left out or changes."""
        packed = [g for g in self._packed(pool) if g.layout is not None]  # None: MIG off
        if packed:
            # GPUs that host something or change first: those are what the packing is about.
            packed.sort(key=lambda g: not (g.used or g.changed))
            rows, notes = [], []
            for g in packed[:MAX_GPUS_DRAWN]:
                check = check_layout(pool.gpu, g.layout or {})
                if not check.valid:
                    notes.append(f"{g.node}/gpu{g.index}: {check.reason}")
                label = f"{g.node.removeprefix(pool.name + '-')}/gpu{g.index}"
                rows.append((label + (" *" if g.changed else ""), check.blocks))
                if g.hosts:
                    hosts = ", ".join(f"{d} {p} x{c}" for d, p, c in g.hosts)
                    notes.append(f"{label} hosts {hosts}")
            changed = sum(1 for g in packed if g.changed)
            if changed:
                notes.append(f"* layout changes on {changed} GPU(s): the MIG manager evicts those nodes' GPU pods")
            if len(packed) > MAX_GPUS_DRAWN:
                notes.append(f"… and {len(packed) - MAX_GPUS_DRAWN} more GPUs")
            return rows, "; ".join(notes)
        if pool.mig is None:
            return [], ""
        check = check_layout(pool.gpu, pool.mig.layout)
        if not check.valid:
            return [], f"MIG layout of pool {pool.name}: {check.reason}"
        shown = min(pool.total_gpus, MAX_GPUS_DRAWN)
        rows = [
            (f"n{i // pool.gpus_per_node}/gpu{i % pool.gpus_per_node}", check.blocks)
            for i in range(shown)
        ]
        more = pool.total_gpus - shown
        return rows, (f"… and {more} more GPUs with the same layout" if more > 0 else "")

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
        if model.mig is not None and pool.total_gpus:
            try:
                rows, note = self._mig_rows(pool)
            except GpukitError as exc:
                rows, note = [], f"MIG layout of pool {pool.name}: {exc}"
            if rows:
                grid = slot_grid_svg(model.mig.memory_slices, rows, css_class="gpukit-pool-grid")
            if note:
                grid += f"<div><small>{escape(note)}</small></div>"
        widget = W.HTML(head + bar + grid)
        widget.add_class("gpukit-pool")
        return widget
