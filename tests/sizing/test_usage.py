"""DCGM usage: the exposition format, Prometheus's query API (a real server), peaks per pod."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpukit.errors import ClusterError, InputError, ManifestError
from gpukit.sizing import parse_metrics, query_prometheus, read_usage

MIB = 1024 * 1024

# As the DCGM exporter writes it (labels per GPU, and the pod using it).
EXPORTER = """\
# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="h100-0",container="main",namespace="team-a",pod="svc-0"} 5120
DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-1",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="h100-0",container="main",namespace="team-a",pod="svc-1"} 3000.5
DCGM_FI_DEV_FB_USED{gpu="2",UUID="GPU-2",device="nvidia2",modelName="NVIDIA H100 80GB HBM3",Hostname="h100-0"} 0
# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-0",namespace="team-a",pod="svc-0"} 37
"""


def test_parse_exposition_format():
    usage = parse_metrics(EXPORTER.splitlines(), "dump.prom")
    assert usage.peaks == {("team-a", "svc-0"): 5120 * MIB, ("team-a", "svc-1"): 3001 * MIB}
    assert (usage.series, usage.unlabelled) == (3, 1)


def test_peak_over_scrapes_and_exported_labels_win():
    text = [
        'DCGM_FI_DEV_FB_USED{pod="dcgm-exporter-x",namespace="gpu-operator",'
        f'exported_pod="svc-0",exported_namespace="team-a"}} {value} {t}'
        for value, t in ((100, 1700000000000), (900, 1700000060000), (300, 1700000120000))
    ]
    assert parse_metrics(text).peaks == {("team-a", "svc-0"): 900 * MIB}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('DCGM_FI_DEV_FB_USED{pod="a",namespace="b"} many', "value 'many' is not a number"),
        ("DCGM_FI_DEV_FB_USED{pod=a} 1", "not in the exposition format"),
    ],
    ids=["value", "labels"],
)
def test_bad_metrics_lines_are_one_line_errors(line, message):
    with pytest.raises(ManifestError, match=message):
        parse_metrics([line], "m.prom")


def test_read_usage_options(tmp_path):
    assert read_usage() is None
    with pytest.raises(InputError, match="not both"):
        read_usage(metrics="a", prometheus="http://x")
    with pytest.raises(ManifestError, match="no such file"):
        read_usage(metrics=tmp_path / "missing.prom")
    with pytest.raises(InputError, match="not a Prometheus duration"):
        query_prometheus("http://127.0.0.1:1", window="7 days")
    with pytest.raises(InputError, match="not an http"):
        query_prometheus("prometheus:9090")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_prometheus_is_a_cluster_error():
    with pytest.raises(ClusterError, match="unreachable"):
        query_prometheus(f"http://127.0.0.1:{_free_port()}", timeout=5)


# -- a real Prometheus --------------------------------------------------------------------


class _Exporter(http.server.BaseHTTPRequestHandler):
    body = EXPORTER.encode()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[str]:
    """Debian's prometheus on loopback, scraping a static exporter served by this test."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (make install-test installs Debian's package)")
    exporter = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)
    thread = threading.Thread(target=exporter.serve_forever, daemon=True)
    thread.start()
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        # As in a cluster: the target is the exporter's own pod, so Prometheus keeps the
        # exporter's pod / namespace labels as exported_pod / exported_namespace.
        "scrape_configs:\n  - job_name: dcgm\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{exporter.server_address[1]}']\n"
        "        labels: {pod: nvidia-dcgm-exporter-x7k2p, namespace: gpu-operator}\n"
    )
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"prometheus exited: {(tmp_path / 'prometheus.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("prometheus did not become ready within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        exporter.shutdown()
        exporter.server_close()


def test_peaks_from_a_real_prometheus(prometheus: str):
    deadline = time.monotonic() + 60
    while True:  # until the first scrapes are stored
        usage = query_prometheus(prometheus, window="5m", timeout=10)
        if len(usage.peaks) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert usage.peaks == {("team-a", "svc-0"): 5120 * MIB, ("team-a", "svc-1"): 3001 * MIB}
    assert usage.unlabelled == 1
    assert "max_over_time(DCGM_FI_DEV_FB_USED[5m])" in usage.source


def test_bad_query_reports_prometheus_error(prometheus: str):
    # A window Prometheus refuses reaches the user as Prometheus's own words.
    with pytest.raises(ClusterError, match="Prometheus .*(bad_data|HTTP 400)"):
        query_prometheus(prometheus, window="0s")


def test_a_gpu_no_pod_holds_is_not_the_exporters_pod():
    # Scraped as a Kubernetes target: the idle GPU's series carries only the target's labels.
    target = 'job="dcgm",instance="10.0.0.7:9400",pod="dcgm-exporter-x",namespace="gpu-operator"'
    text = [
        f'DCGM_FI_DEV_FB_USED{{{target},exported_pod="svc-0",exported_namespace="team-a"}} 700',
        f"DCGM_FI_DEV_FB_USED{{{target}}} 0",
    ]
    usage = parse_metrics(text)
    assert usage.peaks == {("team-a", "svc-0"): 700 * MIB} and usage.unlabelled == 1


def test_old_label_names():
    text = [
        'DCGM_FI_DEV_FB_USED{gpu="0",pod_name="svc-0",pod_namespace="team-a",container_name="m"} 42'
    ]
    assert parse_metrics(text).peaks == {("team-a", "svc-0"): 42 * MIB}
