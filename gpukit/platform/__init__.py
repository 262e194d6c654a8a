"""Platform side: what a cluster must have in place to run a fleet's workloads, as files.

`render_platform(fleet, workloads)` returns the bundle (GPU Operator Helm values, device-plugin
and mig-parted ConfigMaps, the node-labeling script, priority classes, Kueue flavors and
queues, Volcano and KAI queues, Karpenter NodePools), each file with a header that says what
it is for and how to apply it. Pure; `write_platform(files, out)` writes it.
"""

from __future__ import annotations

from gpukit.platform.bundle import PlatformFile, platform_files, render_platform, write_platform
from gpukit.platform.model import NodeClassRef, PlatformOptions, PlatformPlan, platform_plan

__all__ = [
    "NodeClassRef",
    "PlatformFile",
    "PlatformOptions",
    "PlatformPlan",
    "platform_files",
    "platform_plan",
    "render_platform",
    "write_platform",
]
