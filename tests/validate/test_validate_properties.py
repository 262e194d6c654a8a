"""Invariants of the validator, checked on generated input (Hypothesis)."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gpukit.quantity import parse_quantity
from gpukit.validate import Issue, validate, with_defaults
from gpukit.validate._check import QUANTITY
from gpukit.validate._files import load_manifests
from gpukit.validate._names import check_label_value, check_name, check_qualified_name
from tests._reference import EXAMPLES as REFERENCE_EXAMPLES

EXAMPLES = REFERENCE_EXAMPLES

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "c", "image": "cuda"}]},
}


@settings(max_examples=200, deadline=None)
@given(where=st.sampled_from(["spec", "metadata", "spec.containers", "extra"]), value=json_values)
def test_any_json_anywhere_gives_issues_never_an_exception(where, value):
    obj = copy.deepcopy(POD)
    parent, _, key = where.rpartition(".")
    (obj[parent] if parent else obj)[key] = value
    first = validate(obj)
    assert all(isinstance(i, Issue) for i in first)
    assert validate(obj) == first  # deterministic
    assert obj[parent][key] == value if parent else obj[key] == value  # input untouched


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_any_document_gives_issues_never_an_exception(value):
    for issue in validate(value):
        assert isinstance(issue, Issue)


def _known_examples():
    if not EXAMPLES.is_dir():
        return []
    found = []
    for path in sorted(EXAMPLES.glob("*/*.yaml")):
        for doc in load_manifests(path)[1]:
            if isinstance(doc.data, dict) and "kind" in doc.data:
                issues = validate(doc.data)
                if not issues:
                    found.append(doc.data)
    return found


VALID_EXAMPLES = _known_examples()


@pytest.mark.skipif(not VALID_EXAMPLES, reason="tests/reference/examples not found")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=st.sampled_from(VALID_EXAMPLES or [POD]))
def test_defaulting_is_idempotent_and_keeps_objects_valid(obj):
    stored = with_defaults(obj)
    assert validate(stored) == []
    assert with_defaults(stored) == stored


digits = st.text("0123456789", min_size=1, max_size=6)
quantities = st.builds(
    lambda sign, whole, frac, suffix: f"{sign}{whole}{frac}{suffix}",
    st.sampled_from(["", "+", "-"]),
    digits,
    st.sampled_from(["", "."]) | digits.map(lambda d: "." + d),
    st.sampled_from(
        ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"]
    )
    | st.integers(-30, 30).map(lambda e: f"e{e}"),
)


@given(quantities)
def test_grammar_quantities_are_accepted_and_parse(text):
    assert QUANTITY.fullmatch(text)
    parse_quantity(text)


def test_a_huge_exponent_is_not_evaluated():
    # 10**999999999 would hang; the schema accepts the text, the pod rules skip it.
    obj = copy.deepcopy(POD)
    obj["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "1e999999999"}}
    assert validate(obj) == []


@given(st.text(alphabet="0123456789.+-eEKMGTPEimnuk i", max_size=8))
@example("0E70")  # the schema takes any exponent; parse_quantity refuses beyond 10**64
def test_whatever_the_validator_accepts_as_a_quantity_parses(text):
    if not QUANTITY.fullmatch(text):
        return
    exponent = _EXPONENT.search(text)
    if exponent and abs(int(exponent.group(1))) > 64:
        with pytest.raises(ValueError, match="out of range"):
            parse_quantity(text)
    else:
        parse_quantity(text)


_EXPONENT = re.compile(r"[eE]([+-]?\d+)$")


labels = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)


@given(labels, st.lists(labels, max_size=3))
def test_dns_names_accepted(first, rest):
    name = ".".join([first, *rest])
    assert check_name(first, "dns-label") is None
    if len(name) <= 253:
        assert check_name(name, "dns-subdomain") is None
        assert check_qualified_name(f"{name}/{first}") is None
    assert check_label_value(first) is None


@given(labels, st.sampled_from(["A", "_", " ", "!", "é"]))
def test_dns_names_with_a_bad_character_rejected(name, bad):
    assert check_name(name + bad + name, "dns-label") is not None
    assert check_name(name + bad + name, "dns-subdomain") is not None
