"""The sharing model's API: predictions, invariants over all inputs, errors, MIG and CPU caps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpukit.errors import InputError, UnknownGpuError
from gpukit.sharing import MODES, compare_modes, load_calibration, predict, workload_profile
from gpukit.sharing.calibration import kind_defaults

REF = load_calibration()

boundness = st.floats(min_value=0.02, max_value=1.0)
fill = st.floats(min_value=0.02, max_value=1.0)
replicas = st.integers(min_value=1, max_value=48)


@settings(max_examples=200, deadline=None)
@given(b=boundness, f=fill, n=replicas, mode=st.sampled_from(["time-slicing", "mps", "mps-limits"]))
def test_no_replica_beats_a_dedicated_gpu_and_latency_never_shrinks(b, f, n, mode):
    p = predict(mode, n, b, gpu_fill=f, calibration=REF)
    assert 0 < p.per_replica_throughput <= 1.0 + 1e-9
    assert p.aggregate_throughput == pytest.approx(p.per_replica_throughput * n, rel=1e-3)
    assert p.p50_inflation >= 1.0 - 1e-9
    assert p.p99_inflation >= 1.0 - 1e-9
    assert p.cpu_cores == n  # one spinning core per replica
    assert predict(mode, n, b, gpu_fill=f, calibration=REF) == p  # deterministic


@settings(max_examples=200, deadline=None)
@given(b=boundness, f=fill, n=st.integers(min_value=2, max_value=48))
def test_mps_never_gives_less_throughput_than_time_slicing(b, f, n):
    # Measured: "Versus time-slicing at the same N, MPS gave 1.2-3.2x ... and never less."
    ts = predict("time-slicing", n, b, gpu_fill=f, calibration=REF)
    mps = predict("mps", n, b, gpu_fill=f, calibration=REF)
    assert mps.aggregate_throughput >= ts.aggregate_throughput * 0.98


@settings(max_examples=200, deadline=None)
@given(b=st.floats(min_value=0.9, max_value=1.0), f=fill, n=st.integers(min_value=2, max_value=48))
def test_time_slicing_gpu_bound_work_gains_nothing(b, f, n):
    # Measured 0.88-0.96x of one process at every N >= 2 for GPU-bound work: time-slicing can
    # at most fill the GPU's idle share (1 - b), less its switching loss.
    p = predict("time-slicing", n, b, gpu_fill=f, calibration=REF)
    assert p.aggregate_throughput < 1.0 / b
    if b >= 0.96:
        assert p.aggregate_throughput < 1.0
    assert p.p50_inflation > n * 0.9


@settings(max_examples=100, deadline=None)
@given(b=boundness, f=fill, n=st.integers(min_value=1, max_value=47))
def test_time_slicing_aggregate_never_falls_with_more_replicas(b, f, n):
    one = predict("time-slicing", n, b, gpu_fill=f, calibration=REF).aggregate_throughput
    more = predict("time-slicing", n + 1, b, gpu_fill=f, calibration=REF).aggregate_throughput
    assert more >= one - 1e-9 or n == 1  # N=1 -> 2 is the one drop (context switching)


# What the issue promises, read off the measured rows (kind defaults, H200 reference).
@pytest.mark.parametrize(
    ("kind", "mode", "n", "aggregate", "p99"),
    [
        pytest.param("training", "time-slicing", 8, (0.90, 0.99), (7.5, 9.0), id="saturating-ts8"),
        pytest.param("training", "mps", 8, (0.95, 1.05), (7.0, 8.5), id="saturating-mps8"),
        pytest.param("training", "mps-limits", 8, (0.80, 0.98), (8.0, 10.5), id="saturating-limits8"),
        pytest.param("inference", "time-slicing", 16, (2.8, 4.2), (2.0, 3.5), id="eager-ts16"),
        pytest.param("inference", "mps", 16, (9.0, 13.5), (1.0, 1.4), id="eager-mps16"),
        pytest.param("inference", "mps-limits", 16, (10.5, 15.5), (1.0, 1.4), id="eager-limits16"),
        pytest.param("batch-inference", "mps-limits", 16, (1.3, 1.9), (8.5, 13.0), id="graph-b8-limits16"),
    ],
)
def test_kind_defaults_predict_the_measured_neighbourhood(kind, mode, n, aggregate, p99):
    p = predict(mode, n, kind=kind, calibration=REF)
    assert aggregate[0] <= p.aggregate_throughput <= aggregate[1], p.summary()
    assert p99[0] <= p.p99_inflation <= p99[1], p.summary()
    assert "default for kind" in p.profile.source


def test_summary_says_numbers_and_source():
    p = predict("mps-limits", 8, kind="inference", calibration=REF)
    text = p.summary()
    assert text.startswith("8 mps-limits replicas: each 0.")
    assert "h200-141gb-reference" in text and "p99" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"mode": "mpss", "replicas": 2, "gpu_boundness": 1.0}, "did you mean 'mps'", id="mode-typo"),
        pytest.param({"mode": "dedicated", "replicas": 2, "gpu_boundness": 1.0}, "one replica", id="dedicated-n"),
        pytest.param({"mode": "mps", "replicas": 0, "gpu_boundness": 1.0}, "replicas must be", id="zero"),
        pytest.param({"mode": "mps", "replicas": 2, "gpu_boundness": 1.5}, "gpu_boundness must be", id="b-range"),
        pytest.param({"mode": "mps", "replicas": 2}, "needs gpu_boundness", id="nothing"),
        pytest.param({"mode": "mps", "replicas": 2, "kind": "infernce"}, "did you mean 'inference'", id="kind-typo"),
        pytest.param({"mode": "mig", "replicas": 1, "gpu_boundness": 1.0}, "needs mig_profile", id="mig-no-profile"),
        pytest.param(
            {"mode": "mps", "replicas": 2, "gpu_boundness": 1.0, "mig_profile": "1g.18gb"}, "only for mode 'mig'", id="profile-no-mig"
        ),
        pytest.param(
            {"mode": "mig", "replicas": 1, "gpu_boundness": 1.0, "mig_profile": "9g.1tb", "gpu": "H200"},
            "does not exist on H200-141GB", id="mig-bad-profile",
        ),
    ],
)
def test_bad_input_is_a_one_line_input_error(kwargs, message):
    with pytest.raises(InputError, match=message) as info:
        predict(calibration=REF, **kwargs)
    assert "\n" not in str(info.value)


def test_unknown_gpu_is_an_unknown_gpu_error():
    with pytest.raises(UnknownGpuError):
        predict("mps", 2, 1.0, gpu="H999")


@pytest.mark.parametrize(
    ("profile", "share"),
    [("1g.18gb", 1 / 8), ("1g.35gb", 1 / 7), ("2g.35gb", 2 / 8), ("3g.71gb", 3 / 7), ("4g.71gb", 4 / 8), ("7g.141gb", 1.0)],
)
def test_mig_is_an_assumption_proportional_to_the_slice(profile, share):
    p = predict("mig", 1, kind="training", gpu="H200", mig_profile=profile)
    assert p.sm_share == pytest.approx(share)
    assert p.per_replica_throughput == pytest.approx(share, rel=1e-3)  # saturating work scales with its share
    assert p.p99_inflation == pytest.approx(p.p50_inflation)
    assert p.source.startswith("assumption")
    assert any("MIG not measured" in a for a in p.assumptions)


def test_mig_hurts_launch_bound_work_less_than_its_share():
    small = predict("mig", 1, kind="inference", gpu="H200", mig_profile="1g.18gb")
    assert small.per_replica_throughput > 0.5  # mostly waiting on the CPU anyway


def test_fewer_cpu_cores_than_replicas_cap_throughput():
    capped = predict("mps", 16, kind="inference", calibration=REF, cpu_cores=4)
    four = predict("mps", 4, kind="inference", calibration=REF)
    assert capped.aggregate_throughput == pytest.approx(four.aggregate_throughput)
    assert any("CPU cores" in a for a in capped.assumptions)


def test_other_gpu_models_borrow_the_h200_reference_and_say_so():
    p = predict("mps", 4, kind="inference", gpu="A100")
    assert any("measured on H200-141GB, not A100-80GB" in a for a in p.assumptions)
    assert predict("mps", 4, kind="inference", gpu="H200").assumptions == ()


def test_memory_overhead_per_replica_follows_the_sm_share():
    assert predict("time-slicing", 4, kind="inference", calibration=REF).gpu_memory_overhead_mib == 693
    assert predict("mps-limits", 16, kind="inference", calibration=REF).gpu_memory_overhead_mib == 143
    mid = predict("mps-limits", 2, kind="inference", calibration=REF).gpu_memory_overhead_mib
    assert 143 < mid < 693


def test_profile_latency_shape_comes_from_the_nearest_measured_workload():
    assert workload_profile(1.0, gpu_fill=1.0, calibration=REF).like == "w2-matmul"
    assert workload_profile(0.25, gpu_fill=0.3, calibration=REF).like == "w1-eager-b1"
    assert workload_profile(kind="batch-inference", calibration=REF).like == "w1-graph-b8"


def test_compare_modes_gives_every_mode():
    table = compare_modes(8, kind="inference", calibration=REF)
    assert list(table) == ["dedicated", "time-slicing", "mps", "mps-limits"]
    assert table["dedicated"].aggregate_throughput == 1.0
    assert table["mps-limits"].aggregate_throughput > table["time-slicing"].aggregate_throughput


def test_every_kind_has_a_default_and_every_mode_is_known():
    from gpukit.workload import KINDS

    assert set(kind_defaults()) == set(KINDS)
    assert MODES == ("dedicated", "time-slicing", "mps", "mps-limits", "mig")
    names = {w.name for w in REF.workloads}
    assert {d.like for d in kind_defaults().values()} <= names


@pytest.mark.parametrize(
    ("profile", "memory_share"),
    [("1g.18gb", 1 / 8), ("2g.35gb", 2 / 8), ("3g.71gb", 4 / 8), ("4g.71gb", 4 / 8), ("7g.141gb", 1.0)],
)
def test_llm_decode_on_mig_scales_by_the_memory_share(profile, memory_share):
    p = predict("mig", 1, kind="inference", gpu="H200", mig_profile=profile, llm=True)
    assert p.per_replica_throughput == pytest.approx(memory_share, rel=1e-3)
    assert p.profile.bound == "memory-bandwidth"
    assert any("law: memory-bandwidth bound" in a for a in p.assumptions)
    plain = predict("mig", 1, kind="inference", gpu="H200", mig_profile=profile)
    assert any("law: small-kernel (compute)" in a for a in plain.assumptions)


def test_every_llm_character_is_for_a_known_kind():
    from gpukit.sharing.calibration import llm_defaults
    from gpukit.workload import KINDS

    assert set(llm_defaults()) <= set(KINDS)
    assert {d.bound for d in llm_defaults().values()} == {"memory-bandwidth"}
