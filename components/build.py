"""Compile every component (and the example pipeline) to the YAML kept beside its source.

    python components/build.py           # rewrite the YAML files
    python components/build.py --check   # exit 1 if any YAML is out of date (tests run this)
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

#: module in components/ -> the component or pipeline function it defines
TARGETS = {
    "plan_gpu_workload": "plan_gpu_workload",
    "lint_manifests": "lint_manifests",
    "plan_mig_layout": "plan_mig_layout",
    "launch_gpu_workload": "launch_gpu_workload",
    "example_pipeline": "distributed_finetune_pipeline",
}


def _normalise(text: str) -> str:
    # The SDK stamps its own version; a patch release of kfp must not fail the sync check.
    return re.sub(r"sdkVersion: kfp-[\w.]+", "sdkVersion: kfp", text)


def compile_all(out_dir: Path) -> dict[str, Path]:
    from kfp import compiler

    written = {}
    for module_name, func_name in TARGETS.items():
        try:
            module = importlib.import_module(f"components.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"components.{module_name}":
                continue  # not written yet
            raise
        path = out_dir / f"{module_name}.yaml"
        compiler.Compiler().compile(getattr(module, func_name), str(path))
        path.write_text(_normalise(path.read_text()))
        written[module_name] = path
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    if not args.check:
        for name, path in compile_all(HERE).items():
            print(f"compiled {name} -> {path.relative_to(HERE.parent)}")
        return 0
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in compile_all(Path(tmp)).items():
            committed = HERE / path.name
            if not committed.exists() or committed.read_text() != path.read_text():
                stale.append(name)
    if stale:
        print(f"out of date: {', '.join(stale)}; run python components/build.py", file=sys.stderr)
        return 1
    print("all compiled components are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
