"""The end-to-end suite itself, run against the API double in both modes: it passes, cleans
up, and keeps to its own namespace and to dry runs unless GPUKIT_E2E_APPLY=1."""

from __future__ import annotations

import os
import subprocess
import sys

# One interpreter runs the suite three times (dry run; apply in a fresh namespace; apply in an
# existing one): Python, pytest and the kubernetes client start once instead of three times.
DRIVER = """
import os, sys, pytest
args = ["tests/e2e/test_live_cluster.py", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-rs"]
codes = []
for apply, namespace in (("", ""), ("1", ""), ("1", "team-nlp")):
    os.environ["GPUKIT_E2E_APPLY"] = apply
    os.environ["GPUKIT_E2E_NAMESPACE"] = namespace
    for name in [m for m in sys.modules if m.endswith("test_live_cluster")]:
        del sys.modules[name]
    codes.append(int(pytest.main(args)))
sys.exit(max(codes))
"""


def test_e2e_suite_against_the_double(api, kubeconfig, repo_root):
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "GPUKIT_E2E": "1"}
    env.pop("GPUKIT_E2E_NAMESPACE", None)
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed, 2 skipped" in proc.stdout and proc.stdout.count("6 passed") == 2
    assert "set GPUKIT_E2E_APPLY=1 to apply for real" in proc.stdout

    namespaces = [
        r.path.rsplit("/", 1)[1]
        for r in api.requests
        if r.method == "PATCH" and r.resource == "namespaces" and "dryRun" not in r.query
    ]
    assert len(namespaces) == 2 and all(n.startswith("gpukit-e2e-") for n in namespaces)
    dry_run_ns, apply_ns = namespaces
    real_writes: dict[str, int] = {dry_run_ns: 0, apply_ns: 0, "team-nlp": 0}
    namespaces.append("team-nlp")
    deleted = []
    for request in api.writes():
        if request.method == "DELETE":
            deleted.append(request.path)
            continue
        if "dryRun" in request.query or request.resource == "namespaces":
            continue
        inside = [n for n in namespaces if f"/namespaces/{n}/" in request.path]
        assert len(inside) == 1, f"write outside the e2e namespace: {request.path}"
        real_writes[inside[0]] += 1
    assert real_writes[dry_run_ns] == 0 and real_writes[apply_ns] > 0
    # Only what the suite created is deleted: its own namespaces, and in the given namespace
    # the Job and ConfigMap it applied there; that namespace itself is kept.
    assert sorted(deleted) == sorted(
        [
            f"/api/v1/namespaces/{dry_run_ns}",
            f"/api/v1/namespaces/{apply_ns}",
            "/apis/batch/v1/namespaces/team-nlp/jobs/gpukit-e2e-job",
            "/api/v1/namespaces/team-nlp/configmaps/gpukit-e2e-owned",
        ]
    )
    for name in (dry_run_ns, apply_ns):
        assert api.get("v1", "Namespace", name) is None
    assert api.get("v1", "Namespace", "team-nlp") is not None
    assert api.list("batch/v1", "Job", "team-nlp") == []


def test_e2e_suite_skips_without_a_cluster(repo_root):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "e2e_live_cluster_skip", repo_root / "tests" / "e2e" / "test_live_cluster.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    (skip,) = [m for m in module.pytestmark if m.name == "skipif"]
    assert skip.kwargs["reason"].startswith("end-to-end suite: set KUBECONFIG and GPUKIT_E2E=1")
    enabled = bool(os.environ.get("KUBECONFIG")) and os.environ.get("GPUKIT_E2E") == "1"
    assert skip.args == (not enabled,)
