"""Finding a cluster: kubeconfig files and contexts, or a pod's service account.

The official ``kubernetes`` client reads the files and builds the Configuration; gpukit
checks the files first so a malformed kubeconfig is one line naming the file, not a
traceback, and picks the namespace the way kubectl does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gpukit.errors import ClusterError, did_you_mean
from gpukit.kube._client import Cluster
from gpukit.kube._transport import KubernetesTransport, kubernetes_module

__all__ = ["connect", "in_cluster_configuration", "use_cluster"]

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def _kubeconfig_files(kubeconfig: str | os.PathLike[str] | None) -> str | None:
    """The kubeconfig path list to load (KUBECONFIG may hold several), or None if none exists."""
    if kubeconfig is not None:
        path = Path(kubeconfig).expanduser()
        if not path.is_file():
            raise ClusterError(f"kubeconfig {path}: no such file; give an existing kubeconfig")
        return str(path)
    env = os.environ.get("KUBECONFIG", "")
    paths = [p for p in env.split(os.pathsep) if p]
    if paths:
        if any(Path(p).expanduser().is_file() for p in paths):
            return env
        raise ClusterError(f"KUBECONFIG={env}: no such file; point it at your kubeconfig")
    default = Path("~/.kube/config").expanduser()
    return str(default) if default.is_file() else None


# Lists in a kubeconfig that the kubernetes client iterates; anything else there makes it
# fail with a bare TypeError.
_KUBECONFIG_LISTS = ("clusters", "contexts", "users")


def _check_kubeconfig(path: Path) -> None:
    """ClusterError naming the file, line and problem for a kubeconfig the client would crash on.

    The kubernetes client lets yaml errors and TypeErrors from malformed files escape as
    tracebacks; reading the file first turns them into one line. Missing files in a
    KUBECONFIG list are skipped, as kubectl skips them.
    """
    import yaml

    if not path.is_file():
        return
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ClusterError(
            f"kubeconfig {path}: not UTF-8 text; give a kubeconfig YAML file"
        ) from None
    except OSError as exc:
        raise ClusterError(f"kubeconfig {path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ClusterError(
            f"kubeconfig {path}: not valid YAML{where}: {problem}; fix the file or pick another"
        ) from None
    if data is None:
        return  # the client's own message for an empty file is clear
    if not isinstance(data, dict):
        raise ClusterError(
            f"kubeconfig {path}: expected a mapping with clusters, contexts and users, "
            f"got a {type(data).__name__}; fix the file or pick another"
        )
    for key in _KUBECONFIG_LISTS:
        value = data.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, dict) for item in value)
        ):
            raise ClusterError(
                f"kubeconfig {path}: {key} must be a list of entries with a name, got "
                f"{value!r:.60}; fix the file or pick another"
            )


def _in_cluster() -> bool:
    return (
        bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        and (SERVICE_ACCOUNT_DIR / "token").is_file()
    )


def in_cluster_configuration(
    account_dir: Path = SERVICE_ACCOUNT_DIR, environ: dict[str, str] | None = None
) -> tuple[Any, str]:
    """(Configuration, namespace) from a pod's service account, as pipeline steps run."""
    kubernetes = kubernetes_module()
    from kubernetes.config.incluster_config import InClusterConfigLoader

    config = kubernetes.client.Configuration()
    try:
        InClusterConfigLoader(
            token_filename=str(account_dir / "token"),
            cert_filename=str(account_dir / "ca.crt"),
            environ=os.environ if environ is None else environ,
        ).load_and_set(config)
    except kubernetes.config.ConfigException as exc:
        raise ClusterError(
            f"in-cluster configuration: {exc}; run inside a pod with a service "
            "account, or give a kubeconfig"
        ) from None
    namespace_file = account_dir / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else "default"
    return config, namespace


def connect(
    context: str | None = None,
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    namespace: str | None = None,
    configuration: Any = None,
) -> Cluster:
    """A Cluster for a kubeconfig context (default: the current one), or in-cluster config.

    Order: ``configuration`` (a kubernetes.client.Configuration) if given; else ``kubeconfig``,
    $KUBECONFIG or ~/.kube/config; else the pod's service account. ``namespace`` defaults to
    the context's namespace, then 'default'.
    """
    kubernetes = kubernetes_module()
    if configuration is not None:
        return Cluster(
            KubernetesTransport(kubernetes.client.ApiClient(configuration)),
            namespace=namespace or "default",
            context=context,
        )
    files = _kubeconfig_files(kubeconfig)
    if files is None:
        if context:
            raise ClusterError(
                f"--context {context}: no kubeconfig found (KUBECONFIG is unset "
                "and ~/.kube/config does not exist); give --kubeconfig"
            )
        if not _in_cluster():
            raise ClusterError(
                "no cluster configured: KUBECONFIG is unset, ~/.kube/config does not exist and "
                "this is not a pod with a service account; set KUBECONFIG or pass --kubeconfig"
            )
        config, pod_namespace = in_cluster_configuration()
        return Cluster(
            KubernetesTransport(kubernetes.client.ApiClient(config)),
            namespace=namespace or pod_namespace,
            context="in-cluster",
        )
    from kubernetes.config import ConfigException

    for path in files.split(os.pathsep):
        _check_kubeconfig(Path(path).expanduser())
    try:
        contexts, current = kubernetes.config.list_kube_config_contexts(config_file=files)
    except (ConfigException, OSError, ValueError) as exc:
        raise ClusterError(f"kubeconfig {files}: {exc}; fix the file or pick another") from None
    names = [c["name"] for c in contexts or []]
    if context is not None and context not in names:
        raise ClusterError(
            f"context {context!r} is not in kubeconfig {files}"
            f"{did_you_mean(context, names)}; contexts: {', '.join(names) or 'none'}"
        )
    chosen = context or (current or {}).get("name")
    if chosen is None:
        raise ClusterError(
            f"kubeconfig {files} has no current-context; pass --context "
            f"(contexts: {', '.join(names) or 'none'})"
        )
    entry = next(c for c in contexts if c["name"] == chosen)
    config = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_kube_config(
            config_file=files, context=chosen, client_configuration=config, persist_config=False
        )
    except (ConfigException, OSError, ValueError) as exc:
        raise ClusterError(f"kubeconfig {files}, context {chosen!r}: {exc}") from None
    config.retries = 2
    return Cluster(
        KubernetesTransport(kubernetes.client.ApiClient(config)),
        namespace=namespace or (entry.get("context") or {}).get("namespace") or "default",
        context=chosen,
    )


def use_cluster(
    cluster: Cluster | None,
    context: str | None,
    kubeconfig: str | os.PathLike[str] | None = None,
    namespace: str | None = None,
) -> tuple[Cluster, bool]:
    """(cluster, whether the caller owns it and must close it)."""
    if cluster is not None:
        return cluster, False
    return connect(context, kubeconfig=kubeconfig, namespace=namespace), True
