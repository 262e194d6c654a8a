"""The node-labeling script, run by a real bash against a stand-in kubectl that records its argv."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import gpukit as gk
from gpukit.platform import platform_plan
from gpukit.platform.labels import label_script

BASH = shutil.which("bash")
FLEETS = Path(__file__).resolve().parents[2] / "examples" / "fleets"
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")

#: A label value no cluster would accept, built to break out of any unquoted shell context.
HOSTILE = 'a\'b "c" $(touch PWNED) `touch PWNED2` ; touch PWNED3 #'


def _run(
    script: str, tmp_path: Path, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    path = tmp_path / "label-nodes.sh"
    path.write_text(script)
    log = tmp_path / "argv.log"
    kubectl = tmp_path / "kubectl"
    # Records each call's arguments, one per line, calls separated by a blank line.
    kubectl.write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> {log}\necho >> {log}\n'
    )
    kubectl.chmod(0o755)
    result = subprocess.run(
        [BASH, str(path), *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "KUBECTL": str(kubectl), **env},
        timeout=30,
    )
    calls = (
        [c.splitlines() for c in log.read_text().split("\n\n") if c.strip()] if log.exists() else []
    )
    return result, calls


def _fleet(**labels: str) -> gk.Fleet:
    return gk.Fleet(
        name="t",
        node_pools=[
            {
                "name": "mig",
                "gpu": "H100-80GB",
                "gpus_per_node": 8,
                "nodes": 1,
                # single: the device plugin refuses the mixed strategy next to MPS pools
                "mig": {
                    "strategy": "single",
                    "layout": {"1g.10gb": 7},
                    "config_name": "all-1g.10gb",
                },
                "labels": labels,
            },
            {
                "name": "ts",
                "gpu": "L4",
                "gpus_per_node": 4,
                "nodes": 1,
                "sharing": {"mode": "time-slicing", "replicas": 4, "config_name": "ts"},
            },
            {
                "name": "mps",
                "gpu": "L4",
                "gpus_per_node": 4,
                "nodes": 1,
                "sharing": {"mode": "mps", "replicas": 2, "config_name": "mps"},
            },
        ],
    )


def test_script_is_valid_bash():
    script = label_script(platform_plan(gk.load_fleet(FLEETS / "mig-single-mps.yaml"), []))
    result = subprocess.run([BASH, "-n"], input=script, text=True, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


def test_hostile_label_values_reach_kubectl_as_single_arguments(tmp_path):
    script = label_script(platform_plan(_fleet(team=HOSTILE), []))
    result, calls = _run(script, tmp_path, GPUKIT_NODES_TS="n1", GPUKIT_NODES_MPS="n2")
    assert result.returncode == 0, result.stderr
    assert calls[0] == [
        "label",
        "nodes",
        "--overwrite",
        "-l",
        f"team={HOSTILE}",
        "nvidia.com/mig.config=all-1g.10gb",
    ]
    assert not list(tmp_path.glob("PWNED*"))


def test_pools_told_apart_only_by_node_names_read_them_from_the_environment(tmp_path):
    script = label_script(platform_plan(_fleet(pool="mig"), []))
    result, calls = _run(
        script, tmp_path, GPUKIT_NODES_TS="node-a node-b", GPUKIT_NODES_MPS="node-c"
    )
    assert result.returncode == 0, result.stderr
    assert calls == [
        ["label", "nodes", "--overwrite", "-l", "pool=mig", "nvidia.com/mig.config=all-1g.10gb"],
        ["label", "nodes", "--overwrite", "node-a", "node-b", "nvidia.com/device-plugin.config=ts"],
        ["label", "nodes", "--overwrite", "node-c", "nvidia.com/device-plugin.config=mps"],
    ]


def test_missing_node_names_are_reported_and_the_rest_still_labelled(tmp_path):
    script = label_script(platform_plan(_fleet(pool="mig"), []))
    result, calls = _run(script, tmp_path, GPUKIT_NODES_TS="node-a")
    assert result.returncode == 1
    assert "GPUKIT_NODES_MPS" in result.stderr
    assert "apart from other pools; set GPUKIT_NODES_MPS=" in result.stderr
    assert [c[-1] for c in calls] == [
        "nvidia.com/mig.config=all-1g.10gb",
        "nvidia.com/device-plugin.config=ts",
    ]


def test_a_product_no_other_pool_has_selects_before_and_after_gfd_relabels(tmp_path):
    f = gk.Fleet(
        name="t",
        node_pools=[
            {
                "name": "single",
                "gpu": "H100-80GB",
                "gpus_per_node": 8,
                "nodes": 1,
                "mig": {
                    "strategy": "single",
                    "layout": {"3g.40gb": 2},
                    "config_name": "all-3g.40gb",
                },
            },
        ],
    )
    result, calls = _run(label_script(platform_plan(f, [])), tmp_path)
    assert result.returncode == 0, result.stderr
    (call,) = calls
    assert (
        call[4]
        == "nvidia.com/gpu.product in (NVIDIA-H100-80GB-HBM3,NVIDIA-H100-80GB-HBM3-MIG-3g.40gb)"
    )


def test_dry_run_prints_commands_and_runs_nothing(tmp_path):
    script = label_script(platform_plan(_fleet(team=HOSTILE), []))
    result, calls = _run(script, tmp_path, "--dry-run", GPUKIT_NODES_TS="n1", GPUKIT_NODES_MPS="n2")
    assert result.returncode == 0, result.stderr
    assert calls == []
    assert result.stdout.count("label nodes --overwrite") == 3
    assert not list(tmp_path.glob("PWNED*"))


def test_standalone_pools_get_the_operator_gates_off_as_single_quoted_arguments(tmp_path):
    """The default fleet's MPS pool runs its own device plugin: its nodes (and only they) get
    the config label the standalone chart selects on and the operator's plugin/GFD gates off."""
    script = label_script(platform_plan(gk.default_fleet(), []))
    result, calls = _run(
        script, tmp_path, GPUKIT_NODES_L4_SHARED="node-a", GPUKIT_NODES_L4_MPS="node-b node-c"
    )
    assert result.returncode == 0, result.stderr
    assert calls[1:] == [
        [
            "label",
            "nodes",
            "--overwrite",
            "node-a",
            "nvidia.com/device-plugin.config=l4-time-slicing",
        ],
        [
            "label",
            "nodes",
            "--overwrite",
            "node-b",
            "node-c",
            "nvidia.com/device-plugin.config=l4-mps",
            "nvidia.com/gpu.deploy.device-plugin=false",
            "nvidia.com/gpu.deploy.gpu-feature-discovery=false",
        ],
    ]
    gates = [a for c in calls for a in c if a.startswith("nvidia.com/gpu.deploy.")]
    assert len(gates) == 2


def test_a_standalone_pool_selected_by_hostile_labels_stays_quoted(tmp_path):
    f = gk.Fleet(
        name="t",
        node_pools=[
            {
                "name": "mps",
                "gpu": "L4",
                "gpus_per_node": 4,
                "nodes": 1,
                "sharing": {"mode": "mps", "replicas": 2, "config_name": "mps"},
                "device_plugin": "standalone",
                "labels": {"team": HOSTILE},
            },
        ],
    )
    result, calls = _run(label_script(platform_plan(f, [])), tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls == [
        [
            "label",
            "nodes",
            "--overwrite",
            "-l",
            f"team={HOSTILE}",
            "nvidia.com/device-plugin.config=mps",
            "nvidia.com/gpu.deploy.device-plugin=false",
            "nvidia.com/gpu.deploy.gpu-feature-discovery=false",
        ]
    ]
    assert not list(tmp_path.glob("PWNED*"))
