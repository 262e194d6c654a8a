"""The advisor's seams: one registry of mechanisms, one Option, reason codes as an enum, the
score formula from the weights, one statement of the LWS constraint, and modules that stay
small and import one way."""

from __future__ import annotations

import ast
import importlib
import typing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpukit as gk
from gpukit.advisor import mechanisms
from gpukit.advisor.facts import pool_facts
from gpukit.advisor.mechanisms import MECHANISMS, Mechanism
from gpukit.advisor.option import Option
from gpukit.advisor.reasons import ReasonCode
from gpukit.advisor.scoring import SCORE_FORMULA, SCORE_WEIGHTS
from gpukit.advisor.serving import lws_missing, runs_as_leader_worker_set
from gpukit.errors import FleetError, NoFeasiblePlan
from gpukit.fleet import Fleet
from gpukit.manifests.kinds import object_kind

ADVISOR = Path(mechanisms.__file__).resolve().parents[1]

POOLS = {
    "dedicated": {"gpu": "A100-80GB"},
    "mig": {"gpu": "A100-80GB", "mig": {"strategy": "mixed", "layout": {"3g.40gb": 2}}},
    "mig-any": {"gpu": "H100-80GB", "mig": {"strategy": "mixed"}},
    "time-slicing": {"gpu": "L4", "sharing": {"mode": "time-slicing", "replicas": 4}},
    "time-sliced-mig": {
        "gpu": "A100-40GB",
        "mig": {"strategy": "mixed", "layout": {"1g.5gb": 7}},
        "sharing": {"mode": "time-slicing", "replicas": 2},
    },
    "mps": {"gpu": "L4", "sharing": {"mode": "mps", "replicas": 4}},
    "mps-on-mig-is-mig": {
        "gpu": "A100-80GB",
        "mig": {"strategy": "single", "layout": {"1g.10gb": 7}},
    },
}
#: (pool, mechanism that offers its units, resource names of the offers)
OFFERS = [
    ("dedicated", "dedicated", ["nvidia.com/gpu"]),
    ("mig", "mig", ["nvidia.com/mig-3g.40gb"]),
    ("time-slicing", "time-slicing", ["nvidia.com/gpu"]),
    ("time-sliced-mig", "time-slicing", ["nvidia.com/mig-1g.5gb"]),
    ("mps", "mps", ["nvidia.com/gpu"]),
    ("mps-on-mig-is-mig", "mig", ["nvidia.com/gpu"]),
]


def _pool(name: str) -> gk.NodePool:
    fleet = Fleet.model_validate(
        {"name": "f", "node_pools": [{"name": "p", "gpus_per_node": 8, "nodes": 1, **POOLS[name]}]}
    )
    return fleet.node_pools[0]


@pytest.mark.parametrize(("pool", "mechanism", "resources"), OFFERS, ids=[o[0] for o in OFFERS])
def test_one_mechanism_offers_the_units_of_a_pool(pool: str, mechanism: str, resources: list[str]):
    p = _pool(pool)
    offering = [m.name for m in MECHANISMS.values() if m.offers(p)]
    assert offering == [mechanism]
    assert [o.resource_name for o in pool_facts(p).offers] == resources
    assert {o.sharing for o in pool_facts(p).offers} == {mechanism}


def test_a_mig_pool_without_layout_offers_every_profile_smallest_first():
    facts = pool_facts(_pool("mig-any"))
    memory = [o.memory_bytes for o in facts.offers]
    assert memory == sorted(memory) and len(memory) > 3
    assert not any(o.declared for o in facts.offers)


def test_the_registry_is_the_one_list_of_mechanisms():
    assert list(MECHANISMS) == ["dedicated", "mig", "time-slicing", "mps", "kai-fraction"]
    assert all(isinstance(m, Mechanism) and m.name == key for key, m in MECHANISMS.items())
    sharing = typing.get_args(Option.model_fields["sharing"].annotation)
    assert sharing == tuple(MECHANISMS)
    with pytest.raises(ValueError, match="sharing 'gpu-ish' is no registered mechanism"):
        mechanisms.mechanism("gpu-ish")


def test_an_option_of_an_unregistered_mechanism_is_refused():
    with pytest.raises(ValueError, match="'dedicated', 'mig', 'time-slicing', 'mps' or 'kai-fraction'"):
        Option(
            sharing="vgpu",
            pool="p",
            gpu_model="L4",
            resource_name="x",
            memory_bytes=1,
            cost_per_hour=1.0,
        )  # type: ignore[arg-type]


LABELS = [
    (
        "dedicated",
        {"gpus": 1, "workers": 1, "spans_nodes": False},
        "1x A100-80GB (whole GPU), pool p",
    ),
    (
        "dedicated",
        {"gpus": 8, "workers": 2, "spans_nodes": True},
        "2 workers x 8x A100-80GB (whole GPUs), pool p",
    ),
    ("mig", {"mig_profile": "3g.40gb"}, "MIG 3g.40gb on A100-80GB, pool p"),
    ("time-slicing", {}, "time-slicing share of A100-80GB, pool p"),
    ("time-slicing", {"mig_profile": "1g.10gb"}, "time-sliced MIG 1g.10gb on A100-80GB, pool p"),
    ("mps", {}, "mps share of A100-80GB, pool p"),
]


@pytest.mark.parametrize(("sharing", "fields", "label"), LABELS, ids=[lb[2] for lb in LABELS])
def test_each_mechanism_names_its_options(sharing: str, fields: dict, label: str):
    option = Option(
        sharing=sharing,
        pool="p",
        gpu_model="A100-80GB",
        resource_name="x",  # type: ignore[arg-type]
        memory_bytes=1,
        cost_per_hour=1.0,
        **fields,
    )
    assert option.label == label


def test_rejection_codes_of_every_mechanism_are_enum_members(fleet):
    rows = [
        gk.Workload(name="a", kind="inference", gpu_memory="6Gi"),
        gk.Workload(name="b", kind="ci"),
        gk.Workload(name="c", kind="batch-inference", gpu_memory="4Gi", priority="throughput"),
        gk.Workload(name="d", kind="training", gpus=8, workers=2),
        gk.Workload(name="e", kind="inference", gpu_memory="10Gi", latency_target=1.1),
    ]
    seen: set[str] = set()
    for name in ("default", "kai", "mig-single-mps", "dra", "no-volcano"):
        for w in rows:
            try:
                p = gk.plan(w, fleet(name))
            except NoFeasiblePlan as exc:
                seen |= {r.code for r in exc.rejections}
                continue
            seen |= {r.code for r in (*p.reasons, *p.warnings, *p.rejections)}
            assert all(type(r.code) is str for r in p.reasons)  # plain strings in JSON
    assert seen <= set(ReasonCode)
    assert len(seen) > 15


def test_the_score_formula_is_written_from_the_weights():
    assert SCORE_FORMULA == (
        "100 - 25 x preference rank - 15 x cost relative to the dearest fitting option "
        "- 5 x share of the pool's free capacity taken - 4 x unused memory share"
    )
    assert [f"- {w:g} x" in SCORE_FORMULA for w in SCORE_WEIGHTS] == [True] * 4


def test_scores_follow_the_weights():
    p = gk.plan(gk.Workload(name="a", kind="inference", gpu_memory="6Gi"))
    ranked = [p.choice, *p.alternatives]
    assert [o.score for o in ranked] == sorted((o.score for o in ranked), reverse=True)
    for o in ranked:  # every term is at most its weight, the rank's is exact
        lost = 100 - o.score - SCORE_WEIGHTS.rank * o.rank
        assert -0.01 <= lost <= SCORE_WEIGHTS.cost + SCORE_WEIGHTS.pressure + SCORE_WEIGHTS.waste


LWS = [
    # (kind, workers, lws installed, runs as LWS, LWS missing)
    ("inference", 2, False, True, True),
    ("inference", 2, True, True, False),
    ("inference", 1, False, False, False),
    ("training", 2, False, False, False),
]


@pytest.mark.parametrize(("kind", "workers", "lws", "runs", "missing"), LWS)
def test_the_lws_constraint_is_one_predicate_for_the_advisor_and_the_renderer(
    fleet, kind: str, workers: int, lws: bool, runs: bool, missing: bool
):
    f = fleet("default", lws=lws)
    assert runs_as_leader_worker_set(kind, workers) is runs
    assert lws_missing(kind, workers, f.installed) is missing
    w = gk.Workload(name="big", kind=kind, model={"params": "405B", "precision": "bf16"})
    try:
        p = gk.plan(w, f)
    except NoFeasiblePlan as exc:
        codes = {r.code for r in exc.rejections}
        assert "MULTI_NODE_SERVING_NEEDS_LWS" in codes or kind != "inference" or lws
        p = None
    if p is not None:
        assert not lws_missing(p.workload.kind, p.workers, f.installed)
    # A plan built around the advisor meets the same predicate in the renderer.
    base = gk.plan(gk.Workload(name="small", kind=kind, gpus=1), f)
    forced = base.model_copy(
        update={"workload": base.workload.model_copy(update={"workers": workers})}
    )
    if missing:
        with pytest.raises(FleetError, match="needs a LeaderWorkerSet"):
            object_kind(forced)
    elif runs:
        assert object_kind(forced) == "LeaderWorkerSet"


# -- structure ------------------------------------------------------------------------------


def _modules() -> dict[str, Path]:
    return {
        "gpukit."
        + ".".join(p.relative_to(ADVISOR.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in sorted(ADVISOR.rglob("*.py"))
    }


@pytest.mark.parametrize("path", sorted(ADVISOR.rglob("*.py")), ids=lambda p: p.name)
def test_no_advisor_module_is_over_600_lines(path: Path):
    assert len(path.read_text().splitlines()) <= 600


def _runtime_imports(path: Path) -> set[str]:
    """Modules imported when the module runs (imports under `if TYPE_CHECKING:` left out)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            for field in ("body", "orelse", "handlers", "finalbody"):
                visit(getattr(node, field, []) or [])

    visit(tree.body)
    return found


def test_advisor_modules_import_one_way():
    modules = _modules()
    # The package __init__ gathers its modules; the cycle through it is Python's, not ours.
    graph = {
        name: {m for m in _runtime_imports(path) if m in modules and m != "gpukit.advisor"}
        for name, path in modules.items()
        if name != "gpukit.advisor"
    }
    state: dict[str, int] = {}

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("import circle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                walk(nxt, [*trail, node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [])


OLD_NAMES = {
    "gpukit.advisor.rules": [
        "HEADROOM",
        "SMALL_WORK_SHARE",
        "Candidate",
        "Context",
        "FleetFacts",
        "Offer",
        "PoolFacts",
        "Preference",
        "SchedulerChoice",
        "OPTION_RULES",
        "capacity",
        "choice_reasons",
        "choose_scheduler",
        "dedicated_shape",
        "first_rejection",
        "fleet_facts",
        "fleet_options",
        "rule_capacity",
        "rule_isolation",
        "rule_latency",
        "rule_memory_fits",
        "rule_memory_known",
        "rule_mig_profile_exists",
        "rule_mps_clients",
        "rule_multi_node_serving",
        "rule_node_size",
        "rule_one_shared_gpu",
        "rule_whole_gpus",
        "score_options",
        "sharing_preference",
        "sharing_warnings",
        "unusable_mig_rejections",
    ],
    "gpukit.advisor.sharing_rules": [
        "MPS_OVER_TIME_SLICING",
        "THROUGHPUT_GAIN",
        "option_model",
        "option_prediction",
        "plan_predictions",
        "prediction_reasons",
        "prediction_warnings",
        "rule_latency_target",
        "rule_mps_limits_cost",
        "rule_share_fit",
        "rule_time_slicing_throughput",
    ],
    "gpukit.advisor.plan": [
        "KAI_DEFAULT_QUEUE",
        "PREEMPTIBLE_PRIORITY_CLASS",
        "SCORE_FORMULA",
        "Option",
        "Plan",
        "Reason",
        "Rejection",
        "option_label",
    ],
}


@pytest.mark.parametrize("module", sorted(OLD_NAMES))
def test_old_module_paths_keep_their_names(module: str):
    loaded = importlib.import_module(module)
    missing = [n for n in OLD_NAMES[module] if not hasattr(loaded, n)]
    assert not missing


def test_the_old_throughput_rules_still_answer_for_their_mechanism_only():
    from gpukit.advisor import sharing_rules
    from gpukit.advisor.context import Context
    from gpukit.advisor.option_rules import fleet_options
    from gpukit.memory import memory_need

    f = Fleet.model_validate(
        {
            "name": "f",
            "node_pools": [
                {
                    "name": "ts",
                    "gpu": "H100-80GB",
                    "gpus_per_node": 8,
                    "nodes": 1,
                    "sharing": {"mode": "time-slicing", "replicas": 4},
                },
                {
                    "name": "mps",
                    "gpu": "H100-80GB",
                    "gpus_per_node": 8,
                    "nodes": 1,
                    "sharing": {"mode": "mps", "replicas": 4},
                },
            ],
        }
    )
    w = gk.Workload(
        name="a",
        kind="batch-inference",
        gpu_memory="4Gi",
        priority="throughput",
        gpu_boundness=1.0,
        gpu_fill=1.0,
        isolation="none",
    )
    ctx = Context(w, f, memory_need(w))
    by_pool = {o.pool: o for o in fleet_options(ctx)}
    ts, mps = sharing_rules.rule_time_slicing_throughput, sharing_rules.rule_mps_limits_cost
    assert ts(by_pool["ts"], ctx).code == "TIME_SLICING_NO_THROUGHPUT"  # type: ignore[union-attr]
    assert ts(by_pool["mps"], ctx) is None
    assert mps(by_pool["ts"], ctx) is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(0, 2**70), st.floats(0, 2**50, allow_nan=False)))
def test_the_one_gib_helper_writes_what_format_gib_writes(n: float):
    from fractions import Fraction

    from gpukit.advisor.reasons import gib
    from gpukit.quantity import format_gib

    assert gib(n) == format_gib(Fraction(n))
