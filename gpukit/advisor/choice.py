"""What a plan says about its chosen option: why it won, and what a reviewer should watch."""

from __future__ import annotations

from gpukit.advisor import sharing_rules
from gpukit.advisor.context import Context
from gpukit.advisor.mechanisms import MECHANISMS
from gpukit.advisor.option import Option
from gpukit.advisor.option_rules import capacity
from gpukit.advisor.precision import precision_warning
from gpukit.advisor.preference import Preference
from gpukit.advisor.reasons import Reason, ReasonCode, reason
from gpukit.advisor.scoring import Scored

__all__ = ["choice_reasons", "sharing_warnings"]


def choice_reasons(
    choice: Scored, preference: Preference, feasible: list[Scored], ctx: Context
) -> list[Reason]:
    """Why this particular option won among the feasible ones."""
    option = choice.option
    reasons: list[Reason] = []
    facts = ctx.facts.by_name[option.pool]
    model = facts.model
    if choice.rank > 0:
        reasons.append(
            reason(
                ReasonCode.FALLBACK,
                f"no {preference.first} option in the fleet fits this workload "
                f"(see Rejected); {option.sharing} is the next best",
            )
        )
    fit = MECHANISMS[option.sharing].fit_reason(option, facts, ctx)
    if fit is not None:
        reasons.append(fit)
    rival = next(
        (s.option for s in feasible if s.rank == choice.rank and s.option.gpu_model != model.key),
        None,
    )
    if rival is not None:
        wanted, free, unit = capacity(option, ctx)
        reasons.append(
            reason(
                ReasonCode.GPU_MODEL_COST,
                f"{model.key} (${facts.price:.2f} per GPU-hour, ${option.cost_per_hour:.2f}/h "
                "per pod) scores best on cost and free capacity among the GPU models that fit; "
                f"next is {rival.gpu_model} at ${rival.cost_per_hour:.2f}/h per pod; it takes "
                f"{wanted} of {free} free {unit} in pool {option.pool}",
            )
        )
    reasons.extend(sharing_rules.prediction_reasons(option, ctx))
    return reasons


def sharing_warnings(choice: Option, ctx: Context) -> list[Reason]:
    """The chosen option's warnings: its mechanism's, a MIG layout to set, the model's, DCGM."""
    facts = ctx.facts.by_name[choice.pool]
    warnings = MECHANISMS[choice.sharing].warnings(choice, facts, ctx)
    if choice.mig_profile is not None and not facts.offer_for(choice.mig_profile).declared:
        warnings.append(
            reason(
                ReasonCode.MIG_LAYOUT_NEEDED,
                f"pool {facts.name} declares no MIG layout; its nodes' MIG config must "
                f"include {choice.mig_profile} (changing it evicts GPU pods)",
            )
        )
    warnings.extend(sharing_rules.prediction_warnings(choice, ctx))
    not_native = precision_warning(choice, ctx)
    if not_native is not None:
        warnings.append(not_native)
    if not ctx.fleet.installed.dcgm_exporter:
        warnings.append(
            reason(
                ReasonCode.NO_DCGM_MONITORING,
                "no DCGM exporter in the fleet: GPU utilisation and memory go unmeasured, "
                "so waste and contention stay invisible",
            )
        )
    return warnings
