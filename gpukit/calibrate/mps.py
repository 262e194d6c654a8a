"""A private MPS control daemon for one calibration run: started with its own pipe and log folders, always stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

__all__ = ["FAKE_MPS_CONTROL", "MpsDaemon", "find_mps_control"]

#: Stand-in control program for --fake runs (records start and quit, runs no server).
FAKE_MPS_CONTROL = Path(__file__).with_name("_fake_mps_control.py")

# Where drivers put the control program when it is not on PATH (container images mount the
# driver's folder; distributions install it next to nvidia-smi).
_DRIVER_FOLDERS = ("/usr/local/nvidia/bin", "/usr/bin", "/usr/local/bin", "/usr/lib/nvidia/bin")


def find_mps_control() -> str | None:
    """The nvidia-cuda-mps-control program, or None when this machine has none."""
    found = shutil.which("nvidia-cuda-mps-control")
    if found:
        return found
    for folder in _DRIVER_FOLDERS:
        candidate = Path(folder) / "nvidia-cuda-mps-control"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


class MpsDaemon:
    """Context manager: start ``nvidia-cuda-mps-control -d`` in private folders, quit it on exit.

    Only the daemon's own folders are touched: no GPU setting (compute mode, clocks, MIG,
    persistence) is read-write here. Clients join by inheriting :meth:`client_env`.
    """

    def __init__(self, command: list[str] | str, *, keep_dir: Path | None = None) -> None:
        self.command = [command] if isinstance(command, str) else list(command)
        self._keep_dir = keep_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.root: Path | None = None
        self.started = False
        self.stopped = False
        self.log_tail = ""

    @property
    def pipe_dir(self) -> Path:
        assert self.root is not None, "daemon not started"
        return self.root / "pipe"

    @property
    def log_dir(self) -> Path:
        assert self.root is not None, "daemon not started"
        return self.root / "log"

    def client_env(self) -> dict[str, str]:
        return {
            "CUDA_MPS_PIPE_DIRECTORY": str(self.pipe_dir),
            "CUDA_MPS_LOG_DIRECTORY": str(self.log_dir),
        }

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.client_env())
        return env

    def start(self) -> None:
        if self._keep_dir is not None:
            self.root = Path(self._keep_dir)
            self.root.mkdir(parents=True, exist_ok=True)
        else:
            # Short path: the control pipe is a Unix socket, whose path length is limited.
            self._tmp = tempfile.TemporaryDirectory(prefix="gpukit-mps-")
            self.root = Path(self._tmp.name)
        self.pipe_dir.mkdir(exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        result = subprocess.run(
            [*self.command, "-d"], env=self._env(), capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode != 0:
            self._cleanup()
            raise RuntimeError(
                f"MPS control daemon did not start (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[:300]}"
            )
        self.started = True

    def stop(self) -> None:
        """Ask the daemon to quit and wait until its pipe is gone; safe to call twice."""
        if not self.started or self.stopped:
            return
        try:
            subprocess.run(
                self.command, input="quit\n", env=self._env(), capture_output=True, text=True,
                timeout=30, check=False,
            )
            # quit returns at once; the daemon removes its control pipe when it has exited.
            deadline = time.monotonic() + 20
            while (self.pipe_dir / "control").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            self.stopped = True
            self.log_tail = self._read_logs()
            self._cleanup()

    def _read_logs(self) -> str:
        parts = []
        for name in ("control.log", "server.log"):
            path = self.log_dir / name
            if path.is_file():
                lines = path.read_text(errors="replace").splitlines()
                parts.append(f"{name}: " + " | ".join(lines[-6:]))
        return "\n".join(parts)

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fake_control_command() -> list[str]:
    return [sys.executable, str(FAKE_MPS_CONTROL)]
