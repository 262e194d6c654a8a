"""The verdict rules on their own (pure): table cases and a Hypothesis invariant."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gpukit import plan
from gpukit.fleet import default_fleet
from gpukit.verify import Observation, expect, judge
from gpukit.verify._judge import time_out
from gpukit.workload import Workload

EXP = expect(
    plan(
        Workload(name="ddp", kind="training", gpus=8, workers=2, team="team-research"),
        default_fleet(),
    )
)
POOL = dict(EXP.node_labels)
OTHER = {"nvidia.com/gpu.product": "NVIDIA-L4"}


def node(name: str, labels: dict) -> dict:
    return {"metadata": {"name": name, "labels": labels}}


def pod(
    i: int, node_name: str | None, resource: str = "nvidia.com/gpu", amount: int = 8, **status
) -> dict:
    spec = {
        "containers": [{"name": "m", "image": "x", "resources": {"limits": {resource: amount}}}]
    }
    if node_name:
        spec["nodeName"] = node_name
    return {
        "metadata": {"name": f"ddp-{i}"},
        "spec": spec,
        "status": status or {"phase": "Pending"},
    }


GROUP = {"metadata": {"name": "ddp"}, "spec": {"minMember": 2}, "status": {"phase": "Running"}}


def scheduled(pods, nodes) -> str:
    obs = Observation(
        main={"metadata": {"name": "ddp"}}, pod_groups=(GROUP,), pods=tuple(pods), nodes=nodes
    )
    return next(s for s in judge(EXP, obs, until="scheduled") if s.step == "scheduled").verdict


def test_oom_killed_container_is_stuck_at_running():
    oom = pod(
        0,
        "a",
        phase="Running",
        containerStatuses=[
            {
                "name": "m",
                "state": {"running": {}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            }
        ],
    )
    obs = Observation(
        main={"metadata": {"name": "ddp"}},
        pod_groups=(GROUP,),
        pods=(oom, pod(1, "a")),
        nodes={"a": node("a", POOL)},
    )
    running = judge(EXP, obs, until="running")[-1]
    assert running.verdict == "stuck" and "OOMKilled" in running.detail


def test_time_out_turns_waiting_into_stuck_or_differs():
    obs = Observation(
        main={"metadata": {"name": "ddp"}},
        pods=(pod(0, "a"), pod(1, None)),
        nodes={"a": node("a", POOL)},
    )
    steps = judge(EXP, obs, until="scheduled")
    assert [s.verdict for s in steps] == ["waiting", "not reached"]  # no Volcano PodGroup yet


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["in-pool", "other-pool", None]),
            st.sampled_from(
                [("nvidia.com/gpu", 8), ("nvidia.com/gpu", 4), ("nvidia.com/mig-1g.10gb", 1)]
            ),
        ),
        min_size=0,
        max_size=4,
    )
)
def test_scheduled_as_planned_only_when_every_pod_is_right(specs):
    nodes = {"in-pool": node("in-pool", POOL), "other-pool": node("other-pool", OTHER)}
    pods = [pod(i, where, *res) for i, (where, res) in enumerate(specs)]
    verdict = scheduled(pods, nodes)
    bound = [(w, r) for w, r in specs if w]
    all_right = all(w == "in-pool" and r == ("nvidia.com/gpu", 8) for w, r in bound)
    if verdict == "as planned":
        assert len(bound) >= EXP.pods and all_right
    if bound and not all_right:
        assert verdict == "differs"
    if all_right and len(bound) < EXP.pods:
        assert verdict == "waiting"
        final = time_out(
            (
                next(
                    s
                    for s in judge(
                        EXP,
                        Observation(main={}, pod_groups=(GROUP,), pods=tuple(pods), nodes=nodes),
                        until="scheduled",
                    )
                    if s.step == "scheduled"
                ),
            ),
            5,
        )
        assert final[0].verdict == ("differs" if bound else "stuck")  # a gang partly bound differs
