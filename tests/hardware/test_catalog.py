"""The GPU catalog: names users type and GFD writes, and MIG facts against the reference data."""

from __future__ import annotations

import pytest
import yaml

from gpukit.errors import InputError, UnknownGpuError
from gpukit.hardware import catalog, get_gpu, parse_gpu, parse_product
from gpukit.quantity import GIB

NAMES = [
    ("H100", "H100-80GB", 1),
    ("h100-80gb", "H100-80GB", 1),
    ("A100:8", "A100-80GB", 8),
    ("A100-40GB:4", "A100-40GB", 4),
    ("NVIDIA-A100-SXM4-40GB", "A100-40GB", 1),
    ("A100-SXM4-40GB", "A100-40GB", 1),
    ("NVIDIA-A100-80GB-PCIe", "A100-80GB", 1),
    ("NVIDIA-H100-80GB-HBM3", "H100-80GB", 1),
    ("NVIDIA-H100-PCIe", "H100-80GB", 1),
    ("NVIDIA-H100-NVL", "H100-94GB", 1),
    ("h100-nvl:2", "H100-94GB", 2),
    ("NVIDIA-H200", "H200-141GB", 1),
    ("NVIDIA-H200-NVL", "H200-NVL", 1),
    ("NVIDIA-GH200-480GB", "GH200-96GB", 1),
    ("NVIDIA-GH200-144G-HBM3e", "GH200-144GB", 1),
    ("NVIDIA-B200", "B200", 1),
    ("NVIDIA-A30", "A30-24GB", 1),
    ("Tesla-T4", "T4", 1),
    ("NVIDIA-L4", "L4", 1),
    ("NVIDIA-L40S", "L40S", 1),
    ("NVIDIA-L40", "L40", 1),
    ("L40S-PCIE-48GB", "L40S", 1),
    ("NVIDIA-A10G", "A10G", 1),
    ("NVIDIA-A10", "A10", 1),
    ("Tesla-V100-SXM2-16GB", "V100-16GB", 1),
    ("Tesla-V100-SXM2-32GB", "V100-32GB", 1),
    ("Tesla-V100S-PCIE-32GB", "V100-32GB", 1),
    ("NVIDIA-RTX-6000-Ada-Generation", "RTX-6000-Ada", 1),
    ("Tesla-T4-SHARED", "T4", 1),
]


@pytest.mark.parametrize(("text", "key", "count"), NAMES, ids=[n[0] for n in NAMES])
def test_one_parser_for_every_spelling(text, key, count):
    spec = parse_gpu(text)
    assert (spec.model.key, spec.count) == (key, count)


def test_longest_name_wins():
    assert [get_gpu(n).key for n in ("L40S", "L40", "L4", "A100", "A10", "H200", "H20")] == [
        "L40S", "L40", "L4", "A100-80GB", "A10", "H200-141GB", "H20-96GB",
    ]


@pytest.mark.parametrize(
    ("text", "suggested"),
    [("A100-40GBX", "A100-40GB"), ("H100-NVLL", "H100-NVL"), ("RTX6000", "RTX6000-Ada"), ("T44", "T4")],
    ids=["typo-key", "typo-alias", "alias-suggested", "short"],
)
def test_unknown_names_fail_with_close_matches_including_aliases(text, suggested):
    with pytest.raises(UnknownGpuError, match=f"did you mean.*'{suggested}'"):
        get_gpu(text)


def test_a_prefix_does_not_swallow_another_memory_size():
    with pytest.raises(UnknownGpuError):
        get_gpu("A100-32GB")


@pytest.mark.parametrize("text", ["A100:0", "A100:x", "A100:-1"])
def test_bad_counts_are_input_errors(text):
    with pytest.raises(InputError, match="positive integer"):
        parse_gpu(text)


LABELS = [
    ("NVIDIA-H100-80GB-HBM3-MIG-1g.10gb", "H100-80GB", "1g.10gb"),
    ("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", "A100-40GB", "1g.5gb"),
    ("A100-SXM4-40GB-MIG-1g.5gb-SHARED", "A100-40GB", "1g.5gb"),
    ("NVIDIA-A100-SXM4-40GB-MIG-1g.10gb", "A100-40GB", "1g.10gb"),
    ("NVIDIA-H200-MIG-1g.35gb", "H200-141GB", "1g.35gb"),
    ("NVIDIA-H100-80GB-HBM3-MIG-1g.10gb.me", "H100-80GB", "1g.10gb+me"),
    ("NVIDIA-A30-MIG-2g.12gb", "A30-24GB", "2g.12gb"),
    ("NVIDIA-H100-80GB-HBM3-MIG-INVALID", "H100-80GB", None),
    ("NVIDIA-H100-80GB-HBM3", "H100-80GB", None),
]


@pytest.mark.parametrize(("label", "key", "profile"), LABELS, ids=[lbl[0] for lbl in LABELS])
def test_product_labels_under_the_single_strategy(label, key, profile):
    model, found = parse_product(label)
    assert model.key == key
    assert (found.name if found else None) == profile
    assert catalog().by_product(label).key == key


def test_mig_suffix_with_a_profile_the_model_lacks():
    with pytest.raises(UnknownGpuError, match="has no MIG profile '1g.5gb'.*did you mean"):
        parse_product("NVIDIA-H100-80GB-HBM3-MIG-1g.5gb")


@pytest.mark.parametrize(
    ("pci", "key"),
    [("0x20B010DE", "A100-40GB"), ("0x20b2", "A100-80GB"), ("2330", "H100-80GB"),
     ("0x233B10DE", "H200-NVL"), ("0x20B710DE", "A30-24GB"), ("0x1EB8", "T4")],
)
def test_pci_ids(pci, key):
    assert catalog().by_pci_id(pci).key == key


def test_pci_ids_unique_and_filters_as_mig_parted_writes_them():
    seen = {}
    for gpu in catalog():
        for pci in gpu.pci_device_ids:
            assert pci not in seen, f"{pci} on {gpu.key} and {seen[pci]}"
            seen[pci] = gpu.key
    assert get_gpu("A100-40GB").device_filter_ids[0] == "0x20B010DE"


ISSUE_MODELS = ["A100-40GB", "A100-80GB", "A30", "H100-80GB", "H100-PCIe", "H100-NVL", "H200",
                "H200-NVL", "GH200", "GH200-144GB", "B200"]
WHOLE = ["T4", "L4", "L40S", "L40", "A10G", "A10", "V100-16GB", "V100-32GB", "RTX-6000-Ada"]


def test_issue_models_are_present():
    for name in ISSUE_MODELS:
        gpu = get_gpu(name)
        assert gpu.mig is not None and gpu.pci_device_ids and gpu.products, name
    for name in WHOLE:
        gpu = get_gpu(name)
        assert gpu.mig is None and gpu.memory_bytes > 10 * GIB and gpu.compute_capability, name


# Our catalog key -> the key in ../shared/reference/mig-profiles.yaml.
REFERENCE_KEY = {
    "A100-40GB": "A100-40GB", "A100-80GB": "A100-80GB", "A30-24GB": "A30-24GB",
    "H100-80GB": "H100-80GB", "H100-94GB": "H100-94GB", "GH200-96GB": "GH200-96GB",
    "H20-96GB": "H20-96GB", "H200-141GB": "H200-141GB", "H200-NVL": "H200-141GB",
    "GH200-144GB": "GH200-144GB", "B200": "B200", "GB200": "GB200", "B300": "B300", "GB300": "GB300",
}


@pytest.fixture(scope="module")
def reference_gpus(reference_dir):
    data = yaml.safe_load((reference_dir / "mig-profiles.yaml").read_text())
    return {g["key"]: g for g in data["gpus"]}


def test_every_mig_model_is_checked_against_the_reference():
    assert sorted(g.key for g in catalog().mig_capable) == sorted(REFERENCE_KEY)


@pytest.mark.parametrize("key", sorted(REFERENCE_KEY))
def test_mig_facts_match_the_reference(key, reference_gpus):
    ours = get_gpu(key)
    ref = reference_gpus[REFERENCE_KEY[key]]
    assert ours.mig.compute_slices == ref["compute_slices"]
    assert ours.mig.memory_slices == ref["memory_slices"]
    assert ours.mig.max_gpu_instances == ref["max_gpu_instances"]
    ref_ids = {p["id"].upper() for p in ref["pci_device_ids"]}
    assert {p.upper() for p in ours.pci_device_ids} <= ref_ids
    by_name = {p["name"]: p for p in ref["profiles"]}
    assert {p.name for p in ours.profiles} == set(by_name)
    for profile in ours.profiles:
        r = by_name[profile.name]
        assert profile.profile_id == r["nvidia_smi_profile_id"], profile.name
        assert profile.compute_slices == r["compute_slices"], profile.name
        assert profile.memory_slices == r["memory_slices"] == r["placements"]["size"], profile.name
        assert list(profile.starts) == r["placements"]["starts"], profile.name
        assert profile.max_instances == r["max_instances"], profile.name
        reported = r.get("memory_gib_reported_example")
        if reported and not profile.memory_estimated:
            assert 0.9 * reported <= profile.memory_gib <= reported, profile.name
        else:
            # Estimates err low: below the size in the name (which drivers print in GiB).
            assert profile.memory_gib <= r["memory_gb_nominal"], profile.name
    evidence = {p.get("placement_evidence", "")[:8] for p in ref["profiles"]}
    assert ours.mig.placements == ("observed" if evidence == {"observed"} else "inferred")


def test_smallest_profile_prefers_fewest_memory_slots():
    h100 = get_gpu("H100")
    assert h100.smallest_profile(15 * GIB).name == "1g.20gb"
    assert h100.smallest_profile(15 * GIB, 2).name == "2g.20gb"
    assert h100.smallest_profile(5 * GIB, media_extensions=True).name == "1g.10gb+me"
    assert h100.smallest_profile(100 * GIB) is None
