"""Example pipeline: plan, lint and launch a distributed fine-tune (2 workers x 8 GPUs)."""

from kfp import dsl

try:
    from components.launch_gpu_workload import launch_gpu_workload
    from components.lint_manifests import lint_manifests
    from components.plan_gpu_workload import plan_gpu_workload
except ImportError:  # compiled from inside components/
    from launch_gpu_workload import launch_gpu_workload
    from lint_manifests import lint_manifests
    from plan_gpu_workload import plan_gpu_workload


@dsl.pipeline(
    name="gpukit-distributed-finetune",
    description="Plan a 2-node fine-tune with gpukit, lint the manifests, then submit and follow it.",
)
def distributed_finetune_pipeline(
    name: str = "finetune-13b",
    model_params: str = "13B",
    workers: int = 2,
    gpus: int = 8,
    team: str = "team-research",
    image: str = "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
    command: str = "torchrun --nnodes=$NNODES --nproc-per-node=8 finetune.py",
    fleet_yaml: str = "",
    dry_run: bool = True,
) -> str:
    planned = plan_gpu_workload(
        name=name,
        kind="fine-tuning",
        model_params=model_params,
        mode="training",
        workers=workers,
        gpus=gpus,
        team=team,
        image=image,
        command=command,
        fleet_yaml=fleet_yaml,
    )
    linted = lint_manifests(manifests=planned.outputs["manifests"], fail_on="error", fleet_yaml=fleet_yaml)
    launched = launch_gpu_workload(manifests=planned.outputs["manifests"], dry_run=dry_run)
    launched.after(linted)
    return launched.output
