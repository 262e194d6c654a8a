"""The platform side of DRA: the NVIDIA DRA driver's Helm values with the gates the plans need.

Chart ``nvidia-dra-driver-gpu`` (kubernetes-sigs/dra-driver-nvidia-gpu, deployments/helm):
``featureGates.<Gate>``, ``consumableShares`` and ``resources.gpus.enabled``;
``gpuResourcesEnabledOverride`` acknowledges that the GPU part is not the supported default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpukit.dra.settings import DRIVER_GATES, EXCLUSIVE_GATES
from gpukit.dra.warnings import required_gates

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.platform.files import PlatformFile
    from gpukit.platform.model import PlatformPlan

__all__ = ["VALUES_PATH", "driver_values", "gate_needs", "platform_files"]

Obj = dict[str, Any]
VALUES_PATH = "helm/nvidia-dra-driver-values.yaml"


def gate_needs(pp: PlatformPlan) -> dict[str, list[str]]:
    """Driver gate -> the planned workloads that need it, in plan order."""
    needs: dict[str, list[str]] = {}
    for plan in pp.plans:
        for gate in required_gates(plan):
            needs.setdefault(gate, []).append(plan.name)
    return dict(sorted(needs.items()))


def driver_values(pp: PlatformPlan) -> Obj:
    """Helm values: the fleet's gates, plus those the plans need (unless that would turn on
    two gates the driver refuses together: then the fleet's stays and the plan warns)."""
    dra = pp.fleet.dra
    gates = {gate: dra.gate(gate) for gate in dra.feature_gates}
    for gate in gate_needs(pp):
        clash = [b for a, b in EXCLUSIVE_GATES if a == gate and dra.gate(b)]
        clash += [a for a, b in EXCLUSIVE_GATES if b == gate and dra.gate(a)]
        if not clash:
            gates[gate] = True
    values: Obj = {
        "resources": {"gpus": {"enabled": True}},
        "gpuResourcesEnabledOverride": True,
        "featureGates": {g: gates[g] for g in DRIVER_GATES if g in gates},
    }
    if dra.consumable_shares is not None:
        values["consumableShares"] = dra.consumable_shares
    return values


def platform_files(pp: PlatformPlan) -> list[PlatformFile]:
    from gpukit.manifests.yaml import to_yaml
    from gpukit.platform.files import PlatformFile

    if not pp.dra:
        return []
    needs = gate_needs(pp)
    purpose = [
        f"NVIDIA DRA driver {pp.fleet.dra.driver_version} on Kubernetes "
        + f"{pp.fleet.dra.kubernetes}: GPUs through ResourceClaims (resource.k8s.io/v1).",
        *(f"  {gate}: needed by {', '.join(names)}" for gate, names in needs.items()),
    ]
    if not needs:
        purpose.append("  No planned workload needs an alpha driver gate.")
    purpose.append("Helm values, not a Kubernetes object: `gpukit validate` does not read helm/.")
    files = [
        PlatformFile(
            VALUES_PATH,
            "NVIDIA DRA driver Helm values.",
            tuple(purpose),
            (
                "after the GPU Operator (its driver and toolkit; its device plugin is off):",
                (
                    "helm upgrade --install nvidia-dra-driver-gpu nvidia/nvidia-dra-driver-gpu "
                    f"-n nvidia-dra-driver-gpu --create-namespace -f {VALUES_PATH}"
                ),
            ),
            text=to_yaml(driver_values(pp)),
        )
    ]
    return files
