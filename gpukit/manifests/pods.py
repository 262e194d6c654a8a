"""The pod level every workload kind shares: node selection, tolerations, resources, env, volumes."""

from __future__ import annotations

from typing import Any

from gpukit.advisor.plan import Plan
from gpukit.fleet import NodePool
from gpukit.manifests.scheduling import Scheduling, scheduling
from gpukit.quantity import GIB, format_bytes
from gpukit.vocab import GPU_PRODUCT_LABEL, GPU_SHARING_STRATEGY_LABEL, MIG_CONFIG_LABEL

__all__ = [
    "DRA_CLAIM",
    "NCCL_ENV",
    "RENDEZVOUS_PORT",
    "SERVING_PORT",
    "container",
    "dra_claim_name",
    "node_selector",
    "pod_spec",
    "pool_node_selector",
    "resources",
    "shares_claim",
    "tolerations",
    "torchrun_env",
    "uses_dra",
]

Obj = dict[str, Any]

#: Port of the rendezvous (torchrun / the PyTorch plugins) and of served models.
RENDEZVOUS_PORT = 23456
SERVING_PORT = 8000
#: Name of the pod's DRA claim, its container reference and its request.
DRA_CLAIM = "gpu"

#: NCCL settings every multi-node pod gets. Only what is safe on any network: WARN makes a
#: failed init or a hang explain itself in the logs without the INFO flood. Interface
#: choice (NCCL_SOCKET_IFNAME) and InfiniBand knobs depend on the cluster's CNI and NICs;
#: a wrong value makes NCCL fail to start, and its auto-detection (skips lo and docker*)
#: is right on common CNIs, so gpukit leaves them unset.
NCCL_ENV: tuple[tuple[str, str], ...] = (("NCCL_DEBUG", "WARN"),)


def uses_dra(plan: Plan) -> bool:
    """GPUs come from DRA ResourceClaims instead of device-plugin extended resources."""
    return plan.fleet.installed.dra


def shares_claim(plan: Plan) -> bool:
    """With DRA, the plan's pods share one ResourceClaim (time-slicing, MPS) instead of each
    getting its own from a ResourceClaimTemplate. Not time-slicing where the DRA driver runs
    with consumable shares: there each pod's claim asks for a share of a GPU's capacity."""
    from gpukit.dra.claims import claim_mode  # lazy: gpukit.dra.claims imports this module

    return claim_mode(plan.choice, plan.fleet) == "shared"


def pool_node_selector(
    pool: NodePool, *, dra: bool = False, mig_profile: str | None = None
) -> dict[str, str]:
    """Node labels that select ``pool``'s nodes: GPU Feature Discovery labels plus the pool's own.

    GFD writes ``nvidia.com/gpu.product``; under the single MIG strategy it appends
    ``-MIG-<profile>``, and on shared GPUs (no rename) ``-SHARED``, with the sharing strategy
    in ``nvidia.com/gpu.sharing-strategy``. Under the mixed strategy the full-GPU labels of
    MIG-enabled GPUs are written without sharing, so no suffix there. With DRA the device
    plugin's sharing config is not in play: sharing is per claim, so only product and layout.
    """
    product = pool.gpu_product
    selector: dict[str, str] = {}
    if pool.mig is not None:
        if pool.mig.strategy == "single" and not dra:
            profile = mig_profile or next(iter(pool.mig.layout), None)
            if profile:
                product = f"{product}-MIG-{profile}"
        if pool.mig.config_name:
            selector[MIG_CONFIG_LABEL] = pool.mig.config_name
    shared_labels = pool.sharing is not None and not dra
    if shared_labels and not (pool.mig is not None and pool.mig.strategy == "mixed"):
        if not pool.sharing.rename_by_default:  # type: ignore[union-attr]
            product += "-SHARED"
        selector[GPU_SHARING_STRATEGY_LABEL] = pool.sharing.mode  # type: ignore[union-attr]
    selector[GPU_PRODUCT_LABEL] = product
    selector.update(pool.labels)
    return dict(sorted(selector.items()))


def node_selector(plan: Plan) -> dict[str, str]:
    """GPU Feature Discovery labels that pin the pod to the planned pool's nodes."""
    return pool_node_selector(plan.pool, dra=uses_dra(plan), mig_profile=plan.choice.mig_profile)


def tolerations(pool: NodePool) -> list[Obj]:
    """One toleration per taint of the pool (the GPU taint at least, by default)."""
    result = []
    for taint in pool.taints:
        toleration: Obj = {"key": taint.key}
        if taint.value is None:
            toleration["operator"] = "Exists"
        else:
            toleration.update(operator="Equal", value=taint.value)
        toleration["effect"] = taint.effect
        result.append(toleration)
    return result


def resources(plan: Plan) -> Obj:
    """CPU and memory requests; the GPU in limits (requests default to limits for extended
    resources), or a DRA claim reference instead."""
    w, choice = plan.workload, plan.choice
    whole = choice.sharing == "dedicated"
    cpu = w.cpu or (str(4 * choice.gpus) if whole else "2")
    memory = w.memory or (format_bytes(16 * GIB * choice.gpus) if whole else "8Gi")
    limits: Obj = {"memory": memory}  # memory limit = request: no OOM surprises under pressure
    result: Obj = {"requests": {"cpu": cpu, "memory": memory}, "limits": limits}
    if uses_dra(plan):
        result["claims"] = [{"name": DRA_CLAIM}]
    elif choice.sharing != "kai-fraction":
        # A KAI fraction asks through its pod annotation (kai.pod_annotations), never for a
        # whole nvidia.com/gpu: KAI's binder hands the pod its share of a GPU.
        limits[choice.resource_name] = choice.gpus
    return result


def needs_shm(plan: Plan) -> bool:
    """PyTorch data loaders pass tensors through /dev/shm (64 MiB in a container by default);
    NCCL's intra-node transport uses it when a pod drives several GPUs."""
    return plan.workload.is_training or plan.choice.gpus > 1


def container(
    plan: Plan,
    name: str = "main",
    env: list[Obj] | None = None,
    ports: bool | None = None,
) -> Obj:
    """The workload's one container: image, command, env, ports, resources, /dev/shm."""
    w = plan.workload
    spec: Obj = {"name": name, "image": w.image}
    if w.command:
        spec["command"] = list(w.command)
    if env:
        spec["env"] = env
    if ports if ports is not None else w.kind == "inference":
        spec["ports"] = [{"name": "http", "containerPort": SERVING_PORT}]
    spec["resources"] = resources(plan)
    if needs_shm(plan):
        spec["volumeMounts"] = [{"name": "dshm", "mountPath": "/dev/shm"}]
    return spec


def dra_claim_name(plan: Plan) -> str:
    """The ResourceClaimTemplate (or shared ResourceClaim) that holds the plan's GPU."""
    return f"{plan.name}-gpu"


def pod_claims(plan: Plan) -> list[Obj]:
    """The pod's resourceClaims: a template per pod, or one claim the pods share."""
    key = "resourceClaimName" if shares_claim(plan) else "resourceClaimTemplateName"
    return [{"name": DRA_CLAIM, key: dra_claim_name(plan)}]


def pod_spec(
    plan: Plan,
    restart_policy: str | None,
    env: list[Obj] | None = None,
    *,
    container_name: str = "main",
    ports: bool | None = None,
    sched: Scheduling | None = None,
    extra: Obj | None = None,
) -> Obj:
    """A pod spec in a fixed key order. ``extra`` (subdomain, ...) goes right after the
    scheduling fields."""
    sched = sched or scheduling(plan)
    spec: Obj = {}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    spec.update(sched.pod_fields())
    spec.update(extra or {})
    spec["nodeSelector"] = node_selector(plan)
    spec["tolerations"] = tolerations(plan.pool)
    if uses_dra(plan):
        spec["resourceClaims"] = pod_claims(plan)
    spec["containers"] = [container(plan, container_name, env=env, ports=ports)]
    if needs_shm(plan):
        spec["volumes"] = [{"name": "dshm", "emptyDir": {"medium": "Memory"}}]
    return spec


def nccl_env() -> list[Obj]:
    return [{"name": name, "value": value} for name, value in NCCL_ENV]


def torchrun_env(plan: Plan, rendezvous_host: str, *, master_env: bool = True) -> list[Obj]:
    """torchrun's settings for pods that start ``torchrun`` themselves (Indexed Job, JobSet,
    Volcano Job).

    torchrun reads any of its options from ``PET_<OPTION>``, so a bare ``torchrun train.py``
    joins the job: ``nnodes`` pods of ``nproc_per_node`` processes meet at the c10d
    rendezvous on ``rendezvous_host`` (a stable DNS name of the job's first pod), which
    assigns the node ranks. MASTER_ADDR/PORT serve scripts that call init_process_group
    directly; ``master_env=False`` leaves them to a controller that sets them (Volcano's
    pytorch plugin), since a second value of one variable is ambiguous.
    """
    w = plan.workload
    env: list[Obj] = []
    if master_env:
        env += [
            {"name": "MASTER_ADDR", "value": rendezvous_host},
            {"name": "MASTER_PORT", "value": str(RENDEZVOUS_PORT)},
        ]
    env += [
        {"name": "PET_NNODES", "value": str(w.workers)},
        {"name": "PET_NPROC_PER_NODE", "value": str(plan.choice.gpus)},
        {"name": "PET_RDZV_BACKEND", "value": "c10d"},
        {"name": "PET_RDZV_ENDPOINT", "value": f"{rendezvous_host}:{RENDEZVOUS_PORT}"},
        {"name": "PET_RDZV_ID", "value": plan.name},
        *nccl_env(),
    ]
    return env
