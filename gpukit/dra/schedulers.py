"""Which batch schedulers place pods that carry DRA ResourceClaims, and from which release.

A pod with ``resourceClaims`` is placed by whatever scheduler its ``schedulerName`` names; a
scheduler without a DRA plugin leaves it pending (or binds it with no device). So on a DRA
fleet gpukit chooses Volcano or KAI only from the release that allocates claims:

- **Volcano** 1.12+: the ``predicates`` plugin runs the kube-scheduler DRA plugin (added in
  1.11 on the alpha API, on the beta API from 1.12: volcano-sh/volcano issue 3798). Before
  1.15 it is off unless the scheduler runs with ``--feature-gates=DynamicResourceAllocation=true``
  and the predicates argument ``predicate.DynamicResourceAllocationEnable: true``
  (docs/user-guide/how_to_enable_dra.md); 1.15 turns the argument on by default (PR 5198)
  and counts claims in queue quota (issue 4400).
- **KAI** 0.13+: the scheduler allocates claims (its binder writes them, docs/dra/README.md)
  and counts DRA GPU claims in queue quota, "not shared GPU claims or GPU claims with
  FirstAvailable" (CHANGELOG v0.13.0); pods of a shared claim need the queue label of the
  claim's queue. Earlier releases do not count DRA GPUs against any queue.

A fleet that does not say its version (``versions:``) is taken to run a release that does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gpukit.advisor.reasons import Reason, ReasonCode, reason

if TYPE_CHECKING:  # pragma: no cover
    from gpukit.fleet import Fleet

__all__ = [
    "DRA_SCHEDULERS",
    "DraScheduling",
    "dra_scheduler_skipped",
    "dra_scheduler_warnings",
    "schedules_dra",
]


@dataclass(frozen=True)
class DraScheduling:
    """A scheduler's DRA support: ``since`` the first release that allocates claims,
    ``on_by_default`` the first that needs no setting for it, ``enable`` the setting before."""

    label: str
    lacks: str
    since: tuple[int, ...]
    on_by_default: tuple[int, ...]
    enable: str
    source: str


DRA_SCHEDULERS: dict[str, DraScheduling] = {
    "volcano": DraScheduling(
        "Volcano",
        "allocates no ResourceClaims of the beta or v1 API (its DRA plugin came in 1.11 on the alpha API)",
        (1, 12),
        (1, 15),
        "run the scheduler with --feature-gates=DynamicResourceAllocation=true and give its "
        "predicates plugin the argument predicate.DynamicResourceAllocationEnable: true",
        "volcano-sh/volcano issue 3798, PR 5198, docs/user-guide/how_to_enable_dra.md",
    ),
    "kai": DraScheduling(
        "KAI",
        "counts no DRA GPU claims in its queues' quota, so their GPUs are outside fair sharing and reclaim",
        (0, 13),
        (0, 13),
        "",
        "kai-scheduler/KAI-Scheduler CHANGELOG v0.13.0, docs/dra/README.md",
    ),
}


def _text(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def schedules_dra(fleet: Fleet, scheduler: str) -> bool:
    """Whether ``scheduler`` places the fleet's DRA pods: always off DRA fleets, and for a
    scheduler gpukit has no DRA facts about; else from the version the fleet runs."""
    support = DRA_SCHEDULERS.get(scheduler)
    if not fleet.installed.dra or support is None:
        return True
    version = fleet.version(scheduler)
    return version is None or version >= support.since


def dra_scheduler_skipped(fleet: Fleet, scheduler: str, instead: str) -> Reason:
    """The warning for a plan that does not go to ``scheduler`` (installed, too old for DRA)."""
    support = DRA_SCHEDULERS[scheduler]
    return reason(
        ReasonCode.DRA_SCHEDULER_UNSUPPORTED,
        f"{support.label} {fleet.versions[scheduler]} {support.lacks} ({support.label} "
        f"{_text(support.since)}+ does; {support.source}), so this DRA workload goes to "
        f"{instead} instead; upgrade {support.label} to "
        f"{_text(support.since)}+ and set versions.{scheduler} to match",
    )


def dra_scheduler_warnings(
    fleet: Fleet, scheduler: str, claim_mode: str, fallbacks: int
) -> list[Reason]:
    """What the chosen scheduler does not do with the plan's claims (DRA_SCHEDULER_LIMIT)."""
    support = DRA_SCHEDULERS.get(scheduler)
    if not fleet.installed.dra or support is None:
        return []
    version = fleet.version(scheduler)
    out = []
    if support.enable and version is not None and version < support.on_by_default:
        out.append(
            reason(
                ReasonCode.DRA_SCHEDULER_LIMIT,
                f"{support.label} {fleet.versions[scheduler]}, before {_text(support.on_by_default)} places pods with "
                f"ResourceClaims only when told to: {support.enable} ({support.source})",
            )
        )
    if scheduler == "kai" and (claim_mode == "shared" or fallbacks > 1):
        what = "a shared ResourceClaim" if claim_mode == "shared" else "a firstAvailable list"
        out.append(
            reason(
                ReasonCode.DRA_SCHEDULER_LIMIT,
                f"KAI does not count GPUs of {what} in its queue quota ({support.source}): "
                "the queue's fair share does not see them; "
                + (
                    "keep the pods' queue label on the claim's queue"
                    if claim_mode == "shared"
                    else "a single claimed profile (no alternatives) is counted"
                ),
            )
        )
    return out
