"""Platform side: what a cluster must have in place to run a fleet's workloads, as files.

`render_platform(fleet, workloads)` returns the bundle (GPU Operator Helm values, device-plugin
and mig-parted ConfigMaps, the node-labeling script, priority classes, and each integration's
files: Kueue flavors and queues, Volcano and KAI queues, Karpenter NodePools), each file with
a header that says what it is for and how to apply it. Pure; `write_platform(files, out)`
writes it.

Names resolve lazily, so that the integrations can import ``gpukit.platform.model`` and
``gpukit.platform.files`` without loading the bundle, which iterates the integrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gpukit._lazy import lazy_exports

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

_EXPORTS = {
    "NodeClassRef": "gpukit.platform.model",
    "PlatformFile": "gpukit.platform.files",
    "PlatformOptions": "gpukit.platform.model",
    "PlatformPlan": "gpukit.platform.model",
    "platform_files": "gpukit.platform.bundle",
    "platform_plan": "gpukit.platform.model",
    "render_platform": "gpukit.platform.bundle",
    "write_platform": "gpukit.platform.bundle",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # pragma: no cover
    from gpukit.platform.bundle import platform_files, render_platform, write_platform
    from gpukit.platform.files import PlatformFile
    from gpukit.platform.model import NodeClassRef, PlatformOptions, PlatformPlan, platform_plan
