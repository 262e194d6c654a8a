"""Karpenter NodePools: one per GPU pool, tainted, labelled so new nodes come up configured."""

from __future__ import annotations

import re
from typing import Any

from gpukit.fleet import NodePool
from gpukit.platform.model import PlatformPlan

__all__ = ["node_labels", "nodepools"]

#: Karpenter's AWS provider labels instance types with their GPU's short name and count.
AWS_GROUP = "karpenter.k8s.aws"


def node_labels(pp: PlatformPlan, pool: NodePool) -> dict[str, str]:
    """The labels gpukit wants on every node of ``pool``: the pool's own, its MIG config and
    its device-plugin config (the same ones the node-labeling script sets)."""
    labels = dict(pool.labels)
    if pool.name in pp.mig_configs:
        labels["nvidia.com/mig.config"] = pp.mig_configs[pool.name]
    config = pp.device_plugin_config(pool.name)
    if config:
        labels["nvidia.com/device-plugin.config"] = config
    labels["gpukit.io/pool"] = pool.name
    return dict(sorted(labels.items()))


def _aws_gpu_name(pool: NodePool) -> str:
    # The provider's label holds the lower-case model without memory size: a100, h100, l4.
    return re.split(r"[-_ ]", pool.model.key)[0].lower()


def nodepools(pp: PlatformPlan) -> list[dict[str, Any]]:
    options = pp.options
    pools = []
    for pool in pp.fleet.node_pools:
        requirements: list[dict[str, Any]] = [
            {
                "key": "karpenter.sh/capacity-type",
                "operator": "In",
                "values": [options.capacity_type],
            },
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        ]
        if options.node_class.group == AWS_GROUP:
            requirements += [
                {
                    "key": f"{AWS_GROUP}/instance-gpu-name",
                    "operator": "In",
                    "values": [_aws_gpu_name(pool)],
                },
                {
                    "key": f"{AWS_GROUP}/instance-gpu-count",
                    "operator": "In",
                    "values": [str(pool.gpus_per_node)],
                },
            ]
        taints = [
            {
                "key": t.key,
                **({"value": t.value} if t.value is not None else {}),
                "effect": t.effect,
            }
            for t in pool.taints
        ]
        spec: dict[str, Any] = {
            "nodeClassRef": options.node_class.model_dump(),
            "requirements": requirements,
        }
        if taints:
            spec["taints"] = taints
        pools.append(
            {
                "apiVersion": "karpenter.sh/v1",
                "kind": "NodePool",
                "metadata": {
                    "name": f"gpukit-{pool.name}",
                    "labels": {"app.kubernetes.io/managed-by": "gpukit"},
                },
                "spec": {
                    "template": {"metadata": {"labels": node_labels(pp, pool)}, "spec": spec},
                    # Never grow past the pool the fleet describes (the plans assume its size).
                    "limits": {"nvidia.com/gpu": pool.total_gpus},
                    # Only empty GPU nodes are removed: consolidating a busy one kills
                    # training runs and evicts MIG-configured pods.
                    "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m"},
                },
            }
        )
    return pools
