"""gpukit.kube and gpukit.testing: small modules, and only public names used from outside."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gpukit

PACKAGE = Path(gpukit.__file__).parent
OWNED = ("gpukit.kube", "gpukit.testing")


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found.append((".".join(p for p in parts if p != "__init__"), path))
    return found


@pytest.mark.parametrize("package", OWNED)
def test_no_module_over_600_lines(package):
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules()
        if name == package or name.startswith(package + ".")
    }
    assert sizes and {n: s for n, s in sizes.items() if s > 600} == {}


def test_no_private_module_imported_from_outside_its_package():
    offenders = []
    for name, path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                for package in OWNED:
                    inside = name == package or name.startswith(package + ".")
                    if target.startswith(package + "._") and not inside:
                        offenders.append(f"{name} imports {target}")
    assert offenders == []
