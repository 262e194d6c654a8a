"""Reading calibration results (a run's JSON, a Job's logs, a measurements table) into calibration data."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

from gpukit._loading import load_documents, read_text, validate_model
from gpukit.errors import ManifestError
from gpukit.hardware import get_gpu
from gpukit.sharing.calibration import (
    Calibration,
    MemoryFacts,
    Overheads,
    Row,
    Solo,
    WorkloadCalibration,
    dump_calibration,
)
from gpukit.sharing.fit import fit_calibration

__all__ = [
    "LOG_MARKER",
    "calibration_from_run",
    "import_calibration",
    "parse_calibration_source",
    "parse_measurements_markdown",
]

#: Prefix of the one log line that carries a run's result as JSON (what a Job prints).
LOG_MARKER = "GPUKIT-CALIBRATION-RESULT "

_MODES = {"time-slice": "time-slicing", "mps": "mps", "mps k8s-limits": "mps-limits"}


# -- a run's raw result -> calibration -----------------------------------------------------


def calibration_from_run(raw: dict[str, Any], *, gpu: str | None = None, name: str | None = None) -> Calibration:
    """Ratios against each workload's own solo run, with machine facts; not yet fitted."""
    machine = {str(k): str(v) for k, v in raw.get("machine", {}).items()}
    gpu_name = gpu or machine.get("gpu.name")
    if not gpu_name:
        raise ManifestError(
            "calibration result names no GPU (fake run, or nvidia-smi missing); give --gpu MODEL"
        )
    key = get_gpu(gpu_name).key
    workloads = []
    overhead_samples: list[float] = []
    for wname, entry in raw.get("workloads", {}).items():
        rows = entry.get("rows", [])
        solos = [r for r in rows if r["mode"] == "time-slicing" and r["replicas"] == 1]
        if not solos:
            raise ManifestError(f"workload {wname!r}: no solo (time-slicing, 1 replica) row to take ratios against")
        solo_raw = solos[0]
        samples = int(solo_raw.get("samples_per_request", 1))
        solo = Solo(
            throughput=solo_raw["aggregate"],
            samples_per_request=samples,
            p50_ms=solo_raw["p50_ms"],
            p99_ms=solo_raw["p99_ms"],
        )
        converted = []
        memory = []
        for r in rows:
            converted.append(
                Row(
                    mode=r["mode"],
                    replicas=r["replicas"],
                    aggregate=round(r["aggregate"] / solo.throughput, 4),
                    p50=round(r["p50_ms"] / solo.p50_ms, 4),
                    p99=round(r["p99_ms"] / solo.p99_ms, 4),
                    per_replica_min=round(r["per_replica_min"] / solo.throughput, 4) if r.get("per_replica_min") else None,
                    per_replica_max=round(r["per_replica_max"] / solo.throughput, 4) if r.get("per_replica_max") else None,
                    run=raw.get("measured"),
                )
            )
            used = r.get("device_used_per_replica_mib")
            if used and r.get("torch_reserved_mib") is not None and r["mode"] == "time-slicing":
                memory.append(
                    MemoryFacts(
                        framework_reserved_mib=r["torch_reserved_mib"],
                        device_used_per_replica_mib=used,
                        mode=r["mode"],
                        replicas=r["replicas"],
                    )
                )
                if r["replicas"] >= 2:
                    overhead_samples.append(used - r["torch_reserved_mib"])
        workloads.append(
            WorkloadCalibration(
                name=wname,
                description=entry.get("description", ""),
                solo=solo,
                rows=tuple(converted),
                memory=tuple(memory),
                noise=_solo_noise(converted),
            )
        )
    if not workloads:
        raise ManifestError("calibration result holds no workloads")
    overheads = Overheads()
    if overhead_samples:
        overheads = Overheads(gpu_memory_per_replica_mib=round(statistics.median(overhead_samples), 1))
    method = {str(k): str(v) for k, v in raw.get("method", {}).items()}
    if raw.get("fake"):
        method["fake"] = "true: synthetic replicas, not a measurement"
    return Calibration(
        name=name or f"{key.lower()}-measured-{raw.get('measured', 'unknown')}",
        gpu=key,
        measured=str(raw.get("measured", "unknown")),
        source=(
            "gpukit calibrate run (gpukit/calibrate): N closed-loop replica processes behind a "
            "barrier per mode; ratios against the same run's solo replica"
        ),
        command=raw.get("command"),
        machine=machine,
        method=method,
        overheads=overheads,
        workloads=tuple(workloads),
    )


def _solo_noise(rows: list[Row]) -> float:
    """Run-to-run noise seen in one run: one MPS client alone should match the plain solo
    process (the reference measured 0.97-1.02x for GPU-bound work), so their distance is a
    lower bound on how far any ratio of this workload can be trusted."""
    alone = [r.aggregate for r in rows if r.replicas == 1 and r.mode == "mps"]
    return round(max((abs(a - 1.0) for a in alone), default=0.0), 2)


# -- the measurements document's tables -> calibration -----------------------------------


def _slug(title: str) -> str:
    text = title.lower()
    text = re.sub(r"\(.*?\)", "", text)
    text = text.replace("cuda graph", "graph")
    text = re.sub(r"batch\s+(\d+)", r"b\1", text)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _number(text: str) -> float:
    return float(text.strip().split()[0])


def parse_measurements_markdown(text: str, *, gpu: str, name: str | None = None, source: str = "") -> Calibration:
    """The tables of a sharing-measurements document (gpu-sharing-measurements.md's layout).

    Sections '### <workload>' hold a 'Solo reference (median of ... [a, b] ...): X unit, p50 Y ms,
    p99 Z ms.' line and a table whose columns end with the four ratios and the run.
    """
    key = get_gpu(gpu).key
    measured = re.search(r"Measured (\d{4}-\d{2}-\d{2})", text)
    machine: dict[str, str] = {}
    workloads: list[WorkloadCalibration] = []
    section: str | None = None
    solo: Solo | None = None
    rows: list[Row] = []
    memory_rows: dict[str, tuple[float, float]] = {}
    in_machine = in_memory = False

    def close() -> None:
        if section is not None and solo is not None and rows:
            workloads.append(
                WorkloadCalibration(
                    name=_slug(section), description=section, solo=solo, rows=tuple(rows),
                    noise=round(solo.spread, 2),
                )
            )

    for line in text.splitlines():
        if line.startswith("#"):
            close()
            section, solo, rows = None, None, []
            in_machine = line.strip() == "## Machine"
            in_memory = line.strip().startswith("### GPU memory")
            heading = re.match(r"^###\s+(.+)$", line)
            if heading and not in_memory:
                section = heading.group(1).strip()
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if in_machine and len(cells) == 2 and cells[0] not in ("item", "---"):
            machine[re.sub(r"[^a-z0-9]+", "_", cells[0].lower()).strip("_")] = cells[1]
        if in_memory and len(cells) >= 5 and cells[0] not in ("workload",) and not cells[0].startswith("-"):
            memory_rows[_slug(cells[0].replace(" b", " batch "))] = (_number(cells[2]), _number(cells[3]))
        if section is None:
            continue
        got = re.match(
            r"^Solo reference \(median of [^\[]*\[([^\]]*)\][^)]*\):\s*([\d.]+)\s*(\S+),\s*p50\s*([\d.]+)\s*ms,\s*p99\s*([\d.]+)\s*ms",
            line,
        )
        if got:
            batch = re.search(r"batch\s+(\d+)", section)
            solo = Solo(
                throughput=float(got.group(2)),
                unit=got.group(3),
                samples_per_request=int(batch.group(1)) if batch else 1,
                p50_ms=float(got.group(4)),
                p99_ms=float(got.group(5)),
                runs=tuple(float(x) for x in got.group(1).split(",") if x.strip()),
            )
            continue
        if len(cells) >= 11 and cells[0].isdigit():
            mode = _MODES.get(cells[1].lower())
            if mode is None:
                raise ManifestError(f"measurements table row has unknown mode {cells[1]!r}: {line.strip()}")
            low_high = re.search(r"\(([\d.]+)-([\d.]+)\)", cells[3])
            solo_thr = solo.throughput if solo else None
            rows.append(
                Row(
                    mode=mode,  # type: ignore[arg-type]
                    replicas=int(cells[0]),
                    aggregate=float(cells[6]),
                    p50=float(cells[8]),
                    p99=float(cells[9]),
                    per_replica_min=round(float(low_high.group(1)) / solo_thr, 4) if low_high and solo_thr and "TFLOP" not in (solo.unit if solo else "") else None,
                    per_replica_max=round(float(low_high.group(2)) / solo_thr, 4) if low_high and solo_thr and "TFLOP" not in (solo.unit if solo else "") else None,
                    run=cells[10],
                )
            )
    close()
    if not workloads:
        raise ManifestError("no measurement tables found (sections '### <workload>' with a solo line and a table)")
    with_memory = []
    overheads = []
    for w in workloads:
        facts = memory_rows.get(w.name) or next(
            (v for k, v in sorted(memory_rows.items()) if w.name.startswith(k + "-")), None
        )
        if facts:
            reserved, used = facts
            overheads.append(used - reserved)
            w = w.model_copy(update={"memory": (MemoryFacts(framework_reserved_mib=reserved, device_used_per_replica_mib=used),)})
        with_memory.append(w)
    return Calibration(
        name=name or f"{key.lower()}-reference",
        gpu=key,
        measured=measured.group(1) if measured else "unknown",
        source=source or "a sharing-measurements document",
        machine=machine,
        method={"ratios": "against the median of the solo runs of each workload"},
        overheads=Overheads(gpu_memory_per_replica_mib=round(statistics.median(overheads), 1)) if overheads else Overheads(),
        workloads=tuple(with_memory),
    )


# -- any source -> calibration ---------------------------------------------------------------


def parse_calibration_source(label: str, text: str, *, gpu: str | None = None) -> Calibration:
    """A calibration from a calibration file, a run's JSON, Job logs, or a measurements document."""
    marked = [line for line in text.splitlines() if LOG_MARKER in line]
    if marked:
        payload = marked[-1].split(LOG_MARKER, 1)[1]
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{label}: the {LOG_MARKER.strip()} line is not valid JSON ({exc.msg}); was the log cut?") from None
        return _from_data(label, data, gpu)
    if re.search(r"^###\s+\S", text, re.MULTILINE) and "Solo reference" in text:
        if gpu is None:
            raise ManifestError(f"{label}: a measurements document does not name its GPU in a form gpukit reads; give --gpu MODEL")
        calibration = parse_measurements_markdown(
            text, gpu=gpu, source=f"{Path(label).name}: measured figures as published there (ratios against the median solo run)"
        )
        return calibration.model_copy(
            update={"command": f"gpukit calibrate import {Path(label).name} --gpu {gpu} --replace"}
        )
    docs = [doc for _, doc in load_documents(label, text)]
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ManifestError(
            f"{label}: not a calibration: expected a calibration file, a run's JSON, logs with a "
            f"'{LOG_MARKER.strip()}' line, or a measurements document"
        )
    return _from_data(label, docs[0], gpu)


def _from_data(label: str, data: dict[str, Any], gpu: str | None) -> Calibration:
    if data.get("kind") == "gpukit-calibration-run":
        return calibration_from_run(data, gpu=gpu)
    calibration = validate_model(Calibration, data, label, ManifestError)
    if gpu is not None and get_gpu(gpu).key != calibration.gpu:
        raise ManifestError(f"{label}: calibration was measured on {calibration.gpu}, not {get_gpu(gpu).key}; drop --gpu or use a matching file")
    return calibration


def merge(existing: Calibration, new: Calibration) -> Calibration:
    """New workloads replace same-named old ones; the rest are kept; the newer run's facts win."""
    names = {w.name for w in new.workloads}
    kept = tuple(w for w in existing.workloads if w.name not in names)
    return new.model_copy(update={"workloads": kept + new.workloads})


def import_calibration(
    source: str | Path, *, into: str | Path, gpu: str | None = None, replace: bool = False
) -> tuple[Calibration, Path]:
    """Fold a result into ``into``/<gpu-key>.yaml (merged with what is there), fitted. Returns both."""
    label, text = read_text(source)
    calibration = parse_calibration_source(label, text, gpu=gpu)
    folder = Path(into)
    if folder.exists() and not folder.is_dir():
        raise ManifestError(f"{folder}: --out must be a folder of <gpu>.yaml calibration files")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{calibration.gpu}.yaml"
    if target.is_file() and not replace:
        old_label, old_text = read_text(target)
        calibration = merge(parse_calibration_source(old_label, old_text), calibration)
    fitted = fit_calibration(calibration)
    target.write_text(dump_calibration(fitted), encoding="utf-8")
    return fitted, target
