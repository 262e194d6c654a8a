"""Fixes compose: several fixable findings on one object, fixed together, re-lint clean."""

from __future__ import annotations

import copy
import os
import tempfile
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpukit.fleet import default_fleet
from gpukit.lint import MAX_ROUNDS, fix_objects, fix_text, lint, write_fixes
from gpukit.workload import Workload

GPU = "nvidia.com/gpu"
MIG = "nvidia.com/mig-1g.10gb"  # what plan() picks on the default fleet for 4 GiB
TOLERATION = {"key": GPU, "operator": "Exists", "effect": "NoSchedule"}
FLEET = default_fleet()
SMALL = Workload(name="small", kind="inference", gpu_memory="4Gi")


def small_deployment(requests: dict[str, Any] | None, limits: dict[str, Any] | None,
                     hint: str | None = "4Gi") -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests is not None:
        resources["requests"] = {"cpu": "1", "memory": "4Gi", **requests}
    if limits is not None:
        resources["limits"] = limits
    meta: dict[str, Any] = {"name": "small"}
    if hint:
        meta["annotations"] = {"gpukit.io/gpu-memory": hint}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "small"}},
                     "template": {"metadata": {"labels": {"app": "small"}},
                                  "spec": {"tolerations": [TOLERATION], "containers": [
                                      {"name": "server", "image": "vllm/vllm-openai:v0.6.3",
                                       "resources": resources}]}}}}


def resources_of(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]["resources"]


def gpu_part(section: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (section or {}).items() if k.startswith("nvidia.com/")}


# (id, requests, limits, memory hint, lint context, GPU requests and limits after the fix)
COMBINED = [
    ("requests-only-annotation", {GPU: 1}, None, "4Gi", {"fleet": FLEET}, {MIG: 1}, {MIG: 1}),
    ("requests-only-workloads", {GPU: 1}, None, None, {"fleet": FLEET, "workloads": [SMALL]},
     {MIG: 1}, {MIG: 1}),
    ("request-2-limit-1", {GPU: 2}, {GPU: 1}, "4Gi", {"fleet": FLEET}, {MIG: 1}, {MIG: 1}),
    ("request-1-limit-2-stays-whole", {GPU: 1}, {GPU: 2}, "4Gi", {"fleet": FLEET}, {GPU: 2}, {GPU: 2}),
    ("half-gpu-requests-only", {GPU: "0.5"}, None, "4Gi", {"fleet": FLEET}, {MIG: "1"}, {MIG: "1"}),
]


@pytest.mark.parametrize(("requests", "limits", "hint", "context", "want_requests", "want_limits"),
                         [c[1:] for c in COMBINED], ids=[c[0] for c in COMBINED])
def test_gpu001_and_gpu007_fixed_together(requests, limits, hint, context, want_requests,
                                          want_limits) -> None:
    obj = small_deployment(requests, limits, hint)
    before = lint([obj], **context)
    fixed = fix_objects([obj], before)[0]
    assert gpu_part(resources_of(fixed).get("requests")) == want_requests
    assert gpu_part(resources_of(fixed).get("limits")) == want_limits
    after = {f.rule for f in lint([fixed], **context)}
    assert not after & {"GPU001", "GPU002", "GPU003", "GPU007"}, after
    assert obj == small_deployment(requests, limits, hint), "fix_objects changed its input"


@pytest.mark.parametrize(("context", "says"), [
    ({}, "lint with the cluster's fleet (--fleet FLEET.yaml)"),
    ({"fleet": "default"}, "judged on gpukit's default fleet, not your cluster: no fix is offered"),
], ids=["no-fleet", "default-fleet-assumed"])
def test_gpu007_needs_a_fleet_for_its_fix(context, says) -> None:
    # Once, lint with no fleet rewrote nvidia.com/gpu to the default fleet's MIG slice and
    # pinned its H100 pool: a fix made of facts about a cluster the user never described.
    obj = small_deployment({GPU: 1}, {GPU: 1}, "4Gi")
    (finding,) = [f for f in lint([obj], **context) if f.rule == "GPU007"]
    assert not finding.fixable and says in finding.message
    fixed = fix_objects([obj], lint([obj], **context))[0]
    assert gpu_part(resources_of(fixed)["limits"]) == {GPU: 1}
    assert "nodeSelector" not in fixed["spec"]["template"]["spec"]


def test_gpu007_fix_with_a_fleet_names_it() -> None:
    obj = small_deployment({GPU: 1}, {GPU: 1}, "4Gi")
    (finding,) = [f for f in lint([obj], fleet=FLEET) if f.rule == "GPU007"]
    assert finding.fixable and f"on fleet {FLEET.name!r} gpukit plans MIG 1g.10gb" in finding.message


def test_gpu001_and_gpu007_fixed_together_in_a_file(tmp_path) -> None:
    obj = small_deployment({GPU: 1}, None)
    text = "# serving, sized by annotation\n" + yaml.safe_dump(obj, sort_keys=False).replace(
        "replicas: 1", "replicas: 1  # one is enough")
    (tmp_path / "in.yaml").write_text(text)
    findings = lint(tmp_path / "in.yaml", FLEET)
    assert {"GPU001", "GPU007"} <= {f.rule for f in findings if f.fixable}
    written = write_fixes(findings, tmp_path / "out", {str(tmp_path / "in.yaml"): text})
    new = written[str(tmp_path / "in.yaml")].read_text()
    assert "# serving, sized by annotation" in new and "# one is enough" in new
    fixed = yaml.safe_load(new)
    assert gpu_part(resources_of(fixed)["requests"]) == gpu_part(resources_of(fixed)["limits"]) == {MIG: 1}
    assert not {f.rule for f in lint(written[str(tmp_path / "in.yaml")], FLEET) if f.fixable}


def test_a_rename_goes_before_a_set_of_the_same_key() -> None:
    # GPU023 renames the misspelt key; GPU022 would otherwise add the right key beside it.
    config = {"version": "v1", "sharing": {"timeSlicing": {
        "failRequestGreaterThanOne": True, "resources": [{"name": GPU, "replicas": 4}]}}}
    fixed = fix_objects([config], lint([config]))[0]
    assert fixed["sharing"]["timeSlicing"] == {"failRequestsGreaterThanOne": True,
                                               "resources": [{"name": GPU, "replicas": 4}]}
    assert not lint([fixed])


def test_a_fix_that_changes_nothing_is_not_retried(monkeypatch) -> None:
    from gpukit.lint import _fix

    calls = []
    real = _fix._apply_document

    def counting(root: Any, edits: Any, nested: Any) -> Any:
        calls.append(len(edits))
        return real(root, edits, nested)

    monkeypatch.setattr(_fix, "_apply_document", counting)
    # The edit addresses a place that is not a mapping: applying it changes nothing.
    obj = small_deployment({GPU: 1}, None)
    resources_of(obj)["limits"] = "broken"
    findings = lint([obj])
    fix_objects([obj], findings)
    assert 0 < len(calls) < MAX_ROUNDS


NESTED = """\
# device plugin config for L4 nodes
version: v1
sharing:
  timeSlicing:
    failRequestGreaterThanOne: true   # misspelt on purpose
    resources:
      - name: nvidia.com/gpu   # the only resource
        replicas: 4
"""


def test_nested_config_keeps_its_comments_in_objects_and_files(tmp_path) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dp"}, "data": {"l4": NESTED}}
    fixed = fix_objects([cm], lint([cm]))[0]["data"]["l4"]
    path = tmp_path / "cm.yaml"
    path.write_text("# outer comment\n" + yaml.safe_dump(cm, sort_keys=False, width=4096))
    in_file = yaml.safe_load(fix_text(path.read_text(), lint(path)))["data"]["l4"]
    for new in (fixed, in_file):
        for comment in ("# device plugin config for L4 nodes", "# misspelt on purpose", "# the only resource"):
            assert comment in new, (comment, new)
        assert "failRequestsGreaterThanOne: true" in new and "failRequestGreaterThanOne" not in new
    assert not lint([{**cm, "data": {"l4": fixed}}])


# --------------------------------------------------------------------------- the property

_OTHERS = [
    {"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "LocalQueue",
     "metadata": {"name": "team-vision", "namespace": "team-vision"}},
]


@st.composite
def defective(draw: st.DrawFn) -> dict[str, Any]:
    """One object with any mix of the defects that fixable rules fire on."""
    kind = draw(st.sampled_from(["Pod", "Deployment", "Job", "PyTorchJob", "VolcanoJob", "ConfigMap",
                                 "DevicePlugin", "OperatorValues"]))
    if kind in ("ConfigMap", "DevicePlugin"):
        config: dict[str, Any] = {}
        if draw(st.booleans()):
            config["version"] = draw(st.sampled_from(["v1", "v2", 1]))
        if draw(st.booleans()):
            config["flags"] = {draw(st.sampled_from(["migStrategy", "migStrategi"])):
                               draw(st.sampled_from(["none", "single", "mixed"]))}
        slicing: dict[str, Any] = {"resources": [{"name": GPU, "replicas": draw(st.integers(2, 8))}]}
        for key in draw(st.lists(st.sampled_from(["failRequestsGreaterThanOne", "failRequestGreaterThanOne",
                                                   "renameByDefault", "renameByDefualt"]), unique=True)):
            slicing[key] = draw(st.booleans())
        config["sharing"] = {draw(st.sampled_from(["timeSlicing", "timeSlicing", "timeslicing"])): slicing}
        if kind == "DevicePlugin":
            return config
        text = yaml.safe_dump(config, sort_keys=False)
        if draw(st.booleans()):
            text = "# per-node config\n" + text
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dp"}, "data": {"cfg": text}}
    if kind == "OperatorValues":
        return {"operator": {}, "dcgmExporter": {"enabled": draw(st.booleans())}}
    name = draw(st.sampled_from([GPU, GPU, "nvidia.com/mig-1g.10gbb", MIG, "nvidia.com/gpu.shared"]))
    amounts = st.sampled_from([None, 1, 2, "1", "2", "0.5", 0.5, 1.5])
    requests, limits = draw(amounts), draw(amounts)
    resources: dict[str, Any] = {}
    if requests is not None:
        resources["requests"] = {name: requests}
    if limits is not None:
        resources["limits"] = {name: limits}
    if draw(st.booleans()):
        resources.setdefault("requests", {}).update({"cpu": "2", "memory": "8Gi"})
    containers: list[dict[str, Any]] = [{"name": "main", "image": "nvcr.io/nvidia/pytorch:24.05-py3",
                                         "command": ["torchrun"], "resources": resources}]
    if draw(st.booleans()):
        containers.append({"name": "side", "image": "busybox:1.36",
                           "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]})
    spec: dict[str, Any] = {"containers": containers}
    if draw(st.booleans()):
        spec["tolerations"] = [TOLERATION]
    if draw(st.booleans()):
        spec["volumes"] = [{"name": "dshm", "emptyDir": {"medium": "Memory"}}]
        containers[0]["volumeMounts"] = [{"name": "dshm", "mountPath": "/dev/shm"}]
    if draw(st.booleans()):
        spec["nodeSelector"] = {"nvidia.com/gpu.sharing-strategy": "time-slicing"}
    template: dict[str, Any] = {"spec": spec}
    hint = draw(st.sampled_from([None, "4Gi", "30Gi"]))
    if hint:
        template["metadata"] = {"annotations": {"gpukit.io/gpu-memory": hint}}
    meta: dict[str, Any] = {"name": "small", "namespace": "team-vision"}
    queue = draw(st.sampled_from([None, "team-vision", "team-visoin"]))
    if queue:
        meta["labels"] = {"kueue.x-k8s.io/queue-name": queue}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    if kind == "Deployment":
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {"replicas": 1, "template": template}}
    if kind == "Job":
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                "spec": {"parallelism": draw(st.integers(1, 3)), "completionMode": "Indexed",
                         "template": {**template, "spec": {**spec, "restartPolicy": "Never"}}}}
    if kind == "VolcanoJob":
        replicas = draw(st.integers(1, 4))
        return {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": meta,
                "spec": {"schedulerName": "volcano", "minAvailable": draw(st.integers(1, 6)),
                         "tasks": [{"name": "w", "replicas": replicas,
                                    "minAvailable": draw(st.integers(1, 6)), "template": template}]}}
    workers = {"replicas": draw(st.integers(1, 3)), "template": copy.deepcopy(template)}
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": meta,
            "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": template},
                                             "Worker": workers}}}


_CONTEXTS = st.sampled_from([{}, {"fleet": FLEET},
                             {"fleet": FLEET, "workloads": [SMALL]}])


def _check(before: list[Any], after: list[Any]) -> None:
    """No fixable finding left; no finding of a rule that was fixed everywhere; no new error.

    A rule that also had findings without a fix (a misspelt key whose right name is taken
    already) may still fire after the fix, at those places.
    """
    mine = [f for f in before if f.file == "<object 0>"]
    fixed_rules = {f.rule for f in mine if f.fixable} - {f.rule for f in mine if not f.fixable}
    left = [f for f in after if f.file == "<object 0>"]
    assert not any(f.fixable for f in left), [str(f) for f in left if f.fixable]
    assert not fixed_rules & {f.rule for f in left}, [str(f) for f in left]
    errors_before = {f.rule for f in mine if f.severity == "error"}
    new_errors = {f.rule for f in left if f.severity == "error"} - errors_before
    assert not new_errors, [str(f) for f in left if f.rule in new_errors]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(defective(), _CONTEXTS)
def test_fixes_on_one_object_compose(obj: dict[str, Any], context: dict[str, Any]) -> None:
    objects = [obj, *_OTHERS]
    before = lint(objects, **context)
    fixed = fix_objects(objects, before)
    _check(before, lint(fixed, **context))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(defective(), _CONTEXTS)
def test_fixes_on_one_object_compose_in_a_file(obj: dict[str, Any], context: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "in.yaml")
        with open(path, "w", encoding="utf-8") as out:
            out.write(yaml.safe_dump_all([obj, *_OTHERS], sort_keys=False))
        texts: dict[str, str] = {}
        findings = lint(path, **context, texts=texts)
        new = write_fixes(findings, os.path.join(folder, "out"), texts)
        after = lint(new.get(path, path), **context)
        _check(_first(findings), _first(after))


def _first(findings: list[Any]) -> list[Any]:
    """The findings in a file's first document, as if that document was object 0."""
    return [f.model_copy(update={"file": "<object 0>"}) for f in findings if f.document == 0]
