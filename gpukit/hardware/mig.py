"""MIG layouts on one GPU model: placement of GPU instances on memory slots, and enumeration.

Validity is a placement question. Each profile may only start at certain memory slots and
occupies ``size`` consecutive ones; two instances may not share a slot; per-profile maxima
and the one-media-extension rule apply. A layout either has a :class:`Placement` (a start
for every instance, and a creation order that works on a real GPU) or is
:class:`Unplaceable` (the rule it breaks, and the nearest valid layouts).

>>> layout = MigLayout.from_counts("A100-40GB", {"3g.20gb": 1, "2g.10gb": 1, "1g.5gb": 2})
>>> str(layout.place())
'2g.10gb@0 + 1g.5gb@2 + 1g.5gb@3 + 3g.20gb@4'
>>> MigLayout.from_counts("A100-40GB", {"3g.20gb": 2, "1g.5gb": 1}).place().code
'memory'
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gpukit.errors import InputError, MigLayoutError, did_you_mean
from gpukit.hardware.catalog import GpuModel, MigProfile, get_gpu
from gpukit.quantity import format_gib, parse_quantity

__all__ = [
    "MigInstance",
    "MigLayout",
    "PlacedInstance",
    "Placement",
    "Unplaceable",
    "canonical_counts",
    "maximal_layouts",
    "maximal_multisets",
    "place_counts",
    "smallest_profile",
    "valid_multisets",
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


# ----------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class _Shape:
    name: str
    profile_id: int
    compute: int
    size: int
    starts: tuple[int, ...]
    max_instances: int
    media: bool


@functools.cache
def _mig_models() -> tuple[GpuModel, ...]:
    from gpukit.hardware.catalog import catalog

    return tuple(catalog().mig_capable)


@functools.cache
def _shapes(key: str) -> dict[str, _Shape]:
    model = get_gpu(key)
    return {
        p.name: _Shape(p.name, p.profile_id, p.compute_slices, p.memory_slices, p.starts,
                       p.max_instances, p.media_extensions)
        for p in model.profiles
    }


def _count(names: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in names:
        out[name] = out.get(name, 0) + 1
    return out


def _key(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((n, c) for n, c in counts.items() if c))


def _problems(model: GpuModel, counts: Mapping[str, int], fixed: tuple[tuple[str, int], ...]) -> list[tuple[str, str]]:
    """Every rule the layout breaks that can be told without searching, most telling first."""
    geo = model.mig
    assert geo is not None
    shapes = _shapes(model.key)
    out: list[tuple[str, str]] = []
    mem = sum(shapes[n].size * c for n, c in counts.items())
    comp = sum(shapes[n].compute * c for n, c in counts.items())
    if mem > geo.memory_slices:
        parts = ", ".join(
            f"{n} x{c} takes {shapes[n].size * c}" for n, c in _largest_first(shapes, counts)
        )
        out.append((
            "memory",
            f"needs {mem} memory slices but {model.key} has {geo.memory_slices} ({parts})",
        ))
    if comp > geo.compute_slices:
        parts = ", ".join(
            f"{n} x{c} takes {shapes[n].compute * c}" for n, c in _largest_first(shapes, counts)
        )
        out.append((
            "compute",
            f"needs {comp} compute slices but {model.key} has {geo.compute_slices} ({parts})",
        ))
    for name, count in _largest_first(shapes, counts):
        if count > shapes[name].max_instances:
            out.append((
                "max-instances",
                f"{name} x{count} exceeds its maximum of {shapes[name].max_instances} per GPU",
            ))
    media = sum(c for n, c in counts.items() if shapes[n].media)
    if media > geo.max_media_extension_instances:
        out.append((
            "media-extensions",
            (f"{media} media-extension (+me) instances, but a GPU has media engines for "
             f"{geo.max_media_extension_instances}"),
        ))
    total = sum(counts.values())
    if total > geo.max_gpu_instances:
        out.append((
            "gpu-instances",
            f"{total} instances exceed {model.key}'s maximum of {geo.max_gpu_instances} GPU instances",
        ))
    taken: dict[int, str] = {}
    for name, start in fixed:
        shape = shapes[name]
        if start not in shape.starts:
            out.append((
                "start-not-allowed",
                f"{name} cannot start at memory slot {start}; allowed starts: "
                + ", ".join(str(s) for s in shape.starts),
            ))
            continue
        for slot in range(start, start + shape.size):
            if slot in taken:
                out.append((
                    "overlap",
                    f"{name}@{start} and {taken[slot]} both need memory slot {slot}",
                ))
                break
        for slot in range(start, start + shape.size):
            taken.setdefault(slot, f"{name}@{start}")
    # A bad start or an overlap of fixed starts first; then sums, then per-profile limits.
    order = {"start-not-allowed": 0, "overlap": 1}
    out.sort(key=lambda p: order.get(p[0], 2))
    return out


def _largest_first(shapes: Mapping[str, _Shape], counts: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(
        ((n, c) for n, c in counts.items() if c),
        key=lambda nc: (-shapes[nc[0]].size, -shapes[nc[0]].compute, nc[0]),
    )


@functools.cache
def _place(
    key: str, counts: tuple[tuple[str, int], ...], fixed: tuple[tuple[str, int], ...] = ()
) -> tuple[tuple[str, int], ...] | None:
    """Start slots for every instance, or None: depth-first, largest first, lowest start first."""
    shapes = _shapes(key)
    used = 0
    placed: list[tuple[str, int]] = []
    left = dict(counts)
    for name, start in fixed:
        shape = shapes[name]
        mask = ((1 << shape.size) - 1) << start
        if start not in shape.starts or used & mask:
            return None
        used |= mask
        placed.append((name, start))
        left[name] -= 1
    todo = [n for n, c in _largest_first(shapes, left) for _ in range(c)]
    last = get_gpu(key).mig.memory_slices - 1  # type: ignore[union-attr]
    # Starts that cover the last slot first: few profiles can use it, so taking it with
    # the instances that can leaves the low slots to everything else.
    orders = {
        n: sorted(shapes[n].starts, key=lambda s, n=n: (s + shapes[n].size - 1 != last, s))
        for n in set(todo)
    }

    def search(i: int, used: int, min_start: int) -> list[tuple[str, int]] | None:
        if i == len(todo):
            return []
        shape = shapes[todo[i]]
        for start in orders[todo[i]]:
            if start < min_start:
                continue  # identical instances in increasing start order: no repeats
            mask = ((1 << shape.size) - 1) << start
            if used & mask:
                continue
            nxt = start if i + 1 < len(todo) and todo[i + 1] == todo[i] else 0
            rest = search(i + 1, used | mask, nxt)
            if rest is not None:
                return [(todo[i], start), *rest]
        return None

    found = search(0, used, 0)
    if found is None:
        return None
    return tuple(sorted(placed + found, key=lambda ns: ns[1]))


def canonical_counts(model: GpuModel | str, counts: Mapping[str, int]) -> dict[str, int]:
    """``counts`` with catalog profile names, largest profile first, zeros dropped.

    Same as ``MigLayout.from_counts(model, counts).counts``, without building the model
    (the packer calls it for every GPU). InputError for a profile the model lacks.
    """
    key = model.key if isinstance(model, GpuModel) else get_gpu(model).key
    return dict(_canonical(key, tuple(sorted((str(k), v) for k, v in counts.items() if v))))


@functools.cache
def _canonical(key: str, items: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    model = get_gpu(key)
    _check_profiles(model, [n for n, _ in items], InputError)
    raw: dict[str, int] = {}
    for name, count in items:
        canon = model.find_profile(name).name  # type: ignore[union-attr]
        raw[canon] = raw.get(canon, 0) + count
    order = {p.name: n for n, p in enumerate(reversed(model.profiles))}
    return tuple(sorted(raw.items(), key=lambda kv: order[kv[0]]))


def place_counts(model: GpuModel | str, counts: Mapping[str, int]) -> tuple[tuple[str, int], ...] | None:
    """(profile, start) for every instance of ``counts`` on ``model``, or None if none exists."""
    key = model.key if isinstance(model, GpuModel) else get_gpu(model).key
    if _problems(get_gpu(key), counts, ()):
        return None
    return _place(key, _key(counts))


def _placement(model: GpuModel, starts: Iterable[tuple[str, int]]) -> Placement:
    shapes = _shapes(model.key)
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


def _placement_reason(
    model: GpuModel, counts: Mapping[str, int], fixed: tuple[tuple[str, int], ...], free: Mapping[str, int]
) -> str:
    shapes = _shapes(model.key)
    if fixed:
        taken = set()
        for name, start in fixed:
            taken.update(range(start, start + shapes[name].size))
        open_slots = [s for s in range(model.mig.memory_slices) if s not in taken]  # type: ignore[union-attr]
        fixed_text = " + ".join(f"{n}@{s}" for n, s in fixed)
        wanted = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in _largest_first(shapes, free))
        return (
            f"with {fixed_text} fixed, free memory slots {open_slots or 'none'} cannot hold "
            f"{wanted}: each profile may only start at its allowed slots"
        )
    return (
        "the sums fit, but no arrangement puts every instance at an allowed start slot "
        "without overlap"
    )


# ----------------------------------------------------------------------------- enumeration


@functools.cache
def _all_valid(key: str) -> frozenset[tuple[int, ...]]:
    """Every placeable count vector over all of a model's profiles (catalog order)."""
    model = get_gpu(key)
    shapes = _shapes(key)
    geo = model.mig
    assert geo is not None
    names = tuple(p.name for p in model.profiles)
    out = set()
    for vec in itertools.product(*(range(shapes[n].max_instances + 1) for n in names)):
        if sum(shapes[n].size * c for n, c in zip(names, vec)) > geo.memory_slices:
            continue
        if sum(shapes[n].compute * c for n, c in zip(names, vec)) > geo.compute_slices:
            continue
        counts = {n: c for n, c in zip(names, vec) if c}
        if _problems(model, counts, ()):
            continue
        if _place(key, _key(counts)) is not None:
            out.add(vec)
    return frozenset(out)


@functools.cache
def _valid_vectors(key: str, names: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    """Every placeable count vector over ``names`` (the empty one included), sorted."""
    order = [p.name for p in get_gpu(key).profiles]
    where = [order.index(n) for n in names]
    others = [i for i in range(len(order)) if i not in where]
    return tuple(sorted(
        tuple(vec[i] for i in where) for vec in _all_valid(key) if not any(vec[i] for i in others)
    ))


@functools.cache
def _maximal_vectors(key: str, names: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    """The placeable count vectors over ``names`` that no single instance can extend."""
    vectors = set(_valid_vectors(key, names))
    out = []
    for vec in sorted(vectors, reverse=True):
        if any(vec) and not any(
            tuple(c + (j == i) for j, c in enumerate(vec)) in vectors for i in range(len(names))
        ):
            out.append(vec)
    return tuple(out)


def _profile_names(model: GpuModel, profiles: Iterable[str] | None) -> tuple[str, ...]:
    if profiles is None:
        return tuple(p.name for p in model.profiles if not p.media_extensions)
    names = []
    for name in profiles:
        _check_profiles(model, [name], InputError)
        names.append(model.find_profile(name).name)  # type: ignore[union-attr]
    return tuple(dict.fromkeys(names))


def _check_profiles(model: GpuModel, wanted: Iterable[str], error: type[Exception]) -> None:
    for name in wanted:
        if model.find_profile(name) is None:
            names = [p.name for p in model.profiles]
            raise error(
                f"MIG profile {name!r} does not exist on {model.key}"
                f"{did_you_mean(name, names)}; profiles on {model.key}: " + ", ".join(names)
            )


def _resolve(gpu: GpuModel | str) -> GpuModel:
    model = gpu if isinstance(gpu, GpuModel) else get_gpu(gpu)
    if model.mig is None:
        raise InputError(
            f"{model.key} is not MIG-capable; MIG-capable models: "
            + ", ".join(g.key for g in _mig_models())
        )
    return model


def valid_multisets(gpu: GpuModel | str, profiles: Iterable[str] | None = None) -> list[dict[str, int]]:
    """Every non-empty placeable mix of ``profiles`` (default: all but +me) on ``gpu``."""
    model = _resolve(gpu)
    names = _profile_names(model, profiles)
    return [
        {n: c for n, c in zip(names, vec) if c}
        for vec in _valid_vectors(model.key, names)
        if any(vec)
    ]


def maximal_multisets(gpu: GpuModel | str, profiles: Iterable[str] | None = None) -> list[dict[str, int]]:
    """Placeable mixes to which no further instance of ``profiles`` can be added.

    Default profiles: every profile but the media-extension (+me) ones, which can stand in
    for any one plain 1g instance. A100-40GB with the original five profiles gives 12,
    with 1g.10gb added 28.
    """
    model = _resolve(gpu)
    names = _profile_names(model, profiles)
    out = list(_maximal_vectors(model.key, names))
    shapes = _shapes(model.key)
    out.sort(key=lambda v: tuple(-c for c in _big_first(names, shapes, v)))
    return [{n: c for n, c in zip(names, vec) if c} for vec in out]


def _big_first(names: tuple[str, ...], shapes: Mapping[str, _Shape], vec: tuple[int, ...]) -> list[int]:
    order = sorted(range(len(names)), key=lambda i: (-shapes[names[i]].compute, -shapes[names[i]].size))
    return [vec[i] for i in order]


def maximal_layouts(gpu: GpuModel | str, profiles: Iterable[str] | None = None) -> list[Placement]:
    """Every placement of ``profiles`` that cannot take one more instance anywhere.

    Enumerated slot by slot: at the lowest undecided memory slot either an instance starts
    there or the slot stays empty. A100-40GB with 1g.5gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb
    gives the 19 layouts of the MIG guide's diagram; with 1g.10gb added, 78. Sorted by
    slot map, larger instances first.
    """
    model = _resolve(gpu)
    names = _profile_names(model, profiles)
    shapes = _shapes(model.key)
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
    shapes = _shapes(model.key)
    if fixed and not _problems(model, counts, ()) and _place(model.key, _key(counts)) is not None:
        return [MigLayout.from_counts(model, counts)]
    vectors = _valid_vectors(model.key, tuple(p.name for p in model.profiles))
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


# ----------------------------------------------------------------------------- sizing


def smallest_profile(
    gpu: GpuModel | str,
    memory: str | int,
    compute_slices: int = 1,
    *,
    media_extensions: bool = False,
) -> MigProfile:
    """The smallest profile on ``gpu`` holding ``memory`` (bytes or '20Gi') and ``compute_slices``.

    Same rule as :meth:`GpuModel.smallest_profile` (fewest memory slots, then compute);
    InputError naming the largest profile when none is big enough.
    """
    model = _resolve(gpu)
    try:
        need = int(parse_quantity(memory))
    except ValueError as exc:
        raise InputError(f"memory {memory!r}: {exc}") from None
    profile = model.smallest_profile(need, compute_slices, media_extensions=media_extensions)
    if profile is None:
        largest = max(model.profiles, key=lambda p: p.memory_bytes)
        raise InputError(
            f"no MIG profile on {model.key} holds {format_gib(need)} with {compute_slices} "
            f"compute slice(s); the largest is {largest.name} ({format_gib(largest.memory_bytes)}, "
            f"{largest.compute_slices} slices); use a larger GPU model or whole GPUs"
        )
    return profile


Unplaceable.model_rebuild()
