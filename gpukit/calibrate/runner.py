"""The calibration run: N replica processes per mode, started together, timed, summarised into rows."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpukit.calibrate.mps import MpsDaemon, fake_control_command, find_mps_control
from gpukit.errors import GpukitError, InputError

__all__ = [
    "DEFAULT_REPLICAS",
    "DEFAULT_WORKLOADS",
    "WORKLOADS",
    "CalibrationRunError",
    "RunSpec",
    "plan_runs",
    "run_calibration",
]

WORKER = Path(__file__).with_name("_worker.py")

#: Synthetic workloads the worker knows, and what each stands for.
WORKLOADS: dict[str, str] = {
    "w1-eager-b1": "BERT-base-sized encoder, bf16, 128 tokens, batch 1, eager PyTorch (CPU-launch-bound)",
    "w1-eager-b8": "the same encoder at batch 8, eager",
    "w1-graph-b1": "the same encoder at batch 1 as one CUDA graph (GPU-side small kernels)",
    "w1-graph-b8": "the same encoder at batch 8 as one CUDA graph",
    "w2-matmul": "8 chained 4096^3 bf16 matrix products per request (saturates the GPU)",
}
DEFAULT_WORKLOADS = ("w1-eager-b1", "w1-graph-b1", "w2-matmul")
DEFAULT_REPLICAS = (1, 2, 4, 8, 16)


class CalibrationRunError(GpukitError):
    """A calibration run could not complete (a replica failed, or the machine lacks a part)."""

    exit_code = 1


@dataclass(frozen=True)
class RunSpec:
    mode: str  # time-slicing | mps | mps-limits
    replicas: int


def plan_runs(replicas: Sequence[int], modes: Sequence[str]) -> list[RunSpec]:
    """Every (mode, N) to measure; MPS limits at N = 1 equal plain MPS, so they are skipped."""
    runs = []
    for mode in modes:
        for n in sorted(set(replicas)):
            if mode == "mps-limits" and n == 1:
                continue
            runs.append(RunSpec(mode, n))
    return runs


@dataclass
class _Replica:
    proc: subprocess.Popen[str]
    events: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)


def _reader(replica: _Replica) -> None:
    assert replica.proc.stdout is not None
    for line in replica.proc.stdout:
        line = line.strip()
        if not line:
            continue
        try:
            replica.events.put(json.loads(line))
        except json.JSONDecodeError:
            replica.stderr.append(line)  # stray prints from libraries
    replica.events.put(None)


def _drain(replica: _Replica) -> None:
    assert replica.proc.stderr is not None
    for line in replica.proc.stderr:
        replica.stderr.append(line.rstrip())
        del replica.stderr[:-40]


def _expect(replica: _Replica, event: str, timeout: float) -> dict[str, Any]:
    while True:
        try:
            got = replica.events.get(timeout=timeout)
        except queue.Empty:
            raise CalibrationRunError(
                f"replica pid {replica.proc.pid} sent no '{event}' within {timeout:.0f} s; "
                f"its last output: {' | '.join(replica.stderr[-5:]) or 'none'}"
            ) from None
        if got is None:
            replica.proc.wait(timeout=10)
            raise CalibrationRunError(
                f"replica pid {replica.proc.pid} exited ({replica.proc.returncode}) before '{event}'; "
                f"its last output: {' | '.join(replica.stderr[-5:]) or 'none'}"
            )
        if got.get("event") == "error":
            raise CalibrationRunError(f"replica pid {replica.proc.pid} failed: {got.get('message')}")
        if got.get("event") == event:
            return got


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-q * len(sorted_values) // 100)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _query_gpu(fields: str) -> list[str] | None:
    """Read-only nvidia-smi query of the first GPU, or None without one."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, f"--query-gpu={fields}", "--format=csv,noheader,nounits", "-i", "0"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [part.strip() for part in out.strip().splitlines()[0].split(",")] if out.strip() else None


def _memory_used_mib() -> float | None:
    got = _query_gpu("memory.used")
    try:
        return float(got[0]) if got else None
    except ValueError:
        return None


def machine_facts(fake: bool) -> dict[str, str]:
    """What the figures were measured on; GPU state is read, never set."""
    facts = {
        "host": f"{platform.system()} {platform.release()}",
        "cpu_cores": str(os.cpu_count() or 0),
        "python": platform.python_version(),
    }
    if fake:
        facts["gpu"] = "none (--fake: synthetic replicas, figures are not measurements)"
        return facts
    fields = "name,memory.total,driver_version,compute_mode,mig.mode.current,persistence_mode,power.limit,clocks.max.sm"
    got = _query_gpu(fields)
    if got:
        names = fields.split(",")
        facts.update({f"gpu.{k}": v for k, v in zip(names, got, strict=False)})
    return facts


def _start_replicas(
    n: int, env: dict[str, str], workloads: Sequence[str], window: float, warmup: float, fake: bool,
    fake_profile: dict[str, Any] | None,
) -> list[_Replica]:
    args = [sys.executable, str(WORKER), "--workloads", ",".join(workloads), "--window", str(window), "--warmup", str(warmup)]
    if fake:
        args += ["--fake", "--fake-profile", json.dumps(fake_profile or {})]
    replicas = []
    for _ in range(n):
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, bufsize=1,
        )
        replica = _Replica(proc)
        threading.Thread(target=_reader, args=(replica,), daemon=True).start()
        threading.Thread(target=_drain, args=(replica,), daemon=True).start()
        replicas.append(replica)
    return replicas


def _stop(replicas: list[_Replica]) -> None:
    for r in replicas:
        if r.proc.poll() is None:
            r.proc.kill()
    for r in replicas:
        try:
            r.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (r.proc.stdin, r.proc.stdout, r.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def _one_run(
    spec: RunSpec, *, workloads: Sequence[str], window: float, warmup: float, fake: bool,
    base_env: dict[str, str], gpu_memory_mib: float | None, fake_profile: dict[str, Any] | None,
    start_timeout: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure one (mode, N): every workload in turn, the N replicas meeting at a barrier."""
    env = dict(base_env)
    if spec.mode == "mps-limits":
        # What the device plugin's sharing.mps sets for `replicas: N` (per client, by env here).
        env["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = str(100 // spec.replicas)
        if gpu_memory_mib:
            env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] = f"0={int(gpu_memory_mib // spec.replicas)}M"
    before = None if fake else _memory_used_mib()
    replicas = _start_replicas(spec.replicas, env, workloads, window, warmup, fake, fake_profile)
    results: dict[str, Any] = {}
    hello: dict[str, Any] = {}
    try:
        for r in replicas:
            hello = _expect(r, "hello", start_timeout)
        for name in workloads:
            for r in replicas:
                _expect(r, "ready", start_timeout)
            t0 = time.monotonic() + 0.2
            for r in replicas:
                assert r.proc.stdin is not None
                r.proc.stdin.write(f"go {t0!r}\n")
                r.proc.stdin.flush()
            during = None
            if not fake:
                time.sleep(max(0.0, t0 + window / 2 - time.monotonic()))
                during = _memory_used_mib()
            got = [_expect(r, "result", window + start_timeout) for r in replicas]
            results[name] = _summarise(spec, got, window, before, during)
        for r in replicas:
            _expect(r, "done", start_timeout)
    finally:
        _stop(replicas)
    return results, hello


def _summarise(
    spec: RunSpec, got: list[dict[str, Any]], window: float, before: float | None, during: float | None
) -> dict[str, Any]:
    samples = int(got[0]["samples_per_request"])
    per = [len(g["latencies_ms"]) * samples / window for g in got]
    pooled = sorted(x for g in got for x in g["latencies_ms"])
    summary: dict[str, Any] = {
        "mode": spec.mode,
        "replicas": spec.replicas,
        "aggregate": round(sum(per), 2),
        "per_replica_min": round(min(per), 2),
        "per_replica_max": round(max(per), 2),
        "p50_ms": round(_percentile(pooled, 50), 4),
        "p99_ms": round(_percentile(pooled, 99), 4),
        "requests": len(pooled),
        "samples_per_request": samples,
        "start_skew_ms_max": max(abs(g["start_skew_ms"]) for g in got),
        "torch_reserved_mib": max(g["torch_reserved_mib"] for g in got),
        "torch_max_allocated_mib": max(g["torch_max_allocated_mib"] for g in got),
    }
    if before is not None and during is not None:
        summary["device_used_per_replica_mib"] = round((during - before) / spec.replicas, 1)
    return summary


def fake_profile_for(spec: RunSpec, workloads: Sequence[str]) -> dict[str, Any]:
    """Synthetic per-replica latencies for --fake, from the shipped model and reference: a fake
    run, fitted, must give back figures near the model's own (a test checks it)."""
    from gpukit.sharing.calibration import load_calibration
    from gpukit.sharing.model import predict_row, workload_profile

    reference = load_calibration()
    assert reference.model is not None
    profile: dict[str, Any] = {}
    for name in workloads:
        w = next((x for x in reference.workloads if x.name == name and x.fitted), None)
        if w is None:
            profile[name] = {"latency_ms": 1.0, "tail": 1.05}
            continue
        prof = workload_profile(w.gpu_boundness, gpu_fill=w.gpu_fill, calibration=reference)
        _, per, _, p99 = predict_row(spec.mode, spec.replicas, prof, reference.model)
        latency = w.solo.mean_ms / per
        profile[name] = {
            "latency_ms": latency,
            "tail": max(1.0, w.solo.p99_ms * p99 / latency),
            "samples_per_request": w.solo.samples_per_request,
        }
    return profile


def run_calibration(
    *,
    workloads: Sequence[str] = DEFAULT_WORKLOADS,
    replicas: Sequence[int] = DEFAULT_REPLICAS,
    modes: Sequence[str] = ("time-slicing", "mps", "mps-limits"),
    window: float = 5.0,
    warmup: float = 2.0,
    fake: bool = False,
    mps_control: str | None = None,
    start_timeout: float = 120.0,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Measure and return the raw result: machine facts plus one summary per workload/mode/N.

    MPS modes run only when ``nvidia-cuda-mps-control`` exists (or ``--fake``); the daemon is
    started for each MPS run in private folders and always stopped, also on failure.
    """
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        raise InputError(f"unknown calibration workloads {unknown}; known: {', '.join(WORKLOADS)}")
    bad_modes = [m for m in modes if m not in ("time-slicing", "mps", "mps-limits")]
    if bad_modes:
        raise InputError(f"unknown modes {bad_modes}; measurable: time-slicing, mps, mps-limits")
    if not replicas or min(replicas) < 1:
        raise InputError(f"replicas must be whole numbers >= 1, got {list(replicas)}")
    if 1 not in replicas:
        replicas = (1, *replicas)  # the solo reference every ratio is taken against
    say = progress or (lambda _msg: None)
    if not fake:
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            raise CalibrationRunError(
                "calibrate run measures with PyTorch, which is not installed here (gpukit does not "
                "depend on it); run it where torch with CUDA is installed, or add --fake to test the "
                "orchestration"
            )
    control_cmd: list[str] | None
    if mps_control is not None:
        control_cmd = [mps_control]
    elif fake:
        control_cmd = fake_control_command()
    else:
        found = find_mps_control()
        control_cmd = [found] if found else None
    skipped: list[str] = []
    if control_cmd is None and any(m != "time-slicing" for m in modes):
        skipped.append("mps and mps-limits: nvidia-cuda-mps-control not found on this machine")
        modes = [m for m in modes if m == "time-slicing"]
    gpu_memory = None
    facts = machine_facts(fake)
    if not fake:
        try:
            gpu_memory = float(facts.get("gpu.memory.total", "") or 0) or None
        except ValueError:
            gpu_memory = None
    base_env = dict(os.environ)
    base_env.setdefault("OMP_NUM_THREADS", "1")
    base_env["PYTHONUNBUFFERED"] = "1"
    rows: dict[str, list[dict[str, Any]]] = {w: [] for w in workloads}
    hello: dict[str, Any] = {}
    mps_logs: list[str] = []
    started = time.monotonic()

    def result() -> dict[str, Any]:
        facts_now = dict(facts)
        if hello.get("torch"):
            facts_now["torch"] = f"{hello['torch']} (CUDA {hello.get('torch_cuda')})"
            facts_now["device"] = f"{hello.get('device')}, {hello.get('sm_count')} SMs, {hello.get('memory_mib')} MiB"
        return {
            "kind": "gpukit-calibration-run",
            "measured": _dt.date.today().isoformat(),
            "fake": fake,
            "command": command or "python -m gpukit.calibrate",
            "machine": facts_now,
            "method": {
                "window_s": str(window),
                "warmup_s": str(warmup),
                "replicas": ",".join(str(n) for n in sorted(set(replicas))),
                "modes": ",".join(modes),
                "loop": "closed loop per replica: issue, synchronise, time; all replicas start behind a barrier",
                "skipped": "; ".join(skipped) or "nothing",
                "elapsed_s": f"{time.monotonic() - started:.0f}",
            },
            "mps_logs": mps_logs[-3:],
            "workloads": {name: {"description": WORKLOADS[name], "rows": rows[name]} for name in workloads},
        }

    runs = plan_runs(replicas, modes)
    if RunSpec("time-slicing", 1) not in runs:
        runs.insert(0, RunSpec("time-slicing", 1))  # the solo reference every ratio needs
    for spec in runs:
        say(f"measuring {spec.mode} with {spec.replicas} replica(s)")
        kwargs: dict[str, Any] = {
            "workloads": workloads, "window": window, "warmup": warmup, "fake": fake,
            "gpu_memory_mib": gpu_memory, "start_timeout": start_timeout,
            "fake_profile": fake_profile_for(spec, workloads) if fake else None,
        }
        if spec.mode == "time-slicing":
            results, said = _one_run(spec, base_env=base_env, **kwargs)  # type: ignore[arg-type]
        else:
            assert control_cmd is not None
            daemon = MpsDaemon(control_cmd)
            with daemon:
                env = dict(base_env)
                env.update(daemon.client_env())
                results, said = _one_run(spec, base_env=env, **kwargs)  # type: ignore[arg-type]
            if daemon.log_tail:
                mps_logs.append(f"{spec.mode} N={spec.replicas}: {daemon.log_tail}")
        # Device facts as a plain process sees them (an MPS-limited client sees fewer SMs).
        hello = hello or said
        for name, summary in results.items():
            rows[name].append(summary)
        if checkpoint is not None:
            checkpoint(result())
    return result()
