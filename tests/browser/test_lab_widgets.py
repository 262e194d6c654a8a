"""End to end in a real browser: JupyterLab runs notebook 01, the Planner reacts to a change.

JupyterLab is started headless on loopback with token auth, in a temporary folder holding a
copy of notebooks/01_quickstart.ipynb, and driven through Debian's Chromium by Playwright
(never a downloaded browser). Screenshots of the Planner and the MigDesigner go to
tests/artifacts/; set GPUKIT_UPDATE_SCREENSHOTS=1 to also refresh the README's copies in
docs/screenshots/ (written too when they are missing).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is absent: install Debian's chromium (make install-test does); "
        "this test never downloads a browser",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01_quickstart.ipynb"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "docs" / "screenshots"
ARTIFACTS = ROOT / "tests" / "artifacts"
SERVER_START_S = 60
KERNEL_READY_MS = 60_000
RUN_ALL_MS = 60_000
REPLAN_MS = 20_000

# Lab settings for a quiet, deterministic page: no news fetch, every cell in the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_S}s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started, then anything left in its own session (its kernels)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group we created with start_new_session
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, token) of a JupyterLab serving a temporary copy of notebook 01."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    settings = tmp_path / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    # Kernel python3 is this interpreter, whatever kernelspecs the user has installed.
    data = tmp_path / "jupyter-data"
    spec = data / "kernels" / "python3"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }))
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": str(data),  # searched before sys.prefix; keeps $HOME untouched
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        # The Planner must not find a real cluster on the machine running the tests.
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
    }
    env.pop("KUBERNETES_SERVICE_HOST", None)
    env.pop("JUPYTER_PATH", None)
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp_path / "jupyterlab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser",
                "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={work}",
                "--LabApp.expose_app_in_browser=True",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",  # no package-index queries
                "--ServerApp.terminals_enabled=False",
                "--allow-root",  # containers often run as root; binding is loopback-only
            ],
            cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", proc, log)
        yield base, token
    finally:
        _stop(proc)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTIFACTS / "jupyterlab.log")


def _save(png: bytes, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(png)
    target = SCREENSHOTS / name
    if os.environ.get("GPUKIT_UPDATE_SCREENSHOTS") == "1" or not target.exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png)


def test_notebook_01_planner_reacts_in_jupyterlab(lab: tuple[str, str]) -> None:
    from playwright import sync_api

    base, token = lab
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(30_000)
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", wait_until="domcontentloaded")
            page.wait_for_function(
                """() => {
                    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                    const k = w && w.sessionContext && w.sessionContext.session
                        && w.sessionContext.session.kernel;
                    return k && k.status === 'idle';
                }""",
                timeout=KERNEL_READY_MS,
            )
            page.evaluate(
                """() => {
                    window.jupyterapp.shell.collapseLeft();
                    window.jupyterapp.commands.execute('notebook:run-all-cells');
                }"""
            )
            planner = page.locator(".gpukit-planner")
            designer = page.locator(".gpukit-mig-designer")
            decision = planner.locator(".gpukit-decision-text")
            yaml_text = planner.locator(".gpukit-yaml-text")
            decision.wait_for(timeout=RUN_ALL_MS)
            designer.locator(".gpukit-mig-valid").wait_for(timeout=RUN_ALL_MS)

            before_plan, before_yaml = decision.inner_text(), yaml_text.inner_text()
            assert "MIG 1g.10gb on H100-80GB" in before_plan
            assert "nvidia.com/mig-1g.10gb: 1" in before_yaml and "kind: Deployment" in before_yaml
            assert designer.locator(".gpukit-instance").count() == 4  # 3g + 2g + 1g x2

            planner.locator(".gpukit-field-kind select").select_option("training")
            sync_api.expect(decision).not_to_have_text(before_plan, timeout=REPLAN_MS)
            sync_api.expect(yaml_text).not_to_have_text(before_yaml, timeout=REPLAN_MS)
            after_plan, after_yaml = decision.inner_text(), yaml_text.inner_text()
            assert "A100-80GB (whole GPU)" in after_plan
            assert "kind: Job" in after_yaml and "nvidia.com/gpu: 1" in after_yaml
            assert "nvidia.com/mig-1g.10gb" not in after_yaml

            # Nothing in the notebook wrote a traceback or an error.
            assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

            planner.scroll_into_view_if_needed()
            _save(planner.screenshot(), "planner.png")
            designer.scroll_into_view_if_needed()
            _save(designer.screenshot(), "mig-designer.png")
        except Exception:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "page-on-failure.png"), full_page=True, timeout=10_000)
            raise
        finally:
            browser.close()
    for name in ("planner.png", "mig-designer.png"):
        data = (ARTIFACTS / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
