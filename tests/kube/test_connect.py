"""connect(): kubeconfig contexts, KUBECONFIG lists, in-cluster config, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import gpukit.kube
from gpukit import kube
from gpukit.errors import ClusterError, MissingExtraError
from gpukit.kube._connect import in_cluster_configuration
from gpukit.kube._transport import kubernetes_module

pytest.importorskip("kubernetes")


@pytest.fixture
def api(api_server):
    """Connecting reads kubeconfigs: these tests need the double over HTTP."""
    return api_server


def test_public_names_are_sorted_and_complete():
    assert gpukit.kube.__all__ == sorted(gpukit.kube.__all__)
    assert all(hasattr(gpukit.kube, n) for n in gpukit.kube.__all__)


def test_importing_gpukit_kube_does_not_import_kubernetes(repo_root):
    code = "import sys, gpukit, gpukit.kube, gpukit.testing; print('kubernetes' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root, check=True
    )
    assert out.stdout.strip() == "False"


def test_missing_kubernetes_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'gpukit\[kube\]'"):
        kubernetes_module()


def test_current_context_and_its_namespace(api, tmp_path):
    path = api.write_kubeconfig(tmp_path / "config", context="lab", namespace="team-nlp")
    with kube.connect(kubeconfig=path) as cluster:
        assert (cluster.context, cluster.namespace) == ("lab", "team-nlp")
        assert cluster.server == api.url
        assert "nodes" in [r.plural for r in cluster.resources("", "v1")]


def test_explicit_context_and_namespace_override(api, tmp_path):
    path = api.write_kubeconfig(
        tmp_path / "config", context="lab", extra_contexts=[("staging", "team-vision")]
    )
    with kube.connect("staging", kubeconfig=path) as cluster:
        assert (cluster.context, cluster.namespace) == ("staging", "team-vision")
    with kube.connect("staging", kubeconfig=path, namespace="x") as cluster:
        assert cluster.namespace == "x"


def test_unknown_context_suggests_the_close_one(api, tmp_path):
    path = api.write_kubeconfig(
        tmp_path / "config", context="lab", extra_contexts=[("staging", "default")]
    )
    with pytest.raises(ClusterError) as caught:
        kube.connect("stagin", kubeconfig=path)
    assert str(caught.value) == (
        f"context 'stagin' is not in kubeconfig {path} (did you mean "
        "'staging'?); contexts: lab, staging"
    )


def test_kubeconfig_list_in_the_environment(api, tmp_path, monkeypatch):
    path = api.write_kubeconfig(tmp_path / "config", context="lab")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'absent'}:{path}")
    with kube.connect() as cluster:
        assert cluster.context == "lab"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("kubeconfig-missing", "no such file; give an existing kubeconfig"),
        ("env-missing", "no such file; point it at your kubeconfig"),
        ("nothing", "no cluster configured: KUBECONFIG is unset, ~/.kube/config does not exist"),
        ("context-without-config", "--context lab: no kubeconfig found"),
        ("broken", "kubeconfig"),
    ],
    ids=lambda v: v if " " not in v else "",
)
def test_configuration_errors_are_one_line(setup, message, tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    kwargs: dict = {}
    args: tuple = ()
    if setup == "kubeconfig-missing":
        kwargs["kubeconfig"] = tmp_path / "nope"
    elif setup == "env-missing":
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nope"))
    elif setup == "context-without-config":
        args = ("lab",)
    elif setup == "broken":
        broken = tmp_path / "config"
        broken.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "contexts": []}))
        kwargs["kubeconfig"] = broken
    with pytest.raises(ClusterError) as caught:
        kube.connect(*args, **kwargs)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_in_cluster_configuration_reads_the_service_account(tmp_path):
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token")
    (account / "ca.crt").write_text("not checked until a request is made")
    (account / "namespace").write_text("pipelines\n")
    config, namespace = in_cluster_configuration(
        account, {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    )
    assert config.host == "https://10.0.0.1:443"
    assert config.api_key["authorization"].lower() == "bearer pod-token"
    assert namespace == "pipelines"


def test_in_cluster_configuration_outside_a_pod(tmp_path):
    with pytest.raises(ClusterError, match="in-cluster configuration: .*run inside a pod"):
        in_cluster_configuration(tmp_path, {})


def test_unreachable_api_names_the_server_and_what_was_tried(api, tmp_path):
    path = api.write_kubeconfig(tmp_path / "config", context="lab")
    api.stop()
    with pytest.raises(ClusterError) as caught:
        kube.discover(kubeconfig=path)
    assert str(caught.value) == (
        f"cannot reach the Kubernetes API at {api.url} (context 'lab') to get /api: connection "
        "refused; check that the cluster is up and that the kubeconfig's server address is "
        "right (kubectl cluster-info)"
    )
    assert isinstance(caught.value, kube.Unreachable) and not caught.value.maybe_sent


def test_rejected_credentials(api, tmp_path):
    path = api.write_kubeconfig(tmp_path / "config", context="lab")
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"]["token"] = "expired"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(kube.ApiStatusError) as caught:
        kube.discover(kubeconfig=path)
    assert caught.value.code == 401
    assert "rejected the credentials of context 'lab' (401 Unauthorized)" in str(caught.value)


def test_rbac_denial_names_verb_and_resource(api, cluster):
    api.forbid("list", "nodes")
    with pytest.raises(ClusterError) as caught:
        kube.discover(cluster=cluster)
    assert str(caught.value) == (
        'RBAC forbids list nodes: nodes is forbidden: User "gpukit-test" cannot list resource '
        '"nodes" in API group "" at the cluster scope; ask a cluster admin for a Role or '
        "ClusterRole granting 'list' on 'nodes'"
    )


def test_get_returns_none_for_absent_objects(cluster):
    jobs = cluster.resource("batch/v1", "Job")
    assert cluster.get(jobs, "nope", "default") is None
    assert jobs.path("ns", "x") == "/apis/batch/v1/namespaces/ns/jobs/x"


@pytest.mark.parametrize(
    ("api_version", "kind", "message"),
    [
        (
            "leaderworkerset.x-k8s.io/v1",
            "LeaderWorkerSet",
            "LeaderWorkerSet is not installed (no leaderworkerset.x-k8s.io API group)",
        ),
        ("example.com/v1", "Widget", "its CRD is not installed"),
        (
            "kueue.x-k8s.io/v1alpha1",
            "LocalQueue",
            "serves kueue.x-k8s.io in v1beta2, v1beta1, not v1alpha1",
        ),
        ("batch/v1", "Jbo", "no kind 'Jbo' in it (did you mean 'Job'?)"),
    ],
    ids=["component", "unknown-group", "old-version", "typo"],
)
def test_unserved_kinds_say_what_to_install(cluster, api_version, kind, message):
    with pytest.raises(ClusterError) as caught:
        cluster.resource(api_version, kind)
    assert message in str(caught.value)


def test_default_kubeconfig_in_home(api, tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    api.write_kubeconfig(Path(tmp_path) / ".kube" / "config", context="home")
    with kube.connect() as cluster:
        assert cluster.context == "home"
