"""KFP component: lint a manifests artifact for GPU anti-patterns; fail the step at a severity."""

from kfp import dsl
from kfp.dsl import Artifact, Input, Output

try:
    from components._base import BASE_IMAGE
except ImportError:  # compiled from inside components/
    from _base import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def lint_manifests(
    manifests: Input[Artifact],
    findings: Output[Artifact],
    fail_on: str = "error",
    fleet_yaml: str = "",
) -> int:
    """Lint the manifests (a YAML file or a folder of them) with gpukit's GPU rules.

    Writes every finding as JSON to `findings` and prints them as a table; returns how many
    there are. Fails the step when any finding is at `fail_on` (error, warning or info) or
    worse; `fail_on: none` never fails. fleet_yaml gives the rules the cluster's context.
    """
    import json
    import sys
    import tempfile
    from pathlib import Path

    from gpukit.errors import GpukitError
    from gpukit.lint import SEVERITIES, at_or_above, lint, to_table

    if fail_on not in (*SEVERITIES, "none"):
        print(f"error: fail_on {fail_on!r} is not one of {', '.join(SEVERITIES)}, none", file=sys.stderr)
        raise SystemExit(2)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fleet = None
            if fleet_yaml:
                fleet = Path(tmp, "fleet.yaml")
                fleet.write_text(fleet_yaml, encoding="utf-8")
            results = lint(manifests.path, fleet=fleet)
    except GpukitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(to_table(results) if results else "no findings")
    with open(findings.path, "w", encoding="utf-8") as handle:
        json.dump([f.to_dict() for f in results], handle, indent=2)
    findings.metadata["count"] = len(results)
    if fail_on != "none" and at_or_above(results, fail_on):
        print(f"failing: {len(at_or_above(results, fail_on))} finding(s) at {fail_on} or worse", file=sys.stderr)
        raise SystemExit(1)
    return len(results)
