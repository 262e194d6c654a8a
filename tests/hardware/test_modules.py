"""gpukit.hardware's module seams: small files, the old import paths, private names kept at home."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import gpukit.hardware

ROOT = Path(gpukit.hardware.__file__).parent

# The names each module offered before packing, mig and migparted became packages.
OLD_PATHS = {
    "gpukit.hardware.packing": [
        "GpuAssignment", "GpuSlot", "MigDemand", "PackingPlan", "Unplaced",
        "first_fit_decreasing", "load_demands", "load_gpu_slots", "pack", "slots_from_fleet",
    ],
    "gpukit.hardware.mig": [
        "MigInstance", "MigLayout", "PlacedInstance", "Placement", "Unplaceable",
        "canonical_counts", "maximal_layouts", "maximal_multisets", "place_counts",
        "smallest_profile", "valid_multisets",
    ],
    "gpukit.hardware.migparted": [
        "DEFAULT_CONFIGMAP", "MIG_CONFIG_LABEL", "Finding", "MigPartedEntry", "config_name",
        "mig_parted_configmap", "mig_parted_spec", "node_configs", "validate_mig_parted",
        "validate_mig_parted_text",
    ],
}


def _sources() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_over_600_lines(path):
    assert len(path.read_text().splitlines()) <= 600


@pytest.mark.parametrize("module", sorted(OLD_PATHS))
def test_old_import_paths_keep_their_names(module):
    loaded = importlib.import_module(module)
    assert sorted(loaded.__all__) == sorted(OLD_PATHS[module])
    for name in OLD_PATHS[module]:
        assert getattr(loaded, name) is not None, f"{module}.{name}"


def _package_of(path: Path) -> str:
    parts = path.relative_to(ROOT.parent.parent).with_suffix("").parts
    return ".".join(parts if parts[-1] == "__init__" else parts[:-1]).removesuffix(".__init__")


def test_private_names_are_imported_only_inside_their_own_package():
    offenders = []
    for path in _sources():
        here = _package_of(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("gpukit"):
                continue
            target = importlib.import_module(node.module)
            there = node.module if hasattr(target, "__path__") else node.module.rpartition(".")[0]
            for alias in node.names:
                if alias.name.startswith("_") and there != here:
                    offenders.append(f"{path.relative_to(ROOT)}: {alias.name} from {node.module}")
    assert not offenders, offenders
