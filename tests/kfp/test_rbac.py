"""The launcher's RBAC: valid objects, least privilege, and every kind it submits covered."""

import pytest

import gpukit as gk
from gpukit.kfp.rbac import LAUNCHER_RULES, launcher_rbac
from gpukit.validate import validate_objects


def _allowed(group: str, resource: str, verb: str) -> bool:
    return any(
        group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]
        for rule in LAUNCHER_RULES
    )


def test_rbac_objects_validate_and_bind_the_role_to_the_account():
    sa, role, binding = launcher_rbac("team-nlp")
    assert not validate_objects([sa, role, binding])
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": "team-nlp"}]


def test_the_launcher_can_never_delete_or_escalate():
    verbs = {v for rule in LAUNCHER_RULES for v in rule["verbs"]}
    assert not verbs & {"delete", "deletecollection", "escalate", "bind", "impersonate", "*"}
    assert all("*" not in rule["resources"] and "*" not in rule["apiGroups"] for rule in LAUNCHER_RULES)


WORKLOADS = [
    pytest.param(gk.Workload(name="ddp", kind="training", workers=2, gpus=8, team="team-research"), id="volcano-job"),
    pytest.param(gk.Workload(name="ft", kind="fine-tuning", gpu_memory="20Gi", team="team-nlp"), id="kueue-job"),
    pytest.param(gk.Workload(name="ci", kind="ci", gpu_memory="2Gi"), id="job"),
]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_object_the_launcher_applies_is_allowed(workload):
    for obj in gk.render(gk.plan(workload)):
        group = obj["apiVersion"].rpartition("/")[0]
        plural = {"Job": "jobs", "Service": "services", "PodGroup": "podgroups"}.get(obj["kind"], obj["kind"].lower() + "s")
        assert _allowed(group, plural, "patch"), f"{obj['kind']} in {group!r} is not allowed"
