"""The gpukit exception tree: every error a user can cause is a GpukitError.

    GpukitError
    ├── InputError                 bad user input (CLI exit code 2)
    │   ├── WorkloadError          a workload field is missing, mistyped or impossible
    │   ├── FleetError             a fleet field is missing, mistyped or impossible
    │   ├── UnknownGpuError        a GPU name that no catalog entry matches
    │   └── ManifestError          a manifest file that cannot be read or parsed
    ├── NoFeasiblePlan             no option meets the workload's needs; lists every rejection
    ├── MigLayoutError             a MIG layout that cannot be placed on its GPU
    ├── MissingExtraError          an optional dependency is not installed
    └── ClusterError               the live cluster refused or could not be reached
        ├── ApiStatusError         (gpukit.kube) the API answered with a failure Status
        ├── Unreachable            (gpukit.kube) no answer; .maybe_sent when it may have arrived
        ├── WatchDropped           (gpukit.kube) a watch was cut or its resourceVersion expired
        └── WaitTimeout            (gpukit.kube) wait() ran out of time; .status is the last seen

Messages are one line: the rule, the bad value, what is allowed, how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ClusterError",
    "FleetError",
    "GpukitError",
    "InputError",
    "ManifestError",
    "MigLayoutError",
    "MissingExtraError",
    "NoFeasiblePlan",
    "UnknownGpuError",
    "WorkloadError",
    "did_you_mean",
]


class GpukitError(Exception):
    """Base of every error gpukit raises on purpose."""

    exit_code = 1


class InputError(GpukitError, ValueError):
    """The user gave something gpukit cannot use; the message says how to fix it."""

    exit_code = 2


class WorkloadError(InputError):
    """A workload description is invalid."""


class FleetError(InputError):
    """A fleet description is invalid."""


class UnknownGpuError(InputError, LookupError):
    """A GPU name that no catalog entry matches."""


class ManifestError(InputError):
    """A manifest or config file that cannot be read or parsed."""


class MigLayoutError(GpukitError, ValueError):
    """A MIG layout that cannot be placed on its GPU model."""

    exit_code = 1


class NoFeasiblePlan(GpukitError):
    """No sharing option meets the workload's needs.

    ``rejections`` holds every option that was considered and why it was turned down.
    """

    exit_code = 1

    def __init__(self, message: str, rejections: Iterable[object] = ()) -> None:
        super().__init__(message)
        self.rejections = list(rejections)


class MissingExtraError(GpukitError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    exit_code = 2

    @classmethod
    def for_module(cls, module: str, extra: str) -> MissingExtraError:
        return cls(
            f"this feature needs the '{module}' package, which is not installed; "
            f"fix: pip install 'gpukit[{extra}]'"
        )


class ClusterError(GpukitError):
    """The Kubernetes API could not be reached or refused a request."""

    exit_code = 1


def did_you_mean(value: str, allowed: Iterable[str], n: int = 3) -> str:
    """A ' (did you mean X?)' suffix for the closest allowed values, or '' when none is close."""
    choices = list(allowed)
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(str(value).lower(), list(lowered), n=n, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?)"
