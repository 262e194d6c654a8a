"""The decision cache key reads what the rules read: declared reads, recorded reads, every field.

plan() reuses a decision for every workload of one shape (Context.shape). The shape is built
from what the rules declare (gpukit.advisor.reads); these tests record what they really read,
through a stand-in for the Workload, and fail when a rule reads a field it did not declare (a
stale decision waiting to happen) or when a Workload field is neither read, an input of a
derived fact, nor on the NOT_DECISION_INPUTS allowlist.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpukit as gk
from gpukit import advisor
from gpukit.advisor.context import Context, trained_model
from gpukit.advisor.precision import precision_facts
from gpukit.advisor.reads import DERIVED_INPUTS, NOT_DECISION_INPUTS, declared_reads, reads
from gpukit.memory import memory_need
from gpukit.workload import Workload

FIELDS = frozenset(Workload.model_fields)


class Recorder:
    """A Workload stand-in that notes every field read; properties are evaluated on it, so
    that the fields behind them are the ones noted."""

    def __init__(self, workload: Any) -> None:
        object.__setattr__(self, "_workload", workload)
        object.__setattr__(self, "seen", set())

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(type(self._workload), name, None)
        if isinstance(attribute, property):
            return attribute.fget(self)  # type: ignore[misc]
        self.seen.add(name)
        return getattr(self._workload, name)


def _fleets() -> list[gk.Fleet]:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "examples" / "fleets"
    return [gk.default_fleet(), *(gk.load_fleet(p) for p in sorted(folder.glob("*.yaml")))]


FLEETS = _fleets()

KINDS = ["training", "fine-tuning", "inference", "batch-inference", "interactive", "ci"]


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    def maybe(*values: Any) -> Any:
        return draw(st.one_of(st.none(), st.sampled_from(values)))

    kind = draw(st.sampled_from(KINDS))
    return Workload(
        name="w",
        kind=kind,
        gpus=maybe(1, 2, 4),
        workers=draw(st.integers(1, 3)) if kind in ("training", "fine-tuning", "inference") else 1,
        replicas=draw(st.integers(1, 4)),
        gpu_memory=maybe("1Gi", "6Gi", "20Gi", "70Gi", "300Gi"),
        model=maybe({"params": "7B", "precision": "bf16"}, {"params": "70B", "mode": "training"}),
        isolation=maybe("strict", "process", "none"),
        priority=maybe("latency", "throughput", "cost"),
        utilisation=maybe(0.1, 0.9),
        gpu_boundness=maybe(0.2, 0.95),
        gpu_fill=maybe(0.3, 1.0),
        latency_target=maybe(1.2, 3.0),
        team=maybe("team-nlp"),
        preemptible=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(workloads(), st.sampled_from(range(len(FLEETS))))
def test_the_decision_reads_only_declared_fields(workload: Workload, fleet_index: int):
    fleet = FLEETS[fleet_index]
    ctx = Context(workload, fleet, memory_need(workload))
    recorder, need = Recorder(workload), Recorder(ctx.need)
    ctx.workload, ctx.need = recorder, need  # type: ignore[assignment]
    advisor._decide(ctx)
    undeclared = recorder.seen - set(declared_reads())
    assert not undeclared, (
        f"the decision read {sorted(undeclared)} without declaring it: add it to the rule's "
        "@reads(...) so that Context.shape keys decisions on it"
    )
    # Context.shape keys on the need's bytes alone (``known`` is a property over them).
    assert need.seen <= {"bytes"}, need.seen


@pytest.mark.parametrize("fact", sorted(DERIVED_INPUTS))
def test_derived_facts_read_only_their_declared_inputs(fact: str):
    read = {
        "need": lambda w: memory_need(w),  # type: ignore[arg-type]
        "isolation": lambda w: Workload.effective_isolation.fget(w),  # type: ignore[attr-defined]
        "priority": lambda w: Workload.effective_priority.fget(w),  # type: ignore[attr-defined]
        "precision": lambda w: precision_facts(w),  # type: ignore[arg-type]
        "trained": lambda w: trained_model(w),  # type: ignore[arg-type]
    }[fact]
    model = {"params": "7B", "precision": "bf16"}
    for w in (
        Workload(name="a", kind="inference", gpu_memory="6Gi", model=model),
        Workload(name="b", kind="training", model=model),
        Workload(name="c", kind="ci", isolation="none", priority="cost"),
    ):
        recorder = Recorder(w)
        assert read(recorder) == read(w)
        assert recorder.seen <= set(DERIVED_INPUTS[fact]), (fact, recorder.seen)


def test_every_workload_field_is_read_derived_or_allowlisted():
    covered = set(declared_reads()) | {f for inputs in DERIVED_INPUTS.values() for f in inputs}
    missing = FIELDS - covered - NOT_DECISION_INPUTS
    assert not missing, (
        f"Workload fields {sorted(missing)} are not read by any decision rule and not in "
        "gpukit.advisor.reads.NOT_DECISION_INPUTS: declare them where a rule reads them, or "
        "allowlist them if the cached decision must not depend on them"
    )
    assert not (set(declared_reads()) | set(NOT_DECISION_INPUTS)) - FIELDS, (
        "names that are no field"
    )
    assert not set(declared_reads()) & NOT_DECISION_INPUTS, "a field both read and allowlisted"


def test_the_recorder_sees_fields_behind_properties():
    recorder = Recorder(Workload(name="a", kind="training", workers=2))
    assert recorder.is_training and recorder.is_distributed
    assert recorder.seen == {"kind", "workers"}


BASE = {"name": "a", "kind": "inference", "gpu_memory": "6Gi"}
#: One changed value per declared field; the shape must tell them apart.
CHANGED = {
    "kind": "batch-inference",
    "gpus": 1,
    "workers": 2,
    "replicas": 3,
    "utilisation": 0.2,
    "gpu_boundness": 0.5,
    "gpu_fill": 0.5,
    "latency_target": 2.0,
}
#: One changed value per allowlisted field; the shape must not change.
IGNORED = {
    "name": "b",
    "team": "team-x",
    "queue": "q",
    "preemptible": True,
    "image": "example.org/x:1",
    "command": ("python", "x.py"),
    "namespace": "ns",
    "cpu": "2",
    "memory": "4Gi",
    "engine": "sglang",
    "serve_model": "meta-llama/Llama-3.1-8B-Instruct",
    "model_cache": "200Gi",
    "max_replicas": 4,
}


def _shape(**changes: Any) -> tuple[object, ...]:
    w = Workload(**{**BASE, **changes})
    return Context(w, gk.default_fleet(), memory_need(w)).shape


def test_the_tables_cover_the_declared_and_allowlisted_fields():
    assert set(CHANGED) == set(declared_reads())
    assert set(IGNORED) == NOT_DECISION_INPUTS


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_a_declared_field_changes_the_shape(field: str):
    assert _shape(**{field: CHANGED[field]}) != _shape()


@pytest.mark.parametrize("field", sorted(IGNORED))
def test_an_allowlisted_field_leaves_the_shape(field: str):
    assert _shape(**{field: IGNORED[field]}) == _shape()


def test_a_new_declaration_joins_the_shape(monkeypatch: pytest.MonkeyPatch):
    from gpukit.advisor import reads as reads_module

    monkeypatch.setattr(reads_module, "_READS", set(reads_module._READS))
    before = _shape()

    @reads("team")
    def rule(ctx: Context) -> None:  # a rule that starts reading a field
        return None

    assert "team" in declared_reads()
    assert _shape(team="t1") != _shape(team="t2")
    assert len(_shape()) == len(before) + 1
