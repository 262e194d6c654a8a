"""MigDesigner: the slot-grid picture, validity and nearest layouts from the MIG engine, export."""

from __future__ import annotations

import re

import pytest
import yaml

pytest.importorskip("ipywidgets")

from gpukit.errors import InputError, MigLayoutError
from gpukit.hardware import get_gpu
from gpukit.hardware.mig import MigLayout
from gpukit.hardware.migparted import validate_mig_parted_text
from gpukit.widgets import MigDesigner
from gpukit.widgets._mig import mig_parted_config


def exported(text: str) -> dict:
    """The mig-parted config inside the exported ConfigMap; it must validate clean."""
    configmap = yaml.safe_load(text)
    assert configmap["kind"] == "ConfigMap"
    inner = configmap["data"]["config.yaml"]
    assert [f for f in validate_mig_parted_text(inner) if f.severity == "error"] == []
    return yaml.safe_load(inner)


def drawn(designer: MigDesigner) -> list[tuple[str, int]]:
    """(profile, start) of every block in the picture."""
    return re.findall(r'data-profile="([^"]+)" data-start="(\d+)"', designer.picture.value)


VALID = [
    pytest.param("A100-40GB", {"3g.20gb": 1, "2g.10gb": 1, "1g.5gb": 2}, id="a100-40-3-2-1-1"),
    pytest.param("A100-40GB", {"7g.40gb": 1}, id="a100-40-7g"),
    pytest.param("H100-80GB", {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2}, id="h100-balanced"),
    pytest.param("H100-80GB", {"1g.20gb": 4}, id="h100-1g20-x4"),
    pytest.param("A30", {"2g.12gb": 1, "1g.6gb": 2}, id="a30"),
]


@pytest.mark.parametrize(("gpu", "counts"), VALID)
def test_valid_layout_is_drawn_where_the_engine_places_it(gpu, counts):
    designer = MigDesigner(gpu, counts)
    placement = MigLayout.from_counts(gpu, counts).placement()
    assert designer.check.valid and designer.error is None
    assert sorted(drawn(designer)) == sorted((i.profile, str(i.start)) for i in placement.instances)
    assert "gpukit-mig-valid" in designer.status.value
    assert placement.nvidia_smi_command() in designer.status.value
    slots = get_gpu(gpu).mig.memory_slices
    assert designer.picture.value.count("<rect") == slots + len(placement.instances)
    assert designer.nearest.children == ()
    configs = exported(designer.config_yaml)["mig-configs"]
    (name,) = set(configs) - {"all-disabled"}
    assert configs[name][0]["mig-devices"] == MigLayout.from_counts(gpu, counts).counts
    assert f"nvidia.com/mig.config={name}" in designer.export.value


INVALID = [
    # The example: two 3g instances take all 8 memory slots.
    pytest.param("A100-40GB", {"3g.20gb": 2, "1g.5gb": 1}, id="3g-x2-plus-1g"),
    pytest.param("A100-40GB", {"1g.5gb": 8}, id="too-many-1g"),
    pytest.param("H100-80GB", {"4g.40gb": 1, "3g.40gb": 1, "1g.10gb": 1}, id="4g-3g-1g"),
    pytest.param("H100-80GB", {"1g.10gb+me": 2}, id="two-media"),
]


@pytest.mark.parametrize(("gpu", "counts"), INVALID)
def test_invalid_layout_says_why_and_offers_the_engines_nearest(gpu, counts):
    designer = MigDesigner(gpu, counts)
    result = MigLayout.from_counts(gpu, counts).place()
    assert not result.ok and not designer.check.valid
    assert designer.check.reason == result.reason and designer.check.reasons == result.reasons
    assert "gpukit-mig-invalid" in designer.status.value
    assert result.reason.replace("'", "&#x27;") in designer.status.value
    buttons = [b for b in designer.nearest.children if "gpukit-mig-use" in b._dom_classes]
    assert [b.description for b in buttons] == [str(n) for n in result.nearest]
    assert designer.config_yaml == "" and "valid, non-empty layout" in designer.export.value
    # The picture shows the largest part that fits; the rest is named.
    if result.nearest:
        fitted = result.nearest[0].placement()
        assert sorted(drawn(designer)) == sorted((i.profile, str(i.start)) for i in fitted.instances)
    # Clicking a nearest layout makes it the design, and it is valid.
    buttons[0].click()
    assert designer.check.valid and designer.counts == result.nearest[0].counts


def test_add_and_remove_redraw_live():
    designer = MigDesigner("A100-40GB")
    assert drawn(designer) == [] and "empty GPU" in designer.status.value
    designer.profile.value = "3g.20gb"
    designer.add_button.click()
    designer.add_button.click()
    assert designer.counts == {"3g.20gb": 2} and designer.check.valid
    assert sorted(drawn(designer)) == [("3g.20gb", "0"), ("3g.20gb", "4")]
    designer.add("1g.5gb")
    assert not designer.check.valid
    chips = [c for c in designer.instances.children if c.description == "✕ 1g.5gb"]
    chips[0].click()
    assert designer.counts == {"3g.20gb": 2} and designer.check.valid
    designer.clear_button.click()
    assert designer.counts == {} and drawn(designer) == []


def test_switching_gpu_lists_its_profiles_and_starts_empty():
    designer = MigDesigner("A100-40GB", {"7g.40gb": 1})
    designer.gpu.value = get_gpu("A30").key
    assert designer.counts == {}
    assert [v for _, v in designer.profile.options] == [p.name for p in get_gpu("A30").profiles]
    assert designer.picture.value.count("<rect") == 4


def test_unknown_profile_is_an_error_in_the_widget():
    designer = MigDesigner("A100-40GB")
    designer.add("2g.20gb")
    assert designer.counts == {}
    assert "does not exist on A100-40GB" in designer.error and "gpukit-error" in designer.status.value


def test_not_mig_capable_gpu_is_refused():
    with pytest.raises(InputError, match="not MIG-capable"):
        MigDesigner("L4")


def test_export_names_the_config_as_the_operator_does_or_as_asked():
    counts = {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2}
    designer = MigDesigner("H100-80GB", counts)
    doc = exported(designer.config_yaml)
    assert doc["version"] == "v1" and set(doc["mig-configs"]) == {"all-disabled", "all-balanced"}
    (entry,) = doc["mig-configs"]["all-balanced"]
    assert entry["devices"] == "all" and entry["mig-enabled"] is True
    assert entry["device-filter"] == list(get_gpu("H100-80GB").device_filter_ids)
    assert "nvidia.com/mig.config=all-balanced" in designer.export.value
    designer.config_name.value = "team-mix"
    assert set(exported(designer.config_yaml)["mig-configs"]) == {"all-disabled", "team-mix"}
    assert "nvidia.com/mig.config=team-mix" in designer.export.value


def test_export_of_an_invalid_layout_is_refused():
    with pytest.raises(MigLayoutError):
        mig_parted_config("A100-40GB", {"3g.20gb": 2, "1g.5gb": 1}, "bad")


def test_media_extension_profile_keeps_its_name_in_the_export():
    name, text = mig_parted_config("A100-40GB", {"1g.5gb+me": 1, "1g.5gb": 2}, "me")
    assert name == "me" and "1g.5gb+me" in exported(text)["mig-configs"]["me"][0]["mig-devices"]


def test_same_layout_same_bytes():
    a = MigDesigner("H100-80GB", {"1g.10gb": 2, "3g.40gb": 1})
    b = MigDesigner("H100-80GB", {"3g.40gb": 1, "1g.10gb": 2})
    assert a.picture.value == b.picture.value and a.config_yaml == b.config_yaml
