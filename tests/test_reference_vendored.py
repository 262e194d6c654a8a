"""The vendored reference facts (tests/reference) are complete, named in SOURCES, and current."""

from __future__ import annotations

import gzip
import re

import yaml

from tests._reference import CRDS, EXAMPLES, SHARED, VENDORED, crd_names, crd_text, read_bytes

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _vendored_files() -> list[str]:
    """Every vendored file as its upstream relative path (CRDs without their .gz)."""
    return sorted(
        str(p.relative_to(VENDORED)).removesuffix(".gz")
        for p in VENDORED.rglob("*")
        if p.is_file() and p.name != "SOURCES.md" or p.parent != VENDORED and p.name == "SOURCES.md"
    )


def test_every_crd_is_one_definition_and_named_in_the_crd_sources():
    sources = (CRDS / "SOURCES.md").read_text(encoding="utf-8")
    names = crd_names()
    assert len(names) == 35
    for name in names:
        assert f"`{name}`" in sources, f"{name} is not in tests/reference/crds/SOURCES.md"
        (crd,) = [d for d in yaml.load_all(crd_text(name), Loader=LOADER) if d]
        assert crd["kind"] == "CustomResourceDefinition", name


def test_every_example_is_named_in_its_folders_sources():
    for folder in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
        for path in sorted(folder.glob("*.y*ml")):
            assert path.name in sources, f"{folder.name}/{path.name} is not in its SOURCES.md"


def test_every_top_level_file_is_named_in_sources():
    sources = (VENDORED / "SOURCES.md").read_text(encoding="utf-8")
    for path in sorted(VENDORED.iterdir()):
        if path.is_file() and path.name != "SOURCES.md":
            assert f"`{path.name}`" in sources, f"{path.name} is not in tests/reference/SOURCES.md"


def test_crds_are_stored_gzipped_without_a_timestamp():
    # gzip -n: the same upstream bytes always give the same stored bytes.
    for path in sorted(CRDS.glob("*.gz")):
        header = path.read_bytes()[:10]
        assert header[4:8] == b"\0\0\0\0", f"{path.name}: gzip without -n (has a timestamp)"
        assert gzip.decompress(path.read_bytes())


def test_vendored_copy_equals_the_shared_reference_where_present():
    """The vendored bytes are upstream's; compared with the shared reference set when it is beside.

    A fresh clone has no shared set: then only the vendored set's own checks above apply.
    """
    if not SHARED.is_dir():
        return
    shared = sorted(
        str(p.relative_to(SHARED))
        for p in SHARED.rglob("*")
        if p.is_file() and not re.search(r"/\.", str(p))
    )
    vendored = _vendored_files()
    assert sorted(set(shared) - {"SOURCES.md"}) == vendored
    for relative in vendored:
        assert read_bytes(relative) == (SHARED / relative).read_bytes(), (
            f"{relative} differs from the shared set"
        )
