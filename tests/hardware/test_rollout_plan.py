"""The MIG rollout planner: table cases, and properties checked against brute force."""

from __future__ import annotations

from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpukit.errors import InputError
from gpukit.rollout import Budget, Consumer, NodeChange, PodDemand, plan_rollout
from gpukit.rollout._plan import check_wave

G1, G2, G3 = "nvidia.com/mig-1g.10gb", "nvidia.com/mig-2g.20gb", "nvidia.com/mig-3g.40gb"
BALANCED = {G1: 16, G2: 8, G3: 8}  # 8 H100s in all-balanced
SMALL = {G1: 56}  # 8 H100s in all-1g.10gb


def node(
    name: str, cap=BALANCED, target=SMALL, config="all-balanced", target_config="all-1g.10gb"
) -> NodeChange:
    return NodeChange(
        name,
        {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/mig.config": config},
        config,
        dict(cap),
        target_config,
        dict(target),
    )


def pods(prefix: str, n: int, resource: str, node_name: str | None, **kw) -> list[Consumer]:
    return [
        Consumer(f"ns/{prefix}-{i}", (PodDemand(f"{prefix}-{i}", {resource: 1}, node_name),), **kw)
        for i in range(n)
    ]


def test_nothing_to_change():
    plan = plan_rollout([node("a", target_config="all-balanced", target=BALANCED)])
    assert plan.waves == () and plan.safe
    assert "nothing to change" in plan.text()


def test_idle_nodes_go_together_within_max_unavailable():
    nodes = [node(n) for n in "abcd"]
    assert [w.nodes for w in plan_rollout(nodes, max_unavailable=2).waves] == [
        ("a", "b"),
        ("c", "d"),
    ]
    assert len(plan_rollout(nodes, max_unavailable=4).waves) == 1


def test_running_pods_force_one_node_at_a_time():
    # 12 1g pods on a and b each: emptying one needs the other three nodes' room, never two at once.
    nodes = [node(n) for n in "abc"]
    work = pods("a", 12, G1, "a") + pods("b", 12, G1, "b")
    plan = plan_rollout(nodes, work, max_unavailable=3)
    assert plan.safe and plan.exact
    assert all(len(w.nodes) <= 2 for w in plan.waves)
    assert {n for w in plan.waves for n in w.nodes} == {"a", "b", "c"}
    first = plan.waves[0]
    assert "nvidia.com/mig-1g.10gb: 24 in use" in " ".join(first.why_safe)


def test_no_safe_order_names_the_shortage():
    # 3g.40gb work fills both nodes' 3g slices; the target layout has none.
    nodes = [node("a"), node("b")]
    work = pods("big", 10, G3, "a") + pods("big-b", 6, G3, "b")
    plan = plan_rollout(nodes, work)
    assert not plan.safe and plan.waves == ()
    text = plan.text()
    assert "no safe order" in text and "nvidia.com/mig-3g.40gb: 1" in text
    assert "free capacity first" in text


def test_gang_moves_whole():
    # A 2-pod gang with one pod on each node: relabelling either node restarts both pods.
    nodes = [
        node("a", target=BALANCED, target_config="other"),
        node("b", target=BALANCED, target_config="other"),
        node("c", target_config="all-balanced", target=BALANCED),
    ]
    gang = Consumer(
        "ns/train",
        (PodDemand("train-0", {G3: 8}, "a"), PodDemand("train-1", {G3: 8}, "b")),
        gang=True,
    )
    ok = check_wave({"a"}, set(), {n.name: n for n in nodes}, [gang], {})
    assert ok.ok and ok.evicts == ("ns/train",)
    # with c gone too there is room for one 8x3g pod only: the gang does not fit
    both = check_wave({"a", "b"}, set(), {n.name: n for n in nodes}, [gang], {})
    assert not both.ok and "(gang)" in both.why[0]


def test_pod_disruption_budget_limits_a_wave():
    nodes = [node(n) for n in "abc"]
    web = [
        Consumer(f"ns/web-{i}", (PodDemand(f"web-{i}", {G1: 1}, "a"),), budget="ns/web")
        for i in range(3)
    ]
    assert not plan_rollout(nodes, web, [Budget("ns/web", 1)]).safe
    assert plan_rollout(nodes, web, [Budget("ns/web", 3)]).safe


def test_selector_on_the_old_config_counts():
    # Pods pinned to all-balanced cannot move onto relabelled nodes.
    nodes = [node("a"), node("b")]
    pinned = [
        Consumer(
            f"ns/p-{i}",
            (PodDemand(f"p-{i}", {G1: 1}, "a", {"nvidia.com/mig.config": "all-balanced"}),),
        )
        for i in range(4)
    ]
    plan = plan_rollout(nodes, pinned, max_unavailable=1)
    assert not plan.safe  # b goes first (idle), then a's pods have nowhere to go
    assert any("select nodes by nvidia.com/mig.config" in n for n in plan.notes)


def test_admitted_unbound_work_needs_room_too():
    nodes = [node("a"), node("b", target_config="all-balanced", target=BALANCED)]
    waiting = [Consumer("ns/q", (PodDemand("q-0", {G3: 8}, None),))]
    assert plan_rollout(nodes, waiting).safe  # b's 8 3g.40gb hold it
    more = [Consumer("ns/q", (PodDemand("q-0", {G3: 9}, None),))]
    assert not plan_rollout(nodes, more).safe


def test_bad_max_unavailable():
    with pytest.raises(InputError, match="max_unavailable 0 must be at least 1"):
        plan_rollout([node("a")], max_unavailable=0)


# -- properties ------------------------------------------------------------------------


def _aggregate_safe(wave, done, nodes, consumers) -> bool:
    """Independent necessary condition: per resource, what the other nodes offer holds all use."""
    resources = {r for n in nodes.values() for r in (*n.capacity, *n.target_capacity)}
    for res in resources:
        offered = sum(
            (n.target_capacity if n.name in done else n.capacity).get(res, 0)
            for n in nodes.values()
            if n.name not in wave
        )
        used = sum(p.requests.get(res, 0) for c in consumers for p in c.pods)
        if used > offered:
            return False
    return True


def _brute_force_waves(changing, k, nodes, consumers) -> int | None:
    best = None
    for order in permutations(changing):
        # every split of this order into consecutive waves of size <= k
        def split(i, done, count):
            nonlocal best
            if i == len(order):
                best = count if best is None else min(best, count)
                return
            for size in range(1, k + 1):
                wave = set(order[i : i + size])
                if len(wave) < size:
                    break
                if check_wave(wave, done, nodes, consumers, {}).ok:
                    split(i + size, done | wave, count + 1)

        split(0, set(), 0)
    return best


layouts = st.sampled_from([BALANCED, SMALL, {G2: 24}, {G3: 16}])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(layouts, layouts), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from([G1, G2, G3]), st.integers(0, 3)), max_size=8),
    st.integers(1, 3),
)
def test_waves_safe_complete_and_minimal(shapes, placed, k):
    nodes = [
        node(
            f"n{i}", cap, target, "c" + str(sorted(cap.items())), "c" + str(sorted(target.items()))
        )
        for i, (cap, target) in enumerate(shapes)
    ]
    by_name = {n.name: n for n in nodes}
    consumers = []
    for j, (res, where) in enumerate(placed):
        at = f"n{where}" if where < len(nodes) else None
        consumers.append(Consumer(f"ns/p{j}", (PodDemand(f"p{j}", {res: 1}, at),)))
    # only inputs that are consistent now: nothing runs beyond what a node offers
    for n in nodes:
        for res in (G1, G2, G3):
            if sum(
                c.pods[0].requests.get(res, 0) for c in consumers if c.pods[0].node == n.name
            ) > n.capacity.get(res, 0):
                return
    plan = plan_rollout(nodes, consumers, max_unavailable=k)
    changing = sorted(n.name for n in nodes if n.changes)
    done: set[str] = set()
    for wave in plan.waves:
        assert 1 <= len(wave.nodes) <= k
        assert _aggregate_safe(set(wave.nodes), done, by_name, consumers)
        done |= set(wave.nodes)
    if plan.safe:
        assert sorted(done) == changing, "every target layout is reached"
        assert len(plan.waves) == _brute_force_waves(changing, k, by_name, consumers)
    else:
        assert _brute_force_waves(changing, k, by_name, consumers) is None
