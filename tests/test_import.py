"""`import gpukit` stays light, and the public API is complete and sorted."""

from __future__ import annotations

import subprocess
import sys

import gpukit

HEAVY = ("kubernetes", "kfp", "ipywidgets", "typer", "jsonschema", "ruamel")


def test_import_gpukit_loads_no_heavy_dependency():
    code = (
        "import sys, gpukit; "
        "w = gpukit.Workload(name='a', kind='ci'); gpukit.to_yaml(gpukit.render(gpukit.plan(w))); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_is_sorted_and_resolves():
    assert gpukit.__all__ == sorted(gpukit.__all__)
    for name in gpukit.__all__:
        assert getattr(gpukit, name) is not None


def test_render_is_the_function_not_a_module():
    assert callable(gpukit.render) and callable(gpukit.plan)


def test_unknown_attribute_raises():
    import pytest

    with pytest.raises(AttributeError):
        gpukit.nonexistent  # noqa: B018
