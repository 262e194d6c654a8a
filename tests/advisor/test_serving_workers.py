"""Serving with ``workers`` set by the user is one model split over the workers (a
LeaderWorkerSet group): memory counts over all of them, as the advisor's own spreading does."""

from __future__ import annotations

from pathlib import Path

import pytest

import gpukit as gk

FLEET = Path(__file__).resolve().parents[2] / "examples" / "serving" / "fleet.yaml"
GIB = 1 << 30


def _plan(**fields) -> gk.Plan:
    model = {"name": "Llama-3.1-405B", "precision": "bf16", "context_length": 8192}
    workload = gk.Workload(name="big", kind="inference", **{"model": model, **fields})
    return gk.plan(workload, gk.load_fleet(FLEET))


@pytest.mark.parametrize(
    "fields, gpus",
    [
        ({"gpus": 8, "workers": 2}, 8),  # GPUs and workers as asked
        ({"workers": 2}, 8),  # workers asked: each the power of two that holds its share
    ],
)
def test_405b_bf16_on_two_nodes_of_eight_h100_fits_over_both(fields, gpus):
    p = _plan(**fields)
    assert (p.sharing, p.choice.gpus, p.choice.workers, p.choice.spans_nodes) == (
        "dedicated",
        gpus,
        2,
        True,
    )
    need = p.memory.bytes or 0
    assert p.choice.memory_bytes < need * 1.1 <= p.choice.memory_total_bytes
    multi = next(r for r in p.reasons if r.code == "MULTI_NODE")
    assert "more than a node of 8x H100-80GB holds" in multi.message


def test_workers_asked_for_a_model_that_fits_one_node_say_so():
    p = _plan(gpus=4, workers=2, model={"name": "Llama-3.1-70B", "context_length": 8192})
    assert p.choice.spans_nodes and p.choice.workers == 2
    multi = next(r for r in p.reasons if r.code == "MULTI_NODE")
    assert multi.message.startswith("workers: 2 as asked")


def test_a_model_larger_than_all_workers_is_still_rejected_per_model_copy():
    with pytest.raises(gk.NoFeasiblePlan, match=r"needs .* GiB with 10% headroom"):
        _plan(gpus=2, workers=2)


def test_training_workers_keep_their_own_per_worker_memory():
    # Data-parallel workers each hold the whole model: that need stays per worker.
    workload = gk.Workload(name="t", kind="training", gpus=1, workers=2, gpu_memory="70Gi")
    p = gk.plan(workload, gk.load_fleet(FLEET))
    assert not p.choice.spans_nodes
