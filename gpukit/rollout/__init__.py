"""MIG reconfiguration without an outage: plan waves of node relabelling that keep capacity
for the work that runs, and carry them out (cordon, evict, relabel, wait, uncordon),
resumably.

- :func:`plan_rollout`: the pure planner (nodes, their current and target configs, the
  work that runs and is admitted, disruption budgets) -> :class:`RolloutPlan`.
- :func:`load_target`, :func:`nodes_from_fleet`, :func:`read_cluster`,
  :func:`consumers_from_pods`: where the rollout starts and where it goes.
- :func:`carry_out`: cordon, evict, relabel, wait, uncordon, wave by wave; progress in a
  ConfigMap, so a second run resumes.
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
from gpukit.rollout._run import PROGRESS_NAME, RolloutResult, carry_out
from gpukit.rollout._state import (
    Target,
    consumers_from_pods,
    load_target,
    nodes_from_fleet,
    read_cluster,
)

__all__ = [
    "MIG_CONFIG_LABEL",
    "PROGRESS_NAME",
    "Budget",
    "Consumer",
    "NodeChange",
    "PodDemand",
    "RolloutPlan",
    "RolloutResult",
    "Target",
    "Wave",
    "carry_out",
    "consumers_from_pods",
    "load_target",
    "nodes_from_fleet",
    "plan_rollout",
    "read_cluster",
]
