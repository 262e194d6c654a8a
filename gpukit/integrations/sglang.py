"""SGLang: serving a named model with ``sglang.launch_server`` as a Deployment + Service, or a
LeaderWorkerSet across nodes (every pod a rank: tensor parallel in a node, pipeline parallel
across nodes). Shared parts: gpukit.serving."""

from __future__ import annotations

from gpukit.integrations._base import Integration
from gpukit.serving.objects import serve_deployment, serve_lws

__all__ = ["INTEGRATION"]

INTEGRATION = Integration(
    name="sglang",
    title="SGLang",
    renderers={"Deployment[sglang]": serve_deployment, "LeaderWorkerSet[sglang]": serve_lws},
)
