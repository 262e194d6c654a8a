"""Dedicated: whole GPUs through the device plugin, for training, large models and GPUs asked."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from gpukit.advisor.mechanisms.base import Mechanism, Offer, SharingModel
from gpukit.advisor.reads import reads
from gpukit.advisor.reasons import ReasonCode, gib, reason
from gpukit.advisor.serving import runs_as_leader_worker_set
from gpukit.fleet import NodePool

if TYPE_CHECKING:
    from gpukit.advisor.context import Context
    from gpukit.advisor.facts import PoolFacts
    from gpukit.advisor.option import Option
    from gpukit.advisor.reasons import Reason

__all__ = [
    "SMALL_WORK_SHARE",
    "SPANNABLE_KINDS",
    "Dedicated",
    "dedicated_shape",
    "no_sharing_warning",
]

#: A dedicated GPU for work this much smaller than it (and not training) is the seed guide's
#: first anti-pattern, "a whole GPU for small work".
SMALL_WORK_SHARE = 0.5
#: Kinds whose model may be split over several nodes (gang-scheduled workers).
SPANNABLE_KINDS = frozenset({"training", "fine-tuning", "inference"})
#: The advisor's memory headroom (gpukit.advisor.context.HEADROOM, which imports this module).
_HEADROOM = 0.10


def _power_of_two_at_least(n: int) -> int:
    return 1 << (max(1, n) - 1).bit_length()


def _power_of_two_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1)


@reads("gpus", "workers", "kind")
def dedicated_shape(ctx: Context, facts: PoolFacts) -> tuple[int, int, bool]:
    """(GPUs per pod, workers, spans nodes) for whole GPUs of this pool.

    As asked, or from memory: tensor parallel within a node in a power of two (attention
    heads split evenly), and when one node is not enough, as many nodes as it takes, each
    worker holding a node's worth (a power of two) of the model. Only a workload that did
    not fix its workers is spread that way; it then needs gang scheduling.

    Serving with workers set (a LeaderWorkerSet group) is one model split over them, as the
    advisor's own spreading is: each worker holds its part, so memory counts over all of them.
    """
    w = ctx.workload
    user_spans = runs_as_leader_worker_set(w.kind, w.workers)
    if w.gpus is not None:
        return w.gpus, w.workers, user_spans
    if ctx.trained is not None:
        return _sharded_shape(ctx, facts)
    need = ctx.need_with_headroom
    if need is None:
        return 1, w.workers, user_spans
    if user_spans:  # each worker a power of two of GPUs holding its share of the model
        share = math.ceil(need / (facts.model.memory_bytes * w.workers))
        return _power_of_two_at_least(share), w.workers, True
    count = _power_of_two_at_least(math.ceil(need / facts.model.memory_bytes))
    if count <= facts.gpus_per_node or w.workers > 1 or w.kind not in SPANNABLE_KINDS:
        return count, w.workers, False
    per_node = _power_of_two_at_most(facts.gpus_per_node)
    return per_node, math.ceil(count / per_node), True


#: Time-slicing replicas a no-sharing warning suggests at most (the device plugin takes any
#: count of 2 or more; more replicas than this only add turns, not work done).
SUGGESTED_REPLICAS_MAX = 8


def _sharing_fix(facts: PoolFacts, need: int, ctx: Context) -> str:
    """The pool setting that would give this workload a slice or share instead of a GPU."""
    model = facts.model
    fitting = [p for p in model.profiles if p.memory_bytes >= need]
    if fitting and ctx.isolation != "none":
        smallest = min(fitting, key=lambda p: (p.memory_bytes, p.compute_slices))
        return (
            f"give pool {facts.name} a MIG layout, e.g. mig: {{strategy: mixed, layout: "
            f"{{{smallest.name}: {smallest.max_instances}}}}}"
        )
    if ctx.isolation == "strict":
        return "strict isolation needs MIG: add a pool of MIG-capable GPUs (A100, H100, ...)"
    replicas = max(2, min(SUGGESTED_REPLICAS_MAX, model.memory_bytes // max(1, need)))
    mode = "time-slicing" if ctx.isolation == "none" else "mps"
    return (
        f"give pool {facts.name} sharing: {{mode: {mode}, replicas: {replicas}}} "
        f"({gib(model.memory_bytes // replicas)} per share)"
    )


@reads("kind", "utilisation")
def no_sharing_warning(facts: PoolFacts, ctx: Context) -> list[Reason]:
    """NO_SHARING_IN_FLEET: small work on a whole GPU because the fleet shares none of its GPUs."""
    need = ctx.need_with_headroom
    small = need is not None and need < SMALL_WORK_SHARE * facts.model.memory_bytes
    utilisation = ctx.workload.utilisation
    if not small and not (utilisation is not None and utilisation < SMALL_WORK_SHARE):
        return []
    what = (
        f"needs {gib(ctx.need.bytes or 0)} of {gib(facts.model.memory_bytes)}"
        if small
        else f"expected utilisation {utilisation:.0%}"
    )
    fix = (
        _sharing_fix(facts, need, ctx)
        if need is not None
        else "give gpu_memory or a model, and a MIG layout or sharing to a pool"
    )
    return [
        reason(
            ReasonCode.NO_SHARING_IN_FLEET,
            f"a whole {facts.model.key} for small work ({what}): no pool in the fleet shares "
            f"its GPUs, so most of this one sits idle; {fix}, then run 'gpukit platform "
            "render' for the device plugin and MIG configs that set it up",
        )
    ]


#: Nodes a sharded training job is spread over at most when one node's GPUs do not hold it.
MAX_TRAINING_NODES = 64


def sharded_fits(ctx: Context, gpus: int, workers: int, gpu_bytes: int) -> bool:
    """Whether the per-GPU need under the sharding chosen for this shape fits with headroom."""
    per_gpu = ctx.need_on(gpus, workers, gpu_bytes).per_gpu_bytes
    return per_gpu is not None and per_gpu * (1 + _HEADROOM) <= gpu_bytes


@reads("workers", "kind")
def _sharded_shape(ctx: Context, facts: PoolFacts) -> tuple[int, int, bool]:
    """A trained model: the fewest GPUs (a power of two in a node, then whole nodes) whose
    per-GPU need, under the least sharding that fits them, fits each GPU."""
    w, gpu_bytes = ctx.workload, facts.model.memory_bytes
    per_node = _power_of_two_at_most(facts.gpus_per_node)
    counts = [1 << i for i in range(per_node.bit_length())]
    for count in counts:
        if sharded_fits(ctx, count, w.workers, gpu_bytes):
            return count, w.workers, False
    if w.workers > 1 or w.kind not in SPANNABLE_KINDS:
        return per_node, w.workers, False
    for nodes in range(2, MAX_TRAINING_NODES + 1):
        if sharded_fits(ctx, per_node, nodes, gpu_bytes):
            return per_node, nodes, True
    return per_node, 1, False  # nothing fits: the memory rule says what the least needs


class Dedicated(Mechanism):
    """Whole GPUs of a pool that neither partitions (MIG) nor shares its GPUs."""

    name: ClassVar[str] = "dedicated"
    whole_gpus: ClassVar[bool] = True

    def offers(self, pool: NodePool) -> tuple[Offer, ...]:
        if pool.mig is not None or pool.sharing is not None:
            return ()
        return (Offer(self.name, "nvidia.com/gpu", pool.model.memory_bytes, 1.0, 1),)

    def pod_shape(self, ctx: Context, facts: PoolFacts) -> tuple[int, int, bool]:
        return dedicated_shape(ctx, facts)

    def label(
        self, gpu_model: str, mig_profile: str | None, gpus: int, workers: int, spans_nodes: bool
    ) -> str:
        what = f"{gpus}x {gpu_model} (whole GPU{'s' if gpus > 1 else ''})"
        return f"{workers} workers x {what}" if workers > 1 and spans_nodes else what

    def unit(self, option: Option) -> str:
        return "GPUs"

    def memory_view(self, option: Option) -> str:
        what = f"{option.gpus}x {option.gpu_model} hold {gib(option.memory_bytes)}"
        if option.workers > 1 and not option.spans_nodes:
            what += " per worker (the need is per worker)"
        return what

    def sharing_model(self, option: Option, ctx: Context) -> SharingModel | None:
        return "dedicated", 1, 1

    @reads("gpus")
    def fit_reason(self, choice: Option, facts: PoolFacts, ctx: Context) -> Reason | None:
        model = facts.model
        if ctx.trained is not None and choice.gpus * choice.workers > 1:
            need = ctx.need_for(choice)
            return reason(
                ReasonCode.SHARDED_TRAINING,
                f"trained under {need.strategy}: {gib(need.per_gpu_bytes or 0)} per GPU "
                f"({gib(int((need.per_gpu_bytes or 0) * (1 + _HEADROOM)))} with headroom) of "
                f"the {gib(model.memory_bytes)} each {model.key} holds; the least sharding "
                "that fits these GPUs"
                + (f", {choice.workers} workers started as one gang" if choice.workers > 1 else ""),
            )
        if choice.spans_nodes:
            need = ctx.need_with_headroom or 0
            why = (
                f"{gib(need)} with headroom is more than a node of {facts.gpus_per_node}x "
                f"{model.key} holds"
                if need > facts.gpus_per_node * model.memory_bytes
                else f"workers: {choice.workers} as asked, one model split over them"
            )
            return reason(
                ReasonCode.MULTI_NODE,
                f"{why}: {choice.workers} workers of "
                f"{choice.gpus} GPUs (tensor parallel in a node, pipeline across nodes), "
                "started as one gang",
            )
        if ctx.need.known and ctx.workload.gpus is None and choice.gpus > 1:
            return reason(
                ReasonCode.TENSOR_PARALLEL,
                f"the model does not fit one {model.key}; {choice.gpus} GPUs in one "
                "pod (tensor parallel, a power of two) hold it",
            )
        return None

    @reads("kind", "workers", "gpus", "utilisation")  # is_training, is_distributed
    def warnings(self, choice: Option, facts: PoolFacts, ctx: Context) -> list[Reason]:
        w = ctx.workload
        if w.is_training or w.is_distributed or w.gpus is not None or choice.gpus != 1:
            return []
        if ctx.facts.largest_share is None:
            return no_sharing_warning(facts, ctx)
        small = (
            ctx.need.known and (ctx.need.bytes or 0) < SMALL_WORK_SHARE * facts.model.memory_bytes
        )
        idle = w.utilisation is not None and w.utilisation < SMALL_WORK_SHARE
        if not (small or idle or not ctx.need.known):
            return []
        if not ctx.need.known:
            why = "no memory need given, so no slice or share could be proven safe"
            fix = "give gpu_memory or a model so that a MIG slice or share can be used"
        else:
            why = (
                f"expected utilisation {w.utilisation:.0%}"
                if idle
                else f"needs {gib(ctx.need.bytes or 0)} of {gib(facts.model.memory_bytes)}"
            )
            fix = "no slice or share that suits it is free (see Rejected); add one"
        return [
            reason(
                ReasonCode.WHOLE_GPU_FOR_SMALL_WORK,
                f"a whole {facts.model.key} for small work ({why}); {fix}",
            )
        ]
