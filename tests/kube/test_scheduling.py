"""explain_scheduling(): scheduler, Volcano and Kueue messages turned into what to do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpukit.fleet import Fleet, default_fleet
from gpukit.kube import explain_scheduling

FLEET = default_fleet()
WHOLE_ONLY = Fleet.model_validate(
    {
        "name": "plain",
        "node_pools": [{"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 2}],
    }
)

CASES = [
    (
        (
            "0/5 nodes are available: 3 Insufficient nvidia.com/mig-1g.10gb, 2 node(s) had untolerated "
            "taint {nvidia.com/gpu: }. preemption: 0/5 nodes are available: 5 No preemption victims "
            "found for incoming pod."
        ),
        FLEET,
        None,
        ["INSUFFICIENT_MIG", "UNTOLERATED_TAINT"],
    ),
    (
        "0/11 nodes are available: 11 Insufficient nvidia.com/mig-1g.5gb.",
        FLEET,
        None,
        ["NO_MIG_PROFILE"],
    ),
    (
        "0/2 nodes are available: 2 Insufficient nvidia.com/mig-1g.10gb.",
        WHOLE_ONLY,
        None,
        ["NO_MIG_POOL"],
    ),
    (
        "0/4 nodes are available: 4 Insufficient nvidia.com/gpu.",
        FLEET,
        {"nvidia.com/gpu": 16},
        ["GPU_REQUEST_TOO_BIG"],
    ),
    (
        "0/4 nodes are available: 4 Insufficient nvidia.com/gpu.",
        FLEET,
        {"nvidia.com/gpu": 4},
        ["INSUFFICIENT_GPU"],
    ),
    (
        "0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.",
        FLEET,
        None,
        ["INSUFFICIENT_CPU", "INSUFFICIENT_MEMORY"],
    ),
    (
        (
            "0/6 nodes are available: 1 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }, 5 node(s) didn't match Pod's node "
            "affinity/selector."
        ),
        FLEET,
        None,
        ["SELECTOR_MISMATCH"],
    ),
    (
        (
            "0/3 nodes are available: 3 node(s) had taint {dedicated: gpu}, that the pod didn't "
            "tolerate."
        ),
        FLEET,
        None,
        ["UNTOLERATED_TAINT"],
    ),
    ("0/2 nodes are available: 2 node(s) were unschedulable.", FLEET, None, ["CORDONED"]),
    ("0/2 nodes are available: 2 Too many pods.", FLEET, None, ["TOO_MANY_PODS"]),
    (
        "0/5 nodes are unavailable: 5 Insufficient nvidia.com/gpu.shared.",
        FLEET,
        None,
        ["NO_GPU_POOL"],
    ),
    (
        (
            "3/3 tasks in gang unschedulable: pod group is not ready, 3 Pending, 3 minAvailable; "
            "Pending: 3 Unschedulable"
        ),
        FLEET,
        None,
        ["GANG_NOT_READY"],
    ),
    (
        (
            "couldn't assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu in "
            "flavor h100, 8 more needed"
        ),
        FLEET,
        None,
        ["KUEUE_QUOTA"],
    ),
    (
        (
            "couldn't assign flavors to pod set main: insufficient quota for nvidia.com/gpu in flavor "
            "h100, request > maximum capacity (16 > 8)"
        ),
        FLEET,
        None,
        ["KUEUE_QUOTA_TOO_SMALL"],
    ),
    (
        (
            "couldn't assign flavors to pod set main: resource nvidia.com/mig-1g.10gb unavailable in "
            "ClusterQueue"
        ),
        FLEET,
        None,
        ["KUEUE_NO_RESOURCE"],
    ),
    (
        "0/1 nodes are available: 1 node(s) had volume node affinity conflict.",
        FLEET,
        None,
        ["NODES_UNAVAILABLE"],
    ),
    ("something new the scheduler says", FLEET, None, ["UNRECOGNISED"]),
]


@pytest.mark.parametrize(
    ("message", "fleet", "requests", "codes"),
    CASES,
    ids=[c[3][0].lower() + f"-{i}" for i, c in enumerate(CASES)],
)
def test_codes(message, fleet, requests, codes):
    assert [a.code for a in explain_scheduling(message, fleet, requests=requests)] == codes


def test_insufficient_mig_names_the_layouts_and_pools():
    (advice, _) = explain_scheduling(CASES[0][0], FLEET)
    assert advice.message == (
        "no node has a free nvidia.com/mig-1g.10gb (3 nodes lack one); the fleet's MIG layouts "
        "are h100-mig (H100-80GB, all-balanced: 2x 1g.10gb + 1x 2g.20gb + 1x 3g.40gb per GPU, "
        "16 GPUs); pools offering it: h100-mig (32 in all); consider waiting for running pods to "
        "release them, another profile from these layouts, or moving more nodes to a layout "
        "with 1g.10gb (nvidia.com/mig.config; gpukit mig layouts lists them)"
    )


def test_a_profile_no_layout_has_lists_what_the_fleet_offers():
    (advice,) = explain_scheduling(CASES[1][0], FLEET)
    assert "no MIG layout in the fleet has 1g.5gb" in advice.message
    assert (
        "consider requesting one of nvidia.com/mig-1g.10gb, nvidia.com/mig-2g.20gb, "
        "nvidia.com/mig-3g.40gb"
    ) in advice.message


def test_whole_gpus_too_many_for_one_node():
    (advice,) = explain_scheduling(CASES[3][0], FLEET, requests={"nvidia.com/gpu": 16})
    assert advice.message.startswith(
        "the pod asks for 16 nvidia.com/gpu but the largest node "
        "offers 8; spread the work over more pods"
    )


def test_without_a_fleet_the_advice_points_to_discover():
    (advice, _) = explain_scheduling(CASES[0][0], None)
    assert advice.code == "INSUFFICIENT_MIG" and "gpukit discover" in advice.message


def test_taint_advice_shows_key_and_value():
    (advice,) = explain_scheduling(CASES[7][0], FLEET)
    assert advice.message.startswith(
        "3 nodes carry taint dedicated=gpu that the pod does not tolerate"
    )


@given(st.text(max_size=300))
def test_any_message_gives_advice_and_never_raises(message):
    advice = explain_scheduling(message, FLEET)
    assert bool(advice) == bool(message.strip())
    assert all(a.message for a in advice)
    assert len(advice) == len({a for a in advice})


@given(
    st.lists(
        st.tuples(
            st.integers(1, 99),
            st.sampled_from(
                [
                    "Insufficient nvidia.com/gpu",
                    "Insufficient nvidia.com/mig-3g.40gb",
                    "Insufficient cpu",
                    "node(s) were unschedulable",
                    "node(s) didn't match Pod's node affinity/selector",
                    "node(s) had untolerated taint {nvidia.com/gpu: present}",
                ]
            ),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda item: item[1],
    )
)
def test_every_listed_reason_is_explained(items):
    message = "0/9 nodes are available: " + ", ".join(f"{n} {r}" for n, r in items) + "."
    codes = [a.code for a in explain_scheduling(message, FLEET)]
    assert "UNRECOGNISED" not in codes and "NODES_UNAVAILABLE" not in codes
    assert len(codes) == len(items)
