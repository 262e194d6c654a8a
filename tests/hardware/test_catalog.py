"""The GPU catalog: names users type and GFD writes, and MIG facts against the reference data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
import yaml

from gpukit.errors import InputError, UnknownGpuError
from gpukit.hardware import PRECISIONS, Catalog, catalog, get_gpu, parse_gpu, parse_product
from gpukit.hardware.catalog import WEIGHT_ONLY
from gpukit.quantity import GIB
from gpukit.workload import Precision

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
    observed = evidence == {"observed"} or key in OWN_CAPTURES
    assert ours.mig.placements == ("observed" if observed else "inferred")


# Models whose placements gpukit read itself (tests/hardware/data), beyond the reference.
OWN_CAPTURES = {"H200-141GB"}


def test_smallest_profile_prefers_fewest_memory_slots():
    h100 = get_gpu("H100")
    assert h100.smallest_profile(15 * GIB).name == "1g.20gb"
    assert h100.smallest_profile(15 * GIB, 2).name == "2g.20gb"
    assert h100.smallest_profile(5 * GIB, media_extensions=True).name == "1g.10gb+me"
    assert h100.smallest_profile(100 * GIB) is None


# ----------------------------------------------------------------------------- memory sources

DATA = Path(__file__).parent / "data"

# Issue 14, case 6: `nvidia-smi mig -lgip` on a real H200 (driver 580).
H200_MEASURED = [
    ("1g.18gb", 16.00), ("1g.18gb+me", 16.00), ("1g.35gb", 32.50), ("2g.35gb", 32.50),
    ("3g.71gb", 69.75), ("4g.71gb", 69.75), ("7g.141gb", 140.00),
]


def _lgip(text: str) -> dict[str, tuple[int, float]]:
    """Profile name -> (profile id, GiB) from an `nvidia-smi mig -lgip` table."""
    rows = re.findall(r"MIG (\S+)\s+(\d+)\s+\d+/\d+\s+([0-9.]+)", text)
    return {name: (int(pid), float(gib)) for name, pid, gib in rows}


def _lgipp(text: str) -> dict[int, tuple[list[int], int]]:
    """Profile id -> (starts, size) from `nvidia-smi mig -lgipp` lines."""
    rows = re.findall(r"Profile ID\s+(\d+) Placements?\s*: \{([0-9,]+)\}:(\d+)", text)
    return {int(pid): ([int(s) for s in starts.split(",")], int(size)) for pid, starts, size in rows}


@pytest.mark.parametrize(("name", "gib"), H200_MEASURED, ids=[n for n, _ in H200_MEASURED])
def test_h200_profiles_hold_what_a_real_h200_reports(name, gib):
    profile = get_gpu("H200").profile(name)
    assert profile.memory_gib == gib
    assert profile.memory_source.kind == "measured"
    assert profile.memory_source.command == "nvidia-smi mig -lgip"
    assert profile.memory_source.date


def test_h200_rows_match_the_raw_capture():
    """Every H200 row (id, GiB, starts, size) equals the saved -lgip / -lgipp output."""
    text = (DATA / "h200-nvidia-smi-mig.txt").read_text()
    assert "NVIDIA H200, 580." in text
    lgip, lgipp = _lgip(text), _lgipp(text)
    h200 = get_gpu("H200")
    assert set(lgip) == {p.name for p in h200.profiles}
    for profile in h200.profiles:
        assert (profile.profile_id, profile.memory_gib) == lgip[profile.name], profile.name
        assert (list(profile.starts), profile.size) == lgipp[profile.profile_id], profile.name
    assert h200.mig.placements == "observed"


def test_every_profile_of_every_gpu_names_its_memory_source():
    kinds = set()
    for gpu in catalog().mig_capable:
        for profile in gpu.profiles:
            source = profile.memory_source
            kinds.add(source.kind)
            assert source.where, (gpu.key, profile.name)
            if source.kind == "measured":
                assert source.command == "nvidia-smi mig -lgip", (gpu.key, profile.name)
            if source.kind == "derived":
                # The formula is spelled out with the figure it gives.
                assert source.where.endswith(f"= {profile.memory_gib:.2f} GiB"), source.where
                assert profile.memory_estimated
            else:
                assert not profile.memory_estimated
            assert str(source).startswith(source.kind), str(source)
    assert kinds == {"measured", "nvidia", "derived"}


def _catalog_data() -> dict:
    from importlib import resources

    return yaml.safe_load(resources.files("gpukit.hardware").joinpath("data/gpus.yaml").read_text())


BROKEN_DERIVATIONS = [
    pytest.param({"memory_gib": 180.0}, r"B200 7g.180gb: memory_gib 180.0 does not match", id="figure"),
    pytest.param({"derived": None}, "exactly one of 'source' or 'derived'", id="no-source"),
    pytest.param({"source": "lgip-b200"}, "exactly one of 'source' or 'derived'", id="both"),
    pytest.param({"derived": {"guess": 1}}, "unknown derivation 'guess'", id="rule"),
    pytest.param({"derived": {"scale": "1g.99gb"}}, "B200 has no profile '1g.99gb'", id="base"),
    pytest.param({"derived": {"same_as": "H999"}}, "unknown model 'H999'", id="model"),
    pytest.param({"derived": {"scale": "1g.45gb", "name_factor": 0.89}}, "names one rule", id="two"),
    pytest.param({"derived": None, "source": "lgip-b900"}, "unknown memory source 'lgip-b900'", id="key"),
]


@pytest.mark.parametrize(("change", "says"), BROKEN_DERIVATIONS)
def test_a_memory_figure_that_breaks_its_source_is_refused(change, says):
    raw = _catalog_data()
    row = next(e for e in raw["gpus"] if e["key"] == "B200")["mig"]["profiles"]["7g"]
    for field, value in change.items():
        if value is None:
            row.pop(field)
        else:
            row[field] = value
    with pytest.raises(ValueError, match=says):
        Catalog.from_data(raw)


def test_the_shipped_data_builds_the_shipped_catalog():
    assert [g.key for g in Catalog.from_data(_catalog_data())] == [g.key for g in catalog()]


def test_a_60gib_strict_workload_fits_an_h200_3g_slice(examples_dir):
    """The measured 69.75 GiB holds 60 GiB (66 with headroom); the old 58.75 sent it to a B200."""
    import gpukit as gk
    from gpukit.fleet import load_fleet

    assert get_gpu("H200").smallest_profile(60 * GIB).name == "3g.71gb"
    fleet = load_fleet(examples_dir / "fleets" / "no-volcano.yaml")
    w = gk.Workload(name="big-serve", kind="inference", gpu_memory="60Gi", isolation="strict")
    p = gk.plan(w, fleet)
    assert p.sharing == "mig", p.explain()
    assert (p.choice.gpu_model, p.choice.mig_profile) == ("H200-141GB", "3g.71gb"), p.explain()


# ----------------------------------------------------------------------------- precisions

# (model, precision, native?) per NVIDIA's architecture whitepapers and datasheets.
PRECISION_TABLE = [
    ("T4", "fp16", True), ("T4", "int8", True), ("T4", "int4", True),
    ("T4", "bf16", False), ("T4", "tf32", False), ("T4", "fp8", False),
    ("V100", "fp16", True), ("V100", "bf16", False), ("V100", "int8", False),
    ("A100", "bf16", True), ("A100", "tf32", True), ("A100", "int4", True), ("A100", "fp8", False),
    ("A30", "bf16", True), ("A30", "fp8", False),
    ("A10G", "bf16", True), ("A10G", "fp8", False),
    ("L4", "fp8", True), ("L40S", "fp8", True), ("RTX-6000-Ada", "int4", True), ("L4", "fp4", False),
    ("H100", "fp8", True), ("H200", "fp8", True), ("GH200", "bf16", True),
    ("H100", "int4", False), ("H200", "fp4", False),
    ("B200", "fp4", True), ("B200", "int8", True), ("GB200", "fp8", True),
    ("B300", "fp4", True), ("B300", "int8", False), ("GB300", "int8", False),
]


@pytest.mark.parametrize(
    ("model", "precision", "native"), PRECISION_TABLE,
    ids=[f"{m}-{p}" for m, p, _ in PRECISION_TABLE],
)
def test_native_precisions(model, precision, native):
    assert get_gpu(model).supports(precision) is native


def test_fp32_runs_everywhere_and_every_model_names_its_precision_source():
    for gpu in catalog():
        assert gpu.supports("fp32") and gpu.supports("FP32"), gpu.key
        assert gpu.precisions and gpu.precisions_source, gpu.key
        assert set(gpu.precisions) <= set(PRECISIONS), gpu.key
        # Every workload precision is a name supports() understands.
    assert set(get_args(Precision)) <= set(PRECISIONS) | set(WEIGHT_ONLY)
    # AWQ/GPTQ compute in fp16 after dequantising: Hopper (no int4 Tensor Cores) runs them.
    assert get_gpu("H100").supports("awq") and get_gpu("T4").supports("gptq")


def test_an_unknown_precision_is_one_clear_error():
    with pytest.raises(InputError, match=r"precision 'bf61' is not one gpukit knows.*did you mean 'bf16'"):
        get_gpu("H100").supports("bf61")


GAPS = [
    ("T4", "bf16", ["T4 has no native bf16", "runs as fp16", "Ampere or newer"]),
    ("V100", "bf16", ["V100-16GB has no native bf16", "its Tensor Cores run fp16)"]),
    ("A100", "fp8", ["A100-80GB has no native fp8", "weight-only kernels", "memory stays at FP8 size",
                     "Ada, Hopper or Blackwell", "L4"]),
    ("H100", "int4", ["weight-only kernels", "memory stays at int4 size"]),
    ("H200", "fp4", ["H200-141GB has no native fp4", "Blackwell (B200"]),
]


@pytest.mark.parametrize(("model", "precision", "says"), GAPS, ids=[f"{m}-{p}" for m, p, _ in GAPS])
def test_a_precision_gap_says_what_happens_instead(model, precision, says):
    from gpukit.hardware.precision import precision_gap

    text = precision_gap(get_gpu(model), precision)
    for part in says:
        assert part in text, text


def test_no_gap_where_the_precision_is_native():
    from gpukit.hardware.precision import models_supporting, precision_gap

    for gpu in catalog():
        for precision in PRECISIONS:
            assert (precision_gap(gpu, precision) is None) == gpu.supports(precision)
    assert {g.key for g in models_supporting("fp4")} == {"B200", "GB200", "B300", "GB300"}


def test_docstring_examples_run():
    import doctest
    import importlib

    # By name: the package's function `catalog` hides the submodule of that name.
    for name in ("gpukit.hardware.catalog", "gpukit.hardware.precision"):
        module = importlib.import_module(name)
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted, module.__name__
