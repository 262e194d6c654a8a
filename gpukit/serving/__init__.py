"""LLM serving: the engine (vLLM, SGLang) a named model is served with, its command line from
the memory plan, probes, model cache and autoscaling.

The renderers live in the engines' integrations (``gpukit.integrations.vllm``, ``sglang``,
``kserve``); this package holds what they share. Loaded only when a plan serves a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan

__all__ = ["engine_kind", "serves_model"]


def serves_model(plan: Plan) -> bool:
    """Online inference of a model gpukit knows the architecture of (a catalog name or a
    config.json): served by an LLM engine rather than the workload's own command."""
    w = plan.workload
    spec = w.model
    return (
        w.kind == "inference"
        and spec is not None
        and spec.mode == "inference"
        and (spec.name is not None or spec.config is not None)
        and not w.command
    )


def engine_kind(plan: Plan, kind: str) -> str:
    """The renderer key for ``kind`` (as object_kind names it) served by the plan's engine:
    ``Deployment[vllm]``, ``LeaderWorkerSet[sglang]``, ``InferenceService`` (KServe
    installed, one node), ``LLMInferenceService`` (KServe 0.16 or later, vLLM, one node);
    ``kind`` itself when the plan serves no model."""
    if not serves_model(plan) or kind not in ("Deployment", "LeaderWorkerSet"):
        return kind
    if kind == "Deployment" and plan.fleet.installed.kserve:
        from gpukit.integrations.kserve_llm import serves_llm

        if serves_llm(plan.fleet, plan.workload.engine, plan.workload.workers):
            return "LLMInferenceService"
        return "InferenceService"
    return f"{kind}[{plan.workload.engine}]"
