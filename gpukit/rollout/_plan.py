"""Plan a MIG reconfiguration as waves that never drop capacity below the work that runs. Pure.

The MIG manager applies a node's ``nvidia.com/mig.config`` to the whole node: while it does,
the node offers no GPU resource, and every GPU pod on it must have gone first. A wave is a
set of nodes relabelled together. A wave is safe when everything evicted from its nodes (a
gang as a whole), and everything admitted but not yet bound, fits on the other nodes at
that moment (nodes of earlier waves already in their new layout), each pod on a node its
node selector admits, within the disruptions each PodDisruptionBudget allows. The plan is
the fewest safe waves of at most ``max_unavailable`` nodes: exact for small rollouts (a
breadth-first search over which nodes are done), greedy beyond, and when no safe order
exists it says which resource falls short on which node, and what to free first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from gpukit import vocab
from gpukit.errors import InputError

__all__ = [
    "MIG_CONFIG_LABEL",
    "Budget",
    "Consumer",
    "NodeChange",
    "PodDemand",
    "RolloutPlan",
    "Wave",
    "plan_rollout",
]

MIG_CONFIG_LABEL = vocab.MIG_CONFIG_LABEL
#: Changed nodes up to which the fewest waves are found exactly (breadth-first search).
EXACT_LIMIT = 10


@dataclass(frozen=True)
class NodeChange:
    """One node: its current and target MIG config and the GPU resources each offers."""

    name: str
    labels: Mapping[str, str]
    config: str | None
    capacity: Mapping[str, int]
    target_config: str | None
    target_capacity: Mapping[str, int]

    @property
    def changes(self) -> bool:
        return self.config != self.target_config

    def labels_after(self) -> dict[str, str]:
        labels = dict(self.labels)
        if self.target_config is not None:
            labels[MIG_CONFIG_LABEL] = self.target_config
        return labels


@dataclass(frozen=True)
class PodDemand:
    """One pod's GPU requests, where it runs (None: admitted, not bound) and where it may go."""

    name: str
    requests: Mapping[str, int]
    node: str | None = None
    selector: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Consumer:
    """Pods that move together: one pod, or a gang whose pods all restart when one goes."""

    name: str
    pods: tuple[PodDemand, ...]
    gang: bool = False
    budget: str | None = None  # the PodDisruptionBudget covering its pods

    def on(self, nodes: set[str]) -> bool:
        return any(p.node in nodes for p in self.pods)


@dataclass(frozen=True)
class Budget:
    """A PodDisruptionBudget: how many of its pods may be evicted at once."""

    name: str
    allowed: int


@dataclass(frozen=True)
class Wave:
    nodes: tuple[str, ...]
    evicts: tuple[str, ...]
    why_safe: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": list(self.nodes),
            "evicts": list(self.evicts),
            "why_safe": list(self.why_safe),
        }


@dataclass(frozen=True)
class RolloutPlan:
    waves: tuple[Wave, ...]
    unchanged: tuple[str, ...]
    max_unavailable: int
    #: Why no safe order exists (empty when the waves reach every target).
    blocked: tuple[str, ...] = ()
    exact: bool = True
    notes: tuple[str, ...] = ()
    targets: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def safe(self) -> bool:
        return not self.blocked

    def to_dict(self) -> dict[str, Any]:
        return {
            "safe": self.safe,
            "max_unavailable": self.max_unavailable,
            "minimal": self.exact,
            "waves": [w.to_dict() for w in self.waves],
            "unchanged": list(self.unchanged),
            "targets": dict(self.targets),
            "blocked": list(self.blocked),
            "notes": list(self.notes),
        }

    def text(self) -> str:
        lines = []
        if not self.waves and not self.blocked:
            lines.append("nothing to change: every node already has its target MIG config")
        for i, wave in enumerate(self.waves, 1):
            changes = ", ".join(f"{n} -> {self.targets.get(n)}" for n in wave.nodes)
            lines.append(f"wave {i}: {changes}")
            lines.append("  evicts: " + (", ".join(wave.evicts) if wave.evicts else "no GPU pod"))
            lines += [f"  safe: {why}" for why in wave.why_safe]
        if self.blocked:
            lines.append("no safe order for the rest:")
            lines += [f"  {why}" for why in self.blocked]
        lines += [f"note: {n}" for n in self.notes]
        minimal = "the fewest possible" if self.exact else "found greedily"
        if self.waves:
            lines.append(
                f"{len(self.waves)} wave(s), at most {self.max_unavailable} node(s) at a time ({minimal})"
            )
        return "\n".join(lines)


# -- the safety check -------------------------------------------------------------------


@dataclass
class _Check:
    ok: bool
    evicts: tuple[str, ...] = ()
    why: tuple[str, ...] = ()


def _fits(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def check_wave(
    wave: set[str],
    done: set[str],
    nodes: Mapping[str, NodeChange],
    consumers: Iterable[Consumer],
    budgets: Mapping[str, Budget],
) -> _Check:
    """Whether relabelling ``wave`` now (``done`` already relabelled) keeps all work placeable."""
    free: dict[str, dict[str, int]] = {}
    labels: dict[str, dict[str, str]] = {}
    for name, node in nodes.items():
        if name in wave:
            continue
        cap = node.target_capacity if name in done else node.capacity
        free[name] = dict(cap)
        labels[name] = node.labels_after() if name in done else dict(node.labels)
    moves: list[tuple[Consumer, PodDemand]] = []
    evicts: list[str] = []
    evicted_per_budget: dict[str, int] = {}
    for consumer in consumers:
        hit = consumer.on(wave)
        if hit:
            evicts.append(consumer.name)
        for pod in consumer.pods:
            # A gang restarts whole when one of its pods goes; others move pod by pod. Pods
            # first bound on a node of an earlier wave were evicted then: they float too.
            floats = pod.node is None or pod.node in wave or pod.node in done
            if floats or (consumer.gang and hit):
                moves.append((consumer, pod))
                if hit and consumer.budget and pod.node is not None:
                    evicted_per_budget[consumer.budget] = (
                        evicted_per_budget.get(consumer.budget, 0) + 1
                    )
            elif pod.node in free:
                for res, n in pod.requests.items():
                    free[pod.node][res] = free[pod.node].get(res, 0) - n
    for name, room in free.items():
        short = {r: -n for r, n in room.items() if n < 0}
        if short:  # more bound than the node offers: the input is inconsistent
            res, n = min(short.items())
            return _Check(False, why=(f"{name} runs more {res} than it offers ({n} over)",))
    for name, count in sorted(evicted_per_budget.items()):
        budget = budgets.get(name)
        if budget is not None and count > budget.allowed:
            return _Check(
                False,
                why=(
                    (
                        f"PodDisruptionBudget {name} allows {budget.allowed} disruption(s), this "
                        f"would evict {count}"
                    ),
                ),
            )
    # Largest first: the order first-fit decreasing places in.
    moves.sort(key=lambda cp: (-sum(cp[1].requests.values()), cp[1].name))
    for consumer, pod in moves:
        target = next(
            (
                n
                for n in sorted(free)
                if _fits(pod.selector, labels[n])
                and all(free[n].get(r, 0) >= k for r, k in pod.requests.items())
            ),
            None,
        )
        if target is None:
            wanted = ", ".join(f"{r}: {k}" for r, k in sorted(pod.requests.items()))
            spare = {
                r: sum(max(free[n].get(r, 0), 0) for n in free if _fits(pod.selector, labels[n]))
                for r in pod.requests
            }
            room = ", ".join(f"{r}: {k}" for r, k in sorted(spare.items()))
            return _Check(
                False,
                why=(
                    (
                        f"{consumer.name}{' (gang)' if consumer.gang else ''}: pod {pod.name} "
                        f"needs {wanted} on a node its selector admits; free there meanwhile: "
                        f"{room}"
                    ),
                ),
            )
        for r, k in pod.requests.items():
            free[target][r] -= k
    why: list[str] = []
    resources = sorted({r for n in nodes.values() for r in (*n.capacity, *n.target_capacity)})
    for res in resources:
        left = sum(room.get(res, 0) for room in free.values())
        used = sum(p.requests.get(res, 0) for c in consumers for p in c.pods)
        if used:
            why.append(f"{res}: {used} in use fit in what the other nodes offer ({left} left free)")
    if not why:
        why.append("no GPU pod runs on these nodes or needs their resources")
    return _Check(True, evicts=tuple(evicts), why=tuple(why))


# -- the search -------------------------------------------------------------------------


def _order(
    names: list[str], nodes: Mapping[str, NodeChange], consumers: list[Consumer]
) -> list[str]:
    """Nodes with the least running work first: they are the cheapest to empty."""

    def load(name: str) -> tuple[int, str]:
        return (
            sum(sum(p.requests.values()) for c in consumers for p in c.pods if p.node == name),
            name,
        )

    return sorted(names, key=load)


def _exact(
    changing: list[str],
    k: int,
    nodes: Mapping[str, NodeChange],
    consumers: list[Consumer],
    budgets: Mapping[str, Budget],
) -> list[tuple[tuple[str, ...], _Check]] | None:
    """Fewest waves by breadth-first search over the set of nodes already relabelled."""
    start: frozenset[str] = frozenset()
    goal = frozenset(changing)
    parents: dict[frozenset[str], tuple[frozenset[str], tuple[str, ...], _Check] | None] = {
        start: None
    }
    frontier = [start]
    while frontier and goal not in parents:
        following = []
        for done in frontier:
            rest = [n for n in changing if n not in done]
            for size in range(min(k, len(rest)), 0, -1):
                for wave in combinations(rest, size):
                    after = done | frozenset(wave)
                    if after in parents:
                        continue
                    result = check_wave(set(wave), set(done), nodes, consumers, budgets)
                    if result.ok:
                        parents[after] = (done, wave, result)
                        following.append(after)
        frontier = following
    if goal not in parents:
        return None
    steps = []
    state = goal
    while parents[state] is not None:
        done, wave, result = parents[state]  # type: ignore[misc]
        steps.append((wave, result))
        state = done
    return steps[::-1]


def _greedy(
    changing: list[str],
    k: int,
    nodes: Mapping[str, NodeChange],
    consumers: list[Consumer],
    budgets: Mapping[str, Budget],
) -> tuple[list[tuple[tuple[str, ...], _Check]], list[str]]:
    """Waves built node by node, lightest first, each as large as stays safe."""
    done: set[str] = set()
    steps = []
    rest = _order(changing, nodes, consumers)
    while rest:
        wave: list[str] = []
        last: _Check | None = None
        for name in rest:
            if len(wave) == k:
                break
            result = check_wave({*wave, name}, done, nodes, consumers, budgets)
            if result.ok:
                wave.append(name)
                last = result
        if not wave or last is None:
            return steps, rest
        steps.append((tuple(wave), last))
        done |= set(wave)
        rest = [n for n in rest if n not in done]
    return steps, []


def _blocked_reasons(
    rest: list[str],
    done: set[str],
    nodes: Mapping[str, NodeChange],
    consumers: list[Consumer],
    budgets: Mapping[str, Budget],
) -> tuple[str, ...]:
    reasons = []
    for name in rest:
        result = check_wave({name}, done, nodes, consumers, budgets)
        if not result.ok:
            reasons.append(f"relabelling {name} alone: {result.why[0]}")
    reasons.append(
        "free capacity first: move or stop the pods named above, scale the work down, or add a "
        "node with the needed resources; then plan again"
    )
    return tuple(reasons)


def plan_rollout(
    nodes: Iterable[NodeChange],
    consumers: Iterable[Consumer] = (),
    budgets: Iterable[Budget] = (),
    *,
    max_unavailable: int = 1,
) -> RolloutPlan:
    """The fewest safe waves that take every node to its target config."""
    if max_unavailable < 1:
        raise InputError(f"max_unavailable {max_unavailable} must be at least 1 (nodes at a time)")
    by_name = {n.name: n for n in nodes}
    work = list(consumers)
    limits = {b.name: b for b in budgets}
    known = set(by_name)
    for c in work:
        for p in c.pods:
            if p.node is not None and p.node not in known:
                by_name.setdefault(
                    p.node, NodeChange(p.node, {}, None, {}, None, {})
                )  # a node outside the rollout still holds its pods
    changing = sorted(n.name for n in by_name.values() if n.changes)
    unchanged = tuple(sorted(n.name for n in by_name.values() if not n.changes and n.name in known))
    targets = {n: by_name[n].target_config for n in changing}
    notes = []
    if any(n.labels.get(MIG_CONFIG_LABEL) for n in by_name.values()) and any(
        MIG_CONFIG_LABEL in p.selector for c in work for p in c.pods
    ):
        notes.append(
            "some pods select nodes by nvidia.com/mig.config: after a node is relabelled they no "
            "longer fit it; the waves count on that"
        )
    exact = len(changing) <= EXACT_LIMIT
    if exact:
        found = _exact(changing, max_unavailable, by_name, work, limits)
        if found is not None:
            waves = tuple(Wave(w, r.evicts, r.why) for w, r in found)
            return RolloutPlan(waves, unchanged, max_unavailable, (), True, tuple(notes), targets)
    steps, rest = _greedy(changing, max_unavailable, by_name, work, limits)
    waves = tuple(Wave(w, r.evicts, r.why) for w, r in steps)
    done = {n for w in waves for n in w.nodes}
    blocked = _blocked_reasons(rest, done, by_name, work, limits) if rest else ()
    return RolloutPlan(
        waves, unchanged, max_unavailable, blocked, exact and not rest, tuple(notes), targets
    )
