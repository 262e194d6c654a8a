"""Every Python block in the README runs; every YAML block parses; the fleet example loads."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import yaml

import gpukit as gk

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", TEXT, re.S)


def test_readme_starts_with_the_two_commands():
    quick = TEXT.index("## Quick start")
    assert TEXT.index("make demo", quick) < TEXT.index("make test", quick) < TEXT.index("## In Python")


@pytest.mark.parametrize("code", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_python_blocks_run(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec", dont_inherit=True), {})


def test_the_issue_example_prints_a_plan_and_yaml():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(PYTHON_BLOCKS[0], str(README), "exec", dont_inherit=True), {})
    text = out.getvalue()
    assert "Decision: MIG 1g.10gb" in text
    assert "nvidia.com/mig-1g.10gb: 1" in text


def test_yaml_blocks_parse_and_the_fleet_example_loads(tmp_path):
    docs = [yaml.safe_load(block) for block in YAML_BLOCKS]
    workload, fleet = docs
    assert gk.Workload.model_validate(workload).name == "bert-serve"
    path = tmp_path / "fleet.yaml"
    path.write_text(YAML_BLOCKS[1])
    assert [p.name for p in gk.load_fleet(path).node_pools] == ["a100", "l4"]
