"""`gpukit size`: --workloads (YAML, JSON Lines), --pods FILE|live, --metrics; errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpukit.cli import app

GIB = 1024**3
MIB = 1024**2


def _run(*args: str):
    return CliRunner().invoke(app, ["size", *args])


def _main(capsys, *args: str) -> tuple[int, str, str]:
    """gpukit's entry point as the shell runs it: (exit code, stdout, stderr)."""
    from gpukit.cli import main

    with pytest.raises(SystemExit) as info:
        main(["size", *args])
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def _serving_pods(make_pod, n: int = 12) -> list[dict]:
    rs = ("ReplicaSet", "embed-serve-6b7c8d9f5")
    pods = [
        make_pod(
            f"embed-serve-6b7c8d9f5-{i:02d}",
            owner=rs,
            limits={"nvidia.com/gpu": 1},
            qos="Guaranteed",
        )
        for i in range(n)
    ]
    pods.append(make_pod("web-0", owner=("ReplicaSet", "web-5d8f7c9b4")))  # CPU only
    return pods


def _podlist(pods: list[dict]) -> str:
    return json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": pods, "metadata": {"resourceVersion": ""}}
    )


def test_pods_file_without_metrics_says_whole_gpus_stay_whole(make_pod, tmp_path):
    path = tmp_path / "pods.json"
    path.write_text(_podlist(_serving_pods(make_pod)))
    out = _run("--pods", str(path), "--output", "json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["gpukit_gpus"] == report["naive_gpus"] == 12
    assert (
        report["notes"][0]
        == "13 pods read: 12 GPU pods in 1 workloads; 1 no GPU requested, not sized"
    )
    assert (
        "12 whole-GPU pods without measured GPU memory are sized as whole GPUs"
        in report["notes"][1]
    )


def test_pods_file_with_metrics_sizes_on_the_measured_peak(make_pod, tmp_path):
    pods = _serving_pods(make_pod)
    path = tmp_path / "pods.json"
    path.write_text(_podlist(pods))
    metrics = tmp_path / "dcgm.prom"
    metrics.write_text(
        "".join(
            f'DCGM_FI_DEV_FB_USED{{gpu="{i % 8}",namespace="team-a",pod="{p["metadata"]["name"]}"}} {4000 + i}\n'
            for i, p in enumerate(pods[:-1])
        )
    )
    out = _run("--pods", str(path), "--metrics", str(metrics), "--output", "json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    # 12 serving pods under 4 GiB each: MIG 1g.10gb slices of H100s, 7 to a GPU.
    assert (report["gpukit_gpus"], report["naive_gpus"]) == (2, 12)
    (saving,) = report["savings"]
    assert saving["measured"] and saving["freed_gpus"] == 10 and saving["pods"] == 12
    assert saving["sentence"].startswith(
        "these 12 inference pods use at most 3.9 GiB each: MIG 1g.10gb"
    )
    assert report["notes"][0].startswith(
        "GPU memory used: dcgm.prom: 12 pods measured".replace("dcgm.prom", str(metrics))
    )
    table = _run("--pods", str(path), "--metrics", str(metrics))
    assert "saving: these 12 inference pods use at most" in table.output


def test_pods_live_against_the_api_double(make_pod, tmp_path, monkeypatch):
    pytest.importorskip("kubernetes")
    from gpukit.testing import FakeApiServer, namespace

    with FakeApiServer([namespace("team-a"), *_serving_pods(make_pod, 5)]) as api:
        monkeypatch.setenv("KUBECONFIG", str(api.write_kubeconfig(tmp_path / "kubeconfig")))
        out = _run("--pods", "live", "--output", "json")
        assert out.exit_code == 0, out.output
        report = json.loads(out.output)
        assert (
            report["notes"][0]
            == "6 pods read: 5 GPU pods in 1 workloads; 1 no GPU requested, not sized"
        )
        assert report["naive_gpus"] == 5
        assert any(r.path.startswith("/api/v1/pods") for r in api.requests)


def test_workloads_stream_more_than_two_thousand_documents(tmp_path):
    yaml_file = tmp_path / "mix.yaml"
    yaml_file.write_text(
        "".join(f"---\nname: nb-{i}\nkind: interactive\ngpu_memory: 2Gi\n" for i in range(2500))
    )
    jsonl = tmp_path / "mix.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({"name": f"ci-{i}", "kind": "ci", "gpu_memory": "1Gi"}) + "\n"
            for i in range(2500)
        )
    )
    out = _run("-w", str(yaml_file), "-w", str(jsonl), "--output", "json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["workloads"] == 5000 and report["shapes"] == 2


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        (
            '{"name": "a", "kind": "ci"}\n{"name": "b", "kind": "trainin"}\n',
            ".jsonl",
            "line 2), workload 'b': field 'kind': 'trainin' is not allowed",
        ),
        (
            '{"name": "a", "kind": "ci"}\n{"name": "a", "kind": "ci"}\n',
            ".jsonl",
            "name 'a' is already used",
        ),
        ('{"name": "a", "kind": "ci"}\n{"name": \n', ".jsonl", "line 2: not valid JSON"),
        ('{"name": "a", "name": "b", "kind": "ci"}\n', ".jsonl", "key 'name' appears twice"),
    ],
    ids=["bad-field", "duplicate-name", "bad-json", "duplicate-key"],
)
def test_bad_workload_lines_are_one_line_errors(tmp_path, capsys, text, suffix, message):
    path = tmp_path / f"w{suffix}"
    path.write_text(text)
    code, out, err = _main(capsys, "-w", str(path))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --workloads FILE_OR_DIR or --pods FILE|live"),
        (("-w", "x", "--pods", "y"), "give --workloads FILE_OR_DIR or --pods FILE|live"),
        (("-w", "x", "--metrics", "m"), "use them with --pods"),
    ],
    ids=["neither", "both", "metrics-without-pods"],
)
def test_option_errors(capsys, args, message):
    code, _, err = _main(capsys, *args)
    assert code == 2 and message in err


def test_examples_folder_still_sizes_as_before():
    examples = Path(__file__).resolve().parents[2] / "examples" / "workloads"
    report = json.loads(_run("-w", str(examples), "--output", "json").output)
    assert (report["gpukit_gpus"], report["naive_gpus"]) == (25, 34)


def test_stdin_takes_pods_and_workloads(make_pod):
    pods = _podlist(_serving_pods(make_pod, 3))
    out = CliRunner().invoke(app, ["size", "--pods", "-", "--output", "json"], input=pods)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["naive_gpus"] == 3
    lines = "".join(json.dumps({"name": f"c{i}", "kind": "ci"}) + "\n" for i in range(3))
    out = CliRunner().invoke(app, ["size", "-w", "-", "--output", "json"], input=lines)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["workloads"] == 3
