"""replicas_for_target: where the measured figures change how many replicas share a GPU."""

from __future__ import annotations

import pytest

from gpukit.errors import InputError, NoFeasiblePlan
from gpukit.sharing import load_calibration, replicas_for_target

REF = load_calibration()
GRAPH_B1 = {"gpu_boundness": 0.956, "gpu_fill": 0.457}  # small GPU-side kernels (CUDA graph)


@pytest.mark.parametrize(
    ("mode", "work", "limits", "expected", "why"),
    [
        # Saturating work: nothing to gain from a second replica in any mode.
        pytest.param("time-slicing", {"kind": "training"}, {}, 1, "no throughput", id="saturating-ts"),
        pytest.param("mps", {"kind": "training"}, {}, 1, "no throughput", id="saturating-mps"),
        pytest.param("mps-limits", {"kind": "training"}, {}, 1, "no throughput", id="saturating-limits"),
        # Graph small kernels: time-slicing never helps; MPS plateaus at ~2.3x by N = 8.
        pytest.param("time-slicing", GRAPH_B1, {}, 1, "no throughput", id="graph-ts"),
        pytest.param("mps", GRAPH_B1, {}, 7, "no throughput", id="graph-mps"),
        pytest.param("mps-limits", GRAPH_B1, {}, 16, "most considered", id="graph-limits"),
        # Eager inference: time-slicing plateaus at ~3.5x; MPS keeps scaling to the CPU.
        pytest.param("time-slicing", {"kind": "inference"}, {}, 9, "no throughput", id="eager-ts"),
        pytest.param("mps-limits", {"kind": "inference"}, {"cpu_cores": 12}, 12, "CPU cores", id="eager-limits-cpu"),
        # A latency target stops N before the throughput optimum.
        pytest.param("mps", GRAPH_B1, {"p99_target": 2.0}, 4, "p99", id="graph-mps-p99"),
        pytest.param("time-slicing", {"kind": "inference"}, {"p99_target": 1.2}, 6, "p99", id="eager-ts-p99"),
        # Memory: each replica costs its footprint plus ~0.7 GiB.
        pytest.param(
            "mps", {"kind": "inference"}, {"gpu_memory_mib": 143771, "replica_memory_mib": 20000}, 6, "GPU memory", id="memory"
        ),
        # Under the plugin's SM limit a replica's context is smaller (~0.15 GiB at 6 %): one more fits.
        pytest.param(
            "mps", {"kind": "inference"}, {"gpu_memory_mib": 143771, "replica_memory_mib": 10000}, 13, "GPU memory", id="mps-memory"
        ),
        pytest.param(
            "mps-limits", {"kind": "inference"}, {"gpu_memory_mib": 143771, "replica_memory_mib": 10000}, 14, "GPU memory",
            id="limits-memory",
        ),
    ],
)
def test_replicas_chosen(mode, work, limits, expected, why):
    choice = replicas_for_target(mode, calibration=REF, **work, **limits)
    assert choice.replicas == expected, choice.reason
    assert why in choice.reason
    assert choice.prediction.replicas == expected
    assert [c.replicas for c in choice.candidates] == sorted(c.replicas for c in choice.candidates)
    target = limits.get("p99_target")
    if target:
        assert choice.prediction.p99_inflation <= target
        assert choice.objective == "latency target"


def test_mps_limits_cap_follows_the_gpus_client_limit():
    choice = replicas_for_target("mps-limits", kind="inference", gpu="H200", max_replicas=64)
    assert choice.replicas <= 48


def test_impossible_limits_list_every_rejection():
    with pytest.raises(NoFeasiblePlan, match="first: N=1") as info:
        replicas_for_target("mps", kind="inference", gpu_memory_mib=80000, replica_memory_mib=90000, calibration=REF)
    assert len(info.value.rejections) == 16


@pytest.mark.parametrize(
    ("mode", "kwargs", "message"),
    [
        ("mig", {}, "use predict"),
        ("dedicated", {}, "use predict"),
        ("mps", {"p99_target": 0.5}, "at least 1"),
    ],
)
def test_bad_requests(mode, kwargs, message):
    with pytest.raises(InputError, match=message):
        replicas_for_target(mode, kind="inference", calibration=REF, **kwargs)
