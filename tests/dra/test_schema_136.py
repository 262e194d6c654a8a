"""The claims validate against Kubernetes 1.36 too: every resource.k8s.io/v1 definition they
use has the same fields in 1.36 as in the vendored 1.34 schema the validator reads.

Reads the 1.36 schema from the kubernetes-validate package (the one tools/vendor_schemas.py
vendors 1.34 from); skipped where it is not installed.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest

kubernetes_validate = pytest.importorskip("kubernetes_validate")

#: What gpukit's claims render, and what those definitions reference.
RENDERED = (
    "ResourceClaim",
    "ResourceClaimSpec",
    "ResourceClaimTemplate",
    "ResourceClaimTemplateSpec",
    "DeviceClaim",
    "DeviceRequest",
    "ExactDeviceRequest",
    "DeviceSubRequest",
    "CapacityRequirements",
    "DeviceSelector",
    "CELDeviceSelector",
    "DeviceClaimConfiguration",
    "OpaqueDeviceConfiguration",
)


def _definitions(version: str) -> dict:
    path = resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", f"v{version}.0-local", "_definitions.json"
    )
    return json.loads(path.read_text())["$defs"]


def test_rendered_claim_definitions_are_the_same_in_136():
    packed = resources.files("gpukit.validate").joinpath("schemas", "core-1.34.json.gz")
    vendored = json.loads(gzip.decompress(packed.read_bytes()))["definitions"]
    k136 = _definitions("1.36")
    for name in RENDERED:
        key = f"io.k8s.api.resource.v1.{name}"
        assert set(k136[key].get("properties", {})) == set(vendored[key]["properties"]), name
        assert set(k136[key].get("required", [])) == set(vendored[key].get("required", [])), name
