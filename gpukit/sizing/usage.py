"""GPU memory pods use, from the DCGM exporter: a Prometheus server or a metrics file.

The NVIDIA DCGM exporter publishes ``DCGM_FI_DEV_FB_USED``: framebuffer memory used, in MiB,
per GPU (or MIG instance), labelled with the ``pod``, ``namespace`` and ``container`` using
it. When Prometheus scrapes the exporter as a Kubernetes target, the target's own ``pod`` /
``namespace`` labels win and the exporter's are kept as ``exported_pod`` /
``exported_namespace``; both spellings are read, the exported ones first, and so are the
``pod_name`` / ``pod_namespace`` labels the exporter writes with its old-namespace option.
A GPU no pod holds has no pod labels (the exporter adds them only for mapped devices).

The metric is per device: pods that time-slice one GPU each see the whole GPU's memory in
use, so their measured peak is an upper bound on their own.

A pod's usage is its peak: the largest sample over the window (or in the file) of any GPU
it holds. Sizing then plans the pod on that peak plus gpukit's headroom.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gpukit.errors import ClusterError, InputError, ManifestError

__all__ = ["METRIC", "PodUsage", "parse_metrics", "query_prometheus", "read_usage"]

#: The DCGM exporter's framebuffer-used gauge, in MiB.
METRIC = "DCGM_FI_DEV_FB_USED"
_MIB = 1024 * 1024
_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+\S+)?\s*$"
)
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


@dataclass(frozen=True)
class PodUsage:
    """Peak GPU memory per pod: (namespace, pod) -> bytes; where it came from."""

    peaks: Mapping[tuple[str, str], int]
    source: str
    series: int  # samples or series read
    unlabelled: int = 0  # series with no pod label (GPUs no pod holds)


def _labels(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if m is None:
            raise ManifestError(f"{where}: labels {text!r} are not in the exposition format")
        out[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        pos = m.end()
    return out


def _target(labels: Mapping[str, str]) -> tuple[str | None, str | None]:
    return labels.get("job"), labels.get("instance")


def _pod_of(labels: Mapping[str, str], renamed: bool) -> tuple[str, str] | None:
    """(namespace, pod) using the GPU; ``renamed``: this target's own labels took pod/namespace.

    On such a target a series without ``exported_pod`` is a GPU no pod holds: its ``pod``
    label is the exporter's own, added by Prometheus.
    """
    prefix = (
        "exported_" if renamed or "exported_pod" in labels or "exported_pod_name" in labels else ""
    )
    pod = labels.get(prefix + "pod") or labels.get(prefix + "pod_name")
    namespace = labels.get(prefix + "namespace") or labels.get(prefix + "pod_namespace")
    if not pod or not namespace:
        return None
    return namespace, pod


def _peaks(series: list[tuple[Mapping[str, str], float]]) -> tuple[dict[tuple[str, str], int], int]:
    renamed = {
        _target(labels)
        for labels, _ in series
        if "exported_pod" in labels or "exported_pod_name" in labels
    }
    peaks: dict[tuple[str, str], int] = {}
    unlabelled = 0
    for labels, value in series:
        key = _pod_of(labels, _target(labels) in renamed)
        if key is None:
            unlabelled += 1
        elif math.isfinite(value) and value >= 0:
            _record(peaks, key, value)
    return peaks, unlabelled


def _record(peaks: dict[tuple[str, str], int], key: tuple[str, str], mib: float) -> None:
    value = math.ceil(mib) * _MIB
    if value > peaks.get(key, -1):
        peaks[key] = value


def parse_metrics(lines: Iterable[str], source: str = "metrics") -> PodUsage:
    """Peaks from the Prometheus text exposition format (a dump of the exporter's /metrics,
    or of several scrapes concatenated: the largest sample per pod wins)."""
    samples: list[tuple[Mapping[str, str], float]] = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#") or not line.startswith(METRIC):
            continue
        m = _SAMPLE.match(line)
        if m is None or m["name"] != METRIC:
            if m is None:
                raise ManifestError(
                    f"{source}: line {number}: not a sample in the exposition format"
                )
            continue
        try:
            value = float(m["value"])
        except ValueError:
            raise ManifestError(
                f"{source}: line {number}: value {m['value']!r} is not a number"
            ) from None
        samples.append((_labels(m["labels"] or "", f"{source}: line {number}"), value))
    peaks, unlabelled = _peaks(samples)
    return PodUsage(peaks=peaks, source=source, series=len(samples), unlabelled=unlabelled)


def query_prometheus(url: str, *, window: str = "7d", timeout: float = 30.0) -> PodUsage:
    """Peaks over ``window`` from a Prometheus server's HTTP API (``/api/v1/query``).

    One instant query, ``max_over_time(DCGM_FI_DEV_FB_USED[window])``, read per pod.
    """
    import urllib.error
    import urllib.parse
    import urllib.request

    if not re.fullmatch(r"\d+[smhdwy]", window):
        raise InputError(
            f"--window {window!r} is not a Prometheus duration; write it like '7d' or '12h'"
        )
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InputError(
            f"--prometheus {url!r} is not an http(s) URL; write it like http://prometheus:9090"
        )
    query = f"max_over_time({METRIC}[{window}])"
    endpoint = url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(endpoint, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise ClusterError(f"Prometheus {url}: HTTP {exc.code} for {query!r}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClusterError(f"Prometheus {url}: unreachable ({reason}); check the URL") from None
    try:
        doc = json.loads(body)
    except ValueError:
        raise ClusterError(
            f"Prometheus {url}: the answer is not JSON; is this a Prometheus server?"
        ) from None
    if doc.get("status") != "success":
        raise ClusterError(f"Prometheus {url}: {doc.get('errorType')}: {doc.get('error')}")
    result = (doc.get("data") or {}).get("result") or []
    series: list[tuple[Mapping[str, str], float]] = []
    for entry in result:
        try:
            value = float((entry.get("value") or [0, "nan"])[1])
        except (TypeError, ValueError):
            continue
        series.append((entry.get("metric") or {}, value))
    peaks, unlabelled = _peaks(series)
    return PodUsage(
        peaks=peaks, source=f"Prometheus {url} ({query})", series=len(result), unlabelled=unlabelled
    )


def read_usage(
    *, metrics: str | Path | None = None, prometheus: str | None = None, window: str = "7d"
) -> PodUsage | None:
    """Usage from a metrics file or a Prometheus URL (not both), or None when neither is given."""
    if metrics is not None and prometheus is not None:
        raise InputError("give --metrics FILE or --prometheus URL, not both")
    if prometheus is not None:
        return query_prometheus(prometheus, window=window)
    if metrics is None:
        return None
    path = Path(metrics)
    try:
        with path.open(encoding="utf-8") as handle:
            return parse_metrics(handle, str(path))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such file; check the path") from None
    except UnicodeDecodeError:
        raise ManifestError(
            f"{path}: not UTF-8 text; give a metrics file in the exposition format"
        ) from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read ({exc.strerror or exc})") from None
