"""Every real example under tests/reference/examples against the validator.

Each example whose kind gpukit knows must pass; a broken copy of each (wrong type,
unknown field, missing required field) must fail at the right path. The two real examples
that fail are listed with the reason and the exact finding.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

from gpukit.validate import Validator, default_validator
from gpukit.validate._files import load_manifests
from tests._reference import EXAMPLES, crd_names, crd_text

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # 12 MB of CRD YAML


def _documents() -> list[tuple[str, Any]]:
    """(id 'project/file.yaml#doc', object) for every document that names apiVersion and kind."""
    if not EXAMPLES.is_dir():
        return []
    found = []
    for path in sorted(EXAMPLES.glob("*/*.yaml")):
        for doc in load_manifests(path)[1]:
            if isinstance(doc.data, dict) and "apiVersion" in doc.data and "kind" in doc.data:
                found.append((f"{path.parent.name}/{path.name}#{doc.index}", doc.data))
    return found


DOCUMENTS = _documents()
needs_reference = pytest.mark.skipif(not DOCUMENTS, reason="tests/reference/examples not found")

# Real examples that are not valid objects, with what the validator must say about them.
KNOWN_INVALID = {
    # The Kueue LWS sample requests nvidia.com/gpu with no limit. Pods may not overcommit
    # extended resources: the API server rejects each worker pod ("Limit must be set for
    # non overcommitable resources"), so the LeaderWorkerSet never gets its workers.
    "kueue/serving-sample-leaderworkerset-tas.yaml#0": (
        "pod",
        "spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].resources.limits[nvidia.com/gpu]",
    ),
    # A template, not an object: the GPU Operator fills metadata.namespace in at install.
    "mig-parted/gpu-operator-default-mig-parted-config.yaml#0": ("name", "metadata.namespace"),
}

# Kinds in the examples whose CRD gpukit does not vendor: reported, never passed.
NOT_VENDORED = {
    "batch.volcano.sh/v1alpha1/CronJob",
    "flow.volcano.sh/v1alpha1/JobFlow",
    "flow.volcano.sh/v1alpha1/JobTemplate",
    "kubeflow.org/v1/MPIJob",
    "kubeflow.org/v1/PaddleJob",
    "kubeflow.org/v2beta1/MPIJob",
    "kueue.x-k8s.io/v1beta2/AdmissionCheck",
    "kueue.x-k8s.io/v1beta2/MultiKueueCluster",
    "kueue.x-k8s.io/v1beta2/MultiKueueConfig",
    "kueue.x-k8s.io/v1beta2/ProvisioningRequestConfig",
    "nvidia.com/v1alpha1/NVIDIADriver",
}


def _key(obj: dict[str, Any]) -> str:
    return f"{obj['apiVersion']}/{obj['kind']}"


def _errors(issues):
    return [i for i in issues if i.severity == "error"]


@pytest.fixture(scope="module")
def reference_crds() -> list[tuple[str, dict[str, Any]]]:
    """(file name, CRD) for every reference CRD, parsed once (12 MB of YAML)."""
    return [
        (name, doc)
        for name in crd_names()
        for doc in yaml.load_all(crd_text(name), Loader=_LOADER)
        if doc is not None
    ]


@pytest.fixture(scope="module")
def full_validator(reference_crds) -> Validator:
    """The vendored schemas plus every reference CRD, given at run time."""
    return Validator(crds=[crd for _, crd in reference_crds])


def test_the_examples_are_many_and_mostly_known():
    if not DOCUMENTS:
        pytest.skip("tests/reference/examples not found")
    known = [d for d in DOCUMENTS if _key(d[1]) not in NOT_VENDORED]
    assert len(DOCUMENTS) >= 150
    assert len(known) >= 120


@needs_reference
@pytest.mark.parametrize(("where", "obj"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_real_example(where, obj):
    issues = default_validator().validate(obj)
    if _key(obj) in NOT_VENDORED:
        assert [i.code for i in issues] == ["unknown-kind"]
        assert issues[0].severity == "error"
        return
    found = [(i.code, i.path) for i in _errors(issues)]
    expected = [KNOWN_INVALID[where]] if where in KNOWN_INVALID else []
    assert found == expected, [str(i) for i in issues]


@needs_reference
def test_unknown_kinds_are_exactly_the_unvendored_crds():
    unknown = {
        _key(obj)
        for _, obj in DOCUMENTS
        if any(i.code == "unknown-kind" for i in default_validator().validate(obj))
    }
    assert unknown == NOT_VENDORED


@needs_reference
def test_every_example_passes_with_all_reference_crds_loaded(full_validator):
    # The same engine on every CRD of the reference set, given at run time (--crd).
    failures = {}
    for where, obj in DOCUMENTS:
        found = [(i.code, i.path) for i in _errors(full_validator.validate(obj))]
        if found != ([KNOWN_INVALID[where]] if where in KNOWN_INVALID else []):
            failures[where] = found
    # PaddleJob's CRD is not in the reference set.
    assert failures == {
        "kubeflow-training-operator/paddle-simple-gpu.yaml#0": [("unknown-kind", "")]
    }


@needs_reference
def test_every_reference_crd_is_a_valid_custom_resource_definition(reference_crds):
    # Exercises the core schema on the largest documents there are.
    assert len(reference_crds) == 35
    for name, crd in reference_crds:
        assert default_validator().validate(crd) == [], name


# -- broken copies ---------------------------------------------------------------------------


def _loose(path: str) -> str:
    # Map keys print as [key]; the mutation helper cannot tell map keys from fields.
    return re.sub(r"\[([^\]0-9][^\]]*)\]", r".\1", path)


def _first_container(obj: Any, path: str = "") -> tuple[dict[str, Any], str] | None:
    """The first container (depth first, in document order) and its path."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            here = f"{path}.{key}" if path else key
            if (
                key in ("containers", "initContainers")
                and value
                and isinstance(value, list)
                and (isinstance(value[0], dict))
            ):
                return value[0], f"{here}[0]"
            found = _first_container(value, here)
            if found:
                return found
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            found = _first_container(value, f"{path}[{index}]")
            if found:
                return found
    return None


def _broken_copies(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any], str, str]]:
    """(mutation, broken copy, expected code, expected path) for one object."""
    out = []
    container = _first_container(obj)
    # wrong type
    broken = copy.deepcopy(obj)
    if container:
        target, at = _first_container(broken)  # type: ignore[misc]
        target["image"] = ["not", "a", "string"]
        out.append(("wrong-type", broken, "type", f"{at}.image"))
    elif isinstance(broken.get("spec"), dict):
        broken["spec"] = "not an object"
        out.append(("wrong-type", broken, "type", "spec"))
    else:
        broken.setdefault("metadata", {})["labels"] = "not an object"
        out.append(("wrong-type", broken, "type", "metadata.labels"))
    # unknown field
    broken = copy.deepcopy(obj)
    if container:
        target, at = _first_container(broken)  # type: ignore[misc]
        target["imagePullPolice"] = "Always"
        out.append(("unknown-field", broken, "unknown-field", f"{at}.imagePullPolice"))
    elif isinstance(broken.get("spec"), dict):
        broken["spec"]["notAField"] = 1
        out.append(("unknown-field", broken, "unknown-field", "spec.notAField"))
    else:
        broken["notAField"] = 1
        out.append(("unknown-field", broken, "unknown-field", "notAField"))
    # missing required field
    broken = copy.deepcopy(obj)
    if container:
        target, at = _first_container(broken)  # type: ignore[misc]
        del target["name"]
        out.append(("missing-required", broken, "required", f"{at}.name"))
    else:
        broken["metadata"].pop("name", None)
        broken["metadata"].pop("generateName", None)
        out.append(("missing-required", broken, "required", "metadata.name"))
    return out


BROKEN = [
    (f"{where}:{mutation}", broken, code, path)
    for where, obj in DOCUMENTS
    if _key(obj) not in NOT_VENDORED
    for mutation, broken, code, path in _broken_copies(obj)
]


@needs_reference
@pytest.mark.parametrize(("case", "broken", "code", "path"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_copy_fails_at_the_right_path(case, broken, code, path):
    issues = default_validator().validate(broken)
    found = {(i.code, _loose(i.path)) for i in _errors(issues)}
    assert (code, _loose(path)) in found, [str(i) for i in issues]


@needs_reference
def test_broken_copies_cover_containers_in_every_workload_kind():
    # The mutations reach pod templates inside every workload CRD, not just the top.
    deep = {b[0].split(":")[0] for b in BROKEN if "containers[0]" in b[3]}
    kinds = {_key(obj) for where, obj in DOCUMENTS if where in deep}
    for kind in (
        "v1/Pod",
        "apps/v1/Deployment",
        "batch/v1/Job",
        "batch.volcano.sh/v1alpha1/Job",
        "kubeflow.org/v1/PyTorchJob",
        "trainer.kubeflow.org/v1alpha1/ClusterTrainingRuntime",
        "jobset.x-k8s.io/v1alpha2/JobSet",
        "leaderworkerset.x-k8s.io/v1/LeaderWorkerSet",
        "ray.io/v1/RayCluster",
        "ray.io/v1/RayJob",
    ):
        assert kind in kinds
