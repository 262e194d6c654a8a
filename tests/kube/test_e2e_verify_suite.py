"""The live `gpukit verify --submit` e2e suite, run against the API double: it passes, writes
only inside its own namespace (no cluster-scoped object without GPUKIT_E2E_CLUSTER_SCOPE=1),
and deletes only what it created."""

from __future__ import annotations

import os
import subprocess
import sys


def test_verify_e2e_suite_against_the_double(api, kubeconfig, repo_root):
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "GPUKIT_E2E": "1",
        "GPUKIT_E2E_TIMEOUT": "1",
    }
    for name in ("GPUKIT_E2E_CLUSTER_SCOPE", "GPUKIT_E2E_SHAPED"):
        env.pop(name, None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/e2e/test_verify_live.py",
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
    assert "WORKLOAD" in proc.stdout and "ddp-pretrain" in proc.stdout  # the verify table

    created = [
        r.path.rsplit("/", 1)[1]
        for r in api.requests
        if r.method == "PATCH" and r.resource == "namespaces" and "dryRun" not in r.query
    ]
    assert len(created) == 1 and created[0].startswith("gpukit-verify-")
    ns = created[0]
    for request in api.writes():
        if request.method == "DELETE":
            continue
        if request.resource == "namespaces" or "dryRun" in request.query:
            continue
        assert f"/namespaces/{ns}/" in request.path, f"write outside {ns}: {request.path}"
    assert [r.path for r in api.writes() if r.method == "DELETE"] == [f"/api/v1/namespaces/{ns}"]
    assert (
        api.list("kueue.x-k8s.io/v1beta2", "LocalQueue", ns) == []
        or api.get("v1", "Namespace", ns) is None
    )
