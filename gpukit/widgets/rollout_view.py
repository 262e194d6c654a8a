"""RolloutView: a MIG rollout's waves, what each evicts and why it is safe, in a notebook."""

from __future__ import annotations

from html import escape

import ipywidgets as W

from gpukit.rollout import RolloutPlan

__all__ = ["RolloutView"]


class RolloutView(W.VBox):
    """The waves of ``plan`` (from :func:`gpukit.rollout.plan_rollout`) as a table per wave.

    Read-only: it draws the plan; carrying it out is :func:`gpukit.rollout.carry_out` (or
    ``gpukit mig rollout --yes``).
    """

    def __init__(self, plan: RolloutPlan) -> None:
        self.plan = plan
        self.summary = W.HTML(self._summary())
        self.waves = W.Accordion(children=[W.HTML(self._wave(w)) for w in plan.waves])
        for i, wave in enumerate(plan.waves):
            self.waves.set_title(i, f"wave {i + 1}: {', '.join(wave.nodes)}")
        blocked = [W.HTML(self._blocked())] if plan.blocked else []
        super().__init__([self.summary, self.waves, *blocked])

    def _summary(self) -> str:
        p = self.plan
        if not p.waves and p.safe:
            return "<b>Nothing to change</b>: every node has its target MIG config."
        how = "the fewest possible" if p.exact else "found greedily"
        state = "safe" if p.safe else "<span style='color:#b00'>no safe order for every node</span>"
        return (
            f"<b>{len(p.waves)} wave(s)</b>, at most {p.max_unavailable} node(s) at a time "
            f"({how}); {state}."
        )

    def _wave(self, wave) -> str:
        rows = "".join(
            f"<tr><td>{escape(n)}</td><td>{escape(str(self.plan.targets.get(n)))}</td></tr>"
            for n in wave.nodes
        )
        evicts = ", ".join(escape(e) for e in wave.evicts) or "no GPU pod"
        safe = "".join(f"<li>{escape(w)}</li>" for w in wave.why_safe)
        return (
            f"<table><tr><th>node</th><th>target config</th></tr>{rows}</table>"
            f"<p><b>evicts</b>: {evicts}</p><p><b>why it is safe</b></p><ul>{safe}</ul>"
        )

    def _blocked(self) -> str:
        items = "".join(f"<li>{escape(b)}</li>" for b in self.plan.blocked)
        return f"<p><b>What blocks the rest</b></p><ul>{items}</ul>"
