"""KFP component: MIG layouts for a fleet and its demands; mig-parted ConfigMap and node labels out."""

from kfp import dsl
from kfp.dsl import Artifact, Output

try:
    from components._base import BASE_IMAGE
except ImportError:  # compiled from inside components/
    from _base import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def plan_mig_layout(
    fleet_yaml: str,
    demands_yaml: str,
    configmap: Output[Artifact],
    node_labels: Output[Artifact],
    namespace: str = "gpu-operator",
) -> str:
    """Pack the demands onto the fleet's MIG-capable GPUs (fewest GPUs, then fewest changes).

    fleet_yaml: a gpukit fleet file's text (or the packer's simple GPU list); demands_yaml:
    a demand file's text (see `gpukit mig plan`). Writes the mig-parted ConfigMap and a
    `kubectl label` script for the nodes; returns the packing summary as JSON. Fails the
    step when a demand cannot be placed.
    """
    import json
    import shlex
    import sys
    import tempfile
    from pathlib import Path

    from gpukit.errors import GpukitError
    from gpukit.hardware.packing import load_demands, load_gpu_slots, pack
    from gpukit.manifests import to_yaml

    with tempfile.TemporaryDirectory() as tmp:
        fleet_file, demand_file = Path(tmp, "fleet.yaml"), Path(tmp, "demands.yaml")
        fleet_file.write_text(fleet_yaml, encoding="utf-8")
        demand_file.write_text(demands_yaml, encoding="utf-8")
        try:
            result = pack(load_demands(demand_file), load_gpu_slots(fleet_file))
        except GpukitError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    summary = result.to_dict()
    print(json.dumps({k: summary[k] for k in ("gpus_used", "lower_bound", "gpus_changed")}))
    with open(configmap.path, "w", encoding="utf-8") as handle:
        handle.write(to_yaml(result.configmap(namespace=namespace)))
    lines = ["#!/bin/sh", "# Select each node's MIG layout; the GPU Operator's MIG manager applies it.", "set -e"]
    for node, config in sorted(result.node_labels.items()):
        label = shlex.quote(f"nvidia.com/mig.config={config}")
        lines.append(f"kubectl label node {shlex.quote(node)} {label} --overwrite")
    with open(node_labels.path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    configmap.metadata["gpus_used"] = result.gpus_used
    if result.unplaced:
        for item in result.unplaced:
            print(f"cannot place {item.count}x {item.demand}: {item.reason}", file=sys.stderr)
        raise SystemExit(1)
    return json.dumps(summary)
