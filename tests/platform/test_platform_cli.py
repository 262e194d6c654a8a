"""`gpukit platform render`: files written, validated by `gpukit validate`, bad input exits 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gpukit.cli import main

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = ROOT / "examples" / "workloads"
FLEETS = ROOT / "examples" / "fleets"
#: The default fleet's mix with MPS on the operator's own plugin (beside single-strategy MIG).
MIXED = str(FLEETS / "mig-single-mps.yaml")


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fleet", ["dra", "kai", "no-volcano"])
def test_render_writes_a_bundle_that_validates(capsys, tmp_path, fleet):
    out = tmp_path / "platform"
    code, stdout, err = _cli(
        capsys,
        "platform",
        "render",
        "--fleet",
        str(FLEETS / f"{fleet}.yaml"),
        "--workloads",
        str(WORKLOADS),
        "--out",
        str(out),
    )
    assert code == 0, err
    # The summary names what `gpukit validate` takes: the folders of Kubernetes objects.
    assert (
        stdout.splitlines()[-1]
        == f"check the Kubernetes objects with: gpukit validate {out}/manifests {out}/karpenter"
    )
    header, *rows = [line for line in stdout.splitlines() if line.strip()][:-2]
    assert header.split() == ["STEP", "FILE", "WHAT"]
    for row in rows:
        assert (out / row.split()[1]).is_file()
    script = out / "scripts" / "label-nodes.sh"
    assert os.access(script, os.X_OK)
    code, stdout, err = _cli(capsys, "validate", str(out / "manifests"), str(out / "karpenter"))
    assert code == 0, stdout + err


def test_render_twice_gives_the_same_bytes_and_keeps_other_files(capsys, tmp_path):
    out = tmp_path / "p"
    args = ("platform", "render", "-f", MIXED, "-w", str(WORKLOADS), "--out", str(out))
    assert _cli(capsys, *args)[0] == 0
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "notes.txt").write_text("mine")
    assert _cli(capsys, *args)[0] == 0
    assert {
        p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "notes.txt"
    } == first
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--node-class", "EC2NodeClass"], "GROUP/KIND/NAME"),
        (["--fleet", "no-such-fleet.yaml"], "no-such-fleet.yaml"),
    ],
    ids=["bad-node-class", "missing-fleet"],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, extra, message):
    out = tmp_path / "p"
    code, _, err = _cli(capsys, "platform", "render", "-w", str(WORKLOADS), "--out", str(out), *extra)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_fleet_the_operator_cannot_take_is_exit_2_and_nothing_written(capsys, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "name: bad\nnode_pools:\n"
        "  - {name: a, gpu: H100-80GB, gpus_per_node: 8, nodes: 1, mig: {strategy: single, layout: {3g.40gb: 2}}}\n"
        "  - {name: b, gpu: H100-80GB, gpus_per_node: 8, nodes: 1, mig: {strategy: mixed, layout: {1g.10gb: 7}}}\n"
    )
    out = tmp_path / "p"
    code, _, err = _cli(
        capsys, "platform", "render", "-f", str(fleet), "-w", str(WORKLOADS), "--out", str(out)
    )
    assert code == 2
    assert "one MIG strategy" in err
    assert not out.exists()


def test_out_must_be_a_folder(capsys, tmp_path):
    out = tmp_path / "file"
    out.write_text("x")
    code, _, err = _cli(
        capsys, "platform", "render", "-f", MIXED, "-w", str(WORKLOADS), "--out", str(out)
    )
    assert code == 2 and "not a folder" in err


def test_overbooked_pools_are_warned_on_stderr(capsys, tmp_path):
    workloads = tmp_path / "w.yaml"
    workloads.write_text(
        "\n---\n".join(f"name: t{i}\nkind: training\ngpus: 8\nteam: team-nlp" for i in range(5))
    )
    code, _, err = _cli(
        capsys, "platform", "render", "-f", MIXED, "-w", str(workloads), "--out", str(tmp_path / "p")
    )
    assert code == 0
    assert err.startswith("warning: pool a100-train: the workloads ask for 40 nvidia.com/gpu")


def test_a_list_of_gpus_is_pointed_to_the_fleet_format(capsys, tmp_path):
    out = tmp_path / "p"
    packer_fleet = str(ROOT / "examples" / "mig" / "fleet.yaml")
    code, _, err = _cli(
        capsys, "platform", "render", "-f", packer_fleet, "-w", str(WORKLOADS), "--out", str(out)
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "needs a full Fleet file" in err and "examples/fleets/" in err
    assert not out.exists()


def test_the_whole_bundle_folder_is_not_what_validate_takes(capsys, tmp_path):
    """The Helm values file is not a Kubernetes object: the bundle says to validate
    manifests/ and karpenter/, and its values file says so in its header."""
    out = tmp_path / "p"
    assert (
        _cli(capsys, "platform", "render", "-f", MIXED, "-w", str(WORKLOADS), "--out", str(out))[0]
        == 0
    )
    values = (out / "helm" / "gpu-operator-values.yaml").read_text()
    assert "not a Kubernetes object: `gpukit validate` takes manifests/ and karpenter/" in values


def test_default_fleet_renders_the_standalone_plugin_between_operator_and_labels(capsys, tmp_path):
    out = tmp_path / "platform"
    code, stdout, err = _cli(
        capsys, "platform", "render", "--workloads", str(WORKLOADS), "--out", str(out)
    )
    assert code == 0, err
    files = [line.split()[1] for line in stdout.splitlines()[1:] if line[:1].isdigit()]
    assert files[files.index("helm/gpu-operator-values.yaml") + 1 :][:2] == [
        "helm/nvidia-device-plugin-l4-mps-values.yaml",
        "scripts/label-nodes.sh",
    ]
    assert (out / "helm" / "nvidia-device-plugin-l4-mps-values.yaml").is_file()
    code, stdout, err = _cli(capsys, "validate", str(out / "manifests"), str(out / "karpenter"))
    assert code == 0, stdout + err
