"""Test doubles shipped with gpukit: a Kubernetes API double, in-process or over HTTP.

:class:`FakeApi` keeps objects in memory and speaks the JSON shapes gpukit's cluster code
uses; ``kube.Cluster(api.transport())`` talks to it in the calling thread, with no socket
and no kubernetes package. :class:`FakeApiServer` serves the same double on 127.0.0.1 (an
ephemeral port) for the real ``kubernetes`` client: point it there through
:meth:`FakeApiServer.write_kubeconfig` or :meth:`FakeApiServer.configuration`; nothing in
the client is patched. The builders make realistic objects (GPU nodes labelled as GPU
Feature Discovery labels them, pods, events, CRDs).

Known gaps against a real API server: no controllers run (tests set status and events);
no defaulting beyond the key fields server-side apply merges on (a port's protocol);
validation covers what gpukit's objects can get wrong (names, labels, containers); a
strategic merge patch is applied as a JSON merge patch (lists replaced, not merged by key);
list pages are offsets, not snapshots.

>>> from gpukit.testing import FakeApiServer, gpu_node
>>> with FakeApiServer([gpu_node("gpu-1", "NVIDIA-L4", gpus=4)]) as api:
...     api.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

from gpukit.testing._api import FakeApi, Fault, RecordedRequest
from gpukit.testing._objects import (
    COMPONENT_CRDS,
    component_crds,
    crd,
    event,
    gpu_node,
    namespace,
    pod,
)
from gpukit.testing._server import FakeApiServer

__all__ = [
    "COMPONENT_CRDS",
    "FakeApi",
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
