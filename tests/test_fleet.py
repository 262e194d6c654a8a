"""Fleet files: the default fleet, calibration folders, and one-line errors."""

from __future__ import annotations

import pytest

import gpukit as gk
from gpukit.errors import FleetError


def test_default_fleet_is_the_documented_mixed_cluster():
    fleet = gk.default_fleet()
    assert [p.name for p in fleet.node_pools] == ["h100-mig", "a100-train", "l4-shared", "l4-mps"]
    assert fleet.installed.volcano and fleet.installed.kueue
    assert {q.team for q in fleet.queues if q.scheduler == "kueue"} == {"team-nlp", "team-vision", "team-research"}


def test_calibration_folder_is_relative_to_the_fleet_file(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text("calibration: calib\nnode_pools:\n  - {name: a, gpu: L4, gpus_per_node: 1, nodes: 1}\n")
    assert gk.load_fleet(path).calibration == str(tmp_path / "calib")


BAD = [
    pytest.param("node_pools: []\n", "node_pools", id="no-pools"),
    pytest.param("node_pools:\n  - {name: a, gpu: Z9000, gpus_per_node: 1, nodes: 1}\n", "Z9000", id="unknown-gpu"),
    pytest.param("node_pools:\n  - {name: a, gpu: L4, gpus_per_node: 1, nodes: 1, mig: {layout: {1g.10gb: 1}}}\n", "not MIG-capable", id="mig-on-l4"),
    pytest.param("node_pools:\n  - {name: a, gpu: H100, gpus_per_node: 1, nodes: 1, mig: {layout: {1g.10gb: 1}}, sharing: {mode: mps, replicas: 2}}\n", "MPS on MIG", id="mps-on-mig"),
    pytest.param("node_pools:\n  - {name: a, gpu: L4, gpus_per_node: 1, nodes: 1, sharing: {mode: time-slicing, replicas: 1}}\n", "replicas", id="one-replica"),
    pytest.param("node_pools:\n  - {name: a, gpu: L4, gpus_per_node: 1, nodes: 1}\n  - {name: a, gpu: L4, gpus_per_node: 1, nodes: 1}\n", "unique", id="duplicate-pool"),
    pytest.param("node_pools:\n  - {name: a, gpu: L4, gpus_per_node: 1, nodes: 1}\nqueues:\n  - {name: q, scheduler: volcano}\n", "installed.volcano", id="queue-without-scheduler"),
    pytest.param("node_pools:\n  - {name: a, gpu: L4, gpus_per_node: 2, nodes: 1, gpus_in_use: 3}\n", "gpus_in_use", id="more-in-use-than-exist"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_fleets(tmp_path, text, fragment):
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    with pytest.raises(FleetError) as info:
        gk.load_fleet(path)
    assert fragment in str(info.value) and "\n" not in str(info.value)
