"""The integration registry: each component in one module, and one registry line is all it takes."""

from __future__ import annotations

import json
import sys
import types
import typing
from pathlib import Path

import pytest

import gpukit as gk
from gpukit import integrations, vocab
from gpukit.fleet import Installed
from gpukit.integrations import Detection, Integration, WireKind
from gpukit.manifests import workloads
from gpukit.manifests.kinds import ObjectKind
from gpukit.platform import render_platform
from gpukit.platform.files import PlatformFile

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "gpukit" / "validate" / "schemas" / "index.json"
WORKLOAD_FILES = sorted((ROOT / "examples" / "workloads").glob("*.yaml"))
FLEETS = ["default", "mig-single-mps", "dra", "kai", "no-volcano"]


# -- a dummy integration, registered the way a real one is ---------------------------------------

DUMMY_API = "dummy.example.com/v1"


def _render_dummy(plan):
    return [
        {
            "apiVersion": DUMMY_API,
            "kind": "DummyJob",
            "metadata": {"name": plan.name, "namespace": plan.namespace},
        }
    ]


def _dummy_files(pp):
    return [PlatformFile("dummy/queues.yaml", "Dummy queues.", ("for the test",), ("none",))]


DUMMY = Integration(
    name="dummy",
    title="Dummy",
    installed="dummy",
    detection=Detection(groups=("dummy.example.com",)),
    crds=("dummyjobs.dummy.example.com",),
    kinds=(WireKind(DUMMY_API, "DummyJob"),),
    renderers={"DummyJob": _render_dummy},
    platform=_dummy_files,
)


@pytest.fixture
def dummy_registered(monkeypatch):
    """The dummy module importable and its one line added to the registry."""
    module = types.ModuleType("dummy_integration")
    module.INTEGRATION = DUMMY  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dummy_integration", module)
    monkeypatch.setattr(integrations, "REGISTRY", (*integrations.REGISTRY, "dummy_integration"))
    return DUMMY


def test_a_registry_line_is_all_a_new_integration_needs(dummy_registered, fleet):
    assert integrations.get("dummy") is DUMMY
    assert integrations.integrations()[-1] is DUMMY
    # the renderer dispatch finds its renderer
    p = gk.plan(gk.Workload(name="w", kind="ci", gpu_memory="2Gi"))
    assert workloads.renderer("DummyJob")(p)[0]["kind"] == "DummyJob"
    # discovery's detection table carries it
    assert integrations.detect({"dummy.example.com"}, lambda g, r: False)["dummy"] is True
    assert integrations.installed_flags(set(), lambda g, r: False)["dummy"] is False
    # the platform bundle writes its files
    paths = [f.path for f in render_platform(fleet("default"), [])]
    assert paths[-1] == "dummy/queues.yaml"


def test_without_the_registry_line_it_is_nowhere(fleet):
    assert "dummy" not in {i.name for i in integrations.integrations()}
    with pytest.raises(gk.GpukitError, match="no renderer for object kind 'DummyJob'"):
        workloads.renderer("DummyJob")
    assert "dummy/queues.yaml" not in [f.path for f in render_platform(fleet("default"), [])]


def test_an_unknown_integration_names_the_registered_ones():
    with pytest.raises(KeyError, match="registered: gpu-operator, nvidia-dra, kueue"):
        integrations.get("seldon")


def test_two_integrations_of_one_name_are_refused(monkeypatch):
    module = types.ModuleType("kueue_again")
    module.INTEGRATION = Integration(name="kueue", title="Kueue again")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kueue_again", module)
    monkeypatch.setattr(integrations, "REGISTRY", (*integrations.REGISTRY, "kueue_again"))
    with pytest.raises(ValueError, match="repeated: kueue"):
        integrations.integrations()


# -- the registered integrations -----------------------------------------------------------------


def test_every_object_kind_has_one_renderer():
    kinds = typing.get_args(ObjectKind)
    owners = {
        kind: [i.name for i in integrations.integrations() if kind in i.renderers] for kind in kinds
    }
    for kind in kinds:
        core = kind in workloads.CORE_RENDERERS
        assert len(owners[kind]) + core == 1, (kind, owners[kind], core)
    registered = {k for i in integrations.integrations() for k in i.renderers}
    assert registered <= set(kinds)


def test_installed_fields_are_fleet_fields():
    fields = set(Installed.model_fields)
    for integration in integrations.integrations():
        assert integration.installed is None or integration.installed in fields, integration.name


def test_every_owned_crd_has_a_vendored_schema():
    vendored = {
        name.removesuffix(".json.gz").replace("_", ".", 1)
        for name in json.loads(SCHEMAS.read_text())["files"]
    }
    for integration in integrations.integrations():
        for crd in integration.crds:
            plural, _, group = crd.partition(".")
            assert f"{group}.{plural}" in vendored, crd


def _rendered_objects(fleet):
    for name in FLEETS:
        f = fleet(name)
        for path in WORKLOAD_FILES:
            for w in gk.load_workloads(path):
                try:
                    p = gk.plan(w, f)
                except gk.GpukitError:
                    continue
                yield from gk.render(p)
        for file in render_platform(f, gk.load_workloads(ROOT / "examples" / "workloads")):
            yield from file.objects


CORE_GROUPS = {"", "apps", "batch", "scheduling.k8s.io", "resource.k8s.io"}


def test_every_rendered_custom_object_is_declared_by_its_integration(fleet):
    declared = {k for i in integrations.integrations() for k in i.kinds}
    seen = {WireKind(o["apiVersion"], o["kind"]) for o in _rendered_objects(fleet)}
    custom = {k for k in seen if k.group not in CORE_GROUPS}
    assert custom, "the examples render no custom objects at all"
    assert custom <= declared, sorted(custom - declared)
    dra = integrations.get("nvidia-dra")
    assert {k for k in seen if k.group == "resource.k8s.io"} <= set(dra.kinds)


# Detection as kube discovery did it before the table existed: group present, or served.
DETECTION_CASES = [
    ("nothing", set(), set(), {}),
    ("volcano-batch-only", {"batch.volcano.sh"}, set(), {"volcano": True}),
    ("volcano-scheduling-only", {"scheduling.volcano.sh"}, set(), {"volcano": True}),
    ("kueue", {"kueue.x-k8s.io"}, set(), {"kueue": True}),
    ("kai", {"scheduling.run.ai"}, set(), {"kai": True}),
    (
        "jobset-lws",
        {"jobset.x-k8s.io", "leaderworkerset.x-k8s.io"},
        set(),
        {"jobset": True, "lws": True},
    ),
    # a group alone is not enough where the group is shared or the kind is what matters
    ("kubeflow-group-without-pytorchjobs", {"kubeflow.org"}, set(), {}),
    (
        "training-operator",
        {"kubeflow.org"},
        {("kubeflow.org", "pytorchjobs")},
        {"training_operator": True},
    ),
    (
        "trainer",
        {"trainer.kubeflow.org"},
        {("trainer.kubeflow.org", "trainjobs")},
        {"kubeflow_trainer": True},
    ),
    ("gpu-operator-group-only", {"nvidia.com"}, set(), {"gpu_operator": False}),
    ("gpu-operator", {"nvidia.com"}, {("nvidia.com", "clusterpolicies")}, {"gpu_operator": True}),
    ("karpenter", {"karpenter.sh"}, set(), {"karpenter": True}),  # issue 14
    ("kserve-group-only", {"serving.kserve.io"}, set(), {}),
    (
        "kserve",
        {"serving.kserve.io"},
        {("serving.kserve.io", "inferenceservices")},
        {"kserve": True},
    ),
]
API_FLAGS = {
    "kserve",
    "volcano",
    "kueue",
    "kai",
    "jobset",
    "lws",
    "training_operator",
    "kubeflow_trainer",
    "gpu_operator",
    "karpenter",
}


@pytest.mark.parametrize(
    ("groups", "served", "expected"),
    [c[1:] for c in DETECTION_CASES],
    ids=[c[0] for c in DETECTION_CASES],
)
def test_installed_flags_from_the_api(groups, served, expected):
    flags = integrations.installed_flags(groups, lambda g, r: g in groups and (g, r) in served)
    assert set(flags) == API_FLAGS  # dra and dcgm_exporter need more than the API list
    assert {k: v for k, v in flags.items() if v} == {k: v for k, v in expected.items() if v}
    gk.Fleet(node_pools=gk.default_fleet().node_pools, installed=Installed(**flags, dra=False))


def test_the_dra_driver_says_what_discovery_checks_beyond_the_api():
    dra = integrations.get("nvidia-dra")
    assert dra.installed == "dra" and dra.detection.note
    assert "dra" not in integrations.installed_flags(set(), lambda g, r: True)


def test_integration_objects_use_the_one_vocabulary(fleet):
    objects = list(_rendered_objects(fleet))
    queue_labelled = [
        o for o in objects if vocab.KUEUE_QUEUE_LABEL in o["metadata"].get("labels", {})
    ]
    assert queue_labelled and all(
        o["metadata"]["labels"][vocab.MANAGED_BY_LABEL] == vocab.GPUKIT for o in queue_labelled
    )


# Old module paths keep working for one release: (old module, name, new module).
MOVED = [
    ("gpukit.manifests.dra", "claim_objects", "gpukit.integrations.nvidia_dra"),
    ("gpukit.manifests.dra", "shares_claim", "gpukit.manifests.pods"),
    ("gpukit.manifests.kinds", "trainjob_blocker", "gpukit.integrations.trainer"),
    ("gpukit.manifests.scheduling", "KUEUE_QUEUE_LABEL", "gpukit.vocab"),
    ("gpukit.manifests.scheduling", "KAI_DEFAULT_QUEUE", "gpukit.vocab"),
    ("gpukit.manifests.scheduling", "volcano_podgroup", "gpukit.integrations.volcano"),
    ("gpukit.manifests.workloads", "render_volcano_job", "gpukit.integrations.volcano"),
    ("gpukit.manifests.workloads", "render_pytorchjob", "gpukit.integrations.training_operator"),
    ("gpukit.manifests.workloads", "render_trainjob", "gpukit.integrations.trainer"),
    ("gpukit.manifests.workloads", "TRAINING_RUNTIME", "gpukit.integrations.trainer"),
    ("gpukit.manifests.workloads", "render_jobset", "gpukit.integrations.jobset"),
    ("gpukit.manifests.workloads", "render_leaderworkerset", "gpukit.integrations.lws"),
    ("gpukit.manifests.workloads", "LWS_NAME_LABEL", "gpukit.vocab"),
    ("gpukit.platform.queues", "cluster_queues", "gpukit.integrations.kueue"),
    ("gpukit.platform.queues", "KUEUE_API", "gpukit.integrations.kueue"),
    ("gpukit.platform.queues", "volcano_queues", "gpukit.integrations.volcano"),
    ("gpukit.platform.queues", "kai_queues", "gpukit.integrations.kai"),
    ("gpukit.platform.karpenter", "nodepools", "gpukit.integrations.karpenter"),
    ("gpukit.platform.bundle", "PlatformFile", "gpukit.platform.files"),
    ("gpukit.kfp", "QUEUE_LABEL", "gpukit.vocab:KUEUE_QUEUE_LABEL"),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED, ids=[f"{o}.{n}" for o, n, _ in MOVED])
def test_old_paths_still_resolve_to_the_moved_names(old, name, new):
    import importlib

    new_module, _, new_name = new.partition(":")
    moved = getattr(importlib.import_module(new_module), new_name or name)
    assert getattr(importlib.import_module(old), name) is moved
