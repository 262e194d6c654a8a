"""Fleet packing: per-GPU MIG layouts that place every demand on the fewest GPUs, then change fewest.

:func:`pack` is a pure function. Input: MIG demands (:class:`MigDemand`: a profile x count,
optionally on one GPU model, or a memory need) and the GPUs that may be partitioned
(:class:`GpuSlot`: node, index, model, optional current layout). Output: a
:class:`PackingPlan` with every GPU's layout and placement, what each GPU hosts, the
``nvidia.com/mig.config`` label per node with the mig-parted configs behind them, the GPUs
used, a lower bound on that number, and every demand that cannot be placed with the reason.

Objectives, in order: fewest GPUs hosting a demand; then fewest GPUs whose layout changes
(a change makes the MIG manager evict the GPU pods on that node), with changes gathered
on as few nodes as possible.

How: one LP over all GPU models (patterns = maximal valid layouts; flexible demands split
between the models they fit) gives the split and a lower bound; each model's share is then
solved as an integer problem (LP rounded down, the remainder by exact search); current
layouts are kept wherever that costs no extra GPU.

Demand file (``gpukit mig plan --demand FILE``), YAML or JSON::

    demands:                      # or a bare list of the same items
      - name: notebooks           # optional, default demand-<n>
        profile: 1g.10gb          # a MIG profile ...
        count: 12                 # instances (default 1)
        gpu: H100-80GB            # optional: only on this model (default: any that has it)
      - name: llm-7b
        memory: 30Gi              # ... or a memory need: the smallest profile that holds it
        compute: 2                # optional compute slices (default 1)
        count: 4

Fleet file (``--fleet FILE``): ``default`` (gpukit's embedded fleet), a gpukit Fleet
(``node_pools``; each pool with a ``mig`` section gives nodes ``<pool>-<i>`` with
``gpus_per_node`` GPUs and the pool's ``mig.layout`` as current layout; whole-GPU pools
only with ``--whole-gpu-pools``), or a simple list::

    - model: A100-40GB            # any GPU name the catalog knows
      count: 16                   # GPUs
      gpus_per_node: 8            # optional (default 8); nodes are <model>-<n>
      node: a100                  # optional node name prefix
      layout: {1g.5gb: 7}         # optional current layout of each of these GPUs
"""

from gpukit.hardware.packing.files import load_demands, load_gpu_slots, slots_from_fleet
from gpukit.hardware.packing.first_fit import first_fit_decreasing
from gpukit.hardware.packing.models import GpuAssignment, GpuSlot, MigDemand, PackingPlan, Unplaced
from gpukit.hardware.packing.planner import pack

__all__ = [
    "GpuAssignment",
    "GpuSlot",
    "MigDemand",
    "PackingPlan",
    "Unplaced",
    "first_fit_decreasing",
    "load_demands",
    "load_gpu_slots",
    "pack",
    "slots_from_fleet",
]
