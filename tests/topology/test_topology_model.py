"""The topology model (fleet file), the planning rule's cases and invariants, and discovery."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gpukit as gk
from gpukit import kube
from gpukit.errors import FleetError
from gpukit.fleet import Fleet, NodePool
from gpukit.testing import FakeApi, gpu_node
from gpukit.topology.discover import discover_topology
from gpukit.topology.model import Topology
from gpukit.topology.planning import decide, nodes_spanned
from gpukit.topology.render import volcano_hypernodes

RACK = "example.com/rack"
BLOCK = "example.com/block"


def _fleet(rack: int = 4, block: int = 16, nodes: int = 32, gpus: int = 8, **extra) -> Fleet:
    levels = [{"name": "block", "label": BLOCK}, {"name": "rack", "label": RACK}, {"name": "host"}]
    levels = extra.pop("levels", levels)
    layout = extra.pop("layout", {"rack": rack, "block": block})
    return Fleet(
        node_pools=(NodePool(name="p", gpu="H100-80GB", gpus_per_node=gpus, nodes=nodes),),
        topology={"levels": levels, "pools": {"p": layout}},
        **extra,
    )


@pytest.mark.parametrize(
    ("kind", "workers", "gpus", "expected"),
    [
        ("training", 1, 8, None),  # no gang
        ("training", 2, 4, ("required", "host")),  # two 4-GPU pods share one node
        ("training", 4, 8, ("required", "rack")),
        ("training", 5, 8, ("preferred", "block")),
        ("training", 16, 8, ("preferred", "block")),
        ("training", 17, 8, None),  # nothing holds it (a warning in the plan)
        ("training", 8, 2, ("required", "rack")),  # 8 x 2 GPUs = 2 nodes
        ("inference", 4, 8, ("required", "rack")),  # no NVLink level: rack as for training
    ],
    ids=lambda v: str(v),
)
def test_the_rule(kind, workers, gpus, expected):
    got = decide(_fleet(), "p", kind, workers, gpus)
    assert (None if got is None else (got.mode, got.level.name)) == expected


def test_serving_across_nodes_stays_in_one_nvlink_domain():
    levels = [{"name": "rack", "label": RACK}, {"name": "nvlink"}, {"name": "host"}]
    fleet = _fleet(levels=levels, layout={"rack": 18, "nvlink": 18}, gpus=4, nodes=36)
    got = decide(fleet, "p", "inference", 4, 4)
    assert (got.mode, got.level.label, got.code) == (
        "required",
        "nvidia.com/gpu.clique",
        "TOPOLOGY_NVLINK_DOMAIN",
    )
    assert got.tier == 1  # the NVLink domain is Volcano's tier 1 here, the rack tier 2


@given(
    rack=st.integers(1, 8),
    racks_per_block=st.integers(1, 4),
    workers=st.integers(2, 64),
    gpus=st.sampled_from([1, 2, 4, 8]),
)
def test_required_means_one_domain_holds_the_gang(rack, racks_per_block, workers, gpus):
    fleet = _fleet(rack=rack, block=rack * racks_per_block, nodes=rack * racks_per_block * 2)
    got = decide(fleet, "p", "training", workers, gpus)
    nodes = nodes_spanned(8, workers, gpus)
    if got is None:
        assert nodes > rack * racks_per_block
        return
    size = fleet.topology.nodes_per("p", got.level.name)
    assert size >= nodes == got.nodes
    assert got.required == (got.level.name in ("host", "rack"))
    if not got.required:
        assert nodes > rack  # preferred only when no rack holds it


@pytest.mark.parametrize(
    ("topology", "message"),
    [
        ({"levels": [{"name": "rack"}]}, "give its node label key"),
        (
            {"levels": [{"name": "rack", "label": RACK}, {"name": "block", "label": BLOCK}]},
            "broadest first: ['block', 'rack']",
        ),
        ({"levels": [{"name": "zone"}], "pools": {"q": {"zone": 2}}}, "no node pool 'q'"),
        ({"levels": [{"name": "zone"}], "pools": {"p": {"rack": 2}}}, "level 'rack' is not in"),
        (
            {
                "levels": [{"name": "block", "label": BLOCK}, {"name": "rack", "label": RACK}],
                "pools": {"p": {"block": 2, "rack": 4}},
            },
            "a broader level holds at least as many nodes",
        ),
        ({"levels": [{"name": "zone"}], "pools": {"p": {"zone": 0}}}, "give at least 1"),
    ],
)
def test_bad_topology_is_one_clear_line(tmp_path, topology, message):
    import yaml

    path = tmp_path / "fleet.yaml"
    data = {"node_pools": [{"name": "p", "gpu": "H100-80GB", "gpus_per_node": 8, "nodes": 4}]}
    path.write_text(yaml.safe_dump({**data, "topology": topology}))
    with pytest.raises(FleetError, match="topology") as info:
        gk.load_fleet(path)
    assert message in str(info.value)


def test_default_labels_and_tiers():
    topo = Topology(levels=[{"name": "zone"}, {"name": "rack", "label": RACK}, {"name": "host"}])
    assert [lv.label for lv in topo.levels] == [
        "topology.kubernetes.io/zone",
        RACK,
        "kubernetes.io/hostname",
    ]
    assert (topo.tier("rack"), topo.tier("zone"), topo.tier("host")) == (1, 2, None)


def _nodes():
    nodes = []
    for i in range(6):
        block, rack = f"b{i // 4}", f"r{i // 2}"
        labels = {
            "cloud.google.com/gce-topology-block": block,
            "cloud.google.com/gce-topology-subblock": rack,
            "topology.kubernetes.io/zone": "z1",
        }
        nodes.append(gpu_node(f"n{i}", "NVIDIA-H100-80GB-HBM3", 8, labels=labels))
    return nodes


def test_discovery_reads_levels_sizes_and_nesting_from_node_labels():
    with FakeApi(_nodes()) as api, kube.Cluster(api.transport()) as cluster:
        found = kube.discover_cluster(cluster=cluster)
    topo = found.fleet.topology
    assert [(lv.name, lv.label) for lv in topo.levels] == [
        ("zone", "topology.kubernetes.io/zone"),
        ("block", "cloud.google.com/gce-topology-block"),
        ("rack", "cloud.google.com/gce-topology-subblock"),
        ("host", "kubernetes.io/hostname"),
    ]
    (pool,) = found.fleet.node_pools
    layout = topo.pools[pool.name]
    assert layout.nodes_per == {"zone": 6, "block": 4, "rack": 2}
    assert layout.parents["r2"] == "b1" and layout.parents["r1"] == "b0"
    blocks = {
        h["metadata"]["name"]: [m["selector"]["exactMatch"]["name"] for m in h["spec"]["members"]]
        for h in volcano_hypernodes(found.fleet)
        if h["spec"]["tierName"] == "block"
    }
    assert blocks == {"b0": ["r0", "r1"], "b1": ["r2"]}  # from the labels, not by counting
    plan = gk.plan(gk.Workload(name="t", kind="training", gpus=8, workers=2), found.fleet)
    assert "TOPOLOGY_NOT_ENFORCED" in [w.code for w in plan.warnings]  # nothing installed


def test_no_domain_labels_no_topology():
    assert discover_topology({"n": ("p", {"kubernetes.io/hostname": "n"})}) is None
