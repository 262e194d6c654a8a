"""Reading input: real examples never crash; hostile or broken files get one clean error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gpukit.errors import ManifestError
from gpukit.lint import MAX_ALIASES, MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, lint


def _example_files(reference: Path) -> list[Path]:
    return sorted(p for p in (reference / "examples").rglob("*") if p.suffix in (".yaml", ".yml"))


def test_every_reference_example_lints_without_a_crash(reference_dir: Path) -> None:
    files = _example_files(reference_dir)
    assert len(files) > 100
    for path in files:
        findings = lint(path)
        assert all(f.file == str(path) for f in findings)


def test_reference_examples_as_one_set_find_known_problems(reference_dir: Path) -> None:
    findings = lint(reference_dir / "examples")
    rules = {f.rule for f in findings}
    # Upstream samples: unpinned images, no GPU tolerations, DDP without /dev/shm, time-slicing
    # with the default failRequestsGreaterThanOne, an LWS worker with a GPU request but no limit.
    assert {"GPU001", "GPU010", "GPU012", "GPU014", "GPU022"} <= rules
    lws = [f for f in findings if f.rule == "GPU001"]
    assert lws[0].kind == "LeaderWorkerSet" and lws[0].line is not None
    assert "workerTemplate" in lws[0].path


def test_queues_defined_in_another_file_are_found(reference_dir: Path) -> None:
    kueue = reference_dir / "examples" / "kueue"
    alone = lint(kueue / "jobs-sample-job.yaml")
    together = lint([kueue / "admin-single-clusterqueue-setup.yaml", kueue / "jobs-sample-job.yaml"])
    assert "GPU017" in {f.rule for f in alone}
    assert "GPU017" not in {f.rule for f in together}


def _refused(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ManifestError) as info:
        lint(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)

HOSTILE = [
    ("not-yaml", "kind: [unclosed\n  - x: {", "not valid YAML"),
    ("binary", b"\x00\x01\x02ELF\x00", "binary"),
    ("latin1", "name: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("deep-flow", "[" * (MAX_DEPTH + 50) + "]" * (MAX_DEPTH + 50), "deeper than"),
    ("deep-block", "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "v\n",
     "deeper than"),
    ("alias-bomb", BOMB, "alias"),
    ("many-aliases", "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n", "aliases"),
    ("recursive-alias", "a: &a [*a]\n", "alias"),
    ("python-tag", "x: !!python/object/apply:os.system ['echo pwned']\n", "not valid YAML"),
    ("many-documents", "---\na: 1\n" * (MAX_DOCUMENTS + 1), "documents"),
]


@pytest.mark.parametrize(("name", "content", "expected"), [h[:3] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_refused_cleanly(tmp_path: Path, name: str, content: str | bytes, expected: str) -> None:
    assert expected in _refused(tmp_path, name + ".yaml", content)


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.write("items:\n")
        line = "- {a: 1, b: 2, c: 3}\n"
        handle.write(line * (MAX_FILE_BYTES // len(line) + 10))
    with pytest.raises(ManifestError, match="larger than"):
        lint(path)


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        lint(tmp_path / "nope.yaml")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ManifestError, match="no .yaml"):
        lint(tmp_path / "empty")


def test_wrong_input_type_is_an_input_error() -> None:
    with pytest.raises(ManifestError, match="paths or Kubernetes objects"):
        lint(42)
    with pytest.raises(ManifestError, match="paths or Kubernetes objects"):
        lint([3.5])


def test_multi_document_list_and_json_files_report_where(tmp_path: Path) -> None:
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
           "  - name: c\n    image: cuda:12.4\n    resources: {limits: {nvidia.com/gpu: '0.5'}}\n")
    (tmp_path / "multi.yaml").write_text("---\n# empty first\n---\n" + pod)
    (tmp_path / "list.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: q}\n  spec:\n    containers:\n"
        "    - {name: c, image: 'cuda:12.4', resources: {limits: {nvidia.com/gpu: 0.5}}}\n"
    )
    (tmp_path / "pod.json").write_text(
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}, "spec": {"containers": '
        '[{"name": "c", "image": "cuda:12.4", "resources": {"limits": {"nvidia.com/gpu": "1.5"}}}]}}'
    )
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skip.yaml").write_text(pod)
    found = [f for f in lint(tmp_path) if f.rule == "GPU002"]
    where = {(Path(f.file).name, f.document, f.name, f.path, f.line) for f in found}
    assert where == {
        ("list.yaml", 0, "q", 'items[1].spec.containers[0].resources.limits["nvidia.com/gpu"]', 12),
        ("multi.yaml", 1, "p", 'spec.containers[0].resources.limits["nvidia.com/gpu"]', 11),
        ("pod.json", 0, "j", 'spec.containers[0].resources.limits["nvidia.com/gpu"]', 1),
    }


def test_stdin_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    raw = b"version: v1\nsharing:\n  timeSlicing:\n    resources: [{name: nvidia.com/gpu, replicas: 4}]\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    findings = lint("-")
    assert [(f.file, f.rule) for f in findings] == [("<stdin>", "GPU022")]


def test_plain_lint_does_not_import_ruamel() -> None:
    code = (
        "import sys, gpukit.lint as l; l.lint({'apiVersion': 'v1', 'kind': 'Pod', 'spec': {}}); "
        "print(any(m.startswith('ruamel') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_gpukit_lint_module_is_callable() -> None:
    import gpukit.lint

    assert gpukit.lint({"apiVersion": "v1", "kind": "Pod", "spec": {}}) == []


def test_skip_annotation_silences_rules_on_one_object() -> None:
    def pod(annotations: dict[str, str]) -> dict:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": annotations},
                "spec": {"containers": [{"name": "c", "image": "cuda:latest",
                                         "resources": {"limits": {"nvidia.com/gpu": "0.5"}}}]}}

    assert {f.rule for f in lint(pod({}))} == {"GPU002", "GPU010", "GPU012", "GPU013"}
    assert {f.rule for f in lint(pod({"gpukit.io/lint-skip": "GPU010, gpu012"}))} == {"GPU002", "GPU013"}
    assert lint(pod({"gpukit.io/lint-skip": "all"})) == []
    assert {f.rule for f in lint(pod({}), skip=["GPU013"])} == {"GPU002", "GPU010", "GPU012"}
