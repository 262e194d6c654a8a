"""Karpenter: detection, its CRD and NodePools (one per GPU pool, tainted, labelled so new nodes come up configured)."""

from __future__ import annotations

import re
from typing import Any

from gpukit.fleet import NodePool
from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.manifests.pods import pool_node_selector
from gpukit.platform.files import PlatformFile, manifest_file
from gpukit.platform.labels import OPERATOR_GATES_OFF
from gpukit.platform.model import PlatformPlan, pool_resources
from gpukit.quantity import MIB
from gpukit.vocab import (
    DEVICE_PLUGIN_CONFIG_LABEL,
    GPU,
    GPUKIT_POOL_LABEL,
    MIG_CONFIG_LABEL,
    managed_by,
)

__all__ = [
    "API",
    "AWS_GROUP",
    "INTEGRATION",
    "karpenter_warnings",
    "node_labels",
    "nodepools",
    "platform_files",
    "scales_up",
    "skipped_pools",
]

API = "karpenter.sh/v1"

#: Karpenter's AWS provider labels instance types with their GPU's short name and count.
AWS_GROUP = "karpenter.k8s.aws"
#: How far the provider's per-GPU memory figure (MiB, from EC2) may stray from the catalog's
#: (nvidia-smi): EC2 rounds differently (L4 22888 vs 23034, T4 16384 vs 15360), but the
#: memory variants of one GPU name (A100 40 vs 80 GB) are twice apart.
GPU_MEMORY_TOLERANCE = 0.10


def node_labels(pp: PlatformPlan, pool: NodePool) -> dict[str, str]:
    """The labels gpukit wants on every node of ``pool``: the ones gpukit's pods select on
    (GPU Feature Discovery's product and sharing labels, the pool's own), its MIG config and
    its device-plugin config, and the operator's device-plugin and GFD gates switched off on
    pools with a standalone device plugin (the same ones the node-labeling script sets).

    Karpenter only launches a node for a pending pod whose nodeSelector the NodePool's
    template labels (or requirements) satisfy, so every selected label must be declared here;
    GFD later writes the same values."""
    labels = pool_node_selector(pool, dra=pp.dra)
    if pool.name in pp.mig_configs:
        labels[MIG_CONFIG_LABEL] = pp.mig_configs[pool.name]
    config = pp.device_plugin_config(pool.name)
    if config:
        labels[DEVICE_PLUGIN_CONFIG_LABEL] = config
    if pp.standalone_plugin(pool.name) is not None:
        # A new node must never start the operator's plugin (it would fail under the
        # cluster's MIG strategy): the gates are off from the first boot.
        labels.update(OPERATOR_GATES_OFF)
    labels[GPUKIT_POOL_LABEL] = pool.name
    return dict(sorted(labels.items()))


def _aws_gpu_name(pool: NodePool) -> str:
    # The provider's label holds the lower-case model without memory size: a100, h100, l4.
    return re.split(r"[-_ ]", pool.model.key)[0].lower()


def _gpu_memory_requirements(pool: NodePool) -> list[dict[str, Any]]:
    """instance-gpu-memory (MiB per GPU) within GPU_MEMORY_TOLERANCE of the catalog's: the
    GPU name alone (a100) matches both memory variants."""
    mib = pool.model.memory_bytes / MIB
    key = f"{AWS_GROUP}/instance-gpu-memory"
    return [
        {"key": key, "operator": "Gt", "values": [str(int(mib * (1 - GPU_MEMORY_TOLERANCE)))]},
        {"key": key, "operator": "Lt", "values": [str(int(mib * (1 + GPU_MEMORY_TOLERANCE)) + 1)]},
    ]


def scales_up(pp: PlatformPlan, pool: NodePool) -> bool:
    """Whether a pending pod of ``pool`` can make Karpenter launch a node: its providers
    advertise only ``nvidia.com/gpu`` for an instance type (aws/karpenter-provider-aws
    pkg/providers/instancetype/types.go), so pods asking for ``nvidia.com/mig-*`` (mixed
    MIG) or ``nvidia.com/gpu.shared`` (renamed shares) never fit a node it could launch.
    Single-strategy MIG and unrenamed shares are asked for as ``nvidia.com/gpu``."""
    if pp.dra:
        return True  # claims: what a claim needs is not an extended resource at all
    return GPU in pool_resources(pool)[0]


def skipped_pools(pp: PlatformPlan) -> list[NodePool]:
    """Pools that get no NodePool: Karpenter would never scale them up."""
    return [pool for pool in pp.fleet.node_pools if not scales_up(pp, pool)]


def nodepools(pp: PlatformPlan) -> list[dict[str, Any]]:
    """A NodePool per GPU pool whose pods Karpenter can scale up for (:func:`scales_up`)."""
    options = pp.options
    pools = []
    for pool in pp.fleet.node_pools:
        if not scales_up(pp, pool):
            continue
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
                *_gpu_memory_requirements(pool),
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
                "apiVersion": API,
                "kind": "NodePool",
                "metadata": {
                    "name": f"gpukit-{pool.name}",
                    "labels": managed_by(),
                },
                "spec": {
                    "template": {"metadata": {"labels": node_labels(pp, pool)}, "spec": spec},
                    # Never grow past the pool the fleet describes (the plans assume its size).
                    "limits": {GPU: pool.total_gpus},
                    # Only empty GPU nodes are removed: consolidating a busy one kills
                    # training runs and evicts MIG-configured pods.
                    "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m"},
                },
            }
        )
    return pools


def _skipped_lines(pp: PlatformPlan) -> list[str]:
    skipped = skipped_pools(pp)
    if not skipped:
        return []
    names = ", ".join(p.name for p in skipped)
    return [
        f"No NodePool for {names}: their pods ask for MIG devices or nvidia.com/gpu.shared,",
        "which Karpenter's providers never advertise for an instance type, so they never",
        "trigger a scale-up. Keep those pools' nodes provisioned (a static node group).",
    ]


def karpenter_warnings(pp: PlatformPlan) -> list[str]:
    """Pools a planned workload uses that Karpenter cannot scale up, on a Karpenter fleet."""
    if not pp.fleet.installed.karpenter:
        return []
    used = {p.choice.pool for p in pp.plans}
    return [
        f"pool {pool.name}: Karpenter never launches nodes for its pods (they ask for MIG "
        "devices or nvidia.com/gpu.shared, which no instance type advertises); keep its "
        f"{pool.nodes} nodes provisioned outside Karpenter"
        for pool in skipped_pools(pp)
        if pool.name in used
    ]


def platform_files(pp: PlatformPlan) -> list[PlatformFile]:
    options = pp.options
    objects = nodepools(pp)
    if not objects:
        return []
    return [
        manifest_file(
            "karpenter/nodepools.yaml",
            "Karpenter NodePools.",
            [
                "One per GPU pool Karpenter can scale up, with the GPU taint and config labels.",
                *_skipped_lines(pp),
                (
                    f"Node class {options.node_class.kind}/{options.node_class.name} "
                    f"({options.node_class.group}); capacity {options.capacity_type}."
                ),
                "New nodes come up with their mig.config / device-plugin.config labels already set.",
                "Only if the cluster runs Karpenter; skip otherwise.",
            ],
            objects,
            needs="Karpenter",
        )
    ]


INTEGRATION = Integration(
    name="karpenter",
    title="Karpenter",
    # The bundle writes NodePools whatever the flag says (applied only where Karpenter runs);
    # the flag makes plans warn where Karpenter cannot scale a pool up.
    installed="karpenter",
    detection=Detection(groups=("karpenter.sh",)),
    crds=("nodepools.karpenter.sh",),
    kinds=(WireKind(API, "NodePool"),),
    platform=platform_files,
    platform_warnings=karpenter_warnings,
)
