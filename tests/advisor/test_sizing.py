"""Fleet sizing: MIG packing, shares per GPU, whole GPUs; gpukit against naive; `gpukit size`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gpukit as gk
from gpukit.hardware.packing import GpuSlot, MigDemand, first_fit_decreasing
from gpukit.sizing import check_plan, mig_gpus_needed, mig_packing, size

W = gk.Workload
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "workloads"


@pytest.mark.parametrize(
    ("gpu", "counts", "gpus"),
    [
        pytest.param("H100-80GB", {"1g.10gb": 7}, 1, id="seven-1g-on-one"),
        pytest.param("H100-80GB", {"1g.10gb": 8}, 2, id="eighth-1g-needs-a-second"),
        pytest.param("H100-80GB", {"3g.40gb": 2}, 1, id="two-3g"),
        pytest.param("H100-80GB", {"3g.40gb": 3}, 2, id="three-3g"),
        pytest.param("A100-80GB", {"4g.40gb": 1, "3g.40gb": 1}, 1, id="4g-plus-3g"),
        pytest.param("A100-80GB", {"4g.40gb": 2}, 2, id="4g-is-one-per-gpu"),
        pytest.param("A100-80GB", {"7g.80gb": 2}, 2, id="whole-gpu-slices"),
        pytest.param(
            "A100-80GB", {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2}, 1, id="balanced-layout"
        ),
        pytest.param("A100-80GB", {"3g.40gb": 2, "1g.10gb": 1}, 2, id="memory-slots-run-out"),
        pytest.param("A30-24GB", {"1g.6gb": 5}, 2, id="a30-four-slices"),
    ],
)
def test_mig_packing_counts_gpus_with_valid_placements(gpu, counts, gpus):
    assert mig_gpus_needed(gpu, counts) == gpus


@pytest.mark.parametrize(
    "counts",
    [
        {"1g.10gb": 9, "2g.20gb": 5, "3g.40gb": 3},
        {"1g.20gb": 6, "3g.40gb": 5, "4g.40gb": 2},
        {"1g.10gb": 20, "7g.80gb": 1, "2g.20gb": 7},
    ],
    ids=["mixed-small", "mixed-large", "many-small"],
)
def test_packer_is_between_its_lower_bound_and_first_fit(counts):
    model = gk.get_gpu("A100-80GB")
    slots = sum(model.profile(n).memory_slices * c for n, c in counts.items())
    demands = [MigDemand(profile=n, count=c, gpu=model.key) for n, c in counts.items()]
    ffd, left = first_fit_decreasing(
        demands, [GpuSlot(node="n", index=0, model=model.key)], limits=False
    )
    gpus, bound = mig_packing(model, counts)
    assert left == 0 and gpus == mig_gpus_needed(model, counts)
    assert -(-slots // 8) <= bound <= gpus <= ffd


def test_examples_against_naive():
    report = size(gk.load_workloads(EXAMPLES))
    lines = {line.gpu_model: line for line in report.lines}
    assert (lines["H100-80GB"].gpukit_gpus, lines["H100-80GB"].naive_gpus) == (
        1,
        3,
    )  # bert-serve x3
    # 8 MPS replicas on 4-way MPS GPUs + 2 time-sliced pods on one 4-way GPU
    assert (lines["L4"].gpukit_gpus, lines["L4"].naive_gpus) == (3, 10)
    assert lines["L4"].by_sharing == {"mps": 2, "time-slicing": 1}
    assert lines["A100-80GB"].gpukit_gpus == lines["A100-80GB"].naive_gpus == 16 + 4 + 1
    assert lines["A100-80GB"].drivers[0].workload == "ddp-pretrain"
    assert report.gpukit_gpus == 25 and report.naive_gpus == 34
    assert report.ratio == pytest.approx(34 / 25)
    assert not report.unplaced and not report.violations


def test_small_isolated_services_pack_onto_one_gpu():
    mix = [
        W(name=f"s{i}", kind="inference", gpu_memory="6Gi", isolation="strict") for i in range(7)
    ]
    (line,) = size(mix).lines
    assert (line.gpu_model, line.gpukit_gpus, line.naive_gpus, line.ratio) == (
        "H100-80GB",
        1,
        7,
        7.0,
    )
    assert line.savers[0].naive_gpus == 1 and line.savers[0].gpus == pytest.approx(1 / 7)


def test_sizing_ignores_todays_fleet_size_unless_bounded():
    big = W(name="big", kind="training", workers=8, gpus=8)
    assert size([big]).gpukit_gpus == 64
    bounded = size([big], bounded=True)
    assert bounded.gpukit_gpus == 0
    (unplaced,) = bounded.unplaced
    assert unplaced.workload == "big" and "NOT_ENOUGH_CAPACITY" in unplaced.codes


def test_every_sized_plan_meets_memory_and_isolation():
    mix = [
        W(name=f"w{i}", kind=kind, gpu_memory=f"{mem}Gi", isolation=iso)
        for i, (kind, mem, iso) in enumerate(
            (k, m, s)
            for k in ("inference", "batch-inference", "ci", "interactive")
            for m in (1, 5, 9, 17, 35, 60)
            for s in ("strict", "process", "none")
        )
    ]
    report = size(mix)
    assert report.violations == ()
    assert report.gpukit_gpus < report.naive_gpus


def test_check_plan_finds_a_violation():
    p = gk.plan(W(name="a", kind="inference", gpu_memory="6Gi", isolation="strict"))
    broken = p.model_copy(update={"choice": p.choice.model_copy(update={"memory_bytes": 1})})
    assert check_plan(p) == [] and "needs" in check_plan(broken)[0]


def test_json_form():
    d = size(gk.load_workloads(EXAMPLES)).to_dict()
    assert list(d)[:7] == [
        "fleet",
        "workloads",
        "gpukit_gpus",
        "naive_gpus",
        "ratio",
        "gpukit_cost_per_hour",
        "naive_cost_per_hour",
    ]
    assert [m["gpu_model"] for m in d["gpu_models"]] == ["A100-80GB", "H100-80GB", "L4"]
    assert json.loads(json.dumps(d)) == d


def test_cli_table_and_json():
    from gpukit.cli import app

    runner = CliRunner()
    table = runner.invoke(app, ["size", "--workloads", str(EXAMPLES)])
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0].split()[:3] == ["GPU", "MODEL", "GPUKIT"]
    assert any(line.startswith("TOTAL") and "1.36x" in line for line in table.output.splitlines())
    out = runner.invoke(app, ["size", "--workloads", str(EXAMPLES), "--output", "json"])
    assert out.exit_code == 0 and json.loads(out.output)["naive_gpus"] == 34


def test_cli_exit_codes(tmp_path):
    too_big = tmp_path / "w.yaml"
    too_big.write_text("name: huge\nkind: training\ngpus: 16\n")
    run = subprocess.run(
        [sys.executable, "-m", "gpukit", "size", "--workloads", str(too_big)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1 and "unplaced: huge" in run.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nkind: trainin\n")
    run = subprocess.run(
        [sys.executable, "-m", "gpukit", "size", "--workloads", str(bad)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and run.stderr.startswith("error:") and "Traceback" not in run.stderr


def test_pools_in_gpus_and_nodes_with_cost():
    report = size(gk.load_workloads(EXAMPLES))
    pools = {p.pool: p for p in report.pools}
    # ddp-pretrain's 2 x 8 GPUs on two whole nodes; llama-70b-serve (4) and finetune-7b (1) share one
    a100 = pools["a100-train"]
    assert (a100.gpukit_gpus, a100.gpukit_nodes, a100.naive_nodes) == (21, 3, 3)
    assert a100.gpukit_node_cost_per_hour == pytest.approx(3 * 8 * 2.0)
    # 8 MPS pods on 2 of a node's 4 L4s; naive, 8 whole L4s on two nodes
    assert (pools["l4-mps"].gpukit_nodes, pools["l4-mps"].naive_nodes) == (1, 2)
    assert (report.gpukit_nodes, report.naive_nodes) == (6, 7)
    text = report.table()
    assert (
        "a100-train  A100-80GB  4     21/21                3/3    48.00/48.00  dedicated 21" in text
    )
    assert "MIG: 1 GPUs partitioned; no packing uses fewer than 1 (LP lower bound)" in text
    d = report.to_dict()
    assert [p["pool"] for p in d["pools"]] == ["h100-mig", "a100-train", "l4-shared", "l4-mps"]
    assert d["savings"][0]["sentence"].startswith("these 8 batch-inference pods need at most 3 GiB")
