"""Every notebook runs top to bottom with nbclient (no cluster), and honours papermill parameters.

Kernel: ``python3`` of the interpreter running the tests (the project's .venv), working
directory: notebooks/, so a clean clone runs them as they are committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = [
    "01_quickstart.ipynb",
    "02_serving_small_model.ipynb",
    "03_distributed_finetuning.ipynb",
    "04_platform_setup.ipynb",
    "05_linting.ipynb",
]
KERNEL = "python3"
CELL_TIMEOUT_S = 120


@pytest.fixture(autouse=True)
def hermetic_kernel(monkeypatch, tmp_path):
    """Kernel ``python3`` is this interpreter, whatever kernelspecs the user has installed;
    Jupyter and IPython state goes to a temporary folder; no kubeconfig, so nothing can
    reach a real cluster."""
    data = tmp_path / "jupyter-data"
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (gpukit tests)",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))  # searched before sys.prefix
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def outputs_text(nb) -> str:
    """Everything the notebook printed or displayed as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out["text"])
            elif "data" in out:
                parts.append(str(out["data"].get("text/plain", "")))
    return "\n".join(parts)


def problems(nb) -> list[str]:
    """Error outputs and anything written to stderr (warnings included)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{out['ename']}: {out['evalue']}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(out["text"])
    return found


def test_the_five_notebooks_are_all_here():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_clean_with_a_parameters_cell(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == KERNEL
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"


# (notebook, what its default run must show)
DEFAULT_RUN = [
    pytest.param("01_quickstart.ipynb", ["Decision: MIG 1g.10gb on H100-80GB", "nvidia.com/mig-1g.10gb: 1",
                                         "Planner(", "MigDesigner("], id="01"),
    pytest.param("02_serving_small_model.ipynb", ["mig ", "mps ", "time-slicing ", "[FALLBACK]",
                                                  "FleetView("], id="02"),
    pytest.param("03_distributed_finetuning.ipynb", ["'minAvailable': 2", "scheduler kueue (queue team-nlp)",
                                                     "[NO_GANG]", "Planner("], id="03"),
    pytest.param("04_platform_setup.ipynb", ["MIG GPUs used: 3 (lower bound 3)", "kind: ConfigMap",
                                             "manifests/30-kueue.yaml", "wrote 9 files"], id="04"),
    pytest.param("05_linting.ipynb", ["GPU001", "GPU007", "GPU012", "needs 9 memory slices"], id="05"),
]


@pytest.mark.parametrize(("name", "expected"), DEFAULT_RUN)
def test_notebook_runs_top_to_bottom(name, expected):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S, startup_timeout=60,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    assert problems(nb) == []
    text = outputs_text(nb)
    for fragment in expected:
        assert fragment in text, f"{name}: {fragment!r} not in the outputs"
    widgets = [o for c in nb.cells for o in c.get("outputs", [])
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    if "widgets import" in "".join(c.source for c in nb.cells):
        assert widgets, "widget cells must display widgets"


# (notebook, parameters, fragments that must appear, fragments that must not)
PARAMETERS = [
    pytest.param("01_quickstart.ipynb", {"name": "big-serve", "gpu_memory": "30Gi"},
                 ["big-serve: inference", "Decision: MIG 3g.40gb"], ["Decision: MIG 1g.10gb"], id="01"),
    pytest.param("02_serving_small_model.ipynb", {"model_params": "7B", "replicas": 2},
                 ["(estimated: 7B params", "MIG 2g.20gb"], ["per replica: 2.9 GiB"], id="02"),
    pytest.param("03_distributed_finetuning.ipynb", {"workers": 4, "team": "team-research"},
                 ["'minAvailable': 4", "volcano (queue team-research)"], ["team-nlp"], id="03"),
    pytest.param("04_platform_setup.ipynb", {"dev_notebooks": 20, "serving_replicas": 1},
                 ["notebooks        20"], ["notebooks         8"], id="04"),
    pytest.param("05_linting.ipynb", {"image": "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime"},
                 ["GPU001", "GPU007"], ["GPU012"], id="05"),
]


@pytest.mark.parametrize(("name", "parameters", "present", "absent"), PARAMETERS)
def test_papermill_parameters_are_honoured(tmp_path, name, parameters, present, absent):
    papermill = pytest.importorskip("papermill")
    out = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name), str(out), parameters=parameters, kernel_name=KERNEL,
        cwd=str(NOTEBOOKS), progress_bar=False, execution_timeout=CELL_TIMEOUT_S,
        start_timeout=60,
    )
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    for key, value in parameters.items():
        assert f"{key} = {json.dumps(value)}" in injected[0].source or f"{key} = {value!r}" in injected[0].source
    assert problems(nb) == []
    text = outputs_text(nb)
    for fragment in present:
        assert fragment in text, f"{name}: {fragment!r} not in the outputs"
    for fragment in absent:
        assert fragment not in text, f"{name}: {fragment!r} still in the outputs"
