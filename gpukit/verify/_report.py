"""verify's answer: a verdict per workload and step, as a table, JSON or JUnit XML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from gpukit.verify._judge import STEPS, Step, StepResult

__all__ = ["VerifyReport", "WorkloadVerdict"]


@dataclass(frozen=True)
class WorkloadVerdict:
    """One workload: its steps up to the one asked for, each with its verdict."""

    name: str
    namespace: str
    kind: str
    until: Step
    steps: tuple[StepResult, ...]
    #: Set when the workload could not be planned or submitted (no steps then).
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Reached ``until`` as planned."""
        return self.error is None and all(s.verdict == "as planned" for s in self.steps)

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "error"
        return next((s.verdict for s in self.steps if s.verdict != "as planned"), "as planned")

    @property
    def finding(self) -> StepResult | None:
        """The first step that is not as planned (None when all are)."""
        return next((s for s in self.steps if s.verdict != "as planned"), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "kind": self.kind,
            "until": self.until,
            "verdict": self.verdict,
            "ok": self.ok,
            "error": self.error,
            "steps": [s.to_dict() for s in self.steps],
        }


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class VerifyReport:
    """Every workload's verdict; ``ok`` only when all reached ``until`` as planned."""

    until: Step
    workloads: tuple[WorkloadVerdict, ...]
    waited_s: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.workloads) and all(w.ok for w in self.workloads)

    def to_dict(self) -> dict[str, Any]:
        return {
            "until": self.until,
            "ok": self.ok,
            "waited_s": round(self.waited_s, 1),
            "workloads": [w.to_dict() for w in self.workloads],
        }

    def table(self) -> str:
        """One row per workload: each step's verdict, then what differs or is stuck, and why."""
        steps = STEPS[: STEPS.index(self.until) + 1]
        header = ["WORKLOAD", "NAMESPACE", *(s.upper() for s in steps), "VERDICT"]
        rows = []
        notes: list[str] = []
        for w in self.workloads:
            by_step = {s.step: s.verdict for s in w.steps}
            rows.append([w.name, w.namespace, *(by_step.get(s, "-") for s in steps), w.verdict])
            if w.error:
                notes.append(f"{w.name}: {w.error}")
            elif (f := w.finding) is not None:
                notes.append(f"{w.name}: {f.step} {f.verdict}: {f.detail}")
                notes += [f"  what to do [{a.code}]: {a.message}" for a in f.advice]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in [header, *rows]
        ]
        if notes:
            lines += ["", *notes]
        done = sum(w.ok for w in self.workloads)
        lines += ["", f"{done}/{len(self.workloads)} workloads {self.until} as planned"]
        return "\n".join(lines)

    def to_junit(self) -> str:
        """JUnit XML: a testsuite per run, a testcase per workload and step."""
        steps = STEPS[: STEPS.index(self.until) + 1]
        cases: list[str] = []
        failures = errors = skipped = 0
        for w in self.workloads:
            classname = quoteattr(f"{w.namespace}.{w.name}")
            if w.error is not None:
                errors += 1
                cases.append(
                    f'  <testcase classname={classname} name="plan">'
                    f"<error message={quoteattr(_cut(w.error, 200))}>{escape(w.error)}</error>"
                    "</testcase>"
                )
                continue
            by_step = {s.step: s for s in w.steps}
            for step in steps:
                result = by_step.get(step)
                head = f"  <testcase classname={classname} name={quoteattr(step)}"
                if result is None or result.verdict == "not reached":
                    skipped += 1
                    cases.append(f'{head}><skipped message="not reached"/></testcase>')
                elif result.verdict == "as planned":
                    cases.append(
                        f"{head}><system-out>{escape(result.detail)}</system-out></testcase>"
                    )
                else:
                    failures += 1
                    body = "\n".join(
                        [result.detail, *(f"[{a.code}] {a.message}" for a in result.advice)]
                    )
                    cases.append(
                        f"{head}><failure type={quoteattr(result.verdict)} "
                        f"message={quoteattr(_cut(result.detail, 200))}>{escape(body)}</failure>"
                        "</testcase>"
                    )
        total = sum(1 if w.error else len(steps) for w in self.workloads)
        return "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                (
                    f'<testsuite name="gpukit verify --until {self.until}" tests="{total}" '
                    f'failures="{failures}" errors="{errors}" skipped="{skipped}" '
                    f'time="{self.waited_s:.1f}">'
                ),
                *cases,
                "</testsuite>",
            ]
        )
