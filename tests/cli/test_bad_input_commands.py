"""Bad input on mig, validate, size, calibrate and the cluster commands: one 'error:' line, no traceback.

Each case runs the real entry point (`python -m gpukit`) in an empty folder and checks the
exit code, that stderr holds exactly one line starting 'error: ' which names the bad field
or value and the fix, that no traceback leaks, and that nothing was written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# Files a case may name as {name}; written into the case's folder before it runs.
FILES = {
    "empty.yaml": "",
    "comments.yaml": "---\n# nothing here\n---\n",
    "list.yaml": "- 1\n- 2\n",
    "broken.yaml": "apiVersion: v1\nkind: [Pod\n",
    "kubeconfig-not-yaml": "apiVersion: v1\nclusters: [\n",
    "kubeconfig-list": "- a\n- b\n",
    "kubeconfig-contexts-int": "apiVersion: v1\ncontexts: 5\ncurrent-context: x\n",
    "pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
    "spec: {containers: [{name: c, image: cuda}]}\n",
}



@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    code: int
    says: tuple[str, ...]  # substrings of the one error line
    env: dict[str, str] = field(default_factory=dict)


def _case(id_: str, args: str | tuple[str, ...], code: int, *says: str, marks=(), **env: str):
    argv = tuple(args.split()) if isinstance(args, str) else args
    return pytest.param(Case(argv, code, says, env), id=id_, marks=marks)


WL = str(EXAMPLES / "workloads")
BERT = str(EXAMPLES / "workloads" / "bert-serve.yaml")
DEMAND = str(EXAMPLES / "mig" / "demand.yaml")

CASES = [
    # 1. MIG layouts: zero, negative and empty layouts would print a destroy-everything command.
    _case("mig-place-x0", ("mig", "place", "H100-80GB", "1g.10gb x0"), 2, "count must be 1 or more", "got 0", "leave it out"),
    _case("mig-place-colon0", ("mig", "place", "H100-80GB", "1g.10gb:0"), 2, "'1g.10gb:0'", "count must be 1 or more"),
    _case("mig-place-negative", ("mig", "place", "H100-80GB", "1g.10gb x-2"), 2, "got -2"),
    _case("mig-place-zero-beside-one", ("mig", "place", "H100-80GB", "3g.40gb + 1g.10gb*0"), 2, "count must be 1 or more"),
    _case("mig-place-empty", ("mig", "place", "H100-80GB", ""), 2, "MIG layout is empty", "at least one profile"),
    _case("mig-place-blank", ("mig", "place", "H100-80GB", "   "), 2, "MIG layout is empty"),
    _case("mig-place-not-mig", ("mig", "place", "T4", "1g.5gb"), 2, "T4 is not MIG-capable", "H100-80GB"),
    _case("mig-place-bad-term", ("mig", "place", "H100-80GB", "1g.10gb@-1"), 2, "'1g.10gb@-1'", "PROFILE@START"),
    _case("mig-layouts-no-profile", ("mig", "layouts", "H100-80GB", "--profiles", ","), 2, "--profiles ','", "1g.10gb", "leave --profiles out"),
    _case("mig-layouts-unknown-gpu", "mig layouts FOO", 2, "unknown GPU 'FOO'", "H100-80GB"),
    _case("mig-plan-output", ("mig", "plan", "-f", "default", "-d", DEMAND, "-o", "xml"), 2, "--output 'xml' is not allowed", "use table, yaml or configmap"),
    _case("mig-plan-empty-demand", "mig plan -f default -d {empty.yaml}", 2, "empty.yaml", "found 0"),
    _case("mig-validate-empty", "mig validate {empty.yaml}", 2, "empty.yaml", "no mig-parted config found"),
    _case("mig-validate-broken", "mig validate {broken.yaml}", 2, "broken.yaml", "not valid YAML at line 3"),
    # 2. Enum options in gpukit's words.
    _case("validate-output", "validate {pod.yaml} -o xml", 2, "--output 'xml' is not allowed", "use table or json"),
    _case("validate-output-did-you-mean", "validate {pod.yaml} --output jsn", 2, "use table or json", "did you mean 'json'"),
    _case("size-output", f"size -w {WL} --output xml", 2, "--output 'xml' is not allowed", "use table or json"),
    _case("plan-output", f"plan {BERT} --output xml", 2, "--output 'xml' is not allowed", "use table, yaml or json"),
    _case("calibrate-window-not-number", "calibrate run --fake --window abc", 2, "--window", "'abc'"),
    _case("validate-no-files", "validate", 2, "files"),
    # 3. Empty input: nothing at all to check is not 'valid'.
    _case("validate-empty", "validate {empty.yaml}", 2, "nothing to validate", "empty.yaml", "no documents"),
    _case("validate-only-comments", "validate {comments.yaml}", 2, "nothing to validate", "comments.yaml"),
    _case("validate-empty-crd", "validate --crd {empty.yaml} {pod.yaml}", 2, "--crd", "empty.yaml", "CustomResourceDefinition"),
    # 4. Other gpukit inputs named for what they are.
    _case("validate-workload", f"validate {BERT}", 2, "this is a gpukit workload, not a Kubernetes object", f"gpukit render {BERT}", "then validate the output"),
    _case("validate-helm-values-only", ("validate", str(EXAMPLES / "lint" / "gpu-operator-values.yaml")), 2, "nothing to validate", "Helm values?"),
    # 5. Kubeconfig files the kubernetes client would crash on.
    _case("kubeconfig-not-yaml", "discover --kubeconfig {kubeconfig-not-yaml}", 1, "kubeconfig", "kubeconfig-not-yaml", "not valid YAML at line 3"),
    _case("kubeconfig-env-not-yaml", "inventory", 1, "not valid YAML at line 3", KUBECONFIG="{kubeconfig-not-yaml}"),
    _case("kubeconfig-a-list", "discover --kubeconfig {kubeconfig-list}", 1, "expected a mapping", "got a list"),
    _case("kubeconfig-contexts-int", "discover --kubeconfig {kubeconfig-contexts-int}", 1, "contexts must be a list", "got 5"),
    _case("no-cluster-discover", "discover", 1, "no cluster configured", "KUBECONFIG"),
    _case("no-cluster-apply", "apply {pod.yaml}", 1, "no cluster configured", "--kubeconfig"),
    _case("size-live-no-cluster", f"size -w {WL} -f live", 1, "no cluster configured"),
    # Other bad values on the commands of this area.
    _case("size-empty-workloads", "size -w {empty.yaml}", 2, "empty.yaml", "no workloads found"),
    _case("size-fleet-not-a-fleet", f"size -w {WL} -f {{list.yaml}}", 2, "list.yaml"),
    _case("calibrate-replicas-zero", "calibrate run --fake --replicas 0,2", 2, "--replicas", ">= 1", "'0,2'"),
    _case("calibrate-unknown-mode", "calibrate run --fake --modes bogus", 2, "bogus", "time-slicing"),
    _case("calibrate-job-unknown-pool", "calibrate job --pool nope", 2, "no node pool 'nope'", "pools:"),
    _case("calibrate-import-empty", "calibrate import {empty.yaml} --out out", 2, "empty.yaml", "not a calibration"),
]


def _fill(text: str, folder: Path) -> str:
    for name in FILES:
        text = text.replace("{" + name + "}", str(folder / name))
    return text


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_error_line(case: Case, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, text in FILES.items():
        (inputs / name).write_text(text, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "GPUKIT_DEBUG")}
    env["HOME"] = str(tmp_path / "home")  # no ~/.kube/config
    env.update({k: _fill(v, inputs) for k, v in case.env.items()})
    result = subprocess.run(
        [sys.executable, "-m", "gpukit", *(_fill(a, inputs) for a in case.args)],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.splitlines() == errors, result.stderr
    for text in case.says:
        assert _fill(text, inputs) in errors[0], errors[0]
    assert result.returncode == case.code, result.stderr
    assert list(work.iterdir()) == [], "a rejected command wrote files"
    assert sorted(p.name for p in inputs.iterdir()) == sorted(FILES)


def _gpukit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpukit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_helm_values_beside_valid_manifests_are_a_note_and_exit_0(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "helm").mkdir(parents=True)
    (bundle / "manifests").mkdir()
    values = (EXAMPLES / "lint" / "gpu-operator-values.yaml").read_text(encoding="utf-8")
    (bundle / "helm" / "gpu-operator-values.yaml").write_text(values, encoding="utf-8")
    (bundle / "manifests" / "pod.yaml").write_text(FILES["pod.yaml"], encoding="utf-8")
    result = _gpukit("validate", str(bundle), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    values_file = bundle / "helm" / "gpu-operator-values.yaml"
    note = f"note: {values_file}: not a Kubernetes object (Helm values?), skipped"
    assert result.stderr.splitlines() == [note]
    assert result.stdout.strip() == "valid: 1 object in 2 files, 0 errors, 0 warnings"


def test_an_empty_file_beside_valid_manifests_is_a_warning_and_exit_0(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    (tmp_path / "pod.yaml").write_text(FILES["pod.yaml"], encoding="utf-8")
    result = _gpukit("validate", "empty.yaml", "pod.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["warning: empty.yaml: no documents (empty file)"]


def test_a_fine_layout_still_places(tmp_path: Path) -> None:
    result = _gpukit("mig", "place", "H100-80GB", "1g.10gb x2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nvidia-smi mig -cgi 19:0,19:1 -C" in result.stdout
