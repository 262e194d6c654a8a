"""KFP fixtures: a local runner that executes components in this interpreter's environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def kfp_local(tmp_path, monkeypatch):
    """kfp.local with the subprocess runner, no venv: components import the installed gpukit."""
    import kfp.local

    # The runner starts `python3 -m kfp.dsl.executor_main`: make that this interpreter.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    return tmp_path
