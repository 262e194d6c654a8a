"""The GPU catalog: every GPU model gpukit knows, its memory and MIG profiles, read from data."""

from __future__ import annotations

import difflib
import functools
import math
import re
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from gpukit.errors import InputError, UnknownGpuError, did_you_mean
from gpukit.quantity import GIB, MIB

__all__ = [
    "PRECISIONS",
    "Catalog",
    "GpuModel",
    "GpuSpec",
    "MemorySource",
    "MigGeometry",
    "MigProfile",
    "UnmodelledMig",
    "catalog",
    "get_gpu",
    "parse_gpu",
    "parse_product",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

# Numeric formats a workload may compute in. fp32 runs on every GPU's CUDA cores; the
# others are Tensor Core formats a GPU model has natively or not (``GpuModel.precisions``).
PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4")
#: Weight-only quantisation formats and the Tensor Core precision their kernels compute in:
#: AWQ and GPTQ keep 4-bit weights and dequantise them to fp16 for the matrix products
#: (Lin et al., "AWQ", MLSys 2024; Frantar et al., "GPTQ", ICLR 2023; vLLM's and
#: ExLlama's kernels), so they need fp16 Tensor Cores, not int4 ones (Hopper has none).
WEIGHT_ONLY = {"awq": "fp16", "gptq": "fp16"}


class MemorySource(BaseModel):
    """Where one MIG profile's memory figure comes from.

    ``measured``: printed by ``command`` on a real GPU (``date`` where the capture gives
    one; ``where`` says whose capture). ``nvidia``: NVIDIA's MIG User Guide (``where``).
    ``derived``: computed from other figures; ``where`` is the formula with its numbers.
    """

    model_config = _FROZEN

    kind: Literal["measured", "nvidia", "derived"]
    where: str
    command: str | None = None
    date: str | None = None

    def __str__(self) -> str:
        if self.kind == "measured":
            when = f", {self.date}" if self.date else ""
            return f"measured with `{self.command}`{when}: {self.where}"
        return f"{self.kind}: {self.where}"


class MigProfile(BaseModel):
    """One GPU-instance profile of one GPU model (names only mean something per model)."""

    model_config = _FROZEN

    name: str
    shape: str
    profile_id: int
    compute_slices: int
    memory_slices: int
    starts: tuple[int, ...]
    max_instances: int
    memory_bytes: int
    memory_source: MemorySource
    media_extensions: bool = False

    @property
    def memory_estimated(self) -> bool:
        """True when the memory figure is derived by a formula rather than read off a GPU."""
        return self.memory_source.kind == "derived"

    @property
    def size(self) -> int:
        """Memory slots one instance occupies, starting at one of ``starts``."""
        return self.memory_slices

    @property
    def resource_name(self) -> str:
        """The extended resource the device plugin advertises under the mixed strategy."""
        return "nvidia.com/mig-" + self.name.replace("+", ".")

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / GIB


class MigGeometry(BaseModel):
    """How a MIG-capable GPU splits: its slot grid and its profiles, smallest first."""

    model_config = _FROZEN

    compute_slices: int
    memory_slices: int
    max_gpu_instances: int
    profiles: tuple[MigProfile, ...]
    max_media_extension_instances: int = 1
    balanced: tuple[tuple[str, int], ...] = Field(
        default=(), description="mig-parted's all-balanced layout on this model: (profile, count)"
    )
    placements: str = Field(
        default="observed", description="'observed' (an -lgipp capture exists) or 'inferred'"
    )


class GpuModel(BaseModel):
    """A GPU model: memory, capabilities, the GFD product labels it appears under, MIG."""

    model_config = _FROZEN

    key: str
    display_name: str
    aliases: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    memory_bytes: int
    compute_capability: str
    family: str
    price_per_hour: float | None = None
    pci_device_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    mig: MigGeometry | None = None
    memory_type: str | None = None
    capabilities: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    precisions_source: str | None = None
    notes: tuple[str, ...] = ()

    def supports(self, precision: str) -> bool:
        """Whether this model computes in ``precision`` natively (Tensor Cores; fp32 always).

        >>> get_gpu("T4").supports("bf16"), get_gpu("H100").supports("fp8")
        (False, True)
        """
        wanted = str(precision).strip().lower()
        wanted = WEIGHT_ONLY.get(wanted, wanted)
        if wanted not in PRECISIONS:
            raise InputError(
                f"precision {precision!r} is not one gpukit knows{did_you_mean(wanted, PRECISIONS)}; "
                f"use one of {', '.join((*PRECISIONS, *WEIGHT_ONLY))}"
            )
        return wanted == "fp32" or wanted in self.precisions

    @property
    def mig_capable(self) -> bool:
        return self.mig is not None

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / GIB

    @property
    def product(self) -> str:
        """The main `nvidia.com/gpu.product` label value for this model."""
        return self.products[0] if self.products else self.key

    @property
    def mps_max_clients(self) -> int:
        """MPS clients per GPU the device plugin allows: 48 from compute capability 7.5, else 16."""
        major, minor = (int(p) for p in self.compute_capability.split("."))
        return 48 if (major, minor) >= (7, 5) else 16

    @property
    def profiles(self) -> tuple[MigProfile, ...]:
        return self.mig.profiles if self.mig else ()

    def profile(self, name: str) -> MigProfile:
        """The MIG profile called ``name`` on this model; a clear error when there is none."""
        if self.mig is None:
            raise InputError(
                f"GPU model {self.key} is not MIG-capable, so it has no profile {name!r}; "
                "use a MIG-capable model (A100, A30, H100, H200, B200, ...) or whole GPUs"
            )
        wanted = name.removeprefix("nvidia.com/").removeprefix("mig-")
        for profile in self.mig.profiles:
            if profile.name == wanted or profile.resource_name.removeprefix("nvidia.com/mig-") == wanted:
                return profile
        names = [p.name for p in self.mig.profiles]
        raise InputError(
            f"MIG profile {name!r} does not exist on {self.key}"
            f"{did_you_mean(wanted, names)}; profiles on {self.key}: {', '.join(names)}"
        )

    def find_profile(self, name: str) -> MigProfile | None:
        """The profile called ``name`` (or its resource-name form, '+' as '.'), else None."""
        wanted = name.removeprefix("nvidia.com/").removeprefix("mig-")
        for profile in self.profiles:
            if profile.name == wanted or profile.resource_name.removeprefix("nvidia.com/mig-") == wanted:
                return profile
        return None

    @property
    def device_filter_ids(self) -> tuple[str, ...]:
        """PCI ids as mig-parted's device-filter writes them: device id then vendor, '0x20B010DE'."""
        return tuple(f"0x{pci[2:].upper()}10DE" for pci in self.pci_device_ids)

    def smallest_profile(
        self, memory_bytes: int, compute_slices: int = 1, *, media_extensions: bool = False
    ) -> MigProfile | None:
        """The smallest profile holding ``memory_bytes`` with at least ``compute_slices``.

        Smallest means fewest memory slots, then fewest compute slices: those are what a
        layout runs out of. Media-extension profiles are only chosen when asked for.
        """
        fitting = [
            p
            for p in self.profiles
            if p.memory_bytes >= memory_bytes
            and p.compute_slices >= compute_slices
            and p.media_extensions == media_extensions
        ]
        if not fitting:
            return None
        return min(fitting, key=lambda p: (p.memory_slices, p.compute_slices, p.memory_bytes))


class UnmodelledMig(BaseModel):
    """A MIG GPU (or a set of profile names) mig-parted knows but this catalog does not model."""

    model_config = _FROZEN

    name: str
    pci_device_ids: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    why: str


class GpuSpec(BaseModel):
    """A GPU model and a count, as written by users: 'A100:8', 'h100-80gb'."""

    model_config = _FROZEN

    model: GpuModel
    count: int = 1


def _norm(text: str) -> str:
    text = text.strip().upper().replace("_", "-").replace(" ", "-")
    text = re.sub(r"^(NVIDIA-|TESLA-)+", "", text)
    return re.sub(r"-+", "-", text)


class Catalog:
    """All GPU models, looked up by key, alias, or GFD product label."""

    def __init__(self, gpus: list[GpuModel], unmodelled: list[UnmodelledMig] | None = None) -> None:
        self.gpus: dict[str, GpuModel] = {g.key: g for g in gpus}
        self.unmodelled: tuple[UnmodelledMig, ...] = tuple(unmodelled or ())
        names: dict[str, GpuModel] = {}
        self._spellings: list[str] = []
        self._by_pci: dict[str, GpuModel] = {}
        for gpu in gpus:
            for name in (gpu.key, *gpu.aliases, *gpu.products):
                if _norm(name) not in names:
                    self._spellings.append(name)
                names.setdefault(_norm(name), gpu)
            for pci in gpu.pci_device_ids:
                self._by_pci.setdefault(_pci_key(pci), gpu)
        # Longest first, so that L40S wins over L40 and L40 over L4.
        self._names = dict(sorted(names.items(), key=lambda kv: -len(kv[0])))

    @classmethod
    def from_data(cls, raw: dict[str, Any]) -> Catalog:
        """A catalog from data shaped like ``data/gpus.yaml``; ValueError when a fact is
        inconsistent (a derived memory figure that does not match its formula, ...)."""
        by_key = {e["key"]: e for e in raw["gpus"]}
        sources = raw.get("memory_sources", {})
        return cls(
            [_build_gpu(e, raw.get("grids", {}), by_key, sources) for e in raw["gpus"]],
            [UnmodelledMig(**e) for e in raw.get("unmodelled_mig", [])],
        )

    def __iter__(self):
        return iter(self.gpus.values())

    def __len__(self) -> int:
        return len(self.gpus)

    def get(self, name: str) -> GpuModel:
        """The model a user, a fleet file or a node label names; UnknownGpuError otherwise."""
        wanted = _norm(name)
        wanted = re.sub(r"(-MIG-.*|-SHARED)$", "", wanted)
        if wanted in self._names:
            return self._names[wanted]
        for known, gpu in self._names.items():
            rest = wanted[len(known) :]
            if wanted.startswith(known) and not rest[:1].isalnum() and _same_memory(rest, gpu):
                # 'H100-NVLL' is a typo of 'H100-NVL', not an H100 with extra words.
                longer = [n for n in self._names if n.startswith(known + "-")]
                if not difflib.get_close_matches(wanted, longer, n=1, cutoff=0.85):
                    return gpu
                break
        raise UnknownGpuError(
            f"unknown GPU {name!r}{did_you_mean(name, self._spellings)}; "
            f"known models: {', '.join(sorted(self.gpus))}"
        )

    @property
    def mig_capable(self) -> list[GpuModel]:
        """MIG-capable models, in catalog order."""
        return [g for g in self.gpus.values() if g.mig is not None]

    def by_pci_id(self, pci_id: str) -> GpuModel | None:
        """The model with this PCI device id ('0x20B0', '20b0' or mig-parted's '0x20B010DE')."""
        return self._by_pci.get(_pci_key(pci_id))

    def parse_product(self, label: str) -> tuple[GpuModel, MigProfile | None]:
        """(model, MIG profile) behind a `nvidia.com/gpu.product` label.

        Under the single MIG strategy GFD writes '<product>-MIG-<profile>' (and '-SHARED'
        when time-sliced too): 'NVIDIA-H100-80GB-HBM3-MIG-1g.10gb' -> (H100-80GB, 1g.10gb).
        The profile is None for a whole-GPU label and for GFD's '-MIG-INVALID' marker.
        """
        text = label.strip()
        if text.upper().endswith("-SHARED"):
            text = text[: -len("-SHARED")]
        base, sep, profile_name = _split_mig_suffix(text)
        model = self.get(base)
        if not sep or profile_name.upper() == "INVALID":
            return model, None
        profile = model.find_profile(profile_name)
        if profile is None:
            names = [p.name for p in model.profiles]
            raise UnknownGpuError(
                f"product label {label!r}: {model.key} has no MIG profile {profile_name!r}"
                f"{did_you_mean(profile_name, names)}; profiles on {model.key}: "
                f"{', '.join(names) or 'none (not MIG-capable)'}"
            )
        return model, profile

    def parse(self, text: str) -> GpuSpec:
        """Parse 'MODEL' or 'MODEL:COUNT' ('A100:8', 'h100-80gb', 'NVIDIA-L4')."""
        name, sep, count_text = str(text).partition(":")
        count = 1
        if sep:
            if not count_text.isdigit() or int(count_text) < 1:
                raise InputError(
                    f"GPU count in {text!r} must be a positive integer, as in 'A100:8'"
                )
            count = int(count_text)
        return GpuSpec(model=self.get(name), count=count)

    def by_product(self, label: str) -> GpuModel | None:
        """The model behind a `nvidia.com/gpu.product` label, or None if unknown."""
        try:
            return self.get(label)
        except UnknownGpuError:
            return None


def _pci_key(pci_id: str) -> str:
    """'0x20B010DE', '0x20b0', '20B0' -> '20B0' (device id only; the vendor is always NVIDIA)."""
    text = str(pci_id).strip().upper().removeprefix("0X")
    return text[:4] if len(text) == 8 and text.endswith("10DE") else text


def _same_memory(suffix: str, gpu: GpuModel) -> bool:
    """False when a name's extra words state another memory size ('A100-40GB-X' is no A100-80GB)."""
    sizes = [int(n) for n in re.findall(r"(?<![0-9A-Z])(\d+)G", suffix)]
    gb = gpu.memory_bytes / 1e9
    return all(abs(size - gb) <= 0.15 * gb for size in sizes)


def _split_mig_suffix(label: str) -> tuple[str, str, str]:
    index = label.upper().rfind("-MIG-")
    if index < 0:
        return label, "", ""
    return label[:index], "-MIG-", label[index + len("-MIG-") :]


def _round_down(gib: float, step: float = 0.25) -> float:
    return math.floor(gib / step + 1e-9) * step


def _nominal_gb(name: str) -> int:
    match = re.search(r"\.(\d+)gb", name)
    if match is None:
        raise ValueError(f"profile name {name!r} states no size in GB")
    return int(match.group(1))


def _memory_source(
    key: str, own: dict[str, Any], raw: dict[str, dict[str, Any]], grids: dict[str, Any],
    sources: dict[str, Any],
) -> MemorySource:
    """The source of one profile's memory figure; a derived figure is checked against its formula."""
    name, gib = own["name"], float(own["memory_gib"])
    if ("source" in own) == ("derived" in own):
        raise ValueError(f"gpus.yaml: {key} {name}: give exactly one of 'source' or 'derived'")
    if "source" in own:
        if own["source"] not in sources:
            raise ValueError(
                f"gpus.yaml: {key} {name}: unknown memory source {own['source']!r}; "
                f"known: {', '.join(sorted(sources))}"
            )
        return MemorySource(**sources[own["source"]])
    where = f"gpus.yaml: {key} {name}"
    if not isinstance(own["derived"], dict) or len(own["derived"]) != 1:
        raise ValueError(f"{where}: 'derived' names one rule: scale, name_factor or same_as")
    ((rule, arg),) = own["derived"].items()
    shapes = grids[raw[key]["mig"]["grid"]]["shapes"]
    if rule == "scale":
        base_shape, base = _profile_entry(raw, key, arg, where)
        slices = shapes[_profile_entry(raw, key, name, where)[0]]["memory_slices"]
        base_slices = shapes[base_shape]["memory_slices"]
        value = float(base["memory_gib"]) * slices / base_slices
        formula = (
            f"{arg}'s {float(base['memory_gib']):.2f} GiB x {slices}/{base_slices} memory slices"
        )
    elif rule == "name_factor":
        nominal = _nominal_gb(name)
        value = _round_down(float(arg) * nominal * 1e9 / GIB)
        formula = f"{arg} x the {nominal} GB in the name, in GiB, rounded down to 0.25"
    elif rule == "same_as":
        if arg not in raw:
            raise ValueError(f"{where}: derived from unknown model {arg!r}")
        value = float(_profile_entry(raw, arg, name, where)[1]["memory_gib"])
        formula = f"{arg}'s {name} figure (same memory and profile table)"
    else:
        raise ValueError(f"{where}: unknown derivation {rule!r}; use scale, name_factor or same_as")
    if abs(value - gib) > 0.005:
        raise ValueError(
            f"{where}: memory_gib {gib} does not match its formula "
            f"({formula} = {value:.2f}); fix one of them"
        )
    return MemorySource(kind="derived", where=f"{formula} = {value:.2f} GiB")


def _profile_entry(
    raw: dict[str, dict[str, Any]], key: str, name: str, where: str
) -> tuple[str, dict[str, Any]]:
    """(shape, raw entry) of the profile called ``name`` on model ``key``."""
    for shape, entry in raw[key]["mig"]["profiles"].items():
        if entry["name"] == name:
            return shape, entry
    raise ValueError(f"{where}: {key} has no profile {name!r} to derive from")


def _build_gpu(
    entry: dict[str, Any], grids: dict[str, Any],
    raw: dict[str, dict[str, Any]] | None = None, sources: dict[str, Any] | None = None,
) -> GpuModel:
    data = dict(entry)
    data["memory_bytes"] = int(data.pop("memory_mib")) * MIB
    mig = data.pop("mig", None)
    if mig is not None:
        grid = grids[mig["grid"]]
        profiles = []
        names_by_shape: dict[str, str] = {}
        for shape, own in mig["profiles"].items():
            facts = dict(grid["shapes"][shape])
            facts.update(
                {k: v for k, v in own.items() if k not in ("name", "memory_gib", "source", "derived")}
            )
            names_by_shape[shape] = own["name"]
            profiles.append(
                MigProfile(
                    name=own["name"],
                    shape=shape,
                    memory_bytes=int(own["memory_gib"] * GIB),
                    memory_source=_memory_source(
                        entry["key"], own, raw or {entry["key"]: entry}, grids, sources or {}
                    ),
                    **facts,
                )
            )
        profiles.sort(key=lambda p: (p.memory_slices, p.compute_slices, p.media_extensions))
        data["mig"] = MigGeometry(
            compute_slices=grid["compute_slices"],
            memory_slices=grid["memory_slices"],
            max_gpu_instances=grid["max_gpu_instances"],
            max_media_extension_instances=grid.get("max_media_extension_instances", 1),
            balanced=tuple(
                (names_by_shape[shape], count)
                for shape, count in grid.get("balanced", {}).items()
                if shape in names_by_shape
            ),
            placements=mig.get("placements", "observed"),
            profiles=tuple(profiles),
        )
    return GpuModel(**data)


@functools.cache
def catalog() -> Catalog:
    """The shipped catalog (read once)."""
    text = resources.files("gpukit.hardware").joinpath("data/gpus.yaml").read_text()
    return Catalog.from_data(yaml.safe_load(text))


@functools.lru_cache(maxsize=1024)
def get_gpu(name: str) -> GpuModel:
    """Look up a GPU model by key, alias or product label (cached: renderers ask per pod)."""
    return catalog().get(name)


def parse_gpu(text: str) -> GpuSpec:
    """Parse a user's GPU string: 'H100', 'A100:8', 'NVIDIA-A100-SXM4-40GB'."""
    return catalog().parse(text)


def parse_product(label: str) -> tuple[GpuModel, MigProfile | None]:
    """(model, MIG profile or None) behind a GFD product label, MIG-suffixed or not."""
    return catalog().parse_product(label)
