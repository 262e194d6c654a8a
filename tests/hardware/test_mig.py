"""MIG placement engine: the reference tables come out exactly, invalid layouts say why."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpukit.errors import InputError, MigLayoutError
from gpukit.hardware import (
    MigLayout,
    Placement,
    Unplaceable,
    catalog,
    get_gpu,
    maximal_layouts,
    maximal_multisets,
    smallest_profile,
    valid_multisets,
)
from gpukit.quantity import GIB

A100_ORIGINAL = ["1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"]


# ----------------------------------------------------------------------------- the tables


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"\n(?=#{2,3} )", text)
    return {p.splitlines()[0]: p for p in parts}


def _rows(section: str) -> list[list[str]]:
    out = []
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            out.append([c.strip() for c in line.strip().strip("|").split("|")])
    return out[1:]  # drop the header


def _placements(text: str) -> list[tuple[str, int]]:
    text = re.sub(r"\(.*?\)", "", text)
    out = []
    for term in text.split("+"):
        name, spec = term.strip().split("@")
        if ".." in spec:
            lo, hi = spec.split("..")
            starts = range(int(lo), int(hi) + 1)
        else:
            starts = [int(s) for s in spec.split(",")]
        out.extend((name, s) for s in starts)
    return sorted(out, key=lambda ns: ns[1])


def _mix(text: str) -> dict[str, int]:
    text = re.sub(r"\[.*?\]|\(.*?\)", "", text)
    out: dict[str, int] = {}
    for term in text.split("+"):
        m = re.fullmatch(r"\s*(?:(\d+)x\s+)?(\S+)\s*", term)
        assert m, term
        out[m[2]] = out.get(m[2], 0) + int(m[1] or 1)
    return out


@pytest.fixture(scope="module")
def tables(reference_dir):
    return _sections((reference_dir / "mig-valid-combinations.md").read_text())


def _section(tables, prefix):
    return next(v for k, v in tables.items() if k.lstrip("# ").startswith(prefix))


def _nineteen(tables):
    return _rows(_section(tables, "3. A100").split("As **multisets**")[0])


def test_a100_19_maximal_layouts_exactly(tables):
    rows = _nineteen(tables)
    assert len(rows) == 19
    want = [(_placements(r[1]), r[2].strip("`")) for r in rows]
    got = [([(i.profile, i.start) for i in p.instances], p.slot_map())
           for p in maximal_layouts("A100-40GB", A100_ORIGINAL)]
    assert got == want  # same layouts, same order, same slot maps


def test_a100_12_maximal_mixes(tables):
    section = _section(tables, "3. A100")
    mixes = section.split("As **multisets**")[1]
    rows = _rows(mixes)
    assert len(rows) == 12
    want = sorted(sorted(_mix(r[0]).items()) for r in rows)
    got = sorted(sorted(m.items()) for m in maximal_multisets("A100-40GB", A100_ORIGINAL))
    assert got == want
    for row in rows:
        mix = _mix(row[0])
        layout = MigLayout.from_counts("A100-40GB", mix).placement()
        assert (layout.compute_used, layout.memory_used) == (int(row[1]), int(row[2]))


@pytest.mark.parametrize("gpu", ["A100-80GB", "H100-80GB"])
def test_with_the_two_slot_1g_profile_78_layouts_and_28_mixes(tables, gpu):
    rows = _rows(_section(tables, "Including the 1-compute"))
    assert len(rows) == 28
    want = sorted(sorted(_mix(r[0]).items()) for r in rows)
    assert sorted(sorted(m.items()) for m in maximal_multisets(gpu)) == want
    assert len(maximal_layouts(gpu)) == 78
    # The same counts on A100-40GB, whose names differ.
    assert (len(maximal_layouts("A100-40GB")), len(maximal_multisets("A100-40GB"))) == (78, 28)


def test_a30_five_layouts(tables):
    rows = _rows(_section(tables, "A30 (4x4 grid)"))
    want = [(_placements(r[1]), r[2].strip("`")) for r in rows]
    got = [([(i.profile, i.start) for i in p.instances], p.slot_map()) for p in maximal_layouts("A30")]
    assert sorted(got) == sorted(want) and len(got) == 5


def test_every_row_of_the_tables_is_a_valid_layout(tables):
    for row in _nineteen(tables):
        starts = _placements(row[1])
        layout = MigLayout.parse("A100-40GB", " + ".join(f"{n}@{s}" for n, s in starts))
        assert str(layout.placement()) == " + ".join(f"{n}@{s}" for n, s in starts)
    for row in _rows(_section(tables, "Including the 1-compute")):
        assert MigLayout.from_counts("H100-80GB", _mix(row[0])).is_valid


# ----------------------------------------------------------------------------- worked examples

INVALID = [
    pytest.param("A100-40GB", "3g.20gb x2 + 1g.5gb", "memory", ["3g.20gb x2"], id="A-two-3g-take-all-memory"),
    pytest.param("H100-80GB", "1g.20gb x4 + 1g.10gb", "memory", ["1g.20gb x4"], id="B-four-1g.20gb"),
    pytest.param("A100-40GB", "3g.20gb + 1g.10gb x3", "memory", ["3g.20gb + 1g.10gb x2"], id="C-3g-three-1g.10gb"),
    pytest.param("A100-40GB", "4g.20gb + 2g.10gb x2", "compute", ["4g.20gb + 2g.10gb"], id="D-4g-two-2g"),
    pytest.param("A100-40GB", "2g.10gb@6", "start-not-allowed", ["2g.10gb"], id="D-2g-never-at-6"),
    pytest.param("A100-40GB", "3g.20gb@0 + 2g.10gb + 1g.5gb x2", "placement",
                 ["3g.20gb + 2g.10gb + 1g.5gb x2"], id="F-3g-at-0-strands-a-1g"),
    pytest.param("H100-80GB", "1g.10gb+me x2", "max-instances", ["1g.10gb+me"], id="G-two-media"),
    pytest.param("A30", "2g.12gb+me + 1g.6gb+me", "media-extensions", [], id="A30-one-media-engine"),
    pytest.param("A100-40GB", "3g.20gb@0 + 2g.10gb@2", "overlap", ["3g.20gb + 2g.10gb"], id="fixed-overlap"),
    pytest.param("A100-40GB", "1g.5gb x8", "compute", ["1g.5gb x7"], id="eight-1g"),
]


@pytest.mark.parametrize(("gpu", "text", "code", "nearest"), INVALID)
def test_invalid_layouts_say_why(gpu, text, code, nearest):
    result = MigLayout.parse(gpu, text).place()
    assert isinstance(result, Unplaceable)
    assert result.code == code
    assert result.reason in result.message() and get_gpu(gpu).key in result.message()
    names = [str(n) for n in result.nearest]
    for near in nearest:
        assert near in names
    for near in result.nearest:
        assert near.is_valid
    with pytest.raises(MigLayoutError, match="does not fit"):
        MigLayout.parse(gpu, text).placement()


def test_example_a_reason_names_the_memory_slices():
    result = MigLayout.parse("A100-40GB", "3g.20gb x2 + 1g.5gb").place()
    assert result.reason == (
        "needs 9 memory slices but A100-40GB has 8 (3g.20gb x2 takes 8, 1g.5gb x1 takes 1)"
    )
    assert "media-extensions" not in result.code


VALID = [
    ("A100-40GB", "4g.20gb + 3g.20gb", "4g.20gb@0 + 3g.20gb@4"),  # E: R510+ drivers
    ("A100-40GB", "3g.20gb + 2g.10gb + 1g.5gb x2", "2g.10gb@0 + 1g.5gb@2 + 1g.5gb@3 + 3g.20gb@4"),
    ("A100-40GB", "3g.20gb + 1g.10gb x2", "1g.10gb@0 + 1g.10gb@2 + 3g.20gb@4"),
    ("A100-40GB", "4g.20gb + 2g.10gb + 1g.10gb", "4g.20gb@0 + 2g.10gb@4 + 1g.10gb@6"),
    ("H100-80GB", "2g.20gb x3 + 1g.20gb", "2g.20gb@0 + 2g.20gb@2 + 2g.20gb@4 + 1g.20gb@6"),
    ("H100-80GB", "4g.40gb + 2g.20gb + 1g.20gb", "4g.40gb@0 + 2g.20gb@4 + 1g.20gb@6"),
    ("A100-40GB", "1g.5gb@0 + 1g.5gb@1 + 2g.10gb@2 + 3g.20gb@4", "1g.5gb@0 + 1g.5gb@1 + 2g.10gb@2 + 3g.20gb@4"),
    ("H100", "1g.10gb+me + 1g.10gb x6", "1g.10gb@0 + 1g.10gb@1 + 1g.10gb@2 + 1g.10gb@3 + 1g.10gb@4 + 1g.10gb@5 + 1g.10gb+me@6"),
]


@pytest.mark.parametrize(("gpu", "text", "placed"), VALID, ids=[v[1] for v in VALID])
def test_valid_layouts_are_placed(gpu, text, placed):
    assert str(MigLayout.parse(gpu, text).placement()) == placed


def test_creation_order_is_largest_first_with_explicit_starts():
    # The MIG guide's example: creating 1g, 1g, 2g before the 3g can fail; 3g first works.
    placement = MigLayout.parse("A100-40GB", "1g.5gb x2 + 2g.10gb + 3g.20gb").placement()
    assert [i.profile for i in placement.creation_order] == ["3g.20gb", "2g.10gb", "1g.5gb", "1g.5gb"]
    assert placement.nvidia_smi_command() == "nvidia-smi mig -cgi 9:4,14:0,19:2,19:3 -C"
    assert placement.slot_map() == "2 2 1 1 3 3 3 3"


def test_parse_round_trips_and_rejects_unknown_profiles():
    layout = MigLayout.parse("A100-40GB", "3g.20gb@4, 1g.5gb:2 + 2g.10gbx1")
    assert layout.counts == {"3g.20gb": 1, "2g.10gb": 1, "1g.5gb": 2}
    again = MigLayout.parse("A100-40GB", str(layout))
    assert again.counts == layout.counts and str(again) == str(layout)
    with pytest.raises(InputError, match="did you mean '1g.5gb'"):
        MigLayout.parse("A100-40GB", "1g.6gb")
    with pytest.raises(InputError, match="not MIG-capable"):
        MigLayout.from_counts("T4", {})
    with pytest.raises(InputError, match="cannot read"):
        MigLayout.parse("A100-40GB", "3g@")


def test_smallest_profile_agrees_with_the_model():
    for gpu in catalog().mig_capable:
        for gib in (1, 5, 9.5, 10, 15, 20, 30, 40, 60, 80):
            for compute in (1, 2, 3):
                expected = gpu.smallest_profile(int(gib * GIB), compute)
                if expected is None:
                    with pytest.raises(InputError, match="largest is"):
                        smallest_profile(gpu, int(gib * GIB), compute)
                else:
                    assert smallest_profile(gpu, int(gib * GIB), compute) == expected
    assert smallest_profile("A100-40GB", "8Gi").name == "1g.10gb"
    assert smallest_profile("H100", "30Gi", 2).name == "3g.40gb"


# ----------------------------------------------------------------------------- invariants


def _check(model, placement: Placement) -> None:
    """Independent check of a placement: allowed starts, no overlap, limits."""
    taken: set[int] = set()
    counts: dict[str, int] = {}
    for inst in placement.instances:
        profile = model.profile(inst.profile)
        assert inst.start in profile.starts
        slots = set(range(inst.start, inst.start + profile.memory_slices))
        assert not slots & taken
        taken |= slots
        counts[inst.profile] = counts.get(inst.profile, 0) + 1
    for name, count in counts.items():
        assert count <= model.profile(name).max_instances
    assert sum(model.profile(n).compute_slices * c for n, c in counts.items()) <= model.mig.compute_slices
    assert sum(c for n, c in counts.items() if model.profile(n).media_extensions) <= 1
    assert max(taken, default=0) < model.mig.memory_slices
    # Creation order: every instance once, larger never after smaller.
    order = placement.creation_order
    assert sorted(order, key=lambda i: i.start) == sorted(placement.instances, key=lambda i: i.start)
    assert [i.size for i in order] == sorted((i.size for i in order), reverse=True)


MODELS = [g.key for g in catalog().mig_capable]


@st.composite
def layouts(draw):
    model = get_gpu(draw(st.sampled_from(MODELS)))
    counts = {p.name: draw(st.integers(0, p.max_instances + 1)) for p in model.profiles}
    return model, {k: v for k, v in counts.items() if v}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_engine_places_exactly_the_valid_mixes(case):
    model, counts = case
    result = MigLayout.from_counts(model, counts).place()
    names = [p.name for p in model.profiles]
    valid = {tuple(sorted(m.items())) for m in valid_multisets(model, names)}
    if result.ok:
        _check(model, result)
        assert result.counts == counts
        assert not counts or tuple(sorted(counts.items())) in valid
    else:
        assert tuple(sorted(counts.items())) not in valid
        for near in result.nearest:
            assert near.is_valid
            assert all(near.counts[n] <= counts.get(n, 0) for n in near.counts)
    # The reference's derived shortcut: placeable iff the sums and per-profile limits hold.
    sums_ok = (
        sum(model.profile(n).memory_slices * c for n, c in counts.items()) <= model.mig.memory_slices
        and sum(model.profile(n).compute_slices * c for n, c in counts.items()) <= model.mig.compute_slices
        and all(c <= model.profile(n).max_instances for n, c in counts.items())
        and sum(c for n, c in counts.items() if model.profile(n).media_extensions) <= 1
    )
    assert result.ok == sums_ok


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MODELS), st.data())
def test_fixed_starts_are_kept_or_refused(key, data):
    model = get_gpu(key)
    profiles = data.draw(st.lists(st.sampled_from(model.profiles), min_size=1, max_size=4))
    parts = [f"{p.name}@{data.draw(st.sampled_from(range(model.mig.memory_slices)))}" for p in profiles]
    layout = MigLayout.parse(model, " + ".join(parts))
    result = layout.place()
    if result.ok:
        _check(model, result)
        placed = {(i.profile, i.start) for i in result.instances}
        assert {(i.profile, i.start) for i in layout.instances} <= placed
    else:
        assert result.code in {"start-not-allowed", "overlap", "max-instances", "media-extensions",
                               "memory", "compute", "placement", "gpu-instances"}


@pytest.mark.parametrize("key", MODELS)
def test_maximal_layouts_are_placeable_and_cannot_grow(key):
    model = get_gpu(key)
    names = [p.name for p in model.profiles if not p.media_extensions]
    found = maximal_layouts(model)
    assert len(found) == (78 if model.mig.memory_slices == 8 else 5)
    for placement in found:
        _check(model, placement)
        taken = {s for i in placement.instances for s in i.slots}
        counts = placement.counts
        compute = placement.compute_used
        for name in names:
            profile = model.profile(name)
            for start in profile.starts:
                # Independently: one more instance would overlap or break a limit.
                slots = set(range(start, start + profile.memory_slices))
                fits = (
                    not slots & taken
                    and counts.get(name, 0) < profile.max_instances
                    and compute + profile.compute_slices <= model.mig.compute_slices
                    and len(placement.instances) < model.mig.max_gpu_instances
                )
                assert not fits, (str(placement), name, start)
