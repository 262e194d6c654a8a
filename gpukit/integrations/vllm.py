"""vLLM: serving a named model with ``vllm serve`` (OpenAI-compatible) as a Deployment +
Service, or a LeaderWorkerSet across nodes (Ray: tensor parallel in a node, pipeline parallel
across nodes). Shared parts: gpukit.serving."""

from __future__ import annotations

from gpukit.integrations._base import Integration
from gpukit.serving.objects import serve_deployment, serve_lws

__all__ = ["INTEGRATION"]

INTEGRATION = Integration(
    name="vllm",
    title="vLLM",
    renderers={"Deployment[vllm]": serve_deployment, "LeaderWorkerSet[vllm]": serve_lws},
)
