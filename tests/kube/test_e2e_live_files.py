"""The live e2e files for `gpukit verify --submit` and `gpukit mig rollout`, run against the
API double: each passes, writes only where it may, and deletes only what it created."""

from __future__ import annotations

import os
import subprocess
import sys


def run_e2e(path: str, kubeconfig, repo_root, **env_set: str) -> str:
    """Run one tests/e2e file in a subprocess against the double; its stdout."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "GPUKIT_E2E": "1", **env_set}
    for name in ("GPUKIT_E2E_CLUSTER_SCOPE", "GPUKIT_E2E_SHAPED", "GPUKIT_E2E_MIG_TARGET"):
        if name not in env_set:
            env.pop(name, None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            path,
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
        ],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    return proc.stdout


def test_verify_e2e_file_keeps_to_its_namespace(api, kubeconfig, repo_root):
    out = run_e2e("tests/e2e/test_verify_live.py", kubeconfig, repo_root, GPUKIT_E2E_TIMEOUT="1")
    assert "WORKLOAD" in out and "ddp-pretrain" in out  # the verify table
    created = [
        r.path.rsplit("/", 1)[1]
        for r in api.requests
        if r.method == "PATCH" and r.resource == "namespaces" and "dryRun" not in r.query
    ]
    assert len(created) == 1 and created[0].startswith("gpukit-verify-")
    ns = created[0]
    for request in api.writes():
        if (
            request.method == "DELETE"
            or request.resource == "namespaces"
            or "dryRun" in request.query
        ):
            continue
        assert f"/namespaces/{ns}/" in request.path, f"write outside {ns}: {request.path}"
    assert [r.path for r in api.writes() if r.method == "DELETE"] == [f"/api/v1/namespaces/{ns}"]
    assert api.get("v1", "Namespace", ns) is None
    written = {r.path.split("?")[0] for r in api.writes() if "dryRun" not in r.query}
    assert any(f"/namespaces/{ns}/localqueues/" in p for p in written), "the bundle's LocalQueues"
    assert any(f"/namespaces/{ns}/jobs/" in p for p in written), "the submitted workloads"


def test_rollout_e2e_file_writes_nothing(api, kubeconfig, repo_root):
    out = run_e2e("tests/e2e/test_rollout_live.py", kubeconfig, repo_root)
    assert "nothing to change" in out
    assert api.writes() == []
