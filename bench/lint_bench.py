"""Lint timings and memory: real examples, the largest accepted file, hostile input refused.

Run: .venv/bin/python bench/lint_bench.py   (prints one line per figure)
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

from gpukit.errors import ManifestError
from gpukit.lint import MAX_DEPTH, MAX_FILE_BYTES, lint

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference" / "examples"

POD = """\
- apiVersion: v1
  kind: Pod
  metadata: {{name: p{i}}}
  spec:
    containers:
    - name: c
      image: cuda:latest
      resources: {{limits: {{nvidia.com/gpu: '0.5'}}}}
"""


def measure(label: str, run) -> None:
    """Best of 3 wall times, then one run under tracemalloc for the peak of Python memory."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        outcome = run()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<48} {min(times) * 1000:8.0f} ms  peak {peak / 2**20:6.1f} MiB  {outcome}")


def refused(path: Path):
    def run() -> str:
        try:
            lint(path)
        except ManifestError as exc:
            return "refused: " + str(exc).split(": ", 1)[-1].removeprefix("refused: ")[:70]
        return "ACCEPTED"

    return run


def main() -> None:
    lint([ROOT / "examples" / "lint"])  # warm the catalog and imports
    if REFERENCE.is_dir():
        files = sorted(p for p in REFERENCE.rglob("*.y*ml"))
        measure(f"reference examples ({len(files)} files, one set)", lambda: f"{len(lint(REFERENCE))} findings")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = folder / "big.yaml"
        one = POD.format(i=0)
        count = (MAX_FILE_BYTES - 1000) // len(one)
        big.write_text("apiVersion: v1\nkind: List\nitems:\n" + "".join(POD.format(i=i % 10) for i in range(count)))
        measure(f"largest accepted file ({big.stat().st_size / 2**20:.1f} MiB, {count} pods)",
                lambda: f"{len(lint(big))} findings")
        bomb = folder / "bomb.yaml"
        bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)))
        measure("alias bomb (9^9 expansion)", refused(bomb))
        deep = folder / "deep.yaml"
        deep.write_text("[" * 100_000 + "]" * 100_000)
        measure(f"100,000-deep nesting (limit {MAX_DEPTH})", refused(deep))
        huge = folder / "huge.yaml"
        huge.write_bytes(b"a: 1\n" * (MAX_FILE_BYTES // 5 + 100))
        measure("file just over the size limit", refused(huge))
        binary = folder / "binary.yaml"
        binary.write_bytes(bytes(range(256)) * 4096)
        measure("1 MiB of binary", refused(binary))


if __name__ == "__main__":
    main()
