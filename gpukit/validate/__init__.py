"""Validate Kubernetes manifests offline, as an API server would, against vendored schemas.

>>> from gpukit.validate import validate
>>> pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
...        "spec": {"containers": [{"name": "c", "image": "busybox", "resourses": {}}]}}
>>> [str(issue) for issue in validate(pod)]
["Pod/p: spec.containers[0].resourses: unknown field 'resourses' (did you mean 'resources'?)"]

What one object goes through, in the API server's order:

1. Its schema is picked by apiVersion + kind. No schema means an ``unknown-kind`` issue:
   an object gpukit cannot check is never reported as valid.
2. Null values of non-nullable fields are dropped, and schema defaults are filled in
   (so fields that are both required and defaulted pass, as they do on a cluster).
3. Fields the schema does not declare are ``unknown-field`` issues, as with
   ``kubectl apply --validate=strict``; ``x-kubernetes-preserve-unknown-fields``,
   ``additionalProperties`` and ``x-kubernetes-embedded-resource`` are honoured.
4. Values are checked: required, types, int-or-string, enums, patterns (Go RE2 syntax
   adapted), int32/int64 ranges, date-time, base64 and quantity formats, lengths and
   sizes, list-map and set uniqueness, anyOf/allOf/oneOf/not.
5. ``metadata`` is checked as ObjectMeta with the kind's name rule (RFC 1123 subdomain,
   RFC 1123 label for Namespace, RFC 1035 label for Service, path segment for RBAC),
   label and annotation keys and values.
6. Pod specs (core ones, and those inlined in CRDs such as a PyTorchJob's replica
   templates) get the Go-coded rules that matter for GPUs: container and volume names,
   mounts of missing volumes, requests above limits, and extended resources such as
   ``nvidia.com/gpu`` that are fractional, overcommitted or have no limit. For a custom
   resource the API server does not run these; the pods its controller creates would
   be rejected, so they are reported as errors all the same.

Not checked: CEL rules (``x-kubernetes-validations``), admission webhooks, and the rest
of the Go-coded validation of core kinds.

Where the schemas come from: everything ships inside the package
(``gpukit/validate/schemas``, made by ``tools/vendor_schemas.py``; provenance in its
``SOURCES.md`` and ``index.json``), so validation needs no network, no cluster and no
extra package. The CRDs are the ``openAPIV3Schema`` of each version of the CRDs gpukit
renders or lints, cut from the upstream CRD manifests. The Kubernetes core schema is
extracted once from the JSON schemas of the ``kubernetes-validate`` package, not read
from it at run time, because: one vendored schema is 22 KB where that package is over
100 MB of schemas for every release; the same walker and the same semantics (pruning,
defaults, strict fields) then serve core kinds and CRDs alike, which that package's
plain JSON Schema validation cannot do; and results do not shift with whichever
version of it happens to be installed. The core schema is Kubernetes 1.34, the oldest
release gpukit targets (``resource.k8s.io/v1`` is GA there): an object valid on 1.34 is
valid on every later release, since fields are only ever added.

Other CRDs can be added at run time: ``Validator(crds=[...])`` or ``gpukit validate
--crd FILE``. Compiled schemas are cached per Validator; the module-level functions
share one default Validator.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gpukit.validate._issue import Issue, IssueCode, Severity
from gpukit.validate._validator import FileReport, Validator

__all__ = [
    "FileReport",
    "Issue",
    "IssueCode",
    "Severity",
    "Validator",
    "default_validator",
    "known_kinds",
    "validate",
    "validate_files",
    "validate_objects",
    "with_defaults",
]


@functools.cache
def default_validator() -> Validator:
    """The shared Validator of the vendored schemas (compiled schemas cached on it)."""
    return Validator()


def validate(obj: Any) -> list[Issue]:
    """The issues of one Kubernetes object (an empty list when it is valid)."""
    return default_validator().validate(obj)


def validate_objects(objs: Iterable[Any]) -> list[Issue]:
    """The issues of many objects; each issue's ``doc`` is the object's position."""
    return default_validator().validate_objects(objs)


def validate_files(paths: Iterable[str | Path]) -> list[Issue]:
    """The issues of every document in YAML/JSON files (folders: their files, recursively).

    Raises ManifestError for a file that cannot be read or parsed.
    """
    return default_validator().validate_files(paths)


def with_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` as the API server would store it: nulls pruned, defaults applied."""
    return default_validator().with_defaults(obj)


def known_kinds() -> list[str]:
    """Every 'apiVersion/Kind' the vendored schemas cover, sorted."""
    return default_validator().known_kinds()
