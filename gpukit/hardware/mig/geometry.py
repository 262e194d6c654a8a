"""MIG slot geometry of one GPU model: profile shapes, rule checks, placement search, enumeration.

Pure functions over the catalog's facts (no pydantic models): which count vectors fit a
GPU, where each instance starts, and why a layout breaks a rule. :mod:`.layout` builds the
user-facing models on top; the fleet packer (:mod:`gpukit.hardware.packing`) uses the
vectors directly.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gpukit.errors import InputError, did_you_mean
from gpukit.hardware.catalog import GpuModel, MigProfile, get_gpu
from gpukit.quantity import format_gib, parse_quantity

__all__ = [
    "Shape",
    "canonical_counts",
    "maximal_multisets",
    "maximal_vectors",
    "place_counts",
    "profile_shapes",
    "smallest_profile",
    "valid_multisets",
    "valid_vectors",
]


@dataclass(frozen=True)
class Shape:
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
def profile_shapes(key: str) -> dict[str, Shape]:
    model = get_gpu(key)
    return {
        p.name: Shape(p.name, p.profile_id, p.compute_slices, p.memory_slices, p.starts,
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
    shapes = profile_shapes(model.key)
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


def _largest_first(shapes: Mapping[str, Shape], counts: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(
        ((n, c) for n, c in counts.items() if c),
        key=lambda nc: (-shapes[nc[0]].size, -shapes[nc[0]].compute, nc[0]),
    )


@functools.cache
def _place(
    key: str, counts: tuple[tuple[str, int], ...], fixed: tuple[tuple[str, int], ...] = ()
) -> tuple[tuple[str, int], ...] | None:
    """Start slots for every instance, or None: depth-first, largest first, lowest start first."""
    shapes = profile_shapes(key)
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


def _placement_reason(
    model: GpuModel, counts: Mapping[str, int], fixed: tuple[tuple[str, int], ...], free: Mapping[str, int]
) -> str:
    shapes = profile_shapes(model.key)
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
    shapes = profile_shapes(key)
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
def valid_vectors(key: str, names: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    """Every placeable count vector over ``names`` (the empty one included), sorted."""
    order = [p.name for p in get_gpu(key).profiles]
    where = [order.index(n) for n in names]
    others = [i for i in range(len(order)) if i not in where]
    return tuple(sorted(
        tuple(vec[i] for i in where) for vec in _all_valid(key) if not any(vec[i] for i in others)
    ))


@functools.cache
def maximal_vectors(key: str, names: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    """The placeable count vectors over ``names`` that no single instance can extend."""
    vectors = set(valid_vectors(key, names))
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
        for vec in valid_vectors(model.key, names)
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
    out = list(maximal_vectors(model.key, names))
    shapes = profile_shapes(model.key)
    out.sort(key=lambda v: tuple(-c for c in _big_first(names, shapes, v)))
    return [{n: c for n, c in zip(names, vec) if c} for vec in out]


def _big_first(names: tuple[str, ...], shapes: Mapping[str, Shape], vec: tuple[int, ...]) -> list[int]:
    order = sorted(range(len(names)), key=lambda i: (-shapes[names[i]].compute, -shapes[names[i]].size))
    return [vec[i] for i in order]


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


