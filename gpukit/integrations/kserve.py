"""KServe: a named model served as an InferenceService (serving.kserve.io/v1beta1) on KServe's
Hugging Face runtime, rendered instead of a Deployment when the fleet says KServe is installed.

The Hugging Face server (kserve/huggingfaceserver) takes ``--model_name`` and ``--model_id``
and, with its vLLM backend, vLLM's own engine flags: the memory plan's flags go through
unchanged. The predictor is a pod spec: gpukit's node selection and tolerations go on it,
the GPU resource of the plan in the model container's limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpukit.integrations._base import Detection, Integration, WireKind
from gpukit.integrations.kserve_llm import LLM_API, render_llm_inference_service, requires
from gpukit.manifests import meta
from gpukit.manifests.pods import node_selector, resources, tolerations

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan

__all__ = ["API", "INTEGRATION", "render_inference_service"]

Obj = dict[str, Any]

API = "serving.kserve.io/v1beta1"


def render_inference_service(plan: Plan) -> list[Obj]:
    from gpukit.serving.engines import engine_flags, model_id
    from gpukit.serving.pods import probes

    w = plan.workload
    flags = engine_flags(plan)
    flags.pop("--pipeline-parallel-size", None)  # one pod: no pipeline
    args = [f"--model_name={plan.name}", f"--model_id={model_id(plan)}", "--backend=vllm"]
    args += [f"{key}={value}" for key, value in flags.items()]
    model: Obj = {
        "modelFormat": {"name": "huggingface"},
        "args": args,
        "env": [
            {
                "name": "HF_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {"name": "hf-token", "key": "token", "optional": True}
                },
            }
        ],
        "resources": resources(plan),
    }
    # The runtime's container serves on 8080; the start-up probe waits out the model's load.
    startup = probes(plan)["startupProbe"]
    startup["httpGet"] = {"path": f"/v1/models/{plan.name}", "port": 8080}
    model["startupProbe"] = startup
    predictor: Obj = {
        "minReplicas": w.replicas,
        "maxReplicas": max(w.replicas, w.max_replicas or w.replicas),
        "nodeSelector": node_selector(plan),
        "tolerations": tolerations(plan.pool),
        "model": model,
    }
    return [
        {
            "apiVersion": API,
            "kind": "InferenceService",
            "metadata": meta.metadata(plan, meta.labels(plan)),
            "spec": {"predictor": predictor},
        }
    ]


INTEGRATION = Integration(
    name="kserve",
    title="KServe",
    installed="kserve",
    # The group also serves KServe's other kinds (ServingRuntime, ...): InferenceService is
    # what every release serves, so that resource is what counts; LLMInferenceService is
    # rendered where the fleet's versions.kserve is 0.16 or later (gpukit.integrations.kserve_llm).
    detection=Detection(resources=(("serving.kserve.io", "inferenceservices"),)),
    kinds=(WireKind(API, "InferenceService"), WireKind(LLM_API, "LLMInferenceService")),
    renderers={
        "InferenceService": render_inference_service,
        "LLMInferenceService": render_llm_inference_service,
    },
    lint_kinds=(WireKind(API, "InferenceService"),),
    requires=requires,
)
