"""The validator's rules, one table row each: what is reported, where, and what passes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gpukit.errors import ManifestError
from gpukit.validate import Issue, Validator, validate, validate_objects, with_defaults
from gpukit.validate._schema import _compile_pattern


def pod(containers: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "team-a"},
        "spec": {"containers": containers or [{"name": "c", "image": "busybox"}], **spec},
    }


def gpu_container(resources: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    return [{"name": "c", "image": "cuda", "resources": resources, **extra}]


def cluster_queue(spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "ClusterQueue",
        "metadata": {"name": "gpu", **meta},
        "spec": spec
        if spec is not None
        else {
            "namespaceSelector": {},
            "resourceGroups": [
                {
                    "coveredResources": ["nvidia.com/gpu"],
                    "flavors": [
                        {
                            "name": "a100",
                            "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 8}],
                        }
                    ],
                }
            ],
        },
    }


def pytorch_job(worker: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "train"},
        "spec": {
            "pytorchReplicaSpecs": {
                "Worker": {"replicas": 2, "template": {"spec": {"containers": [worker]}}}
            }
        },
    }


def edit(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of obj with the dotted path set (list indices as numbers)."""
    out = copy.deepcopy(obj)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is _DELETE:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return out


_DELETE = object()


def errors(obj: Any) -> list[tuple[str, str]]:
    return [(i.code, i.path) for i in validate(obj) if i.severity == "error"]


VALID = {
    "pod": pod(),
    "pod-whole-gpu": pod(gpu_container({"limits": {"nvidia.com/gpu": 1}})),
    "pod-gpu-requests-equal-limits": pod(
        gpu_container({"limits": {"nvidia.com/gpu": "2"}, "requests": {"nvidia.com/gpu": 2}})
    ),
    "pod-mig-and-quantities": pod(
        gpu_container(
            {
                "limits": {"nvidia.com/mig-1g.10gb": 1, "memory": "6Gi", "cpu": 0.5},
                "requests": {"memory": "6442450944", "cpu": "500m"},
            }
        )
    ),
    "pod-shm-volume": pod(
        gpu_container({}, volumeMounts=[{"name": "dshm", "mountPath": "/dev/shm"}]),
        volumes=[{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}}],
    ),
    "pod-null-fields-dropped": edit(pod(), "metadata.creationTimestamp", None),
    "pod-generate-name": edit(pod(), "metadata", {"generateName": "train-"}),
    "service-int-or-string": {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc"},
        "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]},
    },
    "role-name-with-colon": {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "system:gpu-reader"},
        "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}],
    },
    "secret-base64": {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"token": "aGVsbG8="},
    },
    "resource-claim-template-dra-v1": {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceClaimTemplate",
        "metadata": {"name": "one-gpu"},
        "spec": {
            "spec": {
                "devices": {
                    "requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu.nvidia.com"}}]
                }
            }
        },
    },
    "device-class": {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "DeviceClass",
        "metadata": {"name": "mig.nvidia.com"},
        "spec": {"selectors": [{"cel": {"expression": "device.driver == 'gpu.nvidia.com'"}}]},
    },
    "priority-class": {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "gpu-high"},
        "value": 1000,
    },
    "cluster-queue": cluster_queue(),
    "cluster-queue-quota-as-string": edit(
        cluster_queue(), "spec.resourceGroups.0.flavors.0.resources.0.nominalQuota", "8"
    ),
    "pytorchjob-gpu": pytorch_job(
        {"name": "pytorch", "image": "pt", "resources": {"limits": {"nvidia.com/gpu": 8}}}
    ),
    "list-of-objects": {"apiVersion": "v1", "kind": "List", "items": [pod(), cluster_queue()]},
}


@pytest.mark.parametrize("obj", VALID.values(), ids=VALID.keys())
def test_valid(obj):
    assert validate(obj) == []


INVALID = {
    # type, required, unknown field
    "unknown-field-typo": (
        edit(pod(), "spec.containers.0.resourses", {}),
        ("unknown-field", "spec.containers[0].resourses"),
    ),
    "unknown-top-level-field": (edit(pod(), "extra", 1), ("unknown-field", "extra")),
    "unknown-metadata-field": (
        edit(pod(), "metadata.lables", {}),
        ("unknown-field", "metadata.lables"),
    ),
    "missing-containers": (
        edit(pod(), "spec.containers", _DELETE),
        ("required", "spec.containers"),
    ),
    "wrong-type-string": (
        edit(pod(), "spec.containers.0.image", 3),
        ("type", "spec.containers[0].image"),
    ),
    "wrong-type-bool-for-int": (
        edit(pod(), "spec.terminationGracePeriodSeconds", True),
        ("type", "spec.terminationGracePeriodSeconds"),
    ),
    "null-list-item": (edit(pod(), "spec.containers", [None]), ("null", "spec.containers[0]")),
    "int32-overflow": (
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {
                "replicas": 2**31,
                "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": pod()["spec"]},
            },
        },
        ("format", "spec.replicas"),
    ),
    "int-or-string-float": (
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "svc"},
            "spec": {"ports": [{"port": 80, "targetPort": 1.5}]},
        },
        ("type", "spec.ports[0].targetPort"),
    ),
    "quantity-bad-suffix": (
        pod(gpu_container({"limits": {"memory": "6GB"}})),
        ("format", "spec.containers[0].resources.limits[memory]"),
    ),
    "not-base64": (
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"t": "not base64!"},
        },
        ("format", "data[t]"),
    ),
    # metadata
    "missing-name": (edit(pod(), "metadata", {}), ("required", "metadata.name")),
    "missing-metadata": (edit(pod(), "metadata", _DELETE), ("required", "metadata.name")),
    "uppercase-name": (edit(pod(), "metadata.name", "Train"), ("name", "metadata.name")),
    "service-name-starts-with-digit": (
        edit(VALID["service-int-or-string"], "metadata.name", "1svc"),
        ("name", "metadata.name"),
    ),
    "namespace-with-dot": (
        edit(pod(), "metadata.namespace", "team.a"),
        ("name", "metadata.namespace"),
    ),
    "bad-label-key": (
        edit(pod(), "metadata.labels", {"-bad": "x"}),
        ("name", "metadata.labels[-bad]"),
    ),
    "bad-label-value": (
        edit(pod(), "metadata.labels", {"team": "a b"}),
        ("name", "metadata.labels[team]"),
    ),
    "crd-object-name": (cluster_queue(name="GPU_Queue"), ("name", "metadata.name")),
    "crd-template-label": (
        edit(
            pytorch_job({"name": "pytorch", "image": "pt"}),
            "spec.pytorchReplicaSpecs.Worker.template.metadata",
            {"labels": {"a": "b c"}},
        ),
        ("name", "spec.pytorchReplicaSpecs[Worker].template.metadata.labels[a]"),
    ),
    # CRD schema keywords
    "crd-enum": (
        edit(cluster_queue(), "spec.queueingStrategy", "StrictFifo"),
        ("enum", "spec.queueingStrategy"),
    ),
    "crd-quantity-pattern": (
        edit(cluster_queue(), "spec.resourceGroups.0.flavors.0.resources.0.nominalQuota", "8 GPUs"),
        ("pattern", "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota"),
    ),
    "crd-quantity-float": (
        edit(cluster_queue(), "spec.resourceGroups.0.flavors.0.resources.0.nominalQuota", 0.5),
        ("type", "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota"),
    ),
    "crd-required-in-list-item": (
        edit(cluster_queue(), "spec.resourceGroups.0.coveredResources", _DELETE),
        ("required", "spec.resourceGroups[0].coveredResources"),
    ),
    "crd-list-map-duplicate": (
        edit(
            cluster_queue(),
            "spec.resourceGroups.0.flavors.0.resources",
            [
                {"name": "nvidia.com/gpu", "nominalQuota": 8},
                {"name": "nvidia.com/gpu", "nominalQuota": 4},
            ],
        ),
        ("duplicate", "spec.resourceGroups[0].flavors[0].resources[1]"),
    ),
    "crd-max-items": (
        edit(
            cluster_queue(),
            "spec.resourceGroups",
            [cluster_queue()["spec"]["resourceGroups"][0]] * 17,
        ),
        ("length", "spec.resourceGroups"),
    ),
    "crd-minimum": (
        edit(
            pytorch_job({"name": "pytorch", "image": "pt"}), "spec.runPolicy", {"backoffLimit": "x"}
        ),
        ("type", "spec.runPolicy.backoffLimit"),
    ),
    "trainjob-num-nodes-type": (
        {
            "apiVersion": "trainer.kubeflow.org/v1alpha1",
            "kind": "TrainJob",
            "metadata": {"name": "t"},
            "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"numNodes": "two"}},
        },
        ("type", "spec.trainer.numNodes"),
    ),
    "crd-map-key-path": (
        edit(
            pytorch_job({"name": "pytorch", "image": "pt"}),
            "spec.pytorchReplicaSpecs.Worker.replicas",
            "2",
        ),
        ("type", "spec.pytorchReplicaSpecs[Worker].replicas"),
    ),
    # pod rules the API server enforces in Go
    "gpu-fraction": (
        pod(gpu_container({"limits": {"nvidia.com/gpu": 0.5}})),
        ("pod", "spec.containers[0].resources.limits[nvidia.com/gpu]"),
    ),
    "gpu-request-without-limit": (
        pod(gpu_container({"requests": {"nvidia.com/gpu": 1}})),
        ("pod", "spec.containers[0].resources.limits[nvidia.com/gpu]"),
    ),
    "gpu-request-differs-from-limit": (
        pod(gpu_container({"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 2}})),
        ("pod", "spec.containers[0].resources.requests[nvidia.com/gpu]"),
    ),
    "cpu-request-above-limit": (
        pod(gpu_container({"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}})),
        ("pod", "spec.containers[0].resources.requests[cpu]"),
    ),
    "unqualified-resource-name": (
        pod(gpu_container({"limits": {"gpu": 1}})),
        ("pod", "spec.containers[0].resources.limits[gpu]"),
    ),
    "duplicate-container-name": (
        pod([{"name": "c", "image": "a"}, {"name": "c", "image": "b"}]),
        ("pod", "spec.containers[1].name"),
    ),
    "container-name-not-a-label": (
        pod([{"name": "Trainer_1", "image": "a"}]),
        ("pod", "spec.containers[0].name"),
    ),
    "mount-of-missing-volume": (
        pod(gpu_container({}, volumeMounts=[{"name": "dshm", "mountPath": "/dev/shm"}])),
        ("pod", "spec.containers[0].volumeMounts[0].name"),
    ),
    "gpu-fraction-in-crd-template": (
        pytorch_job(
            {"name": "pytorch", "image": "pt", "resources": {"limits": {"nvidia.com/gpu": "500m"}}}
        ),
        (
            "pod",
            "spec.pytorchReplicaSpecs[Worker].template.spec.containers[0].resources.limits[nvidia.com/gpu]",
        ),
    ),
    # objects that are not objects
    "missing-kind": (edit(pod(), "kind", _DELETE), ("required", "kind")),
    "kind-not-a-string": (edit(pod(), "kind", 3), ("type", "kind")),
    "item-of-list": (
        {"apiVersion": "v1", "kind": "List", "items": [pod(), edit(pod(), "spec.x", 1)]},
        ("unknown-field", "spec.x"),
    ),
}


@pytest.mark.parametrize(("obj", "expected"), INVALID.values(), ids=INVALID.keys())
def test_invalid(obj, expected):
    found = errors(obj)
    assert expected in found, [str(i) for i in validate(obj)]


def test_messages_name_the_value_and_the_fix():
    (issue,) = validate(edit(pod(), "spec.containers.0.resourses", {}))
    assert issue.message.startswith("unknown field 'resourses' (did you mean 'resources'?)")
    (issue,) = validate(edit(cluster_queue(), "spec.queueingStrategy", "StrictFifo"))
    assert "did you mean 'StrictFIFO'" in issue.message
    assert issue.message.endswith('allowed: "StrictFIFO", "BestEffortFIFO"')
    quota = "spec.resourceGroups.0.flavors.0.resources.0.nominalQuota"
    (issue,) = validate(edit(cluster_queue(), quota, "8 GPUs"))
    assert issue.message == '"8 GPUs" is not a quantity (e.g. 8, 500m, 6Gi)'
    (issue,) = validate(edit(cluster_queue(), "metadata.labels", {"a": "b c"}))
    assert issue.message.startswith('label value "b c": must be empty or consist of')
    (issue,) = validate(pod(gpu_container({"limits": {"nvidia.com/gpu": 0.5}})))
    assert "whole number" in issue.message and "0.5" in issue.message


# -- kinds --------------------------------------------------------------------------------------

UNKNOWN = {
    "unknown-group": (
        {"apiVersion": "example.com/v1", "kind": "Widget"},
        "no schema for example.com/v1 Widget",
    ),
    "known-group-unknown-kind": (
        {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ClusterQueu"},
        "did you mean 'ClusterQueue'",
    ),
    "known-kind-unknown-version": (
        {"apiVersion": "kueue.x-k8s.io/v1", "kind": "ClusterQueue"},
        "known versions: kueue.x-k8s.io/v1beta1, kueue.x-k8s.io/v1beta2",
    ),
    "core-kind-in-wrong-group": (
        {"apiVersion": "v1", "kind": "Deployment"},
        "no kind 'Deployment'",
    ),
    "retired-api": ({"apiVersion": "extensions/v1beta1", "kind": "Deployment"}, "no schema"),
}


@pytest.mark.parametrize(("obj", "says"), UNKNOWN.values(), ids=UNKNOWN.keys())
def test_unknown_kinds_are_reported_never_passed(obj, says):
    obj = {**obj, "metadata": {"name": "x"}, "spec": {"anything": True}}
    (issue,) = validate(obj)
    assert issue.code == "unknown-kind" and issue.severity == "error"
    assert says in issue.message
    assert (issue.kind, issue.name) == (obj["kind"], "x")


@pytest.mark.parametrize("value", [[], "Pod", 3, None], ids=["list", "str", "int", "null"])
def test_a_document_that_is_not_an_object(value):
    (issue,) = validate(value)
    assert issue.code == "not-an-object"


def test_deprecated_version_is_a_warning():
    obj = cluster_queue()
    obj["apiVersion"] = "kueue.x-k8s.io/v1beta1"
    issues = validate(obj)
    assert [(i.severity, i.code) for i in issues] == [("warning", "deprecated-version")]


def test_namespace_on_a_cluster_scoped_kind_is_a_warning():
    issues = validate(cluster_queue(namespace="team-a"))
    assert [(i.severity, i.code, i.path) for i in issues] == [
        ("warning", "name", "metadata.namespace")
    ]
    priority = copy.deepcopy(VALID["priority-class"])
    priority["metadata"]["namespace"] = "default"
    assert [i.severity for i in validate(priority)] == ["warning"]


# -- defaults and nulls -------------------------------------------------------------------------


def test_defaults_are_applied_nested_and_only_where_missing():
    stored = with_defaults(cluster_queue())
    spec = stored["spec"]
    assert spec["queueingStrategy"] == "BestEffortFIFO"
    assert spec["stopPolicy"] == "None"
    # flavorFungibility defaults to {}, whose own fields then default in turn.
    assert spec["flavorFungibility"] == {
        "whenCanBorrow": "MayStopSearch",
        "whenCanPreempt": "TryNextFlavor",
    }
    assert spec["preemption"]["borrowWithinCohort"] == {"policy": "Never"}
    given = with_defaults(edit(cluster_queue(), "spec.queueingStrategy", "StrictFIFO"))
    assert given["spec"]["queueingStrategy"] == "StrictFIFO"


def test_defaults_satisfy_required_fields():
    # RayCluster worker groups require maxReplicas, which the CRD also defaults.
    cluster = {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": "r"},
        "spec": {
            "headGroupSpec": {
                "rayStartParams": {},
                "template": {"spec": {"containers": [{"name": "head", "image": "ray"}]}},
            },
            "workerGroupSpecs": [
                {
                    "groupName": "gpu",
                    "rayStartParams": {},
                    "template": {"spec": {"containers": [{"name": "w", "image": "ray"}]}},
                }
            ],
        },
    }
    assert validate(cluster) == []
    assert with_defaults(cluster)["spec"]["workerGroupSpecs"][0]["maxReplicas"] == 2147483647


def test_nulls_of_non_nullable_fields_are_dropped_or_defaulted():
    obj = cluster_queue()
    obj["spec"]["queueingStrategy"] = None  # null with a default: the default wins
    obj["spec"]["cohortName"] = None  # null without a default: dropped
    obj["metadata"]["labels"] = None
    assert validate(obj) == []
    stored = with_defaults(obj)
    assert stored["spec"]["queueingStrategy"] == "BestEffortFIFO"
    assert "cohortName" not in stored["spec"]
    assert "labels" not in stored["metadata"]


def test_a_required_field_given_as_null_is_missing():
    assert ("required", "spec.resourceGroups[0].coveredResources") in errors(
        edit(cluster_queue(), "spec.resourceGroups.0.coveredResources", None)
    )


def test_validation_does_not_change_the_input():
    obj = cluster_queue()
    obj["spec"]["cohortName"] = None
    before = copy.deepcopy(obj)
    validate(obj)
    with_defaults(obj)
    assert obj == before


def test_with_defaults_of_an_unknown_kind_raises():
    with pytest.raises(ManifestError, match="unknown|no schema"):
        with_defaults({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})


# -- CRD semantics with CRDs given at run time ----------------------------------------------


def widget_crd(schema: dict[str, Any], scope: str = "Namespaced") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": scope,
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def widget(spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": spec,
    }


SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 8, "default": 1},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "mixed": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {"known": {"type": "string"}},
                },
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "port": {
                    "anyOf": [{"type": "integer"}, {"type": "string"}],
                    "x-kubernetes-int-or-string": True,
                },
                "inner": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {
                        "metadata": {"type": "object"},
                        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    },
                },
                "note": {"type": "string", "nullable": True},
                "kind": {"type": "string", "pattern": "^(?i)[a-z]([-a-z0-9]*[a-z0-9])?$"},
                "tags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-list-type": "set",
                },
            },
        }
    },
}


@pytest.fixture(scope="module")
def widgets() -> Validator:
    return Validator(crds=[widget_crd(SCHEMA)])


CRD_CASES = {
    "defaulted-required": ({}, []),
    "preserve-unknown-fields": ({"free": {"anything": {"goes": [1, 2]}}}, []),
    "preserve-checks-declared-fields": (
        {"mixed": {"known": 1, "other": 2}},
        [("type", "spec.mixed.known")],
    ),
    "additional-properties": ({"env": {"A": "1", "B": 2}}, [("type", "spec.env[B]")]),
    "int-or-string": ({"port": "http"}, []),
    "int-or-string-rejects-bool": ({"port": True}, [("type", "spec.port")]),
    "embedded-resource": (
        {"inner": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"a": 1}}},
        [],
    ),
    "embedded-resource-needs-kind": (
        {"inner": {"apiVersion": "v1", "metadata": {"name": "x"}}},
        [("required", "spec.inner.kind")],
    ),
    "embedded-resource-metadata-is-objectmeta": (
        {
            "inner": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"nam": "x", "labels": {"a": "b"}},
            }
        },
        [("unknown-field", "spec.inner.metadata.nam")],
    ),
    "nullable-keeps-null": ({"note": None}, []),
    "re2-inline-flag-pattern": ({"kind": "Pod-Group"}, []),
    "re2-inline-flag-pattern-mismatch": ({"kind": "-x"}, [("pattern", "spec.kind")]),
    "list-set-duplicate": ({"tags": ["a", "b", "a"]}, [("duplicate", "spec.tags[2]")]),
    "maximum": ({"size": 9}, [("range", "spec.size")]),
    "unknown-field": ({"colour": "red"}, [("unknown-field", "spec.colour")]),
}


@pytest.mark.parametrize(("spec", "expected"), CRD_CASES.values(), ids=CRD_CASES.keys())
def test_crd_semantics(widgets, spec, expected):
    found = [(i.code, i.path) for i in widgets.validate(widget(spec))]
    assert found == expected


def test_nullable_null_is_kept_and_defaults_fill_in(widgets):
    stored = widgets.with_defaults(widget({"note": None}))
    assert stored["spec"] == {"note": None, "size": 1}


def test_a_given_crd_replaces_the_vendored_one():
    crd = widget_crd(
        {"type": "object", "properties": {"spec": {"type": "object"}}}, scope="Cluster"
    )
    crd["spec"]["group"] = "kueue.x-k8s.io"
    crd["spec"]["names"]["kind"] = "ClusterQueue"
    crd["spec"]["versions"][0]["name"] = "v1beta2"
    validator = Validator(crds=[crd])
    # The replacement's spec declares no fields, so the real queue's fields are unknown.
    codes = {i.code for i in validator.validate(cluster_queue())}
    assert codes == {"unknown-field"}
    # Versions the given CRD lacks are unknown, though gpukit vendors them.
    old = validator.validate({**cluster_queue(), "apiVersion": "kueue.x-k8s.io/v1beta1"})
    assert [i.code for i in old] == ["unknown-kind"]
    assert "known versions: kueue.x-k8s.io/v1beta2;" in old[0].message
    assert validate(cluster_queue()) == []  # the default validator is unaffected


@pytest.mark.parametrize(
    "bad",
    [{"kind": "ConfigMap"}, {**widget_crd(SCHEMA), "spec": {"group": "x"}}],
    ids=["not-a-crd", "incomplete-crd"],
)
def test_a_bad_crd_is_an_input_error(bad):
    with pytest.raises(ManifestError, match="CustomResourceDefinition|CRD"):
        Validator(crds=[bad])


@pytest.mark.parametrize(
    ("pattern", "matches", "rejects"),
    [
        ("^(?i)[a-z]+$", "AbC", "a1"),
        (r"^a\z", "a", "ab"),
        ("^[a-z]+$", "abc", "ABC"),
    ],
)
def test_re2_patterns_translate(pattern, matches, rejects):
    compiled = _compile_pattern(pattern)
    assert compiled is not None
    assert compiled.search(matches) and not compiled.search(rejects)


# -- many objects ---------------------------------------------------------------------------


def test_validate_objects_reports_positions():
    issues = validate_objects([pod(), edit(pod(), "spec.x", 1), "junk"])
    assert [(i.doc, i.code) for i in issues] == [(1, "unknown-field"), (2, "not-an-object")]


def test_issue_text_names_file_object_path():
    issue = Issue(
        code="type",
        message="expected string",
        path="spec.x",
        kind="Pod",
        name="p",
        file="a.yaml",
        doc=2,
    )
    assert str(issue) == "a.yaml#2: Pod/p: spec.x: expected string"
    assert Issue(code="unknown-kind", message="m", severity="warning").object == "?"
