"""The live rollout e2e check, run against the API double: it passes and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys


def test_rollout_e2e_against_the_double(api, kubeconfig, repo_root):
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "GPUKIT_E2E": "1"}
    env.pop("GPUKIT_E2E_MIG_TARGET", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/e2e/test_rollout_live.py",
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
    assert "1 passed" in proc.stdout and "nothing to change" in proc.stdout
    assert api.writes() == []
