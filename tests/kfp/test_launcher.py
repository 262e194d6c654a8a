"""launch_gpu_workload against the Kubernetes API test double, run by KFP's local runner."""

import threading
import time

import pytest

import gpukit as gk
from gpukit.testing import FakeApiServer

pytestmark = pytest.mark.filterwarnings("ignore:You may be attemping to run a task:RuntimeWarning")

WORKLOAD = gk.Workload(name="gpu-tests", kind="ci", gpu_memory="2Gi", namespace="default")


@pytest.fixture()
def manifests(tmp_path):
    path = tmp_path / "manifests.yaml"
    path.write_text(gk.to_yaml(gk.render(gk.plan(WORKLOAD))))
    return path


def _importer_pipeline(path):
    from kfp import dsl

    from components.launch_gpu_workload import launch_gpu_workload

    def build(kubeconfig: str, dry_run: bool):
        @dsl.pipeline(name="launch")
        def pipeline() -> str:
            source = dsl.importer(artifact_uri=str(path), artifact_class=dsl.Artifact, reimport=True)
            return launch_gpu_workload(
                manifests=source.output, dry_run=dry_run, kubeconfig=kubeconfig, poll_seconds=1,
                timeout_seconds=60,
            ).output

        return pipeline

    return build


def _finish_job_when_it_appears(api, status, stop):
    def run():
        while not stop.is_set():
            if api.get("batch/v1", "Job", WORKLOAD.name, "default") is not None:
                time.sleep(1.0)
                api.set_status("batch/v1", "Job", WORKLOAD.name, status, namespace="default")
                return
            time.sleep(0.2)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_dry_run_applies_nothing(kfp_local, manifests, tmp_path):
    with FakeApiServer() as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        run = _importer_pipeline(manifests)(str(kubeconfig), True)()
        assert run.output == "dry-run"
        assert api.get("batch/v1", "Job", WORKLOAD.name, "default") is None
        patches = [w for w in api.writes() if w.method == "PATCH"]
        assert patches and all(w.query.get("dryRun") == "All" for w in patches)


def _condition(kind):
    now = "2026-11-29T00:00:00Z"
    return {"conditions": [{"type": kind, "status": "True", "lastTransitionTime": now}]}


def test_a_job_that_succeeds_passes_the_step(kfp_local, manifests, tmp_path):
    with FakeApiServer() as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        stop = threading.Event()
        _finish_job_when_it_appears(api, {**_condition("Complete"), "succeeded": 1}, stop)
        try:
            run = _importer_pipeline(manifests)(str(kubeconfig), False)()
        finally:
            stop.set()
        assert run.output == "succeeded"
        assert api.get("batch/v1", "Job", WORKLOAD.name, "default") is not None
        real = [w for w in api.writes() if w.method == "PATCH" and "dryRun" not in w.query]
        assert real and all(w.query.get("fieldManager") == "gpukit" for w in real)


def test_a_job_that_fails_fails_the_step(kfp_local, manifests, tmp_path):
    with FakeApiServer() as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        stop = threading.Event()
        _finish_job_when_it_appears(api, {**_condition("Failed"), "failed": 1}, stop)
        try:
            with pytest.raises(RuntimeError):
                _importer_pipeline(manifests)(str(kubeconfig), False)()
        finally:
            stop.set()
