"""`gpukit mig rollout` dry run against a real cluster: reads nodes, pods and budgets, writes nothing.

Runs only with KUBECONFIG and GPUKIT_E2E=1. The target is GPUKIT_E2E_MIG_TARGET (a file
from `gpukit mig plan -o yaml`) when set; otherwise every MIG node keeps its current config,
which must plan as "nothing to change".
"""

from __future__ import annotations

import os

import pytest

from gpukit import kube
from gpukit.rollout import MIG_CONFIG_LABEL, Target, load_target, plan_rollout, read_cluster

ENABLED = bool(os.environ.get("KUBECONFIG")) and os.environ.get("GPUKIT_E2E") == "1"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not ENABLED,
        reason="end-to-end suite: set KUBECONFIG and GPUKIT_E2E=1 to run it against a real cluster",
    ),
]


def test_rollout_dry_run_reads_the_cluster_and_writes_nothing() -> None:
    with kube.connect() as cluster:
        given = os.environ.get("GPUKIT_E2E_MIG_TARGET")
        if given:
            goal = load_target(given)
        else:
            nodes, _ = cluster.list(cluster.resource("v1", "Node"))
            configs = {
                n["metadata"]["name"]: n["metadata"]["labels"][MIG_CONFIG_LABEL]
                for n in nodes
                if MIG_CONFIG_LABEL in (n["metadata"].get("labels") or {})
            }
            goal = Target(configs, {})
        try:
            nodes, consumers, budgets = read_cluster(cluster, goal)
        except kube.ApiStatusError as exc:
            if exc.code == 403:
                pytest.skip(f"this identity may not read nodes, pods or budgets: {exc}")
            raise
        plan = plan_rollout(nodes, consumers, budgets)
        print(plan.text())
        if not given:
            assert plan.waves == () and plan.safe
