"""Prove a plan on the cluster: follow submitted workloads and compare each step with the plan.

A plan predicts admission (Kueue ClusterQueue and flavor, Volcano or KAI pod group),
scheduling (every pod bound on a node of the planned pool, with the planned GPU resource,
a gang all together) and running. :func:`verify` reads what the cluster did and gives a
verdict per workload and step: ``as planned``, ``differs`` (what and where) or ``stuck``
(what it waits for, with the advice ``gpukit status`` gives). :func:`probe` checks the
fleet itself: one tiny pod per pool lands where the fleet says, and the resources the
fleet claims are advertised.

Reads through :mod:`gpukit.kube` (``pip install 'gpukit[kube]'``); writes only with
``submit=True`` (a server-side dry run first, then the real apply, namespaced objects only)
or in :func:`probe` (its own pods, deleted afterwards).
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable, Iterable
from typing import Any

from gpukit.advisor import Plan, plan
from gpukit.errors import InputError, NoFeasiblePlan
from gpukit.fleet import Fleet
from gpukit.verify._expect import Expectation, expect
from gpukit.verify._judge import STEPS, Step, StepResult, judge, time_out
from gpukit.verify._observe import Observation, observe
from gpukit.verify._probe import PROBE_IMAGES, ProbeReport, ProbeResult, probe, probe_pod
from gpukit.verify._report import VerifyReport, WorkloadVerdict
from gpukit.workload import Workload

__all__ = [
    "PROBE_IMAGES",
    "STEPS",
    "Expectation",
    "Observation",
    "ProbeReport",
    "ProbeResult",
    "StepResult",
    "VerifyReport",
    "WorkloadVerdict",
    "expect",
    "follow",
    "judge",
    "observe",
    "probe",
    "probe_pod",
    "verify",
]


def _check_until(until: str) -> Step:
    if until not in STEPS:
        raise InputError(
            f"until {until!r} is not a step verify follows; use one of {', '.join(STEPS)}"
        )
    return until  # type: ignore[return-value]


def follow(
    cluster: Any,
    expectations: Iterable[Expectation],
    fleet: Fleet | None = None,
    *,
    until: Step = "scheduled",
    timeout: float = 300.0,
    interval: float = 2.0,
    on_progress: Callable[[WorkloadVerdict], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> VerifyReport:
    """Observe each workload until every step up to ``until`` is final or ``timeout`` passes.

    ``on_progress`` hears each workload when its verdict changes. ``clock`` and ``sleep``
    are there for tests (a sleep that advances a controller double, say).
    """
    until = _check_until(until)
    pending = list(expectations)
    start = clock()
    results: dict[str, tuple[StepResult, ...]] = {}
    last: dict[str, str] = {}

    def verdict(exp: Expectation, steps: tuple[StepResult, ...]) -> WorkloadVerdict:
        return WorkloadVerdict(exp.name, exp.namespace, exp.kind, until, steps)

    order = [e.name for e in pending]
    by_name = {e.name: e for e in pending}
    while True:
        still: list[Expectation] = []
        for exp in pending:
            steps = judge(exp, observe(cluster, exp), fleet, until)
            results[exp.name] = steps
            shown = "|".join(f"{s.verdict}:{s.detail}" for s in steps)
            if on_progress is not None and last.get(exp.name) != shown:
                on_progress(verdict(exp, steps))
            last[exp.name] = shown
            if not all(s.final or s.verdict == "not reached" for s in steps) or any(
                s.verdict == "waiting" for s in steps
            ):
                still.append(exp)
        pending = still
        waited = clock() - start
        if not pending:
            break
        if waited >= timeout:
            for exp in pending:
                results[exp.name] = time_out(results[exp.name], waited)
                if on_progress is not None:
                    on_progress(verdict(exp, results[exp.name]))
            break
        sleep(min(interval, max(timeout - waited, 0.0)))
    return VerifyReport(
        until=until,
        workloads=tuple(verdict(by_name[n], results[n]) for n in order),
        waited_s=clock() - start,
    )


def verify(
    workloads: Workload | Iterable[Workload],
    fleet: Fleet | None = None,
    *,
    until: str = "scheduled",
    timeout: float = 300.0,
    submit: bool = False,
    namespace: str | None = None,
    interval: float = 2.0,
    context: str | None = None,
    kubeconfig: str | None = None,
    cluster: Any = None,
    on_progress: Callable[[WorkloadVerdict], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> VerifyReport:
    """Plan each workload on ``fleet`` (default: the cluster's own, discovered), then follow
    it on the cluster and compare admission, scheduling and running with the plan.

    ``submit=True`` applies each workload first: a server-side dry run, then the real apply,
    namespaced objects only. ``namespace`` overrides the workloads' namespaces.
    """
    from gpukit import kube

    step = _check_until(until)
    items = [workloads] if isinstance(workloads, Workload) else list(workloads)
    if not items:
        raise InputError("verify needs at least one workload")
    owned = cluster is None
    if owned:
        cluster = kube.connect(context, kubeconfig=kubeconfig, namespace=namespace)
    try:
        if fleet is None:
            fleet = kube.discover(cluster=cluster)
        expectations: list[Expectation] = []
        failed: list[WorkloadVerdict] = []
        for w in items:
            if namespace is not None:
                w = Workload.model_validate({**w.model_dump(), "namespace": namespace})
            try:
                chosen: Plan = plan(w, fleet)
            except (InputError, NoFeasiblePlan) as exc:  # a row, not a stop
                failed.append(WorkloadVerdict(w.name, w.namespace or "", "-", step, (), str(exc)))
                continue
            if submit:
                error = _submit(kube, w, fleet, cluster)
                if error:
                    failed.append(WorkloadVerdict(w.name, chosen.namespace, "-", step, (), error))
                    continue
            expectations.append(expect(chosen))
        report = follow(
            cluster,
            expectations,
            fleet,
            until=step,
            timeout=timeout,
            interval=interval,
            on_progress=on_progress,
            sleep=sleep,
        )
    finally:
        if owned:
            cluster.close()
    names = [w.name for w in items]
    rows = {w.name: w for w in (*report.workloads, *failed)}
    return VerifyReport(
        until=step, workloads=tuple(rows[n] for n in names if n in rows), waited_s=report.waited_s
    )


def _submit(kube: Any, workload: Workload, fleet: Fleet, cluster: Any) -> str | None:
    """Dry run, then apply; the first failure as one line (None when applied)."""
    for dry_run in (True, False):
        done = kube.submit(workload, fleet, dry_run=dry_run, cluster=cluster)
        if not done.ok:
            bad = [r for r in done.result.objects if not r.ok]
            what = "; ".join(f"{r.ref}: {r.message}" for r in bad) or "apply failed"
            return f"{'dry run' if dry_run else 'apply'} failed: {what}"
    return None


class _CallableModule(types.ModuleType):
    """Lets ``gpukit.verify(...)`` work although ``gpukit.verify`` is this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> VerifyReport:
        return verify(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
