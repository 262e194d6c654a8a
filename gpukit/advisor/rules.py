"""Old home of the decision rules, kept for one release: it re-exports the names it had.

The rules now live in modules of their own: gpukit.advisor.context (Context, HEADROOM),
.facts (fleet facts), .mechanisms (one module per sharing mechanism), .option_rules (the
options and the rules that reject them), .preference, .scoring, .choice (reasons and
warnings of the chosen option), .scheduler and .reasons (codes). Import from those.
"""

from __future__ import annotations

from gpukit.advisor.choice import choice_reasons, sharing_warnings
from gpukit.advisor.context import HEADROOM, Context
from gpukit.advisor.facts import FleetFacts, PoolFacts, fleet_facts
from gpukit.advisor.mechanisms import Offer
from gpukit.advisor.mechanisms.dedicated import SMALL_WORK_SHARE, dedicated_shape
from gpukit.advisor.option import Option
from gpukit.advisor.option_rules import (
    OPTION_RULES,
    OptionRule,
    capacity,
    first_rejection,
    fleet_options,
    rule_capacity,
    rule_isolation,
    rule_latency,
    rule_memory_fits,
    rule_memory_known,
    rule_mig_profile_exists,
    rule_multi_node_serving,
    rule_node_size,
    rule_one_shared_gpu,
    rule_pool_limits,
    rule_whole_gpus,
)
from gpukit.advisor.option_rules import unusable_rejections as unusable_mig_rejections
from gpukit.advisor.preference import Preference, sharing_preference
from gpukit.advisor.reasons import gib as _gib
from gpukit.advisor.reasons import reason as _reason
from gpukit.advisor.reasons import rejection as _rejection
from gpukit.advisor.scheduler import SchedulerChoice, choose_scheduler
from gpukit.advisor.scoring import score_options

#: Options under evaluation are Options now (one type); the old names stay for one release.
Candidate = Option
AnyOption = Option
rule_mps_clients = rule_pool_limits

__all__ = [
    "HEADROOM",
    "OPTION_RULES",
    "SMALL_WORK_SHARE",
    "AnyOption",
    "Candidate",
    "Context",
    "FleetFacts",
    "Offer",
    "OptionRule",
    "PoolFacts",
    "Preference",
    "SchedulerChoice",
    "_gib",
    "_reason",
    "_rejection",
    "capacity",
    "choice_reasons",
    "choose_scheduler",
    "dedicated_shape",
    "first_rejection",
    "fleet_facts",
    "fleet_options",
    "rule_capacity",
    "rule_isolation",
    "rule_latency",
    "rule_memory_fits",
    "rule_memory_known",
    "rule_mig_profile_exists",
    "rule_mps_clients",
    "rule_multi_node_serving",
    "rule_node_size",
    "rule_one_shared_gpu",
    "rule_whole_gpus",
    "score_options",
    "sharing_preference",
    "sharing_warnings",
    "unusable_mig_rejections",
]
