"""discover(): node pools from GFD labels, installed components, queues; --fleet live."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gpukit
from gpukit import kube
from gpukit.errors import ClusterError
from gpukit.fleet import Fleet, MigConfig, Sharing, Taint, default_fleet, load_fleet
from gpukit.kube._discover import group_pools, read_gpu_node
from gpukit.manifests import to_yaml
from gpukit.testing import FakeApi, component_crds, gpu_node, namespace
from gpukit.workload import load_workloads

NODE_CASES = [
    pytest.param(
        gpu_node(
            "n",
            "NVIDIA-H100-80GB-HBM3",
            8,
            mig_strategy="mixed",
            mig_config="all-balanced",
            mig_layout={"3g.40gb": 1, "1g.10gb": 2, "2g.20gb": 1},
        ),
        {
            "gpu": "H100-80GB",
            "gpus": 8,
            "sharing": None,
            "mig": MigConfig(
                strategy="mixed",
                config_name="all-balanced",
                layout={"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1},
            ),
        },
        id="h100-mixed-balanced",
    ),
    pytest.param(
        gpu_node(
            "n",
            "NVIDIA-A100-SXM4-80GB",
            8,
            mig_strategy="single",
            mig_config="all-1g.10gb",
            mig_layout={"1g.10gb": 7},
        ),
        {
            "gpu": "A100-80GB",
            "gpus": 8,
            "sharing": None,
            "mig": MigConfig(strategy="single", config_name="all-1g.10gb", layout={"1g.10gb": 7}),
        },
        id="a100-single-from-product-suffix",
    ),
    pytest.param(
        gpu_node("n", "NVIDIA-A100-SXM4-80GB", 8, mig_strategy="single"),
        {"gpu": "A100-80GB", "gpus": 8, "mig": None, "sharing": None},
        id="a100-operator-default-mig-disabled",
    ),
    pytest.param(
        gpu_node(
            "n", "NVIDIA-L4", 4, sharing="time-slicing", replicas=4, device_plugin_config="ts"
        ),
        {
            "gpu": "L4",
            "gpus": 4,
            "mig": None,
            "sharing": Sharing(mode="time-slicing", replicas=4, config_name="ts"),
        },
        id="l4-time-slicing-shared-suffix",
    ),
    pytest.param(
        gpu_node("n", "NVIDIA-L4", 4, sharing="time-slicing", replicas=8, rename_by_default=True),
        {
            "gpu": "L4",
            "gpus": 4,
            "mig": None,
            "sharing": Sharing(mode="time-slicing", replicas=8, rename_by_default=True),
        },
        id="l4-time-slicing-renamed",
    ),
    pytest.param(
        gpu_node("n", "NVIDIA-L4", 2, sharing="mps", replicas=10),
        {"gpu": "L4", "gpus": 2, "mig": None, "sharing": Sharing(mode="mps", replicas=10)},
        id="l4-mps",
    ),
    pytest.param(
        gpu_node(
            "n",
            "NVIDIA-A100-SXM4-80GB",
            4,
            mig_strategy="mixed",
            mig_config="all-1g.10gb",
            mig_layout={"1g.10gb": 7},
            sharing="time-slicing",
            replicas=2,
        ),
        {
            "gpu": "A100-80GB",
            "gpus": 4,
            "mig": MigConfig(strategy="mixed", config_name="all-1g.10gb", layout={"1g.10gb": 7}),
            "sharing": Sharing(mode="time-slicing", replicas=2),
        },
        id="mig-time-sliced",
    ),
]


@pytest.mark.parametrize(("node", "expected"), NODE_CASES)
def test_gpu_facts_from_gfd_labels(node, expected):
    found, notes = read_gpu_node(node)
    assert notes == []
    assert found is not None
    assert {k: getattr(found, k if k != "gpu" else "model") for k in expected} == {
        **expected,
        "gpu": found.model,
    } and found.model.key == expected["gpu"]


def test_transient_taints_are_dropped_and_pool_labels_kept():
    node = gpu_node(
        "n",
        "NVIDIA-L4",
        4,
        labels={"cloud.google.com/gke-nodepool": "l4-pool"},
        taints=(
            {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
        ),
    )
    found, _ = read_gpu_node(node)
    assert found is not None
    assert found.taints == (Taint(key="nvidia.com/gpu", value="present"),)
    assert found.pool_label == ("cloud.google.com/gke-nodepool", "l4-pool")


@pytest.mark.parametrize(
    ("labels", "allocatable", "note"),
    [
        (
            {"nvidia.com/gpu.product": "NVIDIA-Z9000"},
            {},
            "'NVIDIA-Z9000' is not in gpukit's catalog",
        ),
        (
            {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB-MIG-INVALID"},
            {},
            "reports an invalid MIG layout",
        ),
        ({}, {"nvidia.com/gpu": "8"}, "no nvidia.com/gpu.product label; skipped"),
        (
            {"nvidia.com/gpu.product": "NVIDIA-L4", "nvidia.com/gpu.count": "0"},
            {},
            "reports no GPUs",
        ),
        ({}, {"cpu": "8"}, None),
    ],
    ids=["unknown-product", "mig-invalid", "no-gfd", "zero-gpus", "cpu-node"],
)
def test_nodes_that_are_skipped_say_why(labels, allocatable, note):
    node = {"metadata": {"name": "odd", "labels": labels}, "status": {"allocatable": allocatable}}
    found, notes = read_gpu_node(node)
    assert found is None
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0] and notes[0].startswith("node odd: ")


def test_discover_rebuilds_the_default_fleet(cluster):
    found = kube.discover_cluster(cluster=cluster)
    fleet = found.fleet
    shapes = sorted((p.gpu, p.gpus_per_node, p.nodes, p.mig, p.sharing) for p in fleet.node_pools)
    reference = default_fleet()
    expected = sorted(
        (p.gpu, p.gpus_per_node, p.nodes, p.mig, p.sharing) for p in reference.node_pools
    )
    assert shapes == expected
    assert [p.name for p in fleet.node_pools] == [
        "a100-80gb",
        "h100-80gb-all-balanced",
        "l4-mps",
        "l4-time-slicing",
    ]
    assert fleet.installed.model_dump() == {
        "volcano": True,
        "kueue": True,
        "kai": False,
        "gpu_operator": True,
        "dcgm_exporter": True,
        "kubeflow_trainer": False,
        "training_operator": False,
        "jobset": False,
        "lws": False,
        "dra": False,
        "karpenter": False,  # read from the karpenter.sh API group (issue 14)
        "kserve": False,
    }
    assert [(q.scheduler, q.name, q.namespace, q.team) for q in fleet.queues] == [
        ("kueue", "team-nlp", "team-nlp", "team-nlp"),
        ("kueue", "team-research", "team-research", "team-research"),
        ("kueue", "team-vision", "team-vision", "team-vision"),
        ("volcano", "default", None, "default"),
        ("volcano", "team-nlp", None, "team-nlp"),
        ("volcano", "team-research", None, "team-research"),
    ]
    assert found.node_pools["h100-0"] == "h100-80gb-all-balanced"
    assert "control-plane" not in found.node_pools
    assert found.notes == ()
    assert fleet.description == "discovered from context 'lab': 11 GPU nodes in 4 pools"


def test_discovered_fleet_round_trips_through_yaml(cluster, tmp_path):
    fleet = kube.discover(cluster=cluster)
    text = to_yaml(fleet.model_dump(mode="json", exclude_defaults=True))
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    assert load_fleet(path) == fleet
    assert (
        to_yaml(kube.discover(cluster=cluster).model_dump(mode="json", exclude_defaults=True))
        == text
    )


def test_every_example_workload_plans_on_the_discovered_fleet(cluster, examples_dir):
    fleet = kube.discover(cluster=cluster)
    for workload in load_workloads(examples_dir / "workloads"):
        plan = gpukit.plan(workload, fleet)
        assert plan.pool in fleet.node_pools


def test_pools_follow_the_cloud_node_pool_label():
    pool = {"eks.amazonaws.com/nodegroup": "gpu-a"}
    nodes = [
        gpu_node(
            "a1",
            "NVIDIA-H100-80GB-HBM3",
            8,
            labels=pool,
            mig_strategy="mixed",
            mig_config="all-1g.10gb",
            mig_layout={"1g.10gb": 7},
        ),
        gpu_node(
            "a2",
            "NVIDIA-H100-80GB-HBM3",
            8,
            labels=pool,
            mig_strategy="mixed",
            mig_config="all-3g.40gb",
            mig_layout={"3g.40gb": 2},
        ),
        gpu_node("b1", "NVIDIA-H100-80GB-HBM3", 8, labels={"eks.amazonaws.com/nodegroup": "gpu-b"}),
        gpu_node("b2", "NVIDIA-H100-80GB-HBM3", 8, labels={"eks.amazonaws.com/nodegroup": "gpu-b"}),
    ]
    with FakeApi(nodes) as api, kube.Cluster(api.transport()) as cluster:
        found = kube.discover_cluster(cluster=cluster)
    pools = {p.name: p for p in found.fleet.node_pools}
    assert sorted(pools) == ["gpu-a-all-1g-10gb", "gpu-a-all-3g-40gb", "gpu-b"]
    assert pools["gpu-b"].nodes == 2
    assert pools["gpu-b"].labels == {"eks.amazonaws.com/nodegroup": "gpu-b"}
    assert found.node_pools["a2"] == "gpu-a-all-3g-40gb"


@pytest.mark.parametrize(
    ("components", "flag"),
    [
        (("kueue",), "kueue"),
        (("volcano",), "volcano"),
        (("kai",), "kai"),
        (("kubeflow-trainer",), "kubeflow_trainer"),
        (("training-operator",), "training_operator"),
        (("jobset",), "jobset"),
        (("lws",), "lws"),
        (("gpu-operator",), "gpu_operator"),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(v),
)
def test_installed_components_from_api_discovery(components, flag):
    with (
        FakeApi([gpu_node("g", "NVIDIA-L4", 1), *component_crds(*components)]) as api,
        kube.Cluster(api.transport()) as cluster,
    ):
        installed = kube.discover(cluster=cluster).installed.model_dump()
    flags = {
        "volcano",
        "kueue",
        "kai",
        "gpu_operator",
        "kubeflow_trainer",
        "training_operator",
        "jobset",
        "lws",
        "dra",
    }
    assert {k for k in flags if installed[k]} == {flag}


def test_dra_needs_an_nvidia_device_class():
    device_class = {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "DeviceClass",
        "metadata": {"name": "gpu.nvidia.com"},
        "spec": {},
    }
    with (
        FakeApi([gpu_node("g", "NVIDIA-L4", 1)]) as api,
        kube.Cluster(api.transport()) as cluster,
    ):
        assert kube.discover(cluster=cluster).installed.dra is False
        api.add(device_class)
        assert kube.discover(cluster=cluster).installed.dra is True


def test_dcgm_exporter_found_by_its_pods_when_nodes_lack_the_label():
    node = gpu_node("g", "NVIDIA-L4", 1)
    del node["metadata"]["labels"]["nvidia.com/gpu.deploy.dcgm-exporter"]
    exporter = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "dcgm-exporter-x",
            "namespace": "monitoring",
            "labels": {"app.kubernetes.io/name": "dcgm-exporter"},
        },
        "spec": {"containers": [{"name": "e", "image": "dcgm-exporter"}]},
    }
    with (
        FakeApi([node, namespace("monitoring")]) as api,
        kube.Cluster(api.transport()) as cluster,
    ):
        assert kube.discover(cluster=cluster).installed.dcgm_exporter is False
        api.add(exporter)
        assert kube.discover(cluster=cluster).installed.dcgm_exporter is True


def test_forbidden_optional_reads_become_notes(api, cluster):
    api.forbid("list", "localqueues.kueue.x-k8s.io")
    found = kube.discover_cluster(cluster=cluster)
    assert [q.scheduler for q in found.fleet.queues] == ["volcano"] * 3
    assert any(
        n.startswith(
            "Kueue queues unknown: RBAC forbids list localqueues.kueue.x-k8s.io in all namespaces"
        )
        for n in found.notes
    )


def test_closed_and_root_volcano_queues_are_left_out(api, cluster):
    api.add(
        {
            "apiVersion": "scheduling.volcano.sh/v1beta1",
            "kind": "Queue",
            "metadata": {"name": "root"},
            "spec": {},
            "status": {"state": "Open"},
        },
        {
            "apiVersion": "scheduling.volcano.sh/v1beta1",
            "kind": "Queue",
            "metadata": {"name": "old", "labels": {"gpukit.io/team": "x"}},
            "spec": {},
            "status": {"state": "Closed"},
        },
    )
    found = kube.discover_cluster(cluster=cluster)
    assert "root" not in [q.name for q in found.fleet.queues]
    assert "Volcano queue old is Closed; left out of the fleet" in found.notes


def test_not_ready_and_cordoned_nodes_are_noted(api, cluster):
    api.add(
        gpu_node("a100-0", "NVIDIA-A100-SXM4-80GB", 8, mig_strategy="mixed", ready=False),
        gpu_node("a100-1", "NVIDIA-A100-SXM4-80GB", 8, mig_strategy="mixed", unschedulable=True),
    )
    notes = kube.discover_cluster(cluster=cluster).notes
    assert any(n.startswith("node a100-0 is NotReady") for n in notes)
    assert any(n.startswith("node a100-1 is cordoned") for n in notes)


def test_a_cluster_without_gpu_nodes_is_a_clear_error():
    plain = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "cpu-1"},
        "status": {"allocatable": {"cpu": "4"}},
    }
    with (
        FakeApi([plain]) as api,
        kube.Cluster(api.transport()) as cluster,
        pytest.raises(ClusterError) as caught,
    ):
        kube.discover(cluster=cluster)
    assert str(caught.value).startswith(
        f"no GPU nodes in {api.url}: none of its 1 nodes has the nvidia.com/gpu.product label"
    )


def test_fleet_from_option(kubeconfig, tmp_path):
    assert kube.fleet_from_option(None) == default_fleet()
    live = kube.fleet_from_option("live")
    assert isinstance(live, Fleet) and live.name == "lab"
    assert kube.fleet_from_option("live:lab") == live
    path = tmp_path / "fleet.yaml"
    path.write_text(to_yaml(live.model_dump(mode="json")))
    assert kube.fleet_from_option(str(path)) == live
    with pytest.raises(ClusterError, match="context 'nope' is not in kubeconfig"):
        kube.fleet_from_option("live:nope")


NODE_KINDS = [
    {
        "product": "NVIDIA-H100-80GB-HBM3",
        "gpus": 8,
        "mig_strategy": "mixed",
        "mig_config": "all-balanced",
        "mig_layout": {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1},
    },
    {
        "product": "NVIDIA-H100-80GB-HBM3",
        "gpus": 8,
        "mig_strategy": "mixed",
        "mig_config": "all-1g.10gb",
        "mig_layout": {"1g.10gb": 7},
    },
    {"product": "NVIDIA-H100-80GB-HBM3", "gpus": 8},
    {"product": "NVIDIA-H100-80GB-HBM3", "gpus": 4},
    {"product": "NVIDIA-L4", "gpus": 4, "sharing": "time-slicing", "replicas": 4},
    {"product": "NVIDIA-L4", "gpus": 4, "sharing": "mps", "replicas": 2},
    {"product": "NVIDIA-L4", "gpus": 4, "taints": ()},
]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(range(len(NODE_KINDS))), st.sampled_from([None, "pool-a", "pool-b"])
        ),
        min_size=1,
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_grouping_is_a_partition_with_unique_names_whatever_the_order(specs, rng):
    nodes = []
    for i, (kind, label) in enumerate(specs):
        args = dict(NODE_KINDS[kind])
        labels = {"gpukit.io/pool": label} if label else {}
        node, _ = read_gpu_node(
            gpu_node(f"n{i:02d}", args.pop("product"), args.pop("gpus"), labels=labels, **args)
        )
        nodes.append(node)
    pools = group_pools(nodes)
    names = [name for name, _ in pools]
    assert len(names) == len(set(names))
    assert sorted(n.name for _, members in pools for n in members) == sorted(n.name for n in nodes)
    for _, members in pools:
        assert len({m.group_key() for m in members}) == 1
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    assert [(n, [m.name for m in ms]) for n, ms in group_pools(shuffled)] == [
        (n, [m.name for m in ms]) for n, ms in pools
    ]
