"""Whether the widgets may talk to a cluster, and the calls they make through gpukit.kube.

The widgets never build a client themselves: discovery and server-side apply are
gpukit.kube's. This module only says, before any button is enabled, whether that can work
here (the kube extra installed, a kubeconfig or in-cluster credentials present), and why not.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpukit.errors import ClusterError, MissingExtraError

__all__ = ["ClusterAccess", "detect_cluster"]


@dataclass(frozen=True)
class ClusterAccess:
    """A cluster the widgets can use (``ready``) or the one-line reason they cannot (``note``).

    ``apply(objects, dry_run)`` and ``discover()`` are gpukit.kube's; tests pass their own.
    """

    ready: bool
    note: str
    apply_fn: Callable[..., Any] | None = None
    discover_fn: Callable[[], Any] | None = None

    def apply(self, objects: Sequence[dict[str, Any]], *, dry_run: bool) -> Any:
        if not self.ready or self.apply_fn is None:
            raise ClusterError(self.note)
        return self.apply_fn(list(objects), dry_run=dry_run)

    def discover(self) -> Any:
        if not self.ready or self.discover_fn is None:
            raise ClusterError(self.note)
        return self.discover_fn()


def _kubeconfig_paths() -> list[Path]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def detect_cluster() -> ClusterAccess:
    """The live cluster if gpukit.kube and credentials are both here; otherwise why not."""
    if importlib.util.find_spec("kubernetes") is None:
        return ClusterAccess(False, str(MissingExtraError.for_module("kubernetes", "kube")))
    try:
        kube = importlib.import_module("gpukit.kube")
    except MissingExtraError as exc:
        return ClusterAccess(False, str(exc))
    except ImportError:
        return ClusterAccess(False, "this gpukit has no live-cluster module (gpukit.kube) yet")
    in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if not in_cluster and not any(p.is_file() for p in _kubeconfig_paths()):
        where = "the file KUBECONFIG names" if os.environ.get("KUBECONFIG") else "~/.kube/config"
        return ClusterAccess(
            False,
            f"no cluster configured ({where} does not exist): the embedded or a file fleet "
            "works; a kubeconfig turns on the live fleet, dry-run apply and submit",
        )
    return ClusterAccess(
        True,
        "cluster configured: dry-run apply changes nothing; submit asks for confirmation",
        apply_fn=getattr(kube, "apply", None),
        discover_fn=getattr(kube, "discover", None),
    )
