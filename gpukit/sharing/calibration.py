"""Calibration data: measured sharing figures per GPU model, as files, and how they are found."""

from __future__ import annotations

import functools
import statistics
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gpukit._loading import load_documents, read_text, validate_model
from gpukit.errors import InputError, ManifestError, did_you_mean

__all__ = [
    "MEASURED_MODES",
    "Calibration",
    "KindDefault",
    "ModelConstants",
    "MpsConstants",
    "MpsLimitsConstants",
    "Overheads",
    "Row",
    "Solo",
    "TimeSlicingConstants",
    "WorkloadCalibration",
    "calibration_files",
    "dump_calibration",
    "kind_defaults",
    "llm_defaults",
    "load_calibration",
    "read_calibration",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

MeasuredMode = Literal["time-slicing", "mps", "mps-limits"]
#: Modes a calibration run measures (dedicated is the solo reference; MIG cannot be measured
#: without changing GPU settings, which calibration never does).
MEASURED_MODES: tuple[str, ...] = MeasuredMode.__args__  # type: ignore[attr-defined]

SCHEMA_VERSION = 1


class Solo(BaseModel):
    """One replica alone on the GPU: the reference every ratio is taken against."""

    model_config = _FROZEN

    throughput: float = Field(gt=0, description="samples (or requests) per second")
    unit: str = "samples/s"
    samples_per_request: int = Field(default=1, ge=1)
    p50_ms: float = Field(gt=0)
    p99_ms: float = Field(gt=0)
    runs: tuple[float, ...] = Field(
        default=(), description="solo throughputs of repeated runs; `throughput` is their median"
    )

    @property
    def mean_ms(self) -> float:
        return 1000.0 * self.samples_per_request / self.throughput

    @property
    def mean_over_p50(self) -> float:
        """Skew of the solo latency distribution (1 for regular, CUDA-graph-like work)."""
        return self.mean_ms / self.p50_ms

    @property
    def tail(self) -> float:
        """p99 over p50 alone: how much jitter the work has before any sharing."""
        return self.p99_ms / self.p50_ms

    @property
    def spread(self) -> float:
        """Largest relative distance of a repeated solo run from the reference (0 when one run)."""
        if not self.runs:
            return 0.0
        return max(abs(r / self.throughput - 1) for r in self.runs)


class Row(BaseModel):
    """One measured configuration, as ratios against the workload's solo reference."""

    model_config = _FROZEN

    mode: MeasuredMode
    replicas: int = Field(ge=1)
    aggregate: float = Field(gt=0, description="all replicas together / solo throughput")
    p50: float = Field(gt=0, description="pooled p50 latency / solo p50")
    p99: float = Field(gt=0, description="pooled p99 latency / solo p99")
    per_replica_min: float | None = Field(default=None, gt=0)
    per_replica_max: float | None = Field(default=None, gt=0)
    run: str | None = Field(default=None, description="which run or machine measured it")

    @property
    def per_replica(self) -> float:
        return self.aggregate / self.replicas


class MemoryFacts(BaseModel):
    """GPU memory one replica used beyond what its framework allocated."""

    model_config = _FROZEN

    framework_reserved_mib: float = Field(ge=0)
    device_used_per_replica_mib: float = Field(ge=0)
    mode: MeasuredMode = "time-slicing"
    replicas: int = Field(default=1, ge=1)

    @property
    def overhead_mib(self) -> float:
        return self.device_used_per_replica_mib - self.framework_reserved_mib


class WorkloadCalibration(BaseModel):
    """A measured workload: what it is, its fitted character, and its rows."""

    model_config = _FROZEN

    name: str
    description: str = ""
    gpu_boundness: float | None = Field(
        default=None, gt=0, le=1, description="fitted: share of a solo request the GPU is busy"
    )
    gpu_fill: float | None = Field(
        default=None, gt=0, le=1, description="fitted: share of the GPU its kernels occupy"
    )
    noise: float = Field(
        default=0.0, ge=0, description="relative run-to-run spread of its figures, as documented"
    )
    solo: Solo
    rows: tuple[Row, ...] = ()
    memory: tuple[MemoryFacts, ...] = ()

    @property
    def fitted(self) -> bool:
        return self.gpu_boundness is not None and self.gpu_fill is not None


class TimeSlicingConstants(BaseModel):
    """Plain processes sharing one GPU by time: one context runs at a time."""

    model_config = _FROZEN

    efficiency: float = Field(gt=0, le=1.5, description="GPU work done per second vs one process")
    fill_penalty: float = Field(
        ge=0, le=1, description="extra switching loss for work that fills little of the GPU"
    )
    knee: float = Field(gt=0, description="sharpness of the bend from N x solo to the GPU bound")
    tail: float = Field(gt=0, description="p99 / p50 once replicas queue for the GPU")


class MpsConstants(BaseModel):
    """MPS without per-client limits: clients' kernels run concurrently on all SMs."""

    model_config = _FROZEN

    efficiency: float = Field(gt=0, le=1.5)
    knee: float = Field(gt=0)
    tail: float = Field(gt=0)


class MpsLimitsConstants(BaseModel):
    """MPS with the device plugin's limits: each client gets 100 // N percent of the SMs."""

    model_config = _FROZEN

    efficiency: float = Field(gt=0, le=1.5)
    sm_exponent: float = Field(
        gt=0, description="speed at SM share s is s ** (gpu_fill ** sm_exponent)"
    )
    tail: float = Field(gt=0)


class ModelConstants(BaseModel):
    """The GPU's fitted constants of the sharing model (gpukit/sharing/model.py)."""

    model_config = _FROZEN

    time_slicing: TimeSlicingConstants
    mps: MpsConstants
    mps_limits: MpsLimitsConstants


class Overheads(BaseModel):
    """What each replica costs beyond its model, whatever it computes."""

    model_config = _FROZEN

    cpu_cores_per_replica: float = Field(
        default=1.0, ge=0, description="PyTorch spin-waits a full core while waiting on the GPU"
    )
    gpu_memory_per_replica_mib: float = Field(
        default=693, ge=0, description="CUDA context and library workspaces, full SM share"
    )
    gpu_memory_per_replica_min_mib: float = Field(
        default=143, ge=0, description="the same under MPS limits at the smallest SM share measured"
    )
    min_sm_share: float = Field(default=0.06, gt=0, le=1)
    mps_server_mib: float = Field(default=75, ge=0)


class KindDefault(BaseModel):
    """How a workload kind behaves unless the workload says otherwise."""

    model_config = _FROZEN

    gpu_boundness: float = Field(gt=0, le=1)
    gpu_fill: float = Field(gt=0, le=1)
    like: str = Field(description="the measured workload it resembles (for latency shape)")
    why: str
    bound: Literal["compute", "memory-bandwidth"] = Field(
        default="compute",
        description="what limits it on a MIG slice: compute (the small-kernel law) or memory "
        "bandwidth (the slice's memory share)",
    )


class Calibration(BaseModel):
    """One GPU model's sharing calibration: measured rows, machine facts, fitted constants."""

    model_config = _FROZEN

    schema_version: Literal[1] = 1
    name: str
    gpu: str = Field(description="GPU catalog key the figures were measured on")
    measured: str = Field(description="date of the measurement, YYYY-MM-DD")
    source: str = Field(description="who measured it and how; where the raw figures are")
    command: str | None = None
    machine: dict[str, str] = Field(default_factory=dict)
    method: dict[str, str] = Field(default_factory=dict)
    model: ModelConstants | None = None
    overheads: Overheads = Overheads()
    workloads: tuple[WorkloadCalibration, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_workloads(self) -> Calibration:
        names = [w.name for w in self.workloads]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"workload names must be unique; repeated: {', '.join(repeated)}")
        return self

    @property
    def fitted(self) -> bool:
        return self.model is not None and all(w.fitted for w in self.workloads)

    def workload(self, name: str) -> WorkloadCalibration:
        for w in self.workloads:
            if w.name == name:
                return w
        names = [w.name for w in self.workloads]
        raise InputError(
            f"calibration {self.name!r} has no workload {name!r}{did_you_mean(name, names)}; "
            f"it has: {', '.join(names)}"
        )

    @property
    def label(self) -> str:
        return f"{self.name} ({self.gpu}, measured {self.measured})"


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


# -- files ---------------------------------------------------------------------------------

_DATA = "data"


def _package_files() -> dict[str, str]:
    """Shipped calibration file names -> text (the GPU's default is named <gpu-key>.yaml)."""
    root = resources.files("gpukit.sharing").joinpath(_DATA)
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(root.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml") and entry.name != "kinds.yaml"
    }


def read_calibration(source: str | Path) -> Calibration:
    """A calibration from a YAML or JSON file ('-' is standard input)."""
    label, text = read_text(source)
    return _parse(label, text)


def _parse(label: str, text: str) -> Calibration:
    docs = [doc for _, doc in load_documents(label, text)]
    if len(docs) != 1:
        raise ManifestError(f"{label}: a calibration file holds one document, found {len(docs)}")
    return validate_model(Calibration, docs[0], label, ManifestError)


@functools.cache
def _shipped(name: str) -> Calibration:
    return _parse(name, _package_files()[name])


def calibration_files() -> list[str]:
    """Names of the calibration files shipped with gpukit."""
    return sorted(_package_files())


def load_calibration(
    gpu: str | None = None, *, search: Iterable[str | Path] = (), fallback: bool = True
) -> Calibration:
    """The calibration for a GPU model: from ``search`` folders first, then the shipped data.

    A folder holds files named ``<gpu-key>.yaml`` (what ``gpukit calibrate import`` writes).
    With no GPU, or none calibrated and ``fallback`` set, the H200 reference is returned:
    callers must then say that the figures were measured on another GPU
    (:func:`gpukit.sharing.predict` does).
    """
    from gpukit.hardware import get_gpu

    key = get_gpu(gpu).key if gpu else DEFAULT_GPU
    for folder in search:
        path = Path(folder) / f"{key}.yaml"
        if path.is_file():
            return read_calibration(path)
    shipped = _package_files()
    if f"{key}.yaml" in shipped:
        return _shipped(f"{key}.yaml")
    if not fallback:
        raise InputError(
            f"no sharing calibration for GPU {key}; run 'gpukit calibrate run' on one and "
            f"'gpukit calibrate import' its result, or use the {DEFAULT_GPU} reference"
        )
    return _shipped(f"{DEFAULT_GPU}.yaml")


#: The GPU whose calibration ships as the default (the measured reference).
DEFAULT_GPU = "H200-141GB"


@functools.cache
def _kinds_file() -> dict[str, Any]:
    text = resources.files("gpukit.sharing").joinpath(_DATA, "kinds.yaml").read_text()
    return yaml.safe_load(text)  # type: ignore[no-any-return]


@functools.cache
def kind_defaults() -> dict[str, KindDefault]:
    """Workload kind -> default character (gpu_boundness, gpu_fill), from data/kinds.yaml."""
    return {
        kind: validate_model(KindDefault, entry, f"kinds.yaml: {kind}", ManifestError)
        for kind, entry in _kinds_file()["kinds"].items()
    }


@functools.cache
def llm_defaults() -> dict[str, KindDefault]:
    """Workload kind -> default character when the workload serves an LLM (kinds.yaml 'llm')."""
    return {
        kind: validate_model(KindDefault, entry, f"kinds.yaml: llm.{kind}", ManifestError)
        for kind, entry in _kinds_file().get("llm", {}).items()
    }


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line: one measured row per line keeps files readable."""


class _FlowList(list):  # type: ignore[type-arg]
    pass


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def dump_calibration(calibration: Calibration) -> str:
    """Deterministic YAML of a calibration (field order as declared, no None fields)."""
    data = calibration.model_dump(mode="json", exclude_none=True)
    for workload in data["workloads"]:
        workload["rows"] = [_Flow(row) for row in workload.get("rows", [])]
        workload["memory"] = [_Flow(m) for m in workload.get("memory", [])]
        if "runs" in workload["solo"]:
            workload["solo"]["runs"] = _FlowList(workload["solo"]["runs"])
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=200)
