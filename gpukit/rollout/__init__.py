"""MIG reconfiguration without an outage: plan waves of node relabelling that keep capacity
for the work that runs, and carry them out (cordon, evict, relabel, wait, uncordon),
resumably.

- :func:`plan_rollout`: the pure planner (nodes, their current and target configs, the
  work that runs and is admitted, disruption budgets) -> :class:`RolloutPlan`.
"""

from __future__ import annotations

from gpukit.rollout._plan import (
    MIG_CONFIG_LABEL,
    Budget,
    Consumer,
    NodeChange,
    PodDemand,
    RolloutPlan,
    Wave,
    plan_rollout,
)

__all__ = [
    "MIG_CONFIG_LABEL",
    "Budget",
    "Consumer",
    "NodeChange",
    "PodDemand",
    "RolloutPlan",
    "Wave",
    "plan_rollout",
]
