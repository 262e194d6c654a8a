"""Context: a workload in the light of one fleet, the facts every rule reads, computed once."""

from __future__ import annotations

import math

from gpukit.advisor.facts import FleetFacts, fleet_facts
from gpukit.advisor.mechanisms import MECHANISMS, Mechanism
from gpukit.advisor.option import Option
from gpukit.advisor.precision import precision_facts
from gpukit.advisor.reads import reads, shape_of
from gpukit.advisor.reasons import Reason, ReasonCode, gib, reason
from gpukit.fleet import Fleet
from gpukit.memory import MemoryNeed, trained_need
from gpukit.workload import ModelSpec, Workload

__all__ = ["HEADROOM", "Context", "trained_model"]

#: Memory kept free above the need: allocator fragmentation, CUDA context, spikes.
HEADROOM = 0.10

_UNSET = object()


def trained_model(workload: Workload) -> ModelSpec | None:
    """The model spec when the workload trains it and gives no gpu_memory, else None."""
    spec = workload.model
    if spec is None or spec.mode == "inference" or workload.gpu_memory is not None:
        return None
    return spec


class Context:
    """A workload in the light of one fleet: the facts every rule reads, computed once."""

    __slots__ = (
        "_needs",
        "_too_large",
        "_whole",
        "facts",
        "fleet",
        "isolation",
        "need",
        "need_with_headroom",
        "precision",
        "precision_given",
        "priority",
        "trained",
        "training_model",
        "workload",
    )

    def __init__(
        self, workload: Workload, fleet: Fleet, need: MemoryNeed, facts: FleetFacts | None = None
    ) -> None:
        self.workload = workload
        self.fleet = fleet
        self.need = need
        self.facts = facts or fleet_facts(fleet)
        self.isolation = workload.effective_isolation
        self.priority = workload.effective_priority
        #: The Tensor Core precision the model computes in (None: no model given), the
        #: precision as written, and whether the model is trained (training, LoRA, QLoRA).
        self.precision, self.precision_given, self.training_model = precision_facts(workload)
        #: A model trained without a given gpu_memory: its need depends on the option's GPUs
        #: (the sharding that fits them), so rules ask need_for(option).
        self.trained = trained_model(workload)
        self._needs: dict[tuple[int, int, int], MemoryNeed] = {}
        self.need_with_headroom = (
            None if need.bytes is None else math.ceil(need.bytes * (1 + HEADROOM))
        )
        self._whole: Reason | None | object = _UNSET
        self._too_large: Reason | None | object = _UNSET

    def need_on(self, gpus: int, workers: int, gpu_bytes: int) -> MemoryNeed:
        """The need of a pod of ``gpus`` GPUs of ``gpu_bytes``, ``workers`` pods in all."""
        if self.trained is None:
            return self.need
        key = (gpus, workers, gpu_bytes)
        need = self._needs.get(key)
        if need is None:
            need = self._needs[key] = trained_need(self.trained, gpus, workers, gpu_bytes)
        return need

    def need_for(self, option: Option) -> MemoryNeed:
        """The memory need on this option: the sharding that fits its GPUs, when trained."""
        return self.need_on(option.gpus, option.workers, option.memory_bytes // option.gpus)

    @staticmethod
    def mechanism(option: Option) -> Mechanism:
        """The mechanism an option belongs to."""
        return MECHANISMS[option.sharing]

    @property
    def whole_gpus_required(self) -> Reason | None:
        """Why this workload must have whole GPUs, or None when it may share."""
        if self._whole is _UNSET:
            self._whole = self._whole_gpus_required()
        return self._whole  # type: ignore[return-value]

    @property
    def too_large_to_share(self) -> Reason | None:
        """LARGE_MODEL_DEDICATED when the need is more than any slice or share holds."""
        if self._too_large is _UNSET:
            self._too_large = self._too_large_to_share()
        return self._too_large  # type: ignore[return-value]

    @property
    def shape(self) -> tuple[object, ...]:
        """Everything the cached decision reads: the derived facts and the Workload fields the
        rules declare (gpukit.advisor.reads). Two workloads of one shape on one fleet get the
        same options, ranked alike. Of the memory need the decision reads only the bytes (how
        the need was found is said per plan), so a given and an estimated 6 GiB share one."""
        return (
            self.need.bytes,
            self.isolation,
            self.priority,
            self.precision,
            self.precision_given,
            self.training_model,
            self.trained,
            *shape_of(self.workload),
        )

    @reads("workers", "kind", "gpus")  # is_distributed: workers; is_training: kind
    def _whole_gpus_required(self) -> Reason | None:
        w = self.workload
        if w.is_distributed:
            return reason(
                ReasonCode.DISTRIBUTED_DEDICATED,
                f"{w.workers} workers exchange gradients or activations every step; "
                "each needs whole GPUs, since a slow shared neighbour stalls all of them",
            )
        if w.is_training:
            return reason(
                ReasonCode.TRAINING_WHOLE_GPU,
                "training keeps a GPU busy for hours; it gets whole GPUs through the "
                "device plugin, and sharing would only slow it and its neighbours",
            )
        if w.gpus is not None:
            return reason(
                ReasonCode.WHOLE_GPUS_ASKED,
                f"the workload asks for {w.gpus} whole GPU{'s' if w.gpus > 1 else ''}",
            )
        return None

    @reads("kind")
    def _too_large_to_share(self) -> Reason | None:
        need = self.need_with_headroom
        largest = self.facts.largest_share
        if need is None or (largest is not None and need <= largest[0]):
            return None
        if largest is None:
            # Not the model's size: the fleet has nothing smaller than a whole GPU to give.
            return reason(
                ReasonCode.NO_SHARING_IN_FLEET,
                f"the fleet offers no MIG slices or shared GPUs, so this {self.workload.kind} "
                f"workload ({gib(self.need.bytes or 0)}) gets whole GPUs, whatever its size",
            )
        return reason(
            ReasonCode.LARGE_MODEL_DEDICATED,
            f"{gib(self.need.bytes or 0)} ({gib(need)} with headroom) is more than a slice "
            f"or share gives: the largest slice or share in the fleet ({largest[1]}) holds "
            f"{gib(largest[0])}; large models get whole GPUs",
        )
