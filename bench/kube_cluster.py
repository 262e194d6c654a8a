"""Live-cluster timings against the in-process API double: discover, inventory, apply, status.

Run: .venv/bin/python bench/kube_cluster.py   (prints one line per figure)

The double runs in the same process, so the figures hold gpukit's cost (requests through the
kubernetes client, JSON decoding, grouping, summing) plus the double's (filtering, encoding),
at fleet sizes well beyond the test fixtures. A real API server adds its latency per request:
discover makes about 8 requests plus one per 500 nodes; inventory adds one per 500 pods.
The "in-process" lines reach the same double through the transport seam (no HTTP, no
kubernetes client): the difference to the lines above is what the client and HTTP cost.
"""

from __future__ import annotations

import time

from gpukit import kube
from gpukit.testing import FakeApi, FakeApiServer, component_crds, gpu_node, namespace, pod

BALANCED = {
    "mig_strategy": "mixed",
    "mig_config": "all-balanced",
    "mig_layout": {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1},
}


def nodes(count: int) -> list[dict]:
    kinds = [
        ("NVIDIA-H100-80GB-HBM3", 8, BALANCED),
        ("NVIDIA-A100-SXM4-80GB", 8, {"mig_strategy": "mixed"}),
        ("NVIDIA-L4", 4, {"sharing": "time-slicing", "replicas": 4}),
        ("NVIDIA-L4", 4, {"sharing": "mps", "replicas": 4}),
    ]
    return [
        gpu_node(
            f"node-{i:05d}",
            kinds[i % 4][0],
            kinds[i % 4][1],
            labels={"gpukit.io/pool": f"pool-{i % 16}"},
            **kinds[i % 4][2],
        )
        for i in range(count)
    ]


def timed(label: str, func, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    print(f"{label}: {best * 1000:.0f} ms (best of {repeat})")


def fill(api: FakeApi, count: int) -> None:
    api.add(namespace("work"))
    api.add(
        *(
            pod(f"p{i}", "work", node=f"node-{i % count:05d}", limits={"nvidia.com/gpu": 1})
            for i in range(count * 4)
        )
    )


def main() -> None:
    import kubernetes  # noqa: F401 - loaded once, outside the timings

    for count in (100, 1000, 3000):
        with (
            FakeApiServer([*nodes(count), *component_crds("kueue", "volcano")]) as api,
            kube.connect(configuration=api.configuration()) as cluster,
        ):
            fill(api, count)
            timed(f"discover, {count} GPU nodes", lambda: kube.discover(cluster=cluster))
            timed(
                f"inventory, {count} nodes and {count * 4} pods",
                lambda: kube.inventory(cluster=cluster),
            )
    count = 1000
    with (
        FakeApi([*nodes(count), *component_crds("kueue", "volcano")]) as api,
        kube.Cluster(api.transport()) as cluster,
    ):
        fill(api, count)
        timed(f"discover in-process, {count} GPU nodes", lambda: kube.discover(cluster=cluster))
        timed(
            f"inventory in-process, {count} nodes and {count * 4} pods",
            lambda: kube.inventory(cluster=cluster),
        )
    with FakeApiServer(nodes(8)) as api, kube.connect(configuration=api.configuration()) as cluster:
        objects = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"c{i}", "namespace": "default"},
                "data": {"i": str(i)},
            }
            for i in range(200)
        ]
        timed("apply dry run, 200 objects", lambda: kube.apply(objects, cluster=cluster))
        timed(
            "apply for real, 200 objects (dry run pass included)",
            lambda: kube.apply(objects, dry_run=False, cluster=cluster),
        )


if __name__ == "__main__":
    main()
