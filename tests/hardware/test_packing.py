"""Fleet packing: fewest GPUs, then fewest changes; every layout placeable; demand conserved."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpukit.errors import InputError
from gpukit.hardware import MigLayout, get_gpu, maximal_multisets
from gpukit.hardware.migparted import validate_mig_parted_text
from gpukit.hardware.packing import (
    GpuSlot,
    MigDemand,
    first_fit_decreasing,
    load_demands,
    load_gpu_slots,
    pack,
)


def gpus(model, n, node="n", per_node=8, current=None):
    return [GpuSlot(node=f"{node}-{i // per_node}", index=i % per_node, model=model, current=current)
            for i in range(n)]


def D(**kw):
    return MigDemand(**kw)


CASES = [
    pytest.param([D(profile="1g.10gb", count=14)], gpus("H100", 8), 2, id="fourteen-1g-on-two-H100"),
    pytest.param([D(profile="3g.20gb", count=2), D(profile="1g.5gb", count=1)], gpus("A100-40GB", 4), 2,
                 id="two-3g-and-a-1g-need-two-GPUs"),
    pytest.param([D(profile="4g.40gb", count=2), D(profile="2g.20gb", count=4)], gpus("H100", 8), 3,
                 id="4g-and-2g"),
    pytest.param([D(profile="3g.40gb", count=2), D(profile="1g.10gb", count=8)], gpus("H100", 8), 2,
                 id="3g-with-four-1g-each"),
    pytest.param([D(profile="1g.10gb+me", count=3)], gpus("H100", 8), 3, id="one-media-instance-per-GPU"),
    pytest.param([D(memory="18Gi", compute=2, count=6)], gpus("H100", 4) + gpus("A100-40GB", 4, "a"), 2,
                 id="memory-need-picks-the-model-where-it-is-smallest"),
    pytest.param([D(profile="7g.80gb", count=3), D(profile="1g.10gb", count=2)],
                 gpus("H100", 3) + gpus("A100-80GB", 2, "a"), 4, id="capacity-moves-flexible-demand"),
]


@pytest.mark.parametrize(("demands", "fleet", "used"), CASES)
def test_fewest_gpus(demands, fleet, used):
    plan = pack(demands, fleet)
    assert not plan.unplaced
    assert plan.gpus_used == used == plan.lower_bound
    _check(plan, demands, fleet)


def test_current_layouts_are_kept_when_they_cost_nothing():
    fleet = gpus("H100", 16, current={"1g.10gb": 7})
    plan = pack([D(profile="1g.10gb", count=14)], fleet)
    assert (plan.gpus_used, plan.gpus_changed, plan.nodes_changed) == (2, 0, ())
    assert plan.node_labels == {"n-0": "all-1g.10gb", "n-1": "all-1g.10gb"}


def test_current_layouts_are_changed_when_keeping_them_costs_a_gpu():
    # Keeping a 1g x7 GPU would need three GPUs; two with 3g + 1g x4 suffice.
    fleet = gpus("H100", 8, current={"1g.10gb": 7})
    plan = pack([D(profile="3g.40gb", count=2), D(profile="1g.10gb", count=8)], fleet)
    assert plan.gpus_used == 2 and plan.gpus_changed == 2


def test_a_fitting_current_layout_is_reused_even_if_it_is_not_the_planned_one():
    # all-balanced (3g + 2g + 1g x2) holds a 3g and two 1g: no change needed.
    balanced = {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2}
    plan = pack([D(profile="3g.40gb", count=1), D(profile="1g.10gb", count=2)],
                gpus("H100", 8, current=balanced))
    assert (plan.gpus_used, plan.gpus_changed) == (1, 0)


def test_changes_are_gathered_on_few_nodes():
    fleet = gpus("H100", 16)  # two nodes, MIG off
    plan = pack([D(profile="3g.40gb", count=6)], fleet)
    assert plan.gpus_used == 3 and plan.nodes_changed == ("n-0",)
    assert plan.node_labels == {"n-0": "custom-3x3g.40gbx2_5xoff", "n-1": "all-disabled"}


UNPLACED = [
    pytest.param(D(profile="1g.5gb", count=1), gpus("H100", 2), "no GPU model in the fleet has MIG profile", id="profile"),
    pytest.param(D(memory="200Gi", count=1), gpus("H100", 2), "largest MIG profile in the fleet is 7g.80gb", id="memory"),
    pytest.param(D(profile="7g.80gb", count=3), gpus("H100", 2), "are full", id="capacity"),
    pytest.param(D(profile="1g.10gb", gpu="A100-80GB", count=1), gpus("H100", 2), "no A100-80GB", id="model"),
    pytest.param(D(profile="1g.10gb", count=1), gpus("T4", 2), "no MIG-capable GPU", id="no-mig"),
]


@pytest.mark.parametrize(("demand", "fleet", "reason"), UNPLACED)
def test_what_cannot_be_placed_says_why(demand, fleet, reason):
    plan = pack([demand], fleet)
    assert plan.unplaced and reason in plan.unplaced[0].reason
    assert sum(u.count for u in plan.unplaced) + sum(c for g in plan.gpus for _, _, c in g.hosts) == demand.count


def test_duplicate_gpu_is_an_input_error():
    with pytest.raises(InputError, match="listed twice"):
        pack([D(profile="1g.10gb")], gpus("H100", 1) * 2)


# ----------------------------------------------------------------------------- invariants


def _check(plan, demands, fleet):
    """Independent checks of a plan against its inputs."""
    by_slot = {(g.node, g.index): g for g in fleet}
    assert {(a.node, a.index) for a in plan.gpus} == set(by_slot)
    hosted: dict[str, int] = {}
    for a in plan.gpus:
        slot = by_slot[(a.node, a.index)]
        if not a.changed:
            assert a.layout == (MigLayout.from_counts(a.model, slot.current).counts if slot.current else None)
        if a.layout is not None:
            placed = MigLayout.from_counts(a.model, a.layout).place()
            assert placed.ok, (a, placed)
            assert a.placement == str(placed) or a.placement is not None
            model = get_gpu(a.model)
            for name, count in a.layout.items():
                assert count <= model.profile(name).max_instances
        per_profile: dict[str, int] = {}
        for name, profile, count in a.hosts:
            hosted[name] = hosted.get(name, 0) + count
            per_profile[profile] = per_profile.get(profile, 0) + count
        for profile, count in per_profile.items():
            assert a.layout[profile] >= count
        assert a.used == bool(a.hosts)
    for i, d in enumerate(demands):
        name = d.name or f"demand-{i + 1}"
        lost = sum(u.count for u in plan.unplaced if u.demand == name)
        assert hosted.get(name, 0) + lost == d.count, name
    assert plan.gpus_used == sum(a.used for a in plan.gpus)
    if not plan.unplaced:
        assert plan.gpus_used >= plan.lower_bound
    assert set(plan.node_labels) == {g.node for g in fleet}
    text = yaml.safe_dump(plan.configmap())
    assert [f for f in validate_mig_parted_text(text, "plan") if f.severity == "error"] == []


MODELS = ["A100-40GB", "A100-80GB", "H100-80GB", "H200-141GB", "A30-24GB"]


@st.composite
def problems(draw):
    keys = draw(st.lists(st.sampled_from(MODELS), min_size=1, max_size=2, unique=True))
    fleet = []
    for key in keys:
        layouts = maximal_multisets(key)
        n = draw(st.integers(1, 12))
        for i in range(n):
            current = draw(st.one_of(st.none(), st.sampled_from(layouts)))
            fleet.append(GpuSlot(node=f"{key.lower()}-{i // 4}", index=i % 4, model=key, current=current))
    demands = []
    for j in range(draw(st.integers(1, 5))):
        key = draw(st.sampled_from(keys))
        profile = draw(st.sampled_from(get_gpu(key).profiles))
        kind = draw(st.sampled_from(["pinned", "name", "memory"]))
        count = draw(st.integers(1, 10))
        if kind == "pinned":
            demands.append(D(name=f"d{j}", profile=profile.name, gpu=key, count=count))
        elif kind == "name":
            demands.append(D(name=f"d{j}", profile=profile.name, count=count))
        else:
            demands.append(D(name=f"d{j}", memory=f"{draw(st.integers(1, 90))}Gi",
                             compute=draw(st.integers(1, 3)), count=count))
    return demands, fleet


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_packed_layout_is_placeable_and_demand_is_conserved(problem):
    demands, fleet = problem
    plan = pack(demands, fleet)
    _check(plan, demands, fleet)
    assert pack(demands, list(reversed(fleet))) == plan  # input order does not matter


def test_ffd_baseline_is_never_better_than_the_bound():
    fleet = gpus("H100", 8)
    demands = [D(profile="3g.40gb", count=2), D(profile="1g.10gb", count=8)]
    used, left = first_fit_decreasing(demands, fleet)
    assert left == 0 and used >= pack(demands, fleet).lower_bound


# ----------------------------------------------------------------------------- files and CLI


def test_demand_files(tmp_path, repo_root):
    demands = load_demands(repo_root / "examples" / "mig" / "demand.yaml")
    assert [d.name for d in demands][:2] == ["notebooks", "bert-serving"]
    bare = tmp_path / "bare.yaml"
    bare.write_text("- {profile: 1g.10gb, count: 3}\n")
    assert load_demands(bare)[0].count == 3
    for text, message in [
        ("demands: [{profile: 1g.10gb, memory: 4Gi}]", "exactly one of"),
        ("demands: [{profile: 1g.10gb, cout: 3}]", "did you mean 'count'"),
        ("demandz: []", "unknown top-level"),
        ("demands: []", "non-empty list"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(InputError, match=message):
            load_demands(bad)


def test_fleet_files(tmp_path, repo_root):
    slots = load_gpu_slots(repo_root / "examples" / "mig" / "fleet.yaml")
    assert len(slots) == 28 and slots[0].current == {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2}
    assert {s.node for s in slots} == {"h100-a-0", "h100-b-0", "a100-0", "a30-0"}
    # gpukit's own Fleet format: MIG pools only, unless asked.
    default = load_gpu_slots("default")
    assert {s.model for s in default} == {"H100-80GB"} and len(default) == 16
    assert {s.model for s in load_gpu_slots("default", whole_gpu_pools=True)} == {"H100-80GB", "A100-80GB"}
    fleet_file = repo_root / "gpukit" / "data" / "default-fleet.yaml"
    assert load_gpu_slots(fleet_file) == default
    bad = tmp_path / "f.yaml"
    bad.write_text("- {model: H100, count: 2, layout: {1g.5gb: 1}}\n")
    with pytest.raises(InputError, match="does not exist on H100-80GB"):
        load_gpu_slots(bad)
    bad.write_text("- {modle: H100}\n")
    with pytest.raises(InputError, match="did you mean 'model'"):
        load_gpu_slots(bad)


def _cli(capsys, *args):
    """Run `gpukit mig ARGS` in-process through the real entry point: (exit code, out, err)."""
    from gpukit.cli import main

    try:
        main(["mig", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_plan(repo_root, tmp_path, capsys):
    fleet = str(repo_root / "examples" / "mig" / "fleet.yaml")
    demand = str(repo_root / "examples" / "mig" / "demand.yaml")
    code, out, err = _cli(capsys, "plan", "--fleet", fleet, "--demand", demand)
    assert code == 0, err
    assert "GPUs used: 6 (lower bound 6)" in out and "nvidia.com/mig.config=" in out
    code, out, _ = _cli(capsys, "plan", "--fleet", fleet, "--demand", demand, "-o", "configmap")
    assert yaml.safe_load(out)["kind"] == "ConfigMap"
    path = tmp_path / "cm.yaml"
    path.write_text(out)
    assert _cli(capsys, "validate", str(path))[0] == 0
    big = tmp_path / "big.yaml"
    big.write_text("demands: [{profile: 7g.80gb, count: 40}]\n")
    code, _, err = _cli(capsys, "plan", "--fleet", fleet, "--demand", str(big))
    assert code == 1 and "unplaced" in err
    assert _cli(capsys, "plan", "--fleet", fleet, "--demand", str(tmp_path / "none.yaml"))[0] == 2


def test_cli_plan_output_does_not_depend_on_the_hash_seed(repo_root):
    fleet = str(repo_root / "examples" / "mig" / "fleet.yaml")
    demand = str(repo_root / "examples" / "mig" / "demand.yaml")
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.append(subprocess.run(
            [sys.executable, "-m", "gpukit", "mig", "plan", "--fleet", fleet, "--demand", demand, "-o", "yaml"],
            capture_output=True, text=True, env=env, check=True,
        ).stdout)
    assert outs[0] == outs[1] and "node_labels" in outs[0]


def test_cli_layouts_and_place(capsys):
    code, out, _ = _cli(capsys, "layouts", "A100-40GB", "--profiles", "1g.5gb,2g.10gb,3g.20gb,4g.20gb,7g.40gb")
    assert code == 0 and "19 maximal layouts on A100-40GB" in out
    assert "28 maximal profile mixes" in _cli(capsys, "layouts", "H100", "--multisets")[1]
    code, out, _ = _cli(capsys, "place", "A100-40GB", "3g.20gb x2 + 1g.5gb")
    assert code == 1 and "needs 9 memory slices" in out
    code, out, _ = _cli(capsys, "place", "A100-40GB", "3g.20gb + 2g.10gb + 1g.5gb x2")
    assert code == 0 and "nvidia-smi mig -cgi 9:4" in out
    assert _cli(capsys, "layouts", "T4")[0] == 2
