"""Lint: GPU anti-patterns in existing Kubernetes manifests and GPU configs, with fixes.

>>> from gpukit.lint import lint
>>> pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
...        "spec": {"containers": [{"name": "c", "image": "cuda:12.4",
...                  "resources": {"limits": {"nvidia.com/gpu": "0.5"}}}]}}
>>> [f.rule for f in lint(pod)]
['GPU002', 'GPU010', 'GPU013']

``lint(objects_or_paths, fleet=None, workloads=None)`` returns :class:`Finding` objects
(rule id, severity, message with the fix, file, document index, object kind/name, field
path, line, whether a fix exists). The module itself is callable too:
``gpukit.lint(paths)`` is ``gpukit.lint.lint(paths)``.

What it reads: multi-document YAML or JSON files, folders of them, '-' (stdin), Kubernetes
Lists, every pod-bearing kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
CronJob, Volcano Job/CronJob/JobTemplate tasks, Kubeflow PyTorchJob/MPIJob/TFJob/...
replica specs, Trainer TrainJob and (Cluster)TrainingRuntime, JobSet replicatedJobs,
LeaderWorkerSet leader/worker templates, KubeRay RayCluster/RayJob/RayService groups), NVIDIA
device-plugin config files, mig-parted configs, GPU Operator Helm values and ClusterPolicy,
and device-plugin or mig-parted configs nested in ConfigMaps.

Input limits (see :mod:`gpukit._yaml`): files over ``MAX_FILE_BYTES`` (2 MiB), nesting
deeper than ``MAX_DEPTH`` (100), more than ``MAX_ALIASES`` (1000) aliases, more than
``MAX_NODES`` (500,000) values with aliases expanded, or more than ``MAX_DOCUMENTS`` (2000)
documents are refused with a one-line ManifestError, as are binary and non-UTF-8 files.

Fixes: :func:`fix_objects` returns fixed copies of in-memory objects; :func:`fix_text` and
:func:`write_fixes` rewrite files with ruamel.yaml (comments and key order kept, in nested
ConfigMap configs too; the ``lint`` extra). Fixes compose: one rule's edits per document
per round, each round re-linted in the lint run's context, until nothing fixable is left
or ``MAX_ROUNDS`` (see :mod:`gpukit.lint._fix`).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from gpukit._yaml import MAX_ALIASES, MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, MAX_NODES
from gpukit.lint._engine import at_or_above, lint
from gpukit.lint._fix import MAX_ROUNDS, apply_edits, fix_objects, fix_text, write_fixes
from gpukit.lint._model import SEVERITIES, Edit, Finding, Rule, Severity
from gpukit.lint._output import to_json, to_sarif, to_table
from gpukit.lint.rules import RULES

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENTS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_ROUNDS",
    "RULES",
    "SEVERITIES",
    "Edit",
    "Finding",
    "Rule",
    "Severity",
    "apply_edits",
    "at_or_above",
    "fix_objects",
    "fix_text",
    "lint",
    "to_json",
    "to_sarif",
    "to_table",
    "write_fixes",
]


class _CallableModule(types.ModuleType):
    """Lets ``gpukit.lint(...)`` work although ``gpukit.lint`` is this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> list[Finding]:
        return lint(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
