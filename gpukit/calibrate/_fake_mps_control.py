"""Stand-in for nvidia-cuda-mps-control in --fake runs: records -d and quit in the log folder.

Run as a plain script. With -d it creates the control pipe marker and logs a start; reading
'quit' on stdin it removes the marker and logs the stop, as the real daemon does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> int:
    pipe = Path(os.environ["CUDA_MPS_PIPE_DIRECTORY"])
    log = Path(os.environ["CUDA_MPS_LOG_DIRECTORY"]) / "control.log"
    if sys.argv[1:] == ["-d"]:
        (pipe / "control").write_text("")
        with log.open("a") as fh:
            fh.write("fake MPS control daemon started\n")
        return 0
    command = sys.stdin.read().strip()
    with log.open("a") as fh:
        fh.write(f"fake MPS control received: {command}\n")
    if command == "quit":
        (pipe / "control").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
