"""The decision rules: which options a fleet offers, which a workload can use, which is best.

Each rule is a small function. Option rules return a Rejection or None; the preference rule
ranks sharing mechanisms for the workload and says why. No GPU-specific branches: GPU facts
come from the catalog.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gpukit.advisor.plan import Option, Reason, Rejection
from gpukit.fleet import Fleet, NodePool
from gpukit.memory import MemoryNeed
from gpukit.quantity import format_gib
from gpukit.workload import Workload

#: Memory kept free above the need: allocator fragmentation, CUDA context, spikes.
HEADROOM = 0.10


@dataclass(frozen=True)
class Context:
    workload: Workload
    fleet: Fleet
    need: MemoryNeed

    @property
    def need_with_headroom(self) -> int | None:
        return None if self.need.bytes is None else math.ceil(self.need.bytes * (1 + HEADROOM))

    @property
    def whole_gpus_required(self) -> Reason | None:
        """Why this workload must have whole GPUs, or None when it may share."""
        w = self.workload
        if w.is_distributed:
            return Reason(
                code="DISTRIBUTED_DEDICATED",
                message=f"{w.workers} workers exchange gradients or activations every step; "
                "each needs whole GPUs, since a slow shared neighbour stalls all of them",
            )
        if w.is_training:
            return Reason(
                code="TRAINING_WHOLE_GPU",
                message="training keeps a GPU busy for hours; it gets whole GPUs through the "
                "device plugin, and sharing would only slow it and its neighbours",
            )
        if w.gpus is not None:
            return Reason(
                code="WHOLE_GPUS_ASKED",
                message=f"the workload asks for {w.gpus} whole GPU{'s' if w.gpus > 1 else ''}",
            )
        return None


# -- options the fleet offers -------------------------------------------------------------


def dedicated_gpu_count(ctx: Context, pool: NodePool) -> int:
    """Whole GPUs per worker: as asked, or enough memory rounded up to a power of two.

    Tensor parallelism splits attention heads evenly, so degrees are powers of two.
    """
    if ctx.workload.gpus is not None:
        return ctx.workload.gpus
    need = ctx.need_with_headroom
    if need is None:
        return 1
    count = max(1, math.ceil(need / pool.model.memory_bytes))
    return 1 << (count - 1).bit_length()


def fleet_options(ctx: Context) -> Iterator[Option]:
    """Every (mechanism, pool) the fleet offers, before any rule looks at the workload."""
    for pool in ctx.fleet.node_pools:
        model = pool.model
        if pool.mig is not None:
            for profile, _count in pool.mig_profiles:
                resource = (
                    profile.resource_name if pool.mig.strategy == "mixed" else "nvidia.com/gpu"
                )
                yield Option(
                    sharing="mig",
                    pool=pool.name,
                    gpu_model=model.key,
                    mig_profile=profile.name,
                    resource_name=resource,
                    memory_bytes=profile.memory_bytes,
                    cost_per_hour=pool.price * profile.compute_slices / model.mig.compute_slices,
                )
        elif pool.sharing is not None:
            share = pool.sharing
            yield Option(
                sharing=share.mode,
                pool=pool.name,
                gpu_model=model.key,
                resource_name="nvidia.com/gpu.shared" if share.rename_by_default else "nvidia.com/gpu",
                memory_bytes=model.memory_bytes // share.replicas,
                cost_per_hour=pool.price / share.replicas,
            )
        else:
            gpus = dedicated_gpu_count(ctx, pool)
            yield Option(
                sharing="dedicated",
                pool=pool.name,
                gpu_model=model.key,
                gpus=gpus,
                resource_name="nvidia.com/gpu",
                memory_bytes=model.memory_bytes * gpus,
                cost_per_hour=pool.price * gpus,
            )


# -- rules that reject options ------------------------------------------------------------

OptionRule = Callable[[Option, Context], Rejection | None]


def _reject(option: Option, code: str, message: str) -> Rejection:
    return Rejection(option=option.label, code=code, message=message)


def rule_whole_gpus(option: Option, ctx: Context) -> Rejection | None:
    why = ctx.whole_gpus_required
    if why is not None and option.sharing != "dedicated":
        return _reject(option, why.code, why.message)
    return None


def rule_memory_known(option: Option, ctx: Context) -> Rejection | None:
    if option.sharing == "dedicated" or ctx.need.known:
        return None
    if option.sharing == "time-slicing" and ctx.workload.effective_isolation == "none":
        return None  # dev and CI sessions share freely; the plan warns
    return _reject(
        option,
        "MEMORY_NEED_UNKNOWN",
        "a slice or share is only safe when the memory need is known; "
        "set gpu_memory (e.g. '6Gi') or model (params, precision)",
    )


def rule_memory_fits(option: Option, ctx: Context) -> Rejection | None:
    need = ctx.need_with_headroom
    if need is None or need <= option.memory_bytes:
        return None
    what = {
        "mig": f"the {option.mig_profile} slice has {format_gib(option.memory_bytes)}",
        "dedicated": f"{option.gpus}x {option.gpu_model} hold {format_gib(option.memory_bytes)}",
    }.get(option.sharing, f"each {option.sharing} replica gets {format_gib(option.memory_bytes)}")
    return _reject(
        option,
        "MEMORY_DOES_NOT_FIT",
        f"needs {format_gib(need)} with {HEADROOM:.0%} headroom but {what}",
    )


def rule_node_size(option: Option, ctx: Context) -> Rejection | None:
    pool = ctx.fleet.pool(option.pool)
    if option.sharing == "dedicated" and option.gpus > pool.gpus_per_node:
        return _reject(
            option,
            "EXCEEDS_NODE",
            f"needs {option.gpus} GPUs in one pod but a node of {pool.name} has "
            f"{pool.gpus_per_node}; use a pool with bigger nodes or split across workers",
        )
    return None


def rule_isolation(option: Option, ctx: Context) -> Rejection | None:
    isolation = ctx.workload.effective_isolation
    if option.sharing == "time-slicing" and isolation != "none":
        return _reject(
            option,
            "NO_ISOLATION",
            f"isolation is {isolation!r}, but time-sliced replicas share memory and faults: "
            "one pod can run its neighbours out of memory or crash them",
        )
    if option.sharing == "mps" and isolation == "strict":
        return _reject(
            option,
            "MPS_NOT_STRICT",
            "strict isolation needs hardware partitions; MPS clients share one GPU context "
            "server, so a fatal fault in one can take down the others",
        )
    return None


def rule_latency(option: Option, ctx: Context) -> Rejection | None:
    w = ctx.workload
    if option.sharing == "time-slicing" and w.kind == "inference" and w.effective_priority == "latency":
        return _reject(
            option,
            "LATENCY_AVOIDS_TIME_SLICING",
            "latency-sensitive serving waits for every other context's time slice; "
            "tail latency grows with each neighbour",
        )
    return None


def rule_capacity(option: Option, ctx: Context) -> Rejection | None:
    pool = ctx.fleet.pool(option.pool)
    if option.sharing == "mig":
        per_gpu = pool.mig.layout.get(option.mig_profile, 0) if pool.mig else 0
        units, unit = per_gpu * pool.total_gpus, f"{option.mig_profile} slices"
    elif option.sharing in ("time-slicing", "mps"):
        units, unit = pool.sharing.replicas * pool.total_gpus, "shares"  # type: ignore[union-attr]
    else:
        units, unit = pool.total_gpus, "GPUs"
    wanted = ctx.workload.workers * ctx.workload.replicas * option.gpus
    if wanted > units:
        return _reject(
            option,
            "NOT_ENOUGH_CAPACITY",
            f"needs {wanted} {unit} in all but pool {pool.name} has {units}",
        )
    return None


OPTION_RULES: tuple[OptionRule, ...] = (
    rule_whole_gpus,
    rule_memory_known,
    rule_memory_fits,
    rule_node_size,
    rule_isolation,
    rule_latency,
    rule_capacity,
)


def first_rejection(option: Option, ctx: Context) -> Rejection | None:
    for rule in OPTION_RULES:
        rejection = rule(option, ctx)
        if rejection is not None:
            return rejection
    return None


# -- preference among the options that pass ----------------------------------------------


def sharing_preference(ctx: Context) -> tuple[tuple[str, ...], Reason]:
    """The seed decision tree: which mechanisms suit this workload, best first, and why."""
    w = ctx.workload
    whole = ctx.whole_gpus_required
    if whole is not None:
        return ("dedicated",), whole
    isolation, priority = w.effective_isolation, w.effective_priority
    if isolation == "strict":
        return ("mig", "dedicated"), Reason(
            code="ISOLATION_STRICT_MIG",
            message="strict isolation: a MIG slice has its own memory and compute, so a "
            "neighbour cannot starve it or crash it",
        )
    if isolation == "none":
        return ("time-slicing", "mig", "mps", "dedicated"), Reason(
            code="DEV_TIME_SLICING",
            message=f"this {w.kind} workload has no isolation need: a time-sliced share is the "
            "cheapest GPU, idle most of the time anyway",
        )
    if priority == "throughput" or w.kind == "batch-inference":
        return ("mps", "mig", "dedicated"), Reason(
            code="THROUGHPUT_MPS",
            message="throughput work among trusted processes: MPS runs the replicas' kernels "
            "concurrently, where time-slicing would take turns",
        )
    return ("mig", "mps", "dedicated"), Reason(
        code="LATENCY_MIG",
        message=f"{priority}-priority work that must not be disturbed: a MIG slice gives "
        "steady latency with its own memory and compute",
    )


def choice_reasons(choice: Option, preferred: tuple[str, ...], ctx: Context) -> list[Reason]:
    """Why this particular option won among the feasible ones."""
    reasons: list[Reason] = []
    if choice.sharing != preferred[0]:
        large = choice.sharing == "dedicated" and ctx.need.known
        reasons.append(
            Reason(
                code="LARGE_MODEL_DEDICATED" if large else "FALLBACK",
                message=(
                    f"{format_gib(ctx.need.bytes or 0)} is more than any slice or share in the "
                    "fleet holds (see Rejected): whole GPUs"
                    if large
                    else f"no {preferred[0]} option in the fleet fits this workload "
                    f"(see Rejected); {choice.sharing} is the next best"
                ),
            )
        )
    model = ctx.fleet.pool(choice.pool).model
    if choice.sharing == "mig":
        reasons.append(
            Reason(
                code="SMALLEST_PROFILE",
                message=f"{choice.mig_profile} ({format_gib(choice.memory_bytes)}) is the smallest "
                f"slice of the pool's MIG layout on {model.key} that holds the need with headroom",
            )
        )
    elif choice.sharing == "dedicated":
        if ctx.need.known and ctx.workload.gpus is None and choice.gpus > 1:
            reasons.append(
                Reason(
                    code="TENSOR_PARALLEL",
                    message=f"the model does not fit one {model.key}; {choice.gpus} GPUs in one "
                    "pod (tensor parallel, a power of two) hold it",
                )
            )
    else:
        reasons.append(
            Reason(
                code="SHARE_FITS",
                message=f"each {choice.sharing} replica of {model.key} gets "
                f"{format_gib(choice.memory_bytes)} of its {format_gib(model.memory_bytes)}",
            )
        )
    return reasons


# -- scheduler ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SchedulerChoice:
    scheduler: str
    queue: str | None
    namespace: str
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]


def choose_scheduler(ctx: Context) -> SchedulerChoice:
    """Gang scheduling for multi-worker jobs, a Kueue queue for teams, else the default."""
    w, fleet = ctx.workload, ctx.fleet
    installed = fleet.installed
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    scheduler, queue_name, queue_ns = "default", None, None

    if w.is_distributed and installed.volcano:
        queue = fleet.queue_for("volcano", w.team, w.queue)
        scheduler, queue_name = "volcano", queue.name if queue else (w.queue or "default")
        reasons.append(
            Reason(
                code="GANG_VOLCANO",
                message=f"{w.workers} workers must start together or not at all: Volcano gang "
                f"scheduling (minAvailable {w.workers}) avoids half-started jobs holding GPUs",
            )
        )
    elif installed.kueue and (w.is_distributed or w.team or w.queue):
        queue = fleet.queue_for("kueue", w.team, w.queue)
        if queue is not None or w.queue:
            scheduler = "kueue"
            queue_name = queue.name if queue else w.queue
            queue_ns = queue.namespace if queue else None
            if queue is None:
                warnings.append(
                    Reason(
                        code="QUEUE_NOT_IN_FLEET",
                        message=f"LocalQueue {w.queue!r} is not in the fleet description; "
                        "make sure it exists in the workload's namespace",
                    )
                )
            if w.is_distributed:
                reasons.append(
                    Reason(
                        code="GANG_KUEUE",
                        message=f"no Volcano here; Kueue admits all {w.workers} workers at once "
                        f"or none (all-or-nothing admission) through queue {queue_name}",
                    )
                )
            else:
                reasons.append(
                    Reason(
                        code="QUEUE_KUEUE",
                        message=f"team work goes through Kueue queue {queue_name}: quota, "
                        "fair sharing and preemption instead of first come, first served",
                    )
                )
        else:
            warnings.append(
                Reason(
                    code="NO_QUEUE_FOR_TEAM",
                    message=f"Kueue is installed but the fleet has no LocalQueue for team "
                    f"{w.team!r}; the job bypasses quota. Add a queue for the team",
                )
            )
    if w.is_distributed and scheduler == "default":
        warnings.append(
            Reason(
                code="NO_GANG",
                message=f"{w.workers} workers with no gang scheduler (Volcano or Kueue): a "
                "partial start holds GPUs while waiting for the rest and can deadlock",
            )
        )
    if scheduler == "default":
        reasons.append(
            Reason(
                code="DEFAULT_SCHEDULER",
                message="no gang and no team queue needed: the default scheduler places "
                "each pod on its own",
            )
        )
    namespace = w.namespace or queue_ns or w.effective_namespace
    if queue_ns and w.namespace and w.namespace != queue_ns:
        warnings.append(
            Reason(
                code="QUEUE_NAMESPACE_MISMATCH",
                message=f"LocalQueue {queue_name} lives in namespace {queue_ns}, but the "
                f"workload asks for {w.namespace}; Kueue only admits jobs from the queue's namespace",
            )
        )
    return SchedulerChoice(scheduler, queue_name, namespace, tuple(reasons), tuple(warnings))


def sharing_warnings(choice: Option, ctx: Context) -> list[Reason]:
    warnings: list[Reason] = []
    if choice.sharing == "time-slicing":
        warnings.append(
            Reason(
                code="TIME_SLICING_NO_ISOLATION",
                message="time-sliced replicas have no memory or fault isolation and no per-pod "
                "GPU metrics; a neighbour can take all GPU memory",
            )
        )
        if not ctx.need.known:
            warnings.append(
                Reason(
                    code="MEMORY_NEED_UNKNOWN",
                    message=f"no memory need given; keep under {format_gib(choice.memory_bytes)}, "
                    "this replica's fair share, or set gpu_memory",
                )
            )
    return warnings
