"""The lint package's imports: no circle among its modules, no private name across packages.

A private name is a module or name whose last-but-one part starts with ``_`` (``gpukit._yaml``,
``gpukit.lint._engine``, ``from gpukit.lint.rules import _registry``). It belongs to the
package that holds it and may be imported only from inside that package (its modules and
subpackages); an import from anywhere else reaches past the package's public surface.
Imports under ``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gpukit"
LINT = "gpukit.lint"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, package: str | None = None) -> list[tuple[str, str | None]]:
    """(module, name or None) for every import that runs, at any depth (function bodies too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if package is None:
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.extend((base, alias.name) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _target(module: str, name: str | None) -> str:
    """The module an import loads: ``from a import b`` is module a.b when that is a module."""
    if name is not None and f"{module}.{name}" in MODULES:
        return f"{module}.{name}"
    return module


def _owner_of_private(module: str, name: str | None) -> str | None:
    """The package a private import belongs to, or None when the import is public."""
    parts = module.split(".") + ([name] if name and name != "*" else [])
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_lint_modules_import_without_a_circle():
    graph = {
        m: {t for t in (_target(*imp) for imp in _imports(p)) if _inside(t, LINT) and t != m}
        for m, p in MODULES.items()
        if _inside(m, LINT)
    }
    # A module's own parent packages load first anyway; only explicit imports make a circle.
    graph = {m: {t for t in ts if not _inside(m, t)} for m, ts in graph.items()}
    circles: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                circles.append([*trail[trail.index(nxt) :], nxt])
            elif len(trail) < len(graph):
                walk(nxt, [*trail, nxt])

    for start in sorted(graph):
        walk(start, [start])
    assert circles == [], "import circle: " + " -> ".join(circles[0])


def _private_crossings(into_or_from: str) -> list[str]:
    out = []
    for module, path in MODULES.items():
        for imported, name in _imports(path):
            owner = _owner_of_private(imported, name)
            if owner is None or not owner or _inside(module, owner):
                continue
            touches = _inside(module, LINT) if into_or_from == "into" else _inside(imported, LINT)
            if touches:
                out.append(
                    f"{module} imports {imported}{'.' + name if name else ''} (private to {owner})"
                )
    return out


@pytest.mark.parametrize("direction", ["into", "from"])
def test_no_private_name_crosses_the_lint_package_boundary(direction):
    assert _private_crossings(direction) == []


def test_the_checker_sees_the_circle_that_was_here(tmp_path):
    # The engine once imported the rule registry inside run_rules, and every rule module
    # imported Context from the engine: the walker must see imports in function bodies.
    source = tmp_path / "engine.py"
    source.write_text("def run():\n    from gpukit.lint.rules import RULES\n")
    assert ("gpukit.lint.rules", "RULES") in _imports(source, "gpukit.lint")
    guarded = tmp_path / "guarded.py"
    guarded.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gpukit.lint._engine import X\n"
    )
    assert _imports(guarded, "gpukit.lint") == [("typing", "TYPE_CHECKING")]
    relative = tmp_path / "relative.py"
    relative.write_text("from ._model import Hit\nfrom .. import errors\n")
    assert _imports(relative, "gpukit.lint.rules") == [
        ("gpukit.lint.rules._model", "Hit"),
        ("gpukit.lint", "errors"),
    ]


def test_a_private_name_from_outside_its_package_is_caught():
    assert _owner_of_private("gpukit.lint._engine", "lint") == "gpukit.lint"
    assert _owner_of_private("gpukit.lint.rules", "_registry") == "gpukit.lint.rules"
    assert _owner_of_private("gpukit.lint", "lint") is None
    assert not _inside("gpukit.cli.lint", "gpukit.lint")
