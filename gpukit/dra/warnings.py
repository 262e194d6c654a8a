"""What a plan on a DRA fleet warns about: gates that are off, sharing that is narrower than
planned, Kueue limits, dynamic MIG's fragmentation. Sources in :mod:`gpukit.dra.settings`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gpukit.advisor.reasons import Reason, ReasonCode, reason
from gpukit.dra.claims import claim_mode, fallbacks
from gpukit.dra.schedulers import dra_scheduler_warnings
from gpukit.dra.settings import CONSUMABLE_SHARES, DYNAMIC_MIG, KUEUE_PRIORITIZED_LIST, MPS_SUPPORT

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.advisor.plan import Plan

__all__ = ["dra_warnings", "required_gates"]


def required_gates(plan: Plan) -> list[str]:
    """Driver feature gates the plan's claims need on (the driver rejects them otherwise)."""
    if not plan.fleet.installed.dra:
        return []
    gates = []
    if plan.sharing == "mps":
        gates.append(MPS_SUPPORT)
    if claim_mode(plan.choice, plan.fleet) == "capacity":
        gates.append(CONSUMABLE_SHARES)
    return gates


def dra_warnings(plan: Plan) -> list[Reason]:
    """The plan's DRA warnings; [] off DRA fleets."""
    fleet = plan.fleet
    if not fleet.installed.dra:
        return []
    dra, out = fleet.dra, []
    for gate in required_gates(plan):
        if not dra.gate(gate):
            out.append(
                reason(
                    ReasonCode.DRA_GATE_OFF,
                    f"the NVIDIA DRA driver rejects this {plan.sharing} claim while its feature "
                    f"gate {gate} is off; set dra.feature_gates.{gate}: true (gpukit platform "
                    f"render writes featureGates.{gate}=true into the driver's Helm values)",
                )
            )
    mode = claim_mode(plan.choice, fleet)
    if mode == "shared" and plan.sharing == "time-slicing":
        out.append(
            reason(
                ReasonCode.DRA_SHARED_CLAIM_ONLY,
                f"under DRA a GPU is shared by the pods of one claim: this workload's "
                f"{plan.pods} pod(s) share one whole GPU and no other workload joins them, so "
                "it holds a whole GPU; set dra.consumable_shares (driver gate "
                "ConsumableShares) so claims of several workloads pack onto one GPU",
            )
        )
    if mode == "shared" and plan.scheduler == "kueue":
        out.append(
            reason(
                ReasonCode.DRA_KUEUE_SHARED_CLAIM,
                "Kueue counts DRA devices only from ResourceClaimTemplates: pods that reference "
                "a shared ResourceClaim are not counted against quota (Kueue KEP 2941 makes "
                "such workloads inadmissible); "
                + (
                    "time-slicing with dra.consumable_shares gives each pod a template instead"
                    if plan.sharing == "time-slicing"
                    else "MPS needs a shared claim: run this workload without a Kueue queue"
                ),
            )
        )
    if mode == "capacity":
        replicas = plan.pool.sharing.replicas if plan.pool.sharing else None
        if dra.share_count is not None and replicas is not None and replicas != dra.share_count:
            out.append(
                reason(
                    ReasonCode.DRA_SHARES_DIFFER,
                    f"pool {plan.pool.name} declares {replicas} shares per GPU (a device-plugin "
                    f"setting) but the DRA driver publishes {dra.share_count}; the scheduler "
                    f"counts {dra.share_count}: set the pool's sharing.replicas to match",
                )
            )
        if dra.consumable_needs_kube_gate:
            out.append(
                reason(
                    ReasonCode.DRA_GATE_OFF,
                    f"consumable capacity on Kubernetes {dra.kubernetes} needs the "
                    "DRAConsumableCapacity feature gate on the API server, scheduler and "
                    "kubelets (on by default from 1.36)",
                )
            )
    if plan.scheduler == "kueue" and not dra.kueue_gate(KUEUE_PRIORITIZED_LIST):
        alternatives = [
            a
            for a in plan.alternatives
            if a.pool == plan.choice.pool and claim_mode(a, fleet) == mode == "template"
        ]
        if alternatives and len(fallbacks(plan)) == 1:
            out.append(
                reason(
                    ReasonCode.DRA_NO_FALLBACK_LIST,
                    "the claim asks only for the choice, not a prioritized list of the "
                    f"alternatives ({', '.join(a.label for a in alternatives)}): Kueue counts "
                    f"firstAvailable requests only with its gate {KUEUE_PRIORITIZED_LIST}; "
                    f"set dra.kueue_feature_gates.{KUEUE_PRIORITIZED_LIST}: true once Kueue has it on",
                )
            )
    out += dra_scheduler_warnings(fleet, plan.scheduler, mode, len(fallbacks(plan)))
    if plan.choice.mig_profile is not None and dra.gate(DYNAMIC_MIG):
        out.append(
            reason(
                ReasonCode.DRA_DYNAMIC_MIG,
                f"dynamic MIG: the driver creates a {plan.choice.mig_profile} slice when the "
                "claim is allocated, so no MIG layout is set ahead; a GPU whose free slices "
                "do not line up may hold none though memory is free (fragmentation): prefer "
                "one profile size per pool",
            )
        )
    return out
