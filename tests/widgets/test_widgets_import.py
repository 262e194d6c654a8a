"""gpukit.widgets needs ipywidgets and says how to get it; `import gpukit` never loads it."""

from __future__ import annotations

import subprocess
import sys


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_gpukit_does_not_load_ipywidgets():
    out = run("import sys, gpukit; gpukit.plan(gpukit.Workload(name='a', kind='ci')); print('ipywidgets' in sys.modules)")
    assert out.stdout.strip() == "False", out.stderr


def test_missing_ipywidgets_names_the_extra():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ipywidgets' or name.startswith('ipywidgets.'):\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from gpukit.errors import MissingExtraError\n"
        "try:\n"
        "    import gpukit.widgets\n"
        "except MissingExtraError as exc:\n"
        "    print(exc)\n"
    )
    out = run(code)
    assert "pip install 'gpukit[widgets]'" in out.stdout, out.stderr
