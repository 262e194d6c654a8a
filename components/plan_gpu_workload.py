"""KFP component: plan a GPU workload from its fields; plan JSON and manifests out."""


from kfp import dsl
from kfp.dsl import Artifact, Output

try:
    from components._base import BASE_IMAGE
except ImportError:  # compiled from inside components/
    from _base import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def plan_gpu_workload(
    name: str,
    kind: str,
    manifests: Output[Artifact],
    gpu_memory: str = "",
    gpus: int = 0,
    workers: int = 1,
    replicas: int = 1,
    isolation: str = "",
    priority: str = "",
    team: str = "",
    queue: str = "",
    model_params: str = "",
    precision: str = "bf16",
    mode: str = "inference",
    image: str = "",
    command: str = "",
    fleet_yaml: str = "",
) -> str:
    """Plan the workload with gpukit; return the plan's JSON and write its manifests (YAML).

    Empty strings and 0 mean "not given". fleet_yaml is a fleet file's text; empty means the
    embedded default fleet.
    """
    import json
    import sys

    import gpukit as gk
    from gpukit.fleet import Fleet

    fields = {"name": name, "kind": kind, "workers": workers, "replicas": replicas}
    optional = {
        "gpu_memory": gpu_memory,
        "isolation": isolation,
        "priority": priority,
        "team": team,
        "queue": queue,
        "image": image,
        "command": command,
    }
    fields.update({k: v for k, v in optional.items() if v})
    if gpus:
        fields["gpus"] = gpus
    if model_params:
        fields["model"] = {"params": model_params, "precision": precision, "mode": mode}
    try:
        workload = gk.Workload.model_validate(fields)
        fleet = None
        if fleet_yaml:
            import yaml

            fleet = Fleet.model_validate(yaml.safe_load(fleet_yaml))
        plan = gk.plan(workload, fleet)
    except (gk.GpukitError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(plan.explain())
    with open(manifests.path, "w", encoding="utf-8") as handle:
        handle.write(gk.to_yaml(gk.render(plan)))
    manifests.metadata["workload"] = plan.name
    manifests.metadata["sharing"] = plan.sharing
    return json.dumps(plan.to_dict())
