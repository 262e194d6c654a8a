"""MIG layout models: the instances a user asks for (MigLayout), a Placement that works, or why not.

>>> layout = MigLayout.from_counts("A100-40GB", {"3g.20gb": 1, "2g.10gb": 1, "1g.5gb": 2})
>>> str(layout.place())
'2g.10gb@0 + 1g.5gb@2 + 1g.5gb@3 + 3g.20gb@4'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gpukit.errors import InputError, MigLayoutError
from gpukit.hardware.catalog import GpuModel, get_gpu
from gpukit.hardware.mig.geometry import (
    _check_profiles,
    _count,
    _key,
    _mig_models,
    _place,
    _placement_reason,
    _problems,
    _profile_names,
    _resolve,
    profile_shapes,
    valid_vectors,
)

__all__ = [
    "MigInstance",
    "MigLayout",
    "PlacedInstance",
    "Placement",
    "Unplaceable",
    "maximal_layouts",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


# ----------------------------------------------------------------------------- models


class MigInstance(BaseModel):
    """One GPU instance asked for: a profile, and optionally the memory slot it starts at."""

    model_config = _FROZEN

    profile: str
    start: int | None = Field(default=None, ge=0)

    def __str__(self) -> str:
        return self.profile if self.start is None else f"{self.profile}@{self.start}"


class PlacedInstance(BaseModel):
    """A GPU instance at its start slot, with what nvidia-smi needs to create it there."""

    model_config = _FROZEN

    profile: str
    profile_id: int
    start: int
    size: int
    compute_slices: int

    @property
    def slots(self) -> range:
        return range(self.start, self.start + self.size)

    def __str__(self) -> str:
        return f"{self.profile}@{self.start}"


class Placement(BaseModel):
    """A layout that fits: every instance at a start slot, and an order to create them in.

    ``creation_order`` is largest first (memory slots, then compute), each instance with its
    explicit start: creating small instances first can leave the driver no room for a
    large one even though a valid placement exists (the MIG guide's 1-1-2-3 example).
    """

    model_config = _FROZEN

    ok: Literal[True] = True
    gpu: str
    instances: tuple[PlacedInstance, ...]
    creation_order: tuple[PlacedInstance, ...]
    memory_slices: int
    compute_slices: int

    def __str__(self) -> str:
        return " + ".join(str(i) for i in self.instances) or "(empty)"

    @property
    def counts(self) -> dict[str, int]:
        return _count(i.profile for i in self.instances)

    @property
    def compute_used(self) -> int:
        return sum(i.compute_slices for i in self.instances)

    @property
    def memory_used(self) -> int:
        return sum(i.size for i in self.instances)

    def slot_map(self) -> str:
        """Per memory slot, the compute size of the instance on it ('.' = free): '3 3 3 3 2 2 1 .'."""
        cells = ["."] * self.memory_slices
        for inst in self.instances:
            for slot in inst.slots:
                cells[slot] = str(inst.compute_slices)
        return " ".join(cells)

    def nvidia_smi_command(self) -> str:
        """The `nvidia-smi mig -cgi` call that creates this layout, largest first, at its starts.

        Uses the '<profile id>:<start>' placement form of `-cgi` (as nvidia-smi's help text
        is quoted by third parties; NVIDIA's MIG guide shows only plain ids, and creating
        largest first is what makes that order work without starts); `-C` also creates
        the default compute instance in each GPU instance.
        """
        if not self.creation_order:
            return "nvidia-smi mig -dci && nvidia-smi mig -dgi"
        specs = ",".join(f"{i.profile_id}:{i.start}" for i in self.creation_order)
        return f"nvidia-smi mig -cgi {specs} -C"


class Unplaceable(BaseModel):
    """A layout that cannot be placed: the first rule it breaks, all of them, and what fits."""

    model_config = _FROZEN

    ok: Literal[False] = False
    gpu: str
    layout: str
    code: str = Field(description="memory | compute | max-instances | media-extensions | "
                      "gpu-instances | start-not-allowed | overlap | placement")
    reason: str
    reasons: tuple[str, ...]
    nearest: tuple[MigLayout, ...] = ()

    def __str__(self) -> str:
        return self.message()

    def message(self) -> str:
        near = "; ".join(str(n) for n in self.nearest)
        fix = f"; nearest valid layouts: {near}" if near else ""
        return f"MIG layout {self.layout} does not fit on {self.gpu}: {self.reason}{fix}"

    def to_error(self) -> MigLayoutError:
        return MigLayoutError(self.message())


class MigLayout(BaseModel):
    """A GPU model and the GPU instances wanted on it (counts, or with explicit start slots)."""

    model_config = _FROZEN

    gpu: str = Field(description="GPU model: catalog key, alias or product label")
    instances: tuple[MigInstance, ...] = ()

    @field_validator("gpu")
    @classmethod
    def _known_mig_gpu(cls, value: str) -> str:
        model = get_gpu(value)
        if model.mig is None:
            raise ValueError(
                f"{model.key} is not MIG-capable; MIG-capable models: "
                + ", ".join(g.key for g in _mig_models())
            )
        return model.key

    @model_validator(mode="after")
    def _known_profiles(self) -> MigLayout:
        _check_profiles(self.model, [i.profile for i in self.instances], ValueError)
        return self

    # -- construction ------------------------------------------------------------------

    @classmethod
    def from_counts(cls, gpu: str | GpuModel, counts: Mapping[str, int]) -> MigLayout:
        """{'1g.10gb': 2, '3g.40gb': 1} on a GPU model; counts must be >= 0 integers."""
        model = _resolve(gpu)
        _check_profiles(model, list(counts), InputError)
        instances = []
        for name, count in counts.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise InputError(
                    f"MIG layout count for {name!r} must be a whole number >= 0, got {count!r}"
                )
            instances.extend(MigInstance(profile=name) for _ in range(count))
        return cls(gpu=model.key, instances=tuple(instances))

    @classmethod
    def parse(cls, gpu: str | GpuModel, text: str) -> MigLayout:
        """'3g.20gb@4 + 2g.10gb + 1g.5gbx2' or '3g.20gb:1,1g.5gb:2' (':' or 'x' counts)."""
        model = _resolve(gpu)
        instances: list[MigInstance] = []
        if not text.strip():
            # An empty layout would place nothing, and its nvidia-smi command would only
            # destroy every instance on the GPU: never what someone typing a layout means.
            raise InputError(
                "MIG layout is empty; give at least one profile, e.g. '3g.20gb + 1g.5gb x2'"
            )
        text = re.sub(r"\s+[x×*]\s*(?=-?\d)", "x", text.strip())
        # '+' joins terms, except inside a name such as '1g.10gb+me'.
        for part in re.split(r"\s*,\s*|\s*\+(?![a-z])\s*|\s+", text):
            if not part:
                continue
            match = _TERM.match(part)
            if match is None:
                raise InputError(
                    f"cannot read MIG layout term {part!r}; write PROFILE, PROFILE@START, "
                    "PROFILExCOUNT or PROFILE:COUNT, joined by '+' or ',' (e.g. 3g.20gb@4+1g.5gbx2)"
                )
            count = int(match["count"] or 1)
            if count < 1:
                # Zero instances of a profile is no instance at all; a layout made only of
                # such terms would be empty (see above).
                raise InputError(
                    f"MIG layout term {part!r}: count must be 1 or more, got {count}; "
                    "to have none of a profile, leave it out"
                )
            start = int(match["start"]) if match["start"] is not None else None
            if start is not None and count != 1:
                raise InputError(f"MIG layout term {part!r}: a start slot fixes one instance")
            instances.extend(MigInstance(profile=match["profile"], start=start) for _ in range(count))
        _check_profiles(model, [i.profile for i in instances], InputError)
        return cls(gpu=model.key, instances=tuple(instances))

    # -- facts -------------------------------------------------------------------------

    @property
    def model(self) -> GpuModel:
        return get_gpu(self.gpu)

    @property
    def counts(self) -> dict[str, int]:
        """Instances per profile (canonical profile names), largest profile first."""
        model = self.model
        raw = _count(model.find_profile(i.profile).name for i in self.instances)  # type: ignore[union-attr]
        order = {p.name: n for n, p in enumerate(reversed(model.profiles))}
        return dict(sorted(raw.items(), key=lambda kv: order[kv[0]]))

    def __str__(self) -> str:
        parts = []
        fixed = [i for i in self.instances if i.start is not None]
        for name, count in self.counts.items():
            free = count - sum(1 for i in fixed if self.model.find_profile(i.profile).name == name)  # type: ignore[union-attr]
            parts.extend(
                f"{name}@{i.start}" for i in fixed if self.model.find_profile(i.profile).name == name  # type: ignore[union-attr]
            )
            if free:
                parts.append(name if free == 1 else f"{name} x{free}")
        return " + ".join(parts) or "(empty)"

    # -- placement ---------------------------------------------------------------------

    def place(self) -> Placement | Unplaceable:
        """An explicit placement, or why there is none and the nearest valid layouts."""
        model = self.model
        names = [model.find_profile(i.profile).name for i in self.instances]  # type: ignore[union-attr]
        fixed = tuple(sorted((n, i.start) for n, i in zip(names, self.instances) if i.start is not None))
        free = _count(n for n, i in zip(names, self.instances) if i.start is None)
        counts = _count(names)
        problems = _problems(model, counts, fixed)
        if not problems:
            starts = _place(model.key, _key(counts), fixed)
            if starts is not None:
                return _placement(model, starts)
            problems = [("placement", _placement_reason(model, counts, fixed, free))]
        return Unplaceable(
            gpu=model.key,
            layout=str(self),
            code=problems[0][0],
            reason=problems[0][1],
            reasons=tuple(text for _, text in problems),
            nearest=tuple(_nearest(model, counts, fixed)),
        )

    def placement(self) -> Placement:
        """The placement, or MigLayoutError saying why there is none and what fits instead."""
        result = self.place()
        if isinstance(result, Unplaceable):
            raise result.to_error()
        return result

    @property
    def is_valid(self) -> bool:
        return self.place().ok


_TERM = re.compile(
    r"^(?P<profile>\d+g\.\d+gb(?:[+.-][a-z.]+)?)"
    r"(?:@(?P<start>\d+)|(?:[x*:](?P<count>-?\d+)))?$"
)



# ----------------------------------------------------------------------------- building


def _placement(model: GpuModel, starts: Iterable[tuple[str, int]]) -> Placement:
    shapes = profile_shapes(model.key)
    placed = tuple(
        PlacedInstance(
            profile=n, profile_id=shapes[n].profile_id, start=s, size=shapes[n].size,
            compute_slices=shapes[n].compute,
        )
        for n, s in sorted(starts, key=lambda ns: (ns[1], ns[0]))
    )
    order = tuple(sorted(placed, key=lambda i: (-i.size, -i.compute_slices, i.start)))
    geo = model.mig
    assert geo is not None
    return Placement(
        gpu=model.key, instances=placed, creation_order=order,
        memory_slices=geo.memory_slices, compute_slices=geo.compute_slices,
    )



def maximal_layouts(gpu: GpuModel | str, profiles: Iterable[str] | None = None) -> list[Placement]:
    """Every placement of ``profiles`` that cannot take one more instance anywhere.

    Enumerated slot by slot: at the lowest undecided memory slot either an instance starts
    there or the slot stays empty. A100-40GB with 1g.5gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb
    gives the 19 layouts of the MIG guide's diagram; with 1g.10gb added, 78. Sorted by
    slot map, larger instances first.
    """
    model = _resolve(gpu)
    names = _profile_names(model, profiles)
    shapes = profile_shapes(model.key)
    geo = model.mig
    assert geo is not None
    slots = geo.memory_slices
    results: list[tuple[tuple[str, int], ...]] = []

    def fits(name: str, start: int, used: int, placed: list[tuple[str, int]]) -> bool:
        shape = shapes[name]
        if start not in shape.starts or start + shape.size > slots:
            return False
        if used & (((1 << shape.size) - 1) << start):
            return False
        counts = _count(n for n, _ in placed)
        counts[name] = counts.get(name, 0) + 1
        return not _problems(model, counts, ())

    # ``empty`` marks slots decided to stay free, apart from ``used`` (occupied) ones.
    def walk(slot: int, used: int, empty: int, placed: list[tuple[str, int]]) -> None:
        while slot < slots and (used | empty) >> slot & 1:
            slot += 1
        if slot >= slots:
            addable = any(fits(n, s, used, placed) for n in names for s in shapes[n].starts)
            if not addable and placed:
                results.append(tuple(placed))
            return
        for name in names:
            if fits(name, slot, used, placed):
                mask = ((1 << shapes[name].size) - 1) << slot
                walk(slot + 1, used | mask, empty, [*placed, (name, slot)])
        walk(slot + 1, used, empty | (1 << slot), placed)

    walk(0, 0, 0, [])
    placements = [_placement(model, layout) for layout in results]
    placements.sort(key=lambda p: (_slot_key(p), [i.profile for i in p.instances]))
    return placements


def _slot_key(placement: Placement) -> list[int]:
    cells = [0] * placement.memory_slices
    for inst in placement.instances:
        for slot in inst.slots:
            cells[slot] = inst.compute_slices
    return [-c for c in cells]


def _nearest(
    model: GpuModel, counts: Mapping[str, int], fixed: tuple[tuple[str, int], ...], limit: int = 3
) -> list[MigLayout]:
    """Valid layouts closest to an unplaceable one: the largest parts of it that fit.

    When the counts fit and only the fixed starts do not, the same instances placed freely.
    """
    shapes = profile_shapes(model.key)
    if fixed and not _problems(model, counts, ()) and _place(model.key, _key(counts)) is not None:
        return [MigLayout.from_counts(model, counts)]
    vectors = valid_vectors(model.key, tuple(p.name for p in model.profiles))
    all_names = tuple(p.name for p in model.profiles)
    want = tuple(counts.get(n, 0) for n in all_names)
    inside = [v for v in vectors if any(v) and all(a <= b for a, b in zip(v, want))]
    maximal = [
        v for v in inside
        if not any(w != v and all(a <= b for a, b in zip(v, w)) for w in inside)
    ]

    def rank(vec: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
        dropped = sum(want) - sum(vec)
        dropped_compute = sum((b - a) * shapes[n].compute for n, a, b in zip(all_names, vec, want))
        return (dropped, dropped_compute, tuple(-c for c in vec))

    maximal.sort(key=rank)
    return [
        MigLayout.from_counts(model, {n: c for n, c in zip(all_names, vec) if c})
        for vec in maximal[:limit]
    ]


Unplaceable.model_rebuild()
