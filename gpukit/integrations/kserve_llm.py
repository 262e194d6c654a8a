"""KServe's LLMInferenceService (serving.kserve.io/v1alpha1): a named model served by KServe's
llm-d stack, rendered in place of an InferenceService where the fleet's KServe serves it.

Facts from KServe's source (kserve/kserve):

- The kind, group and version: ``pkg/apis/serving/v1alpha1/llm_inference_service_types.go``
  (``LLMInferenceService``, shortName ``llmisvc``); first shipped in KServe 0.16 (the
  0.16 documentation introduces it). Later releases add ``v1alpha2`` and keep serving
  ``v1alpha1`` (``config/crd/.../serving.kserve.io_llminferenceservices.yaml``).
- Spec fields used here: ``model.uri`` (``hf://<repo id>``; the storage initializer downloads
  it) and ``model.name`` (the name requests use), ``replicas``, ``parallelism.tensor``,
  ``template`` (a PodSpec merged over the preset ``kserve-config-llm-template``) and
  ``router`` (``route: {}``, ``gateway: {}``, ``scheduler: {}``: the controller manages the
  HTTPRoute, uses the default Gateway and adds the inference scheduler).
- The preset's container is named ``main`` and runs ``vllm serve /mnt/models`` with the served
  name and port; extra engine flags go in its ``VLLM_ADDITIONAL_ARGS`` environment variable
  (``config/llmisvcconfig/config-llm-template.yaml`` and the pipeline-parallel preset).

Multi-node plans stay a LeaderWorkerSet of the engine: which KServe release's presets run
vLLM pipeline parallel across nodes is not settled here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpukit.manifests import meta
from gpukit.manifests.pods import node_selector, resources, tolerations

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan
    from gpukit.fleet import Fleet

__all__ = ["LLM_API", "LLM_ISVC_SINCE", "render_llm_inference_service", "requires", "serves_llm"]

Obj = dict[str, Any]

LLM_API = "serving.kserve.io/v1alpha1"
#: The first KServe release that serves LLMInferenceService.
LLM_ISVC_SINCE = (0, 16)
#: The preset's engine container (config-llm-template.yaml), which the template merges into.
MAIN = "main"


def serves_llm(fleet: Fleet, engine: str, workers: int) -> bool:
    """Whether a model served on ``fleet`` is an LLMInferenceService: KServe installed at
    0.16 or later (``versions.kserve``), the vLLM engine (the preset's), one node."""
    version = fleet.version("kserve")
    return (
        fleet.installed.kserve
        and version is not None
        and version >= LLM_ISVC_SINCE
        and engine == "vllm"
        and workers == 1
    )


def render_llm_inference_service(plan: Plan) -> list[Obj]:
    from gpukit.serving.engines import engine_flags, model_id
    from gpukit.serving.pods import probes

    w = plan.workload
    flags = engine_flags(plan)
    # The controller passes parallelism.tensor to vLLM; one node has no pipeline.
    tensor = int(flags.pop("--tensor-parallel-size", plan.choice.gpus))  # type: ignore[call-overload]
    flags.pop("--pipeline-parallel-size", None)
    extra = " ".join(f"{key}={value}" for key, value in flags.items())
    main: Obj = {
        "name": MAIN,
        "env": [
            {"name": "VLLM_ADDITIONAL_ARGS", "value": extra},
            {
                "name": "HF_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {"name": "hf-token", "key": "token", "optional": True}
                },
            },
        ],
        "resources": resources(plan),
        # The preset's probe (its /health, port and scheme) with the plan's time for loading
        # the model: the template is merged over the preset field by field.
        "startupProbe": {
            key: value for key, value in probes(plan)["startupProbe"].items() if key != "httpGet"
        },
    }
    spec: Obj = {
        "model": {"uri": f"hf://{model_id(plan)}", "name": plan.name},
        "replicas": w.replicas,
        "parallelism": {"tensor": tensor},
        "template": {
            "containers": [main],
            "nodeSelector": node_selector(plan),
            "tolerations": tolerations(plan.pool),
        },
        "router": {"route": {}, "gateway": {}, "scheduler": {}},
    }
    return [
        {
            "apiVersion": LLM_API,
            "kind": "LLMInferenceService",
            "metadata": meta.metadata(plan, meta.labels(plan)),
            "spec": spec,
        }
    ]


def requires(obj: Obj) -> str | None:
    """The KServe release an LLMInferenceService needs (written in the rendered file's header)."""
    if obj.get("apiVersion") == LLM_API and obj.get("kind") == "LLMInferenceService":
        return "KServe 0.16 or later (serving.kserve.io/v1alpha1 LLMInferenceService)"
    return None
