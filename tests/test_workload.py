"""Workload: valid input builds, bad input gives one line naming field, value and fix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gpukit.errors import InputError, WorkloadError
from gpukit.workload import Workload, load_workloads

BAD = [
    pytest.param({"name": "x", "kind": "inference", "gpus": 0}, ["'gpus'", "0", ">= 1"], id="zero-gpus"),
    pytest.param({"name": "x", "kind": "ci", "gpu_memory": "-1Gi"}, ["'gpu_memory'", "-1Gi", "positive"], id="negative-memory"),
    pytest.param({"name": "x", "kind": "ci", "gpu_memory": "lots"}, ["'gpu_memory'", "lots", "6Gi"], id="memory-not-quantity"),
    pytest.param({"name": "Bad_Name", "kind": "ci"}, ["'name'", "Bad_Name", "DNS-1123", "'bad-name'"], id="not-dns"),
    pytest.param({"name": "x", "kind": "infrence"}, ["'kind'", "infrence", "did you mean 'inference'"], id="unknown-kind"),
    pytest.param({"name": "x", "kind": "ci", "gpuz": 2}, ["unknown field 'gpuz'", "did you mean 'gpus'"], id="unknown-field"),
    pytest.param({"kind": "ci"}, ["'name'", "required"], id="missing-name"),
    pytest.param({"name": "x", "kind": "ci", "workers": "two"}, ["'workers'", "two"], id="wrong-type"),
    pytest.param({"name": "x", "kind": "ci", "workers": 2}, ["workers=2", "replicas"], id="workers-for-ci"),
    pytest.param({"name": "x", "kind": "inference", "model": {"params": "7Q"}}, ["'model.params'", "7Q", "'7B'"], id="bad-params"),
    pytest.param({"name": "x", "kind": "inference", "isolation": "full"}, ["'isolation'", "'strict'"], id="bad-isolation"),
    pytest.param({"name": "x", "kind": "ci", "utilisation": 1.5}, ["'utilisation'", "1.5"], id="utilisation-above-1"),
]


@pytest.mark.parametrize(("data", "expected"), BAD)
def test_bad_workload_gives_one_clear_line(tmp_path, data, expected):
    import yaml

    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(WorkloadError) as info:
        load_workloads(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


def test_multi_document_files_and_lists_load(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("name: a\nkind: ci\n---\nname: b\nkind: interactive\n---\n- {name: c, kind: ci}\n")
    assert [w.name for w in load_workloads(path)] == ["a", "b", "c"]


def test_error_names_the_document(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("name: a\nkind: ci\n---\nname: b\nkind: serving\n")
    with pytest.raises(WorkloadError, match=r"document 2.*'b'.*'kind'"):
        load_workloads(path)


def test_duplicate_names_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("name: same\nkind: ci\n")
    (tmp_path / "b.yaml").write_text("name: same\nkind: ci\n")
    with pytest.raises(WorkloadError, match="already used"):
        load_workloads(tmp_path)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("name: [unclosed\n", "not valid YAML", id="yaml-syntax"),
        pytest.param("{\"name\": ", "not valid YAML or JSON", id="json-syntax"),
        pytest.param("just a string\n", "expected a mapping", id="scalar"),
        pytest.param("", "no workloads found", id="empty"),
    ],
)
def test_unreadable_files(tmp_path, text, fragment):
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=fragment):
        load_workloads(path)


def test_json_input(tmp_path):
    path = tmp_path / "w.json"
    path.write_text('[{"name": "a", "kind": "ci"}, {"name": "b", "kind": "ci"}]')
    assert len(load_workloads(path)) == 2


def test_workload_is_frozen():
    w = Workload(name="a", kind="ci")
    with pytest.raises(Exception):
        w.kind = "training"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kind", "isolation", "priority"),
    [
        ("interactive", "none", "cost"),
        ("ci", "none", "cost"),
        ("inference", "process", "latency"),
        ("batch-inference", "process", "throughput"),
        ("training", "strict", "cost"),
    ],
)
def test_defaults_by_kind(kind, isolation, priority):
    w = Workload(name="a", kind=kind)
    assert (w.effective_isolation, w.effective_priority) == (isolation, priority)


def test_params_parse_with_suffix():
    w = Workload(name="a", kind="inference", model={"params": "7B"})
    assert w.model is not None and w.model.params == 7e9


@pytest.mark.parametrize("value", [20, 20.5, "20", "20.5", "  7 "])
def test_memory_without_a_unit_is_refused_with_the_fix(value):
    """gpu_memory: 20 is 20 bytes to Kubernetes: refused, naming the likely fix (issue 14, case 11)."""
    with pytest.raises(ValidationError, match=r"has no unit.*did you mean .*Gi\?"):
        Workload(name="x", kind="inference", gpu_memory=value)
    with pytest.raises(ValidationError, match="has no unit"):
        Workload(name="x", kind="inference", gpu_memory="6Gi", memory=value)


@pytest.mark.parametrize("value", ["20Gi", "512Mi", "80G", "6e9", "1.5Ti"])
def test_memory_with_a_unit_is_taken(value):
    assert Workload(name="x", kind="inference", gpu_memory=value).gpu_memory == value


def test_fleet_memory_per_node_needs_a_unit():
    from gpukit.fleet import NodePool

    with pytest.raises(ValidationError, match="did you mean 512Gi"):
        NodePool(name="p", gpu="L4", nodes=1, gpus_per_node=4, memory_per_node=512)
    assert NodePool(name="p", gpu="L4", nodes=1, gpus_per_node=4, memory_per_node="512Gi").memory_per_node == "512Gi"
