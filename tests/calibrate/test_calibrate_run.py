"""The calibration run's orchestration, with fake replicas and a fake MPS control program."""

from __future__ import annotations

import pytest

from gpukit.calibrate import runner
from gpukit.calibrate.importer import calibration_from_run
from gpukit.calibrate.mps import MpsDaemon, fake_control_command
from gpukit.calibrate.runner import CalibrationRunError, RunSpec, plan_runs, run_calibration
from gpukit.errors import InputError
from gpukit.sharing import load_calibration
from gpukit.sharing.fit import fit_calibration


@pytest.fixture(scope="module")
def fake_run():
    return run_calibration(fake=True, window=0.05, warmup=0.0, replicas=(1, 2, 4), command="test")


def test_plan_skips_limits_alone():
    runs = plan_runs((4, 1, 2, 2), ("time-slicing", "mps-limits"))
    assert runs == [RunSpec("time-slicing", 1), RunSpec("time-slicing", 2), RunSpec("time-slicing", 4),
                    RunSpec("mps-limits", 2), RunSpec("mps-limits", 4)]


def test_fake_run_measures_every_mode_and_n(fake_run):
    assert fake_run["kind"] == "gpukit-calibration-run" and fake_run["fake"] is True
    for name in ("w1-eager-b1", "w1-graph-b1", "w2-matmul"):
        got = [(r["mode"], r["replicas"]) for r in fake_run["workloads"][name]["rows"]]
        assert got == [("time-slicing", 1), ("time-slicing", 2), ("time-slicing", 4), ("mps", 1),
                       ("mps", 2), ("mps", 4), ("mps-limits", 2), ("mps-limits", 4)]
    assert fake_run["method"]["skipped"] == "nothing"
    # Every MPS run started its own daemon and told it to quit.
    assert len(fake_run["mps_logs"]) == 3
    assert all("received: quit" in log for log in fake_run["mps_logs"])


def test_fake_run_fits_back_to_the_model_it_was_made_from(fake_run):
    ref = load_calibration()
    fitted = fit_calibration(calibration_from_run(fake_run, gpu="H200"))
    for name in ("w1-graph-b1", "w2-matmul"):
        assert fitted.workload(name).gpu_boundness == pytest.approx(ref.workload(name).gpu_boundness, rel=0.1)
    graph = fitted.workload("w1-graph-b1")
    mps4 = next(r for r in graph.rows if r.mode == "mps" and r.replicas == 4)
    assert mps4.aggregate == pytest.approx(2.0, rel=0.1)  # the reference's 2.04


def test_a_failing_replica_still_stops_the_mps_daemon(monkeypatch):
    stopped = []

    class Recording(MpsDaemon):
        def stop(self) -> None:
            super().stop()
            stopped.append(self.log_tail)

    monkeypatch.setattr(runner, "MpsDaemon", Recording)
    monkeypatch.setattr(runner, "fake_profile_for", lambda spec, workloads: {"w2-matmul": {"fail": spec.mode == "mps"}})
    with pytest.raises(CalibrationRunError, match="fake failure in w2-matmul"):
        run_calibration(fake=True, window=0.05, replicas=(1, 2), modes=("mps",), workloads=("w2-matmul",))
    assert len(stopped) == 1 and "received: quit" in stopped[0]


def test_daemon_context_quits_on_error_and_leaves_no_folder():
    daemon = MpsDaemon(fake_control_command())
    with pytest.raises(RuntimeError, match="boom"), daemon:
        assert (daemon.pipe_dir / "control").exists()
        env = daemon.client_env()
        raise RuntimeError("boom")
    assert daemon.stopped and "received: quit" in daemon.log_tail
    assert not daemon.root.exists()
    assert set(env) == {"CUDA_MPS_PIPE_DIRECTORY", "CUDA_MPS_LOG_DIRECTORY"}


def test_a_daemon_that_cannot_start_says_why(tmp_path):
    broken = tmp_path / "mps-control"
    broken.write_text("#!/bin/sh\necho 'cannot start: no GPU' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(RuntimeError, match="exit 3.*no GPU"):
        MpsDaemon(str(broken)).start()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workloads": ("resnet",)}, "unknown calibration workloads"),
        ({"modes": ("mig",)}, "unknown modes"),
        ({"replicas": (0,)}, ">= 1"),
    ],
)
def test_bad_requests(kwargs, message):
    with pytest.raises(InputError, match=message):
        run_calibration(fake=True, **kwargs)


def test_without_torch_it_says_what_to_do(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(CalibrationRunError, match="PyTorch, which is not installed.*--fake"):
        run_calibration(replicas=(1,))


def test_no_mps_control_means_time_slicing_only(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "torch" else real(name, *a))
    monkeypatch.setattr(runner, "find_mps_control", lambda: None)
    calls = []
    monkeypatch.setattr(runner, "_one_run", lambda spec, **kw: (calls.append(spec) or {}, {}))
    monkeypatch.setattr(runner, "machine_facts", lambda fake: {})
    result = run_calibration(replicas=(1, 2), workloads=("w2-matmul",))
    assert [c.mode for c in calls] == ["time-slicing", "time-slicing"]
    assert "nvidia-cuda-mps-control not found" in result["method"]["skipped"]
