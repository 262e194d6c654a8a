"""mig-parted configs: the real examples validate, broken copies are rejected by name."""

from __future__ import annotations

import copy
import io
import sys

import pytest
import yaml

from gpukit.errors import ManifestError
from gpukit.hardware import catalog, get_gpu
from gpukit.hardware.mig import MigLayout
from gpukit.hardware.migparted import (
    MIG_CONFIG_LABEL,
    config_name,
    mig_parted_configmap,
    node_configs,
    validate_mig_parted_text,
)

EXAMPLES = [
    "examples-config.yaml",
    "examples-dgx-station-80gb-config.yaml",
    "gpu-operator-default-mig-parted-config.yaml",
    "gpu-operator-docs-custom-mig-config.yaml",
    "nvidia-mig-manager-example-hopper-blackwell.yaml",
    "nvidia-mig-manager-example.yaml",
    "systemd-config-default.yaml",
    "systemd-hooks-default.yaml",
]


@pytest.fixture(scope="module")
def examples(reference_dir):
    folder = reference_dir / "examples" / "mig-parted"
    found = sorted(p.name for p in folder.glob("*.yaml"))
    assert found == sorted(EXAMPLES)
    return {name: (folder / name).read_text() for name in EXAMPLES}


@pytest.mark.parametrize("name", EXAMPLES)
def test_real_examples_validate(name, examples):
    findings = validate_mig_parted_text(examples[name], name)
    assert [str(f) for f in findings if f.severity == "error"] == []


def test_warnings_on_the_real_examples_are_about_what_gpukit_cannot_check(examples):
    text = examples["nvidia-mig-manager-example-hopper-blackwell.yaml"]
    warnings = [f for f in validate_mig_parted_text(text, "x") if f.severity == "warning"]
    # Without a device filter, all-1g.10gb x7 would also select A100-40GB (max 4 there).
    assert any(f.config == "all-1g.10gb" and f.device == "A100-40GB" for f in warnings)
    assert all("not checked" in f.reason or "also selects" in f.reason for f in warnings)


# -- broken copies ----------------------------------------------------------------------------


def _specs(docs):
    """(spec, put_back) for every mig-parted document, bare or inside a ConfigMap."""
    for doc in docs:
        if isinstance(doc, dict) and ("mig-configs" in doc or "hooks" in doc):
            yield doc, None
        elif isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
            for key, value in (doc.get("data") or {}).items():
                inner = yaml.safe_load(value)
                if isinstance(inner, dict) and ("mig-configs" in inner or "hooks" in inner):
                    yield inner, (doc["data"], key)


def _corrupt(text: str, how: str, clean: set[str]) -> tuple[str, str]:
    """A broken copy of ``text`` and the config (or hook) name the breakage is in."""
    docs = list(yaml.safe_load_all(text))
    for spec, home in _specs(docs):
        target = None
        if "mig-configs" in spec:
            for name, entries in spec["mig-configs"].items():
                if name not in clean:
                    continue
                for entry in entries:
                    if how == "count" and entry.get("mig-devices"):
                        profile = next(iter(entry["mig-devices"]))
                        entry["mig-devices"][profile] = 99
                        target = name
                    elif how == "key":
                        entry["mig-enable"] = entry.pop("mig-enabled")
                        target = name
                    elif how == "profile" and entry.get("mig-devices"):
                        profile = next(iter(entry["mig-devices"]))
                        entry["mig-devices"]["9g." + profile.split(".", 1)[1]] = entry["mig-devices"].pop(profile)
                        target = name
                    if target:
                        break
                if target:
                    break
        else:
            hook, items = next(iter(spec["hooks"].items()))
            if how == "count":
                del items[0]["command"]
            elif how == "key":
                spec["hooks"]["apply-strat"] = spec["hooks"].pop(hook)
                hook = "apply-strat"
            else:
                items[0]["args"] = "not-a-list"
            target = hook
        if target is None:
            continue
        if home is not None:
            data, key = home
            data[key] = yaml.safe_dump(spec, sort_keys=False)
        return yaml.safe_dump_all(docs, sort_keys=False), target
    raise AssertionError("nothing to corrupt")


@pytest.mark.parametrize("how", ["count", "key", "profile"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_broken_copies_are_rejected_naming_the_config(name, how, examples):
    original = validate_mig_parted_text(examples[name], name)
    noisy = {f.config for f in original}
    docs = list(yaml.safe_load_all(examples[name]))
    clean = {c for spec, _ in _specs(docs) for c in spec.get("mig-configs", {})} - noisy
    broken, target = _corrupt(examples[name], how, clean)
    errors = [f for f in validate_mig_parted_text(broken, name) if f.severity == "error"]
    assert errors, broken
    assert {f.config for f in errors} == {target}
    assert all(str(f).startswith(name) and repr(target) in str(f) for f in errors)


CASES = [
    ("version: v2\nmig-configs: {a: [{devices: all, mig-enabled: false}]}", "-", "'version' must be 'v1'"),
    ("version: v1\nmig-configs:\n  a: [{devices: [0, 0], mig-enabled: false}]", "a", "index twice"),
    ("version: v1\nmig-configs:\n  a: [{devices: all, mig-enabled: false, mig-devices: {1g.5gb: 1}}]", "a", "mig-enabled' is false"),
    ("version: v1\nmig-configs:\n  a: [{device-filter: '0x20B0', devices: all, mig-enabled: true}]", "a", "0xDDDDVVVV"),
    ("version: v1\nmig-configs:\n  a: [{device-filter: '0x1EB810DE', devices: all, mig-enabled: true}]", "a", "T4 is not MIG-capable"),
    ("version: v1\nmig-configs:\n  a: [{device-filter: '0x233010DE', devices: all, mig-enabled: true, mig-devices: {1g.5gb: 1}}]", "a", "H100-80GB has no MIG profile '1g.5gb'"),
    ("version: v1\nmig-configs:\n  a:\n    - {devices: all, mig-enabled: true, mig-devices: {1g.5gb: 7}}\n    - {devices: [1], mig-enabled: false}", "a", "entries 0 and 1"),
    ("version: v1\nmig-configs:\n  a: [{devices: all, mig-enabled: true, mig-devices: {1g.5gb: 1, 1g.10gb+me: 1}}]", "a", "no GPU model has all of"),
    ("version: v1\nmig-configs:\n  a: [{devices: all, mig-enabled: true, mig-devices: {1g.5gbb: 1}}]", "a", "did you mean '1g.5gb'"),
    ("version: v1\nmig-configs:\n  bad name: [{devices: all, mig-enabled: false}]", "bad name", "label value"),
    ("version: v1\nmig-configs:\n  a: [{devices: all, mig-enabled: false}]\n  a: [{devices: all, mig-enabled: false}]", "a", "appears twice"),
    ("version: v1\nmig-configs:\n  a: [{devices: all, mig-enabled: true, mig-devices: {3g.20gb: 2, 1g.5gb: 1}}]", "a", "needs 9 memory slices"),
]


@pytest.mark.parametrize(("text", "config", "reason"), CASES, ids=[c[2][:24] for c in CASES])
def test_each_rule(text, config, reason):
    errors = [f for f in validate_mig_parted_text(text, "t.yaml") if f.severity == "error"]
    assert any(f.config == config and reason in f.reason for f in errors), [str(f) for f in errors]


@pytest.mark.parametrize("text", ["", "kind: Pod\napiVersion: v1\n", "a: [", "- 1\n- 2\n"])
def test_no_config_or_bad_yaml_is_unreadable(text):
    with pytest.raises(ManifestError):
        validate_mig_parted_text(text, "t.yaml")


# -- generation ------------------------------------------------------------------------------

NAMES = [
    ("H100-80GB", {"1g.10gb": 7}, "all-1g.10gb"),
    ("A100-40GB", {"1g.10gb": 4}, "all-1g.10gb"),
    ("A100-40GB", {"1g.5gb+me": 1}, "all-1g.5gb.me"),
    ("A100-80GB", {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}, "all-balanced"),
    ("A30", {"1g.6gb": 2, "2g.12gb": 1}, "all-balanced"),
    ("H100-80GB", {}, "all-enabled"),
    ("H100-80GB", None, "all-disabled"),
    ("H100-80GB", {"1g.10gb": 6}, "custom-1g.10gbx6"),
    ("H100-80GB", {"3g.40gb": 1, "2g.20gb": 2}, "custom-3g.40gb-2g.20gbx2"),
]


@pytest.mark.parametrize(("gpu", "layout", "name"), NAMES, ids=[n[2] + "-" + n[0] for n in NAMES])
def test_config_names_follow_the_operator(gpu, layout, name):
    assert config_name([(get_gpu(gpu), layout)] * 8) == name


def test_operator_default_names_come_out_of_their_layouts(examples):
    """Every uniform config of the operator's default ConfigMap is named as gpukit would."""
    cat = catalog()
    doc = yaml.safe_load(examples["gpu-operator-default-mig-parted-config.yaml"])
    spec = yaml.safe_load(doc["data"]["config.yaml"])
    checked = 0
    for name, entries in spec["mig-configs"].items():
        for entry in entries:
            layout = entry.get("mig-devices") if entry["mig-enabled"] else None
            if "device-filter" in entry:
                ids = entry["device-filter"]
                models = [m for m in (cat.by_pci_id(i) for i in ([ids] if isinstance(ids, str) else ids)) if m]
            else:
                models = [m for m in cat.mig_capable
                          if all(m.find_profile(p) for p in (layout or {}))
                          and (layout is None or MigLayout.from_counts(m, layout).is_valid)]
            for model in models:
                assert config_name([(model, layout)] * 4) == name, (name, model.key)
                checked += 1
    assert checked > 60


def test_node_configs_round_trip_through_the_validator():
    h100, a40 = get_gpu("H100"), get_gpu("A100-40GB")
    nodes = {
        "n1": [(h100, {"1g.10gb": 7})] * 8,
        "n2": [(a40, {"1g.10gb": 4})] * 8,
        "n3": [(h100, {"3g.40gb": 2})] * 4 + [(h100, None)] * 4,
        "n4": [(a40, None)] * 8,
    }
    labels, configs = node_configs(nodes)
    assert labels == {"n1": "all-1g.10gb", "n2": "all-1g.10gb", "n3": "custom-4x3g.40gbx2_4xoff",
                      "n4": "all-disabled"}
    assert next(iter(configs)) == "all-disabled"
    assert [e.device_filter for e in configs["all-1g.10gb"]] == [a40.device_filter_ids, h100.device_filter_ids]
    cm = mig_parted_configmap(configs, namespace="gpu-operator")
    assert cm["kind"] == "ConfigMap" and list(cm["data"]) == ["config.yaml"]
    text = yaml.safe_dump(cm)
    assert validate_mig_parted_text(text, "cm.yaml") == []
    spec = yaml.safe_load(cm["data"]["config.yaml"])
    assert spec["mig-configs"]["custom-4x3g.40gbx2_4xoff"][0]["devices"] == [0, 1, 2, 3]
    assert "'0x233010DE'" in cm["data"]["config.yaml"]  # quoted: a string, not a hex number
    assert mig_parted_configmap(configs) == mig_parted_configmap(copy.deepcopy(configs))
    assert MIG_CONFIG_LABEL == "nvidia.com/mig.config"


# -- CLI ---------------------------------------------------------------------------------------


def _cli(capsys, *args):
    from gpukit.cli import main

    try:
        main(["mig", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_validate_exit_codes(reference_dir, examples, tmp_path, capsys, monkeypatch):
    folder = reference_dir / "examples" / "mig-parted"
    code, out, err = _cli(capsys, "validate", "-q", *[str(folder / n) for n in EXAMPLES])
    assert code == 0, out + err
    assert err.count(": valid") == len(EXAMPLES)
    broken, _ = _corrupt(examples["examples-config.yaml"], "count", {"all-1g.5gb"})
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    code, out, err = _cli(capsys, "validate", str(path))
    assert code == 1 and "'all-1g.5gb'" in out and "invalid" in err
    assert _cli(capsys, "validate", str(tmp_path / "missing.yaml"))[0] == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("a: ["))
    assert _cli(capsys, "validate", "-")[0] == 2
    # A warning is a finding only under --strict.
    hopper = str(folder / "nvidia-mig-manager-example-hopper-blackwell.yaml")
    assert _cli(capsys, "validate", hopper)[0] == 0
    assert _cli(capsys, "validate", "--strict", hopper)[0] == 1
