"""Carrying out a MIG rollout against the in-process API double.

Two effects no real component produces here are played by clearly named TEST DOUBLES:
``EvictionDouble`` answers the Eviction subresource as the API server does (a PodDisruptionBudget
that allows no disruption answers 429; otherwise the pod goes), and ``MigManagerDouble`` plays
the GPU Operator's MIG manager: when a node's ``nvidia.com/mig.config`` changes it sets
``nvidia.com/mig.config.state`` to ``pending``, and a tick later to ``success`` with the new
MIG devices in the node's allocatable (``stall``: stays pending; ``fail``: ``failed``;
``no-restart``: success but the allocatable never changes, as when the device plugin was not
restarted). Neither decides anything a test checks.
"""

from __future__ import annotations

import json

import pytest

from gpukit import kube
from gpukit.errors import InputError
from gpukit.kube import ApiResponse, MockTransport
from gpukit.rollout import PROGRESS_NAME, Target, carry_out, plan_rollout, read_cluster
from gpukit.testing import FakeApi, gpu_node, namespace

BALANCED = {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}
G1, G2, G3 = "nvidia.com/mig-1g.10gb", "nvidia.com/mig-2g.20gb", "nvidia.com/mig-3g.40gb"
TARGET_CAPACITY = {G1: 56}  # 8 H100s of 7x 1g.10gb
STATE = "nvidia.com/mig.config.state"


class EvictionDouble:
    """Double of the API server's Eviction subresource: PDB check, then the pod is deleted."""

    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.evicted: list[str] = []

    def answer(self, request) -> ApiResponse | None:
        if not (request.method == "POST" and request.path.endswith("/eviction")):
            return None
        parts = request.path.split("/")
        ns, name = parts[parts.index("namespaces") + 1], parts[-2]
        pod = self.api.get("v1", "Pod", name, ns)
        if pod is None:
            return ApiResponse(
                404,
                {
                    "kind": "Status",
                    "status": "Failure",
                    "code": 404,
                    "reason": "NotFound",
                    "message": f'pods "{name}" not found',
                },
            )
        labels = pod["metadata"].get("labels") or {}
        for pdb in self.api.list("policy/v1", "PodDisruptionBudget", ns):
            match = (pdb["spec"].get("selector") or {}).get("matchLabels") or {}
            if all(labels.get(k) == v for k, v in match.items()):
                allowed = int((pdb.get("status") or {}).get("disruptionsAllowed", 0))
                if allowed < 1:
                    return ApiResponse(
                        429,
                        {
                            "kind": "Status",
                            "status": "Failure",
                            "code": 429,
                            "reason": "TooManyRequests",
                            "message": "Cannot evict pod as it would violate the pod's disruption budget.",
                        },
                    )
                self.api.set_status(
                    "policy/v1",
                    "PodDisruptionBudget",
                    pdb["metadata"]["name"],
                    {**pdb.get("status", {}), "disruptionsAllowed": allowed - 1},
                    ns,
                )
        self.api.delete("v1", "Pod", name, ns)
        self.evicted.append(f"{ns}/{name}")
        return ApiResponse(201, {"kind": "Status", "status": "Success", "code": 201})


class MigManagerDouble:
    """Double of the MIG manager's effect on a node whose nvidia.com/mig.config changed."""

    def __init__(
        self, api: FakeApi, capacity: dict[str, dict[str, int]], mode: str = "success"
    ) -> None:
        self.api = api
        self.capacity = capacity  # config name -> allocatable MIG resources once applied
        self.mode = mode
        self.pending: set[str] = set()

    def seen_patch(self, request) -> None:
        if request.method != "PATCH" or not request.path.startswith("/api/v1/nodes/"):
            return
        labels = ((request.body or {}).get("metadata") or {}).get("labels") or {}
        if "nvidia.com/mig.config" in labels:
            name = request.path.rsplit("/", 1)[1]
            self._label(name, "pending")
            self.pending.add(name)

    def _label(self, name: str, state: str, allocatable: dict[str, int] | None = None) -> None:
        node = self.api.get("v1", "Node", name)
        node["metadata"]["labels"][STATE] = state
        if allocatable is not None:
            alloc = {
                k: v
                for k, v in node["status"]["allocatable"].items()
                if not k.startswith("nvidia.com/mig-")
            }
            node["status"]["allocatable"] = {**alloc, **{k: str(v) for k, v in allocatable.items()}}
        for key in ("resourceVersion", "managedFields"):
            node["metadata"].pop(key, None)
        self.api.add(node)

    def tick(self) -> None:
        for name in sorted(self.pending):
            if self.mode == "stall":
                continue
            if self.mode == "fail":
                self._label(name, "failed")
            elif self.mode == "no-restart":
                self._label(name, "success")
            else:
                config = self.api.get("v1", "Node", name)["metadata"]["labels"][
                    "nvidia.com/mig.config"
                ]
                self._label(name, "success", self.capacity[config])
            self.pending.discard(name)


class Cluster:
    """The API double behind a transport that also answers evictions and feeds the MIG manager."""

    def __init__(self, mode: str = "success", pods: int = 0, pdb_allows: int | None = None) -> None:
        nodes = [
            gpu_node(
                f"h100-{i}",
                "NVIDIA-H100-80GB-HBM3",
                8,
                mig_strategy="mixed",
                mig_config="all-balanced",
                mig_layout=BALANCED,
            )
            for i in range(3)
        ]
        for node in nodes:
            node["metadata"]["labels"][STATE] = "success"
        self.api = FakeApi([*nodes, namespace("gpu-operator"), namespace("team")])
        for i in range(pods):
            self.api.add(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"web-{i}", "namespace": "team", "labels": {"app": "web"}},
                    "spec": {
                        "nodeName": f"h100-{i % 2}",
                        "containers": [
                            {"name": "m", "image": "x", "resources": {"limits": {G1: "1"}}}
                        ],
                    },
                    "status": {"phase": "Running"},
                }
            )
        if pdb_allows is not None:
            self.api.add(
                {
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": {"name": "web", "namespace": "team"},
                    "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
                    "status": {"disruptionsAllowed": pdb_allows},
                }
            )
        self.eviction = EvictionDouble(self.api)
        self.mig = MigManagerDouble(self.api, {"all-1g.10gb": TARGET_CAPACITY}, mode)
        inner = self.api.transport()

        def handle(request):
            answer = self.eviction.answer(request)
            if answer is not None:
                return answer
            response = inner.handler(request)
            self.mig.seen_patch(request)
            return response

        self.cluster = kube.Cluster(MockTransport(handle, server=inner.server))

    def sleep(self, _seconds: float) -> None:
        self.mig.tick()


def target(*nodes: str) -> Target:
    return Target({n: "all-1g.10gb" for n in nodes}, {n: dict(TARGET_CAPACITY) for n in nodes})


class Clock:
    def __init__(self, world: Cluster, step: float = 5.0) -> None:
        self.now = 0.0
        self.world = world
        self.step = step

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += self.step
        self.world.sleep(seconds)


def run(world: Cluster, goal: Target, **kw):
    nodes, consumers, budgets = read_cluster(world.cluster, goal)
    plan = plan_rollout(nodes, consumers, budgets, max_unavailable=kw.pop("max_unavailable", 1))
    clock = Clock(world)
    events: list[str] = []
    result = carry_out(
        world.cluster,
        plan,
        goal,
        poll=1,
        clock=clock,
        sleep=clock.sleep,
        on_event=events.append,
        **kw,
    )
    return plan, result, events


def node(world: Cluster, name: str) -> dict:
    return world.api.get("v1", "Node", name)


def progress(world: Cluster) -> dict:
    cm = world.api.get("v1", "ConfigMap", PROGRESS_NAME, "gpu-operator")
    return json.loads(cm["data"]["nodes"])


def test_rollout_completes_evicting_through_the_api():
    world = Cluster(pods=4)
    plan, result, events = run(world, target("h100-0", "h100-1"))
    assert result.ok, result.message
    assert [w.nodes for w in plan.waves] == [("h100-0",), ("h100-1",)]
    for name in ("h100-0", "h100-1"):
        n = node(world, name)
        assert n["metadata"]["labels"]["nvidia.com/mig.config"] == "all-1g.10gb"
        assert n["metadata"]["labels"][STATE] == "success"
        assert not n["spec"].get("unschedulable"), "uncordoned at the end"
        assert "gpukit.io/mig-rollout-cordoned" not in (n["metadata"].get("annotations") or {})
        assert n["status"]["allocatable"][G1] == "56"
    assert node(world, "h100-2")["metadata"]["labels"]["nvidia.com/mig.config"] == "all-balanced"
    assert sorted(world.eviction.evicted) == [f"team/web-{i}" for i in range(4)]
    # Pods went through the Eviction API only: nothing was DELETEd directly.
    assert not [r for r in world.api.requests if r.method == "DELETE"]
    assert progress(world) == {"h100-0": "done", "h100-1": "done"}
    assert events[-1].startswith("rollout ") and "done" in events[-1]


def test_a_pdb_that_allows_nothing_makes_the_plan_unsafe():
    world = Cluster(pods=2, pdb_allows=0)
    nodes, consumers, budgets = read_cluster(world.cluster, target("h100-0"))
    plan = plan_rollout(nodes, consumers, budgets)
    assert not plan.safe and "PodDisruptionBudget team/web allows 0" in plan.text()


def test_a_pdb_that_refuses_at_run_time_stops_before_relabelling():
    world = Cluster(pods=2, pdb_allows=2)
    goal = target("h100-0")
    nodes, consumers, budgets = read_cluster(world.cluster, goal)
    plan = plan_rollout(nodes, consumers, budgets)
    assert plan.safe
    # Between planning and carrying out, the budget's pods became unhealthy: no disruption now.
    world.api.set_status(
        "policy/v1", "PodDisruptionBudget", "web", {"disruptionsAllowed": 0}, "team"
    )
    clock = Clock(world)
    result = carry_out(
        world.cluster, plan, goal, poll=1, clock=clock, sleep=clock.sleep, eviction_timeout=10
    )
    assert not result.ok
    assert "disruption budget" in result.message and "nothing was relabelled" in result.message
    n = node(world, "h100-0")
    assert n["spec"]["unschedulable"] is True, "left cordoned"
    assert n["metadata"]["labels"]["nvidia.com/mig.config"] == "all-balanced"
    assert world.api.get("v1", "Pod", "web-0", "team") is not None, "never deleted"


def test_a_failed_node_stops_the_rollout_cordoned():
    world = Cluster(mode="fail")
    _, result, _ = run(world, target("h100-0", "h100-1"))
    assert not result.ok and "failed" in result.message
    assert node(world, "h100-0")["spec"]["unschedulable"] is True
    assert node(world, "h100-1")["metadata"]["labels"]["nvidia.com/mig.config"] == "all-balanced"
    assert progress(world)["h100-0"] == "labelled"


def test_a_stalled_node_times_out():
    world = Cluster(mode="stall")
    _, result, _ = run(world, target("h100-0"), node_timeout=30)
    assert not result.ok and "stalled" in result.message and "'pending'" in result.message
    assert node(world, "h100-0")["spec"]["unschedulable"] is True


def test_success_without_new_devices_names_the_device_plugin_restart():
    world = Cluster(mode="no-restart")
    _, result, _ = run(world, target("h100-0"), node_timeout=30)
    assert not result.ok and "restart the device plugin" in result.message


def test_resumes_after_an_interruption():
    world = Cluster(mode="stall")
    goal = target("h100-0", "h100-1")
    _, first, _ = run(world, goal, node_timeout=10)
    assert not first.ok and progress(world)["h100-0"] == "labelled"
    world.mig.mode = "success"  # the MIG manager recovers
    _, second, events = run(world, goal)
    assert second.ok, second.message
    assert any(e.startswith("resuming rollout") for e in events)
    assert progress(world) == {"h100-0": "done", "h100-1": "done"}
    labels = [
        r
        for r in world.api.requests
        if r.method == "PATCH"
        and "labels" in json.dumps(r.body or {})
        and "mig.config" in json.dumps(r.body or {})
    ]
    assert len(labels) == 2, "each node relabelled once, across both runs"


def test_a_different_rollout_in_progress_is_refused():
    world = Cluster(mode="stall")
    run(world, target("h100-0"), node_timeout=5)
    with pytest.raises(InputError, match="records another rollout"):
        run(world, target("h100-1"))


def test_no_safe_plan_is_refused_before_anything_changes():
    world = Cluster()
    goal = Target({"h100-0": "all-1g.10gb"}, {"h100-0": {G1: 56}})
    nodes, consumers, budgets = read_cluster(world.cluster, goal)
    plan = plan_rollout(nodes, consumers, budgets)
    assert plan.safe
    unsafe = plan.__class__(plan.waves, plan.unchanged, 1, ("blocked",), targets=plan.targets)
    with pytest.raises(InputError, match="no safe order"):
        carry_out(world.cluster, unsafe, goal)
    assert not world.api.writes()


# -- the CLI, on the default fleet's H100 pool ------------------------------------------


def test_cli_prints_a_safe_plan_for_the_default_fleet_h100_pool(tmp_path, monkeypatch, capsys):
    """`gpukit mig rollout --fleet live --target plan.yaml`: all-balanced -> the packer's layouts."""
    from gpukit.cli import main
    from gpukit.testing import FakeApiServer

    plan_file = tmp_path / "plan.yaml"
    try:
        main(
            [
                "mig",
                "plan",
                "--fleet",
                "default",
                "--demand",
                "examples/mig/demand-default-fleet.yaml",
                "-o",
                "yaml",
            ]
        )
    except SystemExit as exc:
        assert not exc.code
    plan_file.write_text(capsys.readouterr().out)
    nodes = [
        gpu_node(
            f"h100-mig-{i}",
            "NVIDIA-H100-80GB-HBM3",
            8,
            mig_strategy="mixed",
            mig_config="all-balanced",
            mig_layout=BALANCED,
        )
        for i in range(2)
    ]
    running = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"nb-{i}", "namespace": "team", "labels": {}},
            "spec": {
                "nodeName": "h100-mig-1",
                "containers": [{"name": "m", "image": "x", "resources": {"limits": {G1: "1"}}}],
            },
            "status": {"phase": "Running"},
        }
        for i in range(6)
    ]
    with FakeApiServer([*nodes, namespace("team"), *running]) as api:
        monkeypatch.setenv("KUBECONFIG", str(api.write_kubeconfig(tmp_path / "kubeconfig")))
        try:
            main(["mig", "rollout", "--fleet", "live", "--target", str(plan_file)])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        assert code == 0, out + err
        assert "wave 1: h100-mig-1 -> custom-" in out
        assert "evicts: team/nb-0" in out
        assert "nvidia.com/mig-1g.10gb: 6 in use fit" in out
        assert "dry run: nothing changed" in err
        assert not [w for w in api.writes() if "dryRun" not in w.query], "a dry run writes nothing"


def test_cli_fleet_file_with_running_pods(tmp_path, capsys):
    from gpukit.cli import main

    plan_file = tmp_path / "plan.yaml"
    try:
        main(["mig", "plan", "--demand", "examples/mig/demand-default-fleet.yaml", "-o", "yaml"])
    except SystemExit:
        pass
    plan_file.write_text(capsys.readouterr().out)
    pods = {
        "apiVersion": "v1",
        "kind": "PodList",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"p{i}", "namespace": "a"},
                "spec": {
                    "nodeName": "h100-mig-1" if i < 8 else "h100-mig-0",
                    "containers": [{"name": "m", "image": "x", "resources": {"limits": {G3: "1"}}}],
                },
                "status": {"phase": "Running"},
            }
            for i in range(12)
        ],
    }
    pods_file = tmp_path / "pods.json"
    pods_file.write_text(json.dumps(pods))
    try:
        main(["mig", "rollout", "--target", str(plan_file), "--pods", str(pods_file), "-o", "json"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    data = json.loads(capsys.readouterr().out)
    # All 8 3g.40gb slices of h100-mig-1 are in use and 4 of h100-mig-0's 8: while h100-mig-1
    # is relabelled its 8 pods have 4 slices to go to, so no order is safe.
    assert code == 1 and data["safe"] is False
    assert any("nvidia.com/mig-3g.40gb" in b for b in data["blocked"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--yes"], "--yes changes a cluster: use it with --fleet live"),
        (["--fleet", "live", "--pods", "x.json"], "--pods is for a fleet file"),
        (["--node-timeout", "soon"], "--node-timeout 'soon' is not a duration"),
        (["-o", "xml"], "--output 'xml' is not allowed"),
    ],
)
def test_cli_bad_input_is_one_line(tmp_path, capsys, argv, message):
    from gpukit.cli import main

    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text("node_labels: {h100-mig-1: {nvidia.com/mig.config: x}}\ngpus: []\n")
    with pytest.raises(SystemExit) as exc:
        main(["mig", "rollout", "--target", str(plan_file), *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
