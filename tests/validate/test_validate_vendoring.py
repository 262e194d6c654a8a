"""The vendored schemas are exactly what tools/vendor_schemas.py extracts from their sources."""

from __future__ import annotations

import functools
import importlib.util
import sys
import tempfile
from pathlib import Path

import pytest

from tests._reference import unpack_crds

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "gpukit" / "validate" / "schemas"


def _tool():
    spec = importlib.util.spec_from_file_location(
        "vendor_schemas", ROOT / "tools" / "vendor_schemas.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("vendor_schemas", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


tool = _tool()


def _vendored(name: str):
    return tool.decode(name, (SCHEMAS / name).read_bytes())


def _have_core_source() -> bool:
    return importlib.util.find_spec("kubernetes_validate") is not None


@functools.cache
def _fresh() -> dict:
    """One extraction from the vendored upstream CRDs (tests/reference) and, if installed, the core source."""
    with tempfile.TemporaryDirectory() as folder:
        return tool.build(unpack_crds(Path(folder)), core=_have_core_source())


def test_crd_schemas_equal_a_fresh_extraction():
    fresh = _fresh()
    crd_files = [n for n in fresh if n.endswith(".json.gz") and not n.startswith("core-")]
    assert len(crd_files) == len(tool.CRDS)
    for name in crd_files:
        assert _vendored(name) == fresh[name], f"{name} is stale: run tools/vendor_schemas.py"
    index = _vendored("index.json")
    for key, name in fresh["index.json"]["kinds"].items():
        if not name.startswith("core-"):
            assert index["kinds"][key] == name
    for name, source in fresh["index.json"]["files"].items():
        if source["source"] == "crd":
            assert index["files"][name] == source


def test_core_schema_equals_a_fresh_extraction():
    if not _have_core_source():
        pytest.skip("kubernetes-validate is not installed: the core schema's source is absent")
    fresh = _fresh()
    name = f"core-{tool.CORE_VERSION}.json.gz"
    assert _vendored(name) == fresh[name], f"{name} is stale: run tools/vendor_schemas.py"


def test_sources_md_and_index_are_generated_from_both_sources():
    if not _have_core_source():
        pytest.skip("needs kubernetes-validate to regenerate everything")
    fresh = _fresh()
    assert _vendored("index.json") == fresh["index.json"]
    assert _vendored("SOURCES.md") == fresh["SOURCES.md"]
    on_disk = sorted(p.name for p in SCHEMAS.iterdir() if p.is_file())
    assert on_disk == sorted(fresh), "files in schemas/ that the tool does not generate"


def test_every_vendored_file_names_its_upstream():
    index = _vendored("index.json")
    for name, source in index["files"].items():
        assert (SCHEMAS / name).is_file()
        assert source["project"] and source["repository"] and source["tag"] and source["path"]
        if source["source"] == "crd":
            assert len(source["commit"]) == 40
    md = _vendored("SOURCES.md")
    for name in index["files"]:
        assert f"`{name}`" in md


def _keywords(node, found: set[str]) -> set[str]:
    """Every keyword used by a schema node and its sub-schemas."""
    if isinstance(node, dict) and "$ref" not in node:
        found.update(node)
        for sub in (node.get("properties") or {}).values():
            _keywords(sub, found)
        for key in ("items", "additionalProperties", "not"):
            _keywords(node.get(key), found)
        for key in ("anyOf", "allOf", "oneOf"):
            for sub in node.get(key) or ():
                _keywords(sub, found)
    return found


def test_only_the_keywords_the_validator_reads_are_kept():
    for path in sorted(SCHEMAS.glob("*.json.gz")):
        data = tool.decode(path.name, path.read_bytes())
        if "definitions" in data:
            nodes = list(data["definitions"].values())
        else:
            nodes = [v["schema"] for v in data["versions"]]
        used: set[str] = set()
        for node in nodes:
            _keywords(node, used)
        assert used <= tool.KEEP, (path.name, used - tool.KEEP)
        assert "description" not in used and "x-kubernetes-validations" not in used


def test_the_schemas_stay_small():
    total = sum(p.stat().st_size for p in SCHEMAS.iterdir())
    assert total < 400_000, f"vendored schemas grew to {total} bytes"


def test_package_data_ships_the_schemas():
    # The wheel must carry every file the validator reads: pyproject's package-data globs.
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["gpukit"]
    shipped = {p for pattern in globs for p in (ROOT / "gpukit").glob(pattern)}
    missing = sorted(p.name for p in SCHEMAS.iterdir() if p.is_file() and p not in shipped)
    assert not missing, f"pyproject package-data leaves out: {missing}"
