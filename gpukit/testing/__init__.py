"""Test doubles shipped with gpukit: a Kubernetes API server the real client can talk to.

:class:`FakeApiServer` runs in-process on 127.0.0.1 (an ephemeral port) and speaks the JSON
shapes gpukit's cluster code uses; point the real ``kubernetes`` client at it through
:meth:`FakeApiServer.write_kubeconfig` or :meth:`FakeApiServer.configuration`. Nothing in
the client is patched. The builders make realistic objects (GPU nodes labelled as GPU
Feature Discovery labels them, pods, events, CRDs).

>>> from gpukit.testing import FakeApiServer, gpu_node
>>> with FakeApiServer([gpu_node("gpu-1", "NVIDIA-L4", gpus=4)]) as api:
...     api.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

from gpukit.testing._objects import (
    COMPONENT_CRDS,
    component_crds,
    crd,
    event,
    gpu_node,
    namespace,
    pod,
)
from gpukit.testing._server import FakeApiServer, Fault, RecordedRequest

__all__ = [
    "COMPONENT_CRDS",
    "FakeApiServer",
    "Fault",
    "RecordedRequest",
    "component_crds",
    "crd",
    "event",
    "gpu_node",
    "namespace",
    "pod",
]
