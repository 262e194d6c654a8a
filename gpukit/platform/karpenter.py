"""Moved to :mod:`gpukit.integrations.karpenter`; this path re-exports it for one release."""

from __future__ import annotations

from gpukit.integrations.karpenter import AWS_GROUP, GPU_MEMORY_TOLERANCE, node_labels, nodepools

__all__ = ["AWS_GROUP", "GPU_MEMORY_TOLERANCE", "node_labels", "nodepools"]
