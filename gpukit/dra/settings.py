"""The fleet's NVIDIA DRA driver: version, feature gates, consumable shares; Kueue's DRA gates.

Facts, with their sources:

- Driver feature gates and their defaults: kubernetes-sigs/dra-driver-nvidia-gpu,
  ``pkg/featuregates/featuregates.go``. ``TimeSlicingSettings`` and ``MPSSupport`` (alpha,
  off, since driver 0.2 = 25.8), ``DynamicMIG`` and ``PassthroughSupport`` (alpha, off, since
  0.3 = 25.12), ``ConsumableShares`` (alpha, off, driver 0.5). ``DynamicMIG`` cannot be on
  with ``MPSSupport`` (``ValidateFeatureGates`` there).
- What needs which gate: the driver's docs, "GPU sharing": time-slicing with its default
  interval needs no gate, a configured interval needs ``TimeSlicingSettings``, MPS needs
  ``MPSSupport``, consumable capacity needs ``ConsumableShares`` plus the chart's
  ``consumableShares`` value (``memory``, ``unlimited`` or a share count; an integer
  publishes a ``shares`` capacity on every GPU), and Kubernetes' ``DRAConsumableCapacity``
  (off before 1.36 unless turned on, beta and on from 1.36). MPS and consumable capacity do
  not combine.
- Kueue's DRA gates: kubernetes-sigs/kueue KEP 2941-DRA: ``KueueDRAIntegration`` (beta, on
  since 0.18) counts ResourceClaimTemplates through ``deviceClassMappings``;
  ``KueueDRAIntegrationPrioritizedList`` (alpha, off) counts ``firstAvailable`` requests;
  pods that reference a ResourceClaim (not a template) are not counted for quota.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CONSUMABLE_SHARES",
    "DRIVER_GATES",
    "DYNAMIC_MIG",
    "KUEUE_PRIORITIZED_LIST",
    "MPS_SUPPORT",
    "TIME_SLICING_SETTINGS",
    "DraSettings",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

TIME_SLICING_SETTINGS = "TimeSlicingSettings"
MPS_SUPPORT = "MPSSupport"
DYNAMIC_MIG = "DynamicMIG"
CONSUMABLE_SHARES = "ConsumableShares"
#: Gate -> (default, driver version it appeared in), as the driver's featuregates.go has them.
DRIVER_GATES: dict[str, tuple[bool, str]] = {
    TIME_SLICING_SETTINGS: (False, "0.2"),
    MPS_SUPPORT: (False, "0.2"),
    "IMEXDaemonsWithDNSNames": (True, "0.2"),
    "PassthroughSupport": (False, "0.3"),
    DYNAMIC_MIG: (False, "0.3"),
    "NVMLDeviceHealthCheck": (False, "0.3"),
    "ComputeDomainCliques": (True, "0.3"),
    "CrashOnNVLinkFabricErrors": (True, "0.3"),
    "DeviceMetadata": (False, "0.4"),
    CONSUMABLE_SHARES: (False, "0.5"),
}
#: Driver gates that cannot be on together (the driver refuses to start).
EXCLUSIVE_GATES: tuple[tuple[str, str], ...] = (
    (DYNAMIC_MIG, MPS_SUPPORT),
    (DYNAMIC_MIG, "PassthroughSupport"),
    (DYNAMIC_MIG, "NVMLDeviceHealthCheck"),
    ("PassthroughSupport", "NVMLDeviceHealthCheck"),
)
KUEUE_PRIORITIZED_LIST = "KueueDRAIntegrationPrioritizedList"
#: Kueue DRA gates gpukit reads -> default in the Kueue release the fleet runs (0.18+).
KUEUE_GATES: dict[str, bool] = {
    "KueueDRAIntegration": True,
    KUEUE_PRIORITIZED_LIST: False,
}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2])


class DraSettings(BaseModel):
    """How the fleet's NVIDIA DRA driver (and Kueue's DRA integration) is configured."""

    model_config = _FROZEN

    driver_version: str = Field(
        default="0.5.0",
        pattern=r"^\d+\.\d+(\.\d+)?$",
        description="the NVIDIA DRA driver's release (SemVer: 0.5.0; 25.12 is 0.3)",
    )
    kubernetes: str = Field(
        default="1.36", pattern=r"^1\.\d+$", description="the cluster's Kubernetes minor"
    )
    feature_gates: dict[str, bool] = Field(
        default_factory=dict, description="driver feature gates set in its Helm values"
    )
    consumable_shares: int | Literal["memory", "unlimited"] | None = Field(
        default=None,
        description="the driver's consumableShares value: share count per GPU, memory or "
        "unlimited; needs feature gate ConsumableShares",
    )
    kueue_feature_gates: dict[str, bool] = Field(
        default_factory=dict, description="Kueue DRA feature gates changed from their default"
    )

    @model_validator(mode="after")
    def _check(self) -> DraSettings:
        for gate in self.feature_gates:
            if gate not in DRIVER_GATES:
                raise ValueError(
                    f"dra.feature_gates: unknown driver gate {gate!r}; "
                    f"known: {', '.join(sorted(DRIVER_GATES))}"
                )
            since = DRIVER_GATES[gate][1]
            if self.feature_gates[gate] and _version(self.driver_version) < _version(since):
                raise ValueError(
                    f"dra.feature_gates: {gate} needs driver {since} or later but "
                    f"dra.driver_version is {self.driver_version}; upgrade the driver"
                )
        for a, b in EXCLUSIVE_GATES:
            if self.gate(a) and self.gate(b):
                raise ValueError(
                    f"dra.feature_gates: the driver refuses {a} and {b} together; turn one off"
                )
        for gate in self.kueue_feature_gates:
            if gate not in KUEUE_GATES:
                raise ValueError(
                    f"dra.kueue_feature_gates: unknown gate {gate!r}; "
                    f"known: {', '.join(sorted(KUEUE_GATES))}"
                )
        if self.consumable_shares is not None:
            if not self.gate(CONSUMABLE_SHARES):
                raise ValueError(
                    "dra.consumable_shares needs the driver gate ConsumableShares; set "
                    "dra.feature_gates.ConsumableShares: true or drop consumable_shares"
                )
            if isinstance(self.consumable_shares, int) and self.consumable_shares < 2:
                raise ValueError("dra.consumable_shares: a share count must be 2 or more")
        return self

    def gate(self, name: str) -> bool:
        """The driver gate's value: the fleet's setting, else the driver's default."""
        return self.feature_gates.get(name, DRIVER_GATES[name][0])

    def kueue_gate(self, name: str) -> bool:
        return self.kueue_feature_gates.get(name, KUEUE_GATES[name])

    @property
    def share_count(self) -> int | None:
        """Shares per GPU the driver publishes as capacity ``shares``, or None."""
        return self.consumable_shares if isinstance(self.consumable_shares, int) else None

    @property
    def consumable(self) -> bool:
        """Claims of different pods can land on one GPU (the scheduler counts capacity)."""
        return self.consumable_shares is not None

    @property
    def consumable_needs_kube_gate(self) -> bool:
        """Kubernetes 1.34 and 1.35 have DRAConsumableCapacity off unless it is turned on."""
        return _version(self.kubernetes) < (1, 36)
