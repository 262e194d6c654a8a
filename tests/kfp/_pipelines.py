"""Small pipelines the component tests run with kfp.local (module-level so kfp can read them)."""

from kfp import dsl
from kfp.dsl import Artifact, Output

from components.lint_manifests import lint_manifests
from components.plan_gpu_workload import plan_gpu_workload


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def text_artifact(text: str, artifact: Output[Artifact]):
    with open(artifact.path, "w", encoding="utf-8") as handle:
        handle.write(text)


@dsl.pipeline(name="plan-then-lint")
def plan_then_lint(kind: str = "inference", gpu_memory: str = "6Gi", isolation: str = "strict") -> int:
    planned = plan_gpu_workload(name="svc", kind=kind, gpu_memory=gpu_memory, isolation=isolation)
    return lint_manifests(manifests=planned.outputs["manifests"], fail_on="warning").outputs["Output"]


@dsl.pipeline(name="lint-text")
def lint_text(text: str, fail_on: str = "error") -> int:
    source = text_artifact(text=text)
    return lint_manifests(manifests=source.outputs["artifact"], fail_on=fail_on).outputs["Output"]
