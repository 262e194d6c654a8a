"""The fleet's DRA driver settings: gates by name, defaults as the driver has them, refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gpukit.dra.settings import DRIVER_GATES, DraSettings


def test_gates_default_as_the_driver_sets_them():
    s = DraSettings()
    # alpha and off by default in the driver's featuregates.go
    for gate in ("TimeSlicingSettings", "MPSSupport", "DynamicMIG", "ConsumableShares"):
        assert s.gate(gate) is False
    assert s.gate("IMEXDaemonsWithDNSNames") is True
    assert DraSettings(feature_gates={"MPSSupport": True}).gate("MPSSupport") is True
    assert s.kueue_gate("KueueDRAIntegration") is True  # on since Kueue 0.18
    assert s.kueue_gate("KueueDRAIntegrationPrioritizedList") is False


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"feature_gates": {"TimeSlicing": True}},
            r"dra.feature_gates: unknown driver gate 'TimeSlicing'",
        ),
        (
            {"feature_gates": {"DynamicMIG": True, "MPSSupport": True}},
            r"refuses DynamicMIG and MPSSupport together",
        ),
        ({"consumable_shares": 4}, r"dra.consumable_shares needs the driver gate ConsumableShares"),
        (
            {"driver_version": "0.4.0", "feature_gates": {"ConsumableShares": True}},
            r"ConsumableShares needs driver 0.5 or later",
        ),
        (
            {"feature_gates": {"ConsumableShares": True}, "consumable_shares": 1},
            r"share count must be 2 or more",
        ),
        ({"kueue_feature_gates": {"Nope": True}}, r"dra.kueue_feature_gates: unknown gate 'Nope'"),
        ({"driver_version": "latest"}, r"driver_version"),
    ],
)
def test_bad_settings_say_which_field_and_the_fix(settings, message):
    with pytest.raises(ValidationError, match=message):
        DraSettings(**settings)


def test_every_gate_names_the_driver_release_it_appeared_in():
    assert all(since.startswith("0.") for _, since in DRIVER_GATES.values())


def test_example_fleet_declares_its_driver(fleet):
    dra = fleet("dra").dra
    assert dra.gate("ConsumableShares") and dra.share_count == 4


def test_readme_dra_block_is_a_valid_fleet_section():
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).parents[2] / "README.md").read_text()
    section = text[text.index("### DRA: the NVIDIA DRA driver and Kueue") :]
    block = re.search(r"```text\n(dra:.*?)```", section, re.DOTALL)
    assert block is not None
    settings = DraSettings(**yaml.safe_load(block.group(1))["dra"])
    assert settings.share_count == 4
