"""`python -m gpukit.calibrate [run|job|import] ...`: the calibrate commands; `run` when none is named."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from gpukit.cli import main as cli_main

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("run", "job", "import", "--help", "-h"):
        args = ["run", *args]
    cli_main(["calibrate", *args])


if __name__ == "__main__":
    main()
