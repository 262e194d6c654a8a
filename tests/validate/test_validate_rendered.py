"""Everything gpukit renders passes gpukit's own validator (issue 5: a cluster must accept it).

Every example workload on the default fleet with every combination of installed schedulers
and operators, plus the platform bundle for each of those fleets, as written to disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import gpukit as gk
from gpukit.errors import GpukitError
from gpukit.fleet import Fleet, default_fleet
from gpukit.platform import render_platform
from gpukit.validate import default_validator
from gpukit.validate._files import parse_manifests

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ("volcano", "kueue", "kai", "kubeflow_trainer", "training_operator", "jobset", "lws", "dra")


def _fleets() -> list[tuple[str, Fleet]]:
    base = default_fleet().model_dump(mode="json")
    fleets = []
    # Nothing installed, each one alone, everything, everything but one: 18 fleets that
    # reach every renderer branch the full 256 combinations reach, in a fourteenth the time.
    combos = {tuple(i == j for j in range(len(FLAGS))) for i in range(-1, len(FLAGS))}
    combos |= {tuple(not on for on in combo) for combo in combos}
    for combo in sorted(combos):
        data = {**base, "installed": {**base["installed"], **dict(zip(FLAGS, combo, strict=True))}}
        data["queues"] = [q for q in base["queues"] if data["installed"][q["scheduler"]]]
        name = "+".join(f for f, on in zip(FLAGS, combo, strict=True) if on) or "plain"
        fleets.append((name, Fleet.model_validate(data)))
    return fleets


FLEETS = _fleets()
WORKLOADS = gk.load_workloads(*sorted((ROOT / "examples" / "workloads").glob("*.yaml")))


@pytest.fixture(scope="module")
def rendered() -> list[tuple[str, dict]]:
    """(where, object) for every workload object and platform object over all fleets."""
    out = []
    for fleet_name, fleet in FLEETS:
        for workload in WORKLOADS:
            try:
                objects = gk.render(gk.plan(workload, fleet))
            except GpukitError:
                continue  # a combination the planner refuses, with a reason: not ours to judge
            out.extend((f"{fleet_name}/{workload.name}", obj) for obj in objects)
        for file in render_platform(fleet, WORKLOADS):
            if file.path.endswith((".yaml", ".yml")) and file.objects:
                for doc in parse_manifests(file.path, file.content()):
                    out.append((f"{fleet_name}/platform/{file.path}#{doc.index}", doc.data))
    return out


def test_every_rendered_object_is_valid(rendered):
    validator = default_validator()
    failures = [
        f"{where}: {issue}"
        for where, obj in rendered
        for issue in validator.validate(obj)
        if issue.severity == "error"
    ]
    assert failures == []


def test_rendered_objects_cover_the_kinds_the_validator_vendors(rendered):
    kinds = {f"{obj['apiVersion']}/{obj['kind']}" for _, obj in rendered}
    assert len(rendered) > 500
    for kind in (
        "v1/Pod",
        "v1/Service",
        "v1/ConfigMap",
        "apps/v1/Deployment",
        "batch/v1/Job",
        "batch.volcano.sh/v1alpha1/Job",
        "kubeflow.org/v1/PyTorchJob",
        "trainer.kubeflow.org/v1alpha1/TrainJob",
        "jobset.x-k8s.io/v1alpha2/JobSet",
        "resource.k8s.io/v1/ResourceClaimTemplate",
        "scheduling.k8s.io/v1/PriorityClass",
        "kueue.x-k8s.io/v1beta2/ClusterQueue",
        "kueue.x-k8s.io/v1beta2/LocalQueue",
        "kueue.x-k8s.io/v1beta2/ResourceFlavor",
        "kueue.x-k8s.io/v1beta2/WorkloadPriorityClass",
        "scheduling.volcano.sh/v1beta1/Queue",
        "scheduling.run.ai/v2/Queue",
        "karpenter.sh/v1/NodePool",
    ):
        assert kind in kinds, sorted(kinds)


def test_rendered_objects_carry_no_deprecated_versions(rendered):
    warnings = {
        f"{obj['apiVersion']}/{obj['kind']}"
        for _, obj in rendered
        for issue in default_validator().validate(obj)
        if issue.code == "deprecated-version"
    }
    assert warnings == set()
