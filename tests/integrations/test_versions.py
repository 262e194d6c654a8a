"""Minimum versions (issue 14, case 5): a fleet says which versions it runs; gpukit renders
for them, and states the minimum in each written file otherwise.

Facts: Kueue serves kueue.x-k8s.io/v1beta2 from 0.15 on, and its ClusterQueue says
``cohortName`` there where v1beta1 says ``cohort`` (kubernetes-sigs/kueue
config/components/crd/bases/kueue.x-k8s.io_clusterqueues.yaml, vendored in tests/reference/
crds); TrainJob ``runtimePatches`` and an integer ``numProcPerNode`` need Trainer 2.2.
"""

from __future__ import annotations

import pytest

import gpukit as gk
from gpukit.cli.core import write_manifests
from gpukit.fleet import Fleet, parse_version
from gpukit.integrations.kueue import KUEUE_API, KUEUE_V1BETA1_API, kueue_objects
from gpukit.manifests import object_kind
from gpukit.platform import platform_plan
from gpukit.validate import validate_objects

POOL = {"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 2}
TEAM = gk.Workload(name="ft", kind="fine-tuning", image="x", gpus=1, team="nlp")


def _fleet(**spec) -> Fleet:
    return Fleet.model_validate({"node_pools": [POOL], **spec})


@pytest.mark.parametrize(
    ("version", "api", "cohort_key"),
    [
        (None, KUEUE_API, "cohortName"),
        ("0.15", KUEUE_API, "cohortName"),
        ("v0.19.2", KUEUE_API, "cohortName"),
        ("0.14.3", KUEUE_V1BETA1_API, "cohort"),
        ("0.10", KUEUE_V1BETA1_API, "cohort"),
    ],
)
def test_kueue_objects_are_rendered_for_the_fleets_kueue(version, api, cohort_key):
    fleet = _fleet(
        installed={"kueue": True},
        versions={"kueue": version} if version else {},
        queues=[{"name": "nlp", "scheduler": "kueue", "team": "nlp"}],
    )
    objects = kueue_objects(platform_plan(fleet, [TEAM]))
    assert {o["apiVersion"] for o in objects} == {api}
    (cq,) = [o for o in objects if o["kind"] == "ClusterQueue"]
    assert cohort_key in cq["spec"]
    assert not ({"cohort", "cohortName"} - {cohort_key}) & set(cq["spec"])
    # Both versions are served by the vendored CRDs: no errors (v1beta1 is deprecated there).
    issues = validate_objects(objects)
    assert [i for i in issues if i.severity == "error"] == []
    assert {i.code for i in issues} <= {"deprecated-version"}


DDP = gk.Workload(name="ddp", kind="training", image="x", gpus=8, workers=2)


@pytest.mark.parametrize(
    ("version", "kind"), [(None, "TrainJob"), ("2.2", "TrainJob"), ("2.1.0", "Job")]
)
def test_a_trainer_older_than_2_2_gets_no_trainjob(version, kind):
    fleet = _fleet(
        installed={"kubeflow_trainer": True},
        versions={"trainer": version} if version else {},
    )
    assert object_kind(gk.plan(DDP, fleet)) == kind


def test_written_files_state_the_minimum_their_object_needs(tmp_path):
    fleet = _fleet(installed={"kubeflow_trainer": True})
    (path,) = [p for p in write_manifests([gk.plan(DDP, fleet)], tmp_path) if "trainjob" in p.name]
    first = path.read_text().splitlines()[0]
    assert first == (
        "# Needs Kubeflow Trainer 2.2 or later (TrainJob runtimePatches, integer numProcPerNode)."
    )
    plain = write_manifests([gk.plan(DDP, _fleet())], tmp_path / "plain")
    assert all(not p.read_text().startswith("#") for p in plain)  # nothing to say


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        ({"kueu": "0.15"}, "versions: no component 'kueu'; known: kueue, trainer"),
        ({"kueue": "latest"}, "versions.kueue: version 'latest' is not of the form 0.15"),
    ],
)
def test_bad_versions_name_the_field_and_the_fix(versions, message):
    with pytest.raises(ValueError, match=message):
        _fleet(versions=versions)


def test_versions_parse_with_or_without_v():
    assert parse_version("v0.15.2") == (0, 15, 2) == parse_version("0.15.2")
    assert parse_version("2.2") < parse_version("2.10")


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ({"kueue.x-k8s.io": ["v1beta2", "v1beta1"]}, {}),  # 0.15+: what gpukit renders anyway
        ({"kueue.x-k8s.io": ["v1beta1"]}, {"kueue": "0.14"}),  # older: render v1beta1
        ({"trainer.kubeflow.org": ["v1alpha1"]}, {}),  # the same API for every Trainer
        ({}, {}),
    ],
)
def test_discovery_reads_versions_where_the_served_api_versions_tell(groups, expected):
    from gpukit.integrations import versions_from_api

    assert versions_from_api(groups) == expected
    if expected:
        fleet = _fleet(
            installed={"kueue": True},
            versions=expected,
            queues=[{"name": "nlp", "scheduler": "kueue", "team": "nlp"}],
        )
        objects = kueue_objects(platform_plan(fleet, [TEAM]))
        assert objects and {o["apiVersion"] for o in objects} == {KUEUE_V1BETA1_API}


def test_a_kueue_plan_says_which_kueue_it_assumes_unless_the_fleet_says():
    queues = [{"name": "nlp", "scheduler": "kueue", "team": "nlp"}]
    unsaid = gk.plan(TEAM, _fleet(installed={"kueue": True}, queues=queues))
    assert unsaid.scheduler == "kueue"
    (w,) = [w for w in unsaid.warnings if w.code == "COMPONENT_VERSION"]
    assert "Kueue 0.15" in w.message and "versions:" in w.message
    said = gk.plan(
        TEAM, _fleet(installed={"kueue": True}, queues=queues, versions={"kueue": "0.14"})
    )
    assert "COMPONENT_VERSION" not in {w.code for w in said.warnings}
