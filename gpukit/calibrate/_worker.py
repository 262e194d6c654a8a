"""One calibration replica: builds synthetic workloads, meets the others at a barrier, times requests.

Run as a plain script (``python _worker.py ...``), never imported by gpukit: it needs only the
standard library, plus PyTorch unless ``--fake`` is given. It talks to the orchestrator
(gpukit/calibrate/runner.py) in JSON lines: it writes ``ready`` after each workload's warm-up,
reads ``go <t0>`` (a CLOCK_MONOTONIC time, shared by all processes of one Linux host), runs a
closed loop of requests from t0 for ``--window`` seconds and writes ``result``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time


def _emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _wait_go() -> float:
    line = sys.stdin.readline()
    if not line.startswith("go "):
        raise SystemExit(f"worker: expected 'go <t0>' from the orchestrator, got {line!r}")
    return float(line.split()[1])


# -- real workloads (PyTorch) ------------------------------------------------------------


def _torch_workloads(torch, names: list[str]):
    """name -> builder of (request callable, samples per request, objects to keep alive).

    Built one at a time, right before its turn, and dropped after it: each workload is
    measured with only its own memory on the GPU. The keep-alive tuple matters for CUDA
    graphs: a replay reads the captured input and weights at their addresses, so they must
    outlive the capture."""
    dev = torch.device("cuda")
    bf16 = torch.bfloat16
    torch.manual_seed(1234)

    def encoder(batch: int):
        # BERT-base-sized encoder (12 layers, d=768, 12 heads, FFN 3072, 30522-token vocabulary):
        # ~150 small kernels per forward, so eager runs are CPU-launch-bound at small batch.
        d, heads, ff, layers, vocab, seq = 768, 12, 3072, 12, 30522, 128

        def p(*shape, scale=0.02):
            return torch.randn(*shape, device=dev, dtype=bf16) * scale

        emb = p(vocab, d)
        pos = p(seq, d)
        blocks = [
            {
                "qkv": p(3 * d, d), "qkv_b": p(3 * d), "out": p(d, d), "out_b": p(d),
                "ln1": (torch.ones(d, device=dev, dtype=bf16), torch.zeros(d, device=dev, dtype=bf16)),
                "up": p(ff, d), "up_b": p(ff), "down": p(d, ff), "down_b": p(d),
                "ln2": (torch.ones(d, device=dev, dtype=bf16), torch.zeros(d, device=dev, dtype=bf16)),
            }
            for _ in range(layers)
        ]
        tokens = torch.randint(0, vocab, (batch, seq)).to(dev)
        F = torch.nn.functional

        @torch.inference_mode()
        def forward(tok):
            x = emb[tok] + pos
            for blk in blocks:
                qkv = F.linear(x, blk["qkv"], blk["qkv_b"])
                q, k, v = qkv.view(batch, seq, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
                a = F.scaled_dot_product_attention(q, k, v)
                a = a.transpose(1, 2).reshape(batch, seq, d)
                x = F.layer_norm(x + F.linear(a, blk["out"], blk["out_b"]), (d,), *blk["ln1"])
                h = F.gelu(F.linear(x, blk["up"], blk["up_b"]))
                x = F.layer_norm(x + F.linear(h, blk["down"], blk["down_b"]), (d,), *blk["ln2"])
            return x

        return forward, tokens, (emb, pos, blocks, tokens)

    def eager(batch: int):
        forward, tokens, keep = encoder(batch)
        return (lambda: forward(tokens)), batch, keep

    def graph(batch: int):
        forward, tokens, keep = encoder(batch)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                forward(tokens)
        torch.cuda.current_stream().wait_stream(stream)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            out = forward(tokens)
        return g.replay, batch, (keep, forward, g, out, stream)

    def matmul():
        # 8 chained 4096^3 bf16 products (1.1 TFLOP per request): saturates the GPU alone.
        n = 4096
        a = torch.randn(n, n, device=dev, dtype=bf16)
        w = torch.randn(n, n, device=dev, dtype=bf16) / math.sqrt(n)

        def request():
            x = a
            for _ in range(8):
                x = x @ w
            return x

        return request, 1, (a, w)

    table = {
        "w1-eager-b1": lambda: eager(1),
        "w1-eager-b8": lambda: eager(8),
        "w1-graph-b1": lambda: graph(1),
        "w1-graph-b8": lambda: graph(8),
        "w2-matmul": matmul,
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"worker: unknown workloads {unknown}; known: {sorted(table)}")
    return {name: table[name] for name in names}


def _run_real(args) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    torch.cuda.init()
    props = torch.cuda.get_device_properties(0)
    _emit(
        {
            "event": "hello",
            "torch": torch.__version__,
            "torch_cuda": torch.version.cuda,
            "device": props.name,
            "sm_count": props.multi_processor_count,
            "memory_mib": props.total_memory // 2**20,
            "python": sys.version.split()[0],
        }
    )
    sync = torch.cuda.synchronize
    for name, build in _torch_workloads(torch, args.workloads).items():
        request, samples, keep = build()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        warm_end = time.monotonic() + args.warmup
        warm = 0
        while time.monotonic() < warm_end or warm < args.min_warmup_requests:
            request()
            sync()
            warm += 1
        _emit({"event": "ready", "workload": name, "warmup_requests": warm})
        t0 = _wait_go()
        while time.monotonic() < t0:
            pass
        end = t0 + args.window
        latencies = []
        first = None
        while True:
            start = time.monotonic()
            if start >= end:
                break
            if first is None:
                first = start
            request()
            sync()
            done = time.monotonic()
            if done > end:
                break
            latencies.append(done - start)
        _emit(
            {
                "event": "result",
                "workload": name,
                "samples_per_request": samples,
                "latencies_ms": [round(x * 1000, 4) for x in latencies],
                "start_skew_ms": round(((first or t0) - t0) * 1000, 3),
                "torch_max_allocated_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1),
                "torch_reserved_mib": round(torch.cuda.memory_reserved() / 2**20, 1),
            }
        )
        del request, keep
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


# -- fake workloads (no GPU): the orchestration's test double ------------------------------


def _run_fake(args) -> None:
    """Deterministic synthetic latencies, no sleeping: counts follow the profile given."""
    profile = json.loads(args.fake_profile or "{}")
    _emit({"event": "hello", "torch": None, "device": "fake", "python": sys.version.split()[0]})
    for name in args.workloads:
        spec = profile.get(name, {})
        latency = float(spec.get("latency_ms", 1.0))
        tail = float(spec.get("tail", 1.05))
        samples = int(spec.get("samples_per_request", 1))
        if spec.get("fail"):
            raise RuntimeError(f"fake failure in {name} (asked for by the fake profile)")
        _emit({"event": "ready", "workload": name, "warmup_requests": 100})
        _wait_go()
        count = max(1, int(args.window * 1000 / latency))
        # One request in fifty is slow: p50 = latency, p99 = latency * tail.
        latencies = [round(latency * (tail if i % 50 == 0 else 1.0), 4) for i in range(count)]
        _emit(
            {
                "event": "result",
                "workload": name,
                "samples_per_request": samples,
                "latencies_ms": latencies,
                "start_skew_ms": 0.0,
                "torch_max_allocated_mib": 100.0,
                "torch_reserved_mib": 128.0,
            }
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", required=True, type=lambda s: s.split(","))
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--min-warmup-requests", type=int, default=20)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--fake", action="store_true")
    parser.add_argument("--fake-profile", default=None)
    args = parser.parse_args(argv)
    try:
        if args.fake:
            _run_fake(args)
        else:
            _run_real(args)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001  # any failure goes to the orchestrator, which reports it
        import traceback

        where = traceback.extract_tb(exc.__traceback__)[-3:]
        trace = " <- ".join(f"{f.name}:{f.lineno} {f.line}" for f in reversed(where))
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _emit({"event": "error", "message": f"{type(exc).__name__}: {first} (at {trace})"})
        raise SystemExit(1) from None
    _emit({"event": "done"})


if __name__ == "__main__":
    main()
