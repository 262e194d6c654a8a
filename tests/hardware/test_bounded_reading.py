"""One bounded reader: mig-parted configs and manifests under validation report repeated keys
with their lines, and meet the same size, depth and alias limits as every other file."""

from __future__ import annotations

import pytest

from gpukit._yaml import MAX_ALIASES, MAX_DEPTH, load_reporting
from gpukit.errors import ManifestError
from gpukit.hardware.migparted import validate_mig_parted_text
from gpukit.validate._files import parse_manifests

CONFIG = "version: v1\nmig-configs:\n  a: [{devices: all, mig-enabled: false}]\n"


def _bomb() -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _deep(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


def _many_aliases() -> str:
    return "x: &x 1\ny: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"


# (text, what the refusal says)
HOSTILE = [
    pytest.param(_bomb(), "alias bomb", id="alias-bomb"),
    pytest.param(_deep(MAX_DEPTH + 5), f"nested deeper than {MAX_DEPTH}", id="too-deep"),
    pytest.param(_many_aliases(), f"more than {MAX_ALIASES} YAML aliases", id="too-many-aliases"),
    pytest.param("a: 1\x00", "binary data (NUL bytes)", id="nul-bytes"),
]


@pytest.mark.parametrize(("text", "says"), HOSTILE)
def test_a_mig_parted_config_meets_the_shared_limits(text, says):
    with pytest.raises(ManifestError, match=r"^cfg\.yaml: ") as info:
        validate_mig_parted_text(CONFIG + text, "cfg.yaml")
    assert says in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("text", "says"), HOSTILE)
def test_a_manifest_meets_the_shared_limits(text, says):
    with pytest.raises(ManifestError, match=r"^m\.yaml: ") as info:
        parse_manifests("m.yaml", "apiVersion: v1\nkind: ConfigMap\n" + text)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_deep_json_manifest_is_refused_in_one_line():
    with pytest.raises(ManifestError, match=r"^m\.json: refused: nested too deep"):
        parse_manifests("m.json", "[" * 100_000 + "]" * 100_000)


def test_repeated_mig_parted_keys_are_findings_with_their_lines():
    text = (
        "version: v1\nmig-configs:\n"
        "  a: [{devices: all, mig-enabled: false}]\n"
        "  b: [{devices: all, mig-enabled: false}]\n"
        "  a: [{devices: all, mig-enabled: false}]\n"
    )
    findings = validate_mig_parted_text(text, "cfg.yaml")
    repeats = [f for f in findings if "appears twice" in f.reason]
    assert [(f.config, f.severity) for f in repeats] == [("a", "error")]
    assert "(line 5)" in repeats[0].reason


def test_mig_parted_keys_compare_as_yaml_values():
    # 0x1 and 1 are one key to YAML: the second silently replaces the first.
    docs = load_reporting("x", "1: a\n0x1: b\n'1': c\n", keys="value")
    assert docs[0].duplicates == [("1", 2)]
    assert docs[0].value == {1: "b", "1": "c"}


def test_manifest_keys_compare_as_text_and_dates_stay_strings():
    docs = parse_manifests(
        "m.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {day: 2026-01-31}\n"
        "data:\n  a: '1'\n  a: '2'\n  <<: {b: x}\n---\n---\nkind: A\nkind: B\n",
    )
    assert [(d.index, d.duplicates) for d in docs] == [(0, [("a", 8)]), (2, [("kind", 13)])]
    assert docs[0].data["metadata"]["labels"]["day"] == "2026-01-31"


def test_syntax_errors_keep_their_one_line_shape():
    with pytest.raises(ManifestError, match=r"^cfg\.yaml: not valid YAML at line 3, column 1: "):
        validate_mig_parted_text("version: v1\nmig-configs: [\n", "cfg.yaml")
    with pytest.raises(ManifestError, match=r"^m\.yaml: not valid YAML at line 1, column 5: "):
        parse_manifests("m.yaml", "a: b: c\n")


def test_unknown_key_mode_is_a_programming_error():
    with pytest.raises(ValueError, match="keys must be 'text' or 'value'"):
        load_reporting("x", "a: 1\n", keys="name")
