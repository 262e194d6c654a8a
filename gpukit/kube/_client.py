"""Connection to a cluster: kubeconfig or in-cluster config, discovery, requests, errors.

Every call gpukit makes to a Kubernetes API goes through :class:`Cluster`, which uses the
official ``kubernetes`` client's ApiClient (configuration, authentication, TLS) and turns
its failures into one-line ClusterErrors that name the verb and the resource.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from gpukit.errors import ClusterError, MissingExtraError, did_you_mean

__all__ = ["ApiStatusError", "Cluster", "Resource", "Unreachable", "WatchDropped", "connect"]

Obj = dict[str, Any]

FIELD_MANAGER = "gpukit"
APPLY_PATCH = "application/apply-patch+yaml"
#: (connect, read) seconds for ordinary requests.
TIMEOUT = (5, 30)
PAGE_SIZE = 500

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")

#: API groups and the component that serves them, for "not installed" messages.
COMPONENTS = {
    "batch.volcano.sh": "Volcano",
    "scheduling.volcano.sh": "Volcano",
    "kueue.x-k8s.io": "Kueue",
    "trainer.kubeflow.org": "Kubeflow Trainer",
    "kubeflow.org": "the Kubeflow Training Operator",
    "jobset.x-k8s.io": "JobSet",
    "leaderworkerset.x-k8s.io": "LeaderWorkerSet",
    "scheduling.run.ai": "the KAI Scheduler",
    "nvidia.com": "the NVIDIA GPU Operator",
    "ray.io": "KubeRay",
    "resource.k8s.io": "dynamic resource allocation (Kubernetes 1.34 or later)",
}


def kubernetes_module() -> Any:
    """The kubernetes package, or MissingExtraError naming the extra that brings it."""
    try:
        import kubernetes
    except ImportError:
        raise MissingExtraError.for_module("kubernetes", "kube") from None
    return kubernetes


class ApiStatusError(ClusterError):
    """The API answered a request with a failure Status (403, 404, 409, 422, ...)."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        reason: str = "",
        api_message: str = "",
        causes: Sequence[Obj] = (),
        details: Obj | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.api_message = api_message
        self.causes = list(causes)
        self.details = details or {}


class Unreachable(ClusterError):
    """The API could not be reached; ``maybe_sent`` when the request may have arrived."""

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class WatchDropped(ClusterError):
    """A watch stream ended mid-way (connection cut, or its resourceVersion expired)."""


@dataclass(frozen=True)
class Resource:
    """A served resource: where its objects live and whether they sit in a namespace."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """'jobs.batch' ('pods' in the core group): the name RBAC rules and kubectl use."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return base + (f"/{name}" if name else "")


#: Kinds that several API groups define, and the group a bare name means.
_SHARED_KINDS = {"Job": "batch", "Queue": None, "PodGroup": None, "Topology": None}


def object_ref(kind: str, api_version: str, name: str, namespace: str | None) -> str:
    """'Kind/namespace/name', the kind qualified by its group where the bare name is ambiguous
    ('Job.batch.volcano.sh/team/ddp', but 'Job/team/train' for batch/v1)."""
    group = api_version.rpartition("/")[0]
    if kind in _SHARED_KINDS and group != _SHARED_KINDS[kind]:
        kind = f"{kind}.{group}"
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _target(verb: str, resource: str, namespace: str | None, name: str | None) -> str:
    text = f"{verb} {resource}"
    if name:
        text += f" {name!r}"
    if namespace == ALL_NAMESPACES:
        text += " in all namespaces"
    elif namespace:
        text += f" in namespace {namespace!r}"
    return text


#: Marks a list or watch across every namespace in messages.
ALL_NAMESPACES = "*"


def _scope(res: Resource, namespace: str | None) -> str | None:
    if not res.namespaced:
        return None
    return namespace or ALL_NAMESPACES


def _short_cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    for known, short in (
        ("Connection refused", "connection refused"),
        ("timed out", "connection timed out"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
        ("IncompleteRead", "connection closed mid-response"),
        ("RemoteDisconnected", "connection closed without a response"),
        ("Connection aborted", "connection closed without a response"),
        ("Connection broken", "connection closed mid-response"),
    ):
        if known in text:
            return short
    return text.rsplit(": ", 1)[-1].strip("'\")( ") or type(exc).__name__


class Cluster:
    """One connection to one cluster: its context, default namespace and discovery cache.

    Build it with :func:`connect`; close it (or use ``with``) to release connections.
    """

    def __init__(
        self, api_client: Any, *, namespace: str = "default", context: str | None = None
    ) -> None:
        self.api_client = api_client
        self.namespace = namespace
        self.context = context
        self._groups: dict[str, list[str]] | None = None
        self._resources: dict[str, list[Resource]] = {}

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    def __repr__(self) -> str:
        return f"Cluster(context={self.context!r}, server={self.server!r}, namespace={self.namespace!r})"

    def close(self) -> None:
        self.api_client.rest_client.pool_manager.clear()
        self.api_client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        resource: str,
        namespace: str | None = None,
        name: str | None = None,
        query: Sequence[tuple[str, Any]] = (),
        body: Any = None,
        content_type: str | None = None,
        stream: bool = False,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> tuple[int, Any]:
        """(HTTP status, parsed JSON) of one call; ``stream`` returns the open response."""
        kubernetes = kubernetes_module()
        import urllib3

        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response, status, _ = self.api_client.call_api(
                path,
                method,
                query_params=list(query),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=timeout,
            )
        except kubernetes.client.exceptions.ApiException as exc:
            raise self._status_error(exc, verb, resource, namespace, name) from None
        except urllib3.exceptions.HTTPError as exc:
            raise self.unreachable(exc, _target(verb, resource, namespace, name)) from None
        if stream:
            return status, response
        try:
            raw = response.data
        except urllib3.exceptions.HTTPError as exc:
            raise self.unreachable(exc, _target(verb, resource, namespace, name)) from None
        finally:
            response.release_conn()
        try:
            return status, json.loads(raw) if raw else {}
        except ValueError:
            raise ClusterError(
                f"{_target(verb, resource, namespace, name)}: the server at {self.server} did "
                "not answer with JSON; is this a Kubernetes API server?"
            ) from None

    def unreachable(self, exc: BaseException, target: str) -> Unreachable:
        import urllib3

        # NewConnectionError subclasses ConnectTimeoutError: either way nothing was sent.
        never_sent = isinstance(
            getattr(exc, "reason", None) or exc, urllib3.exceptions.ConnectTimeoutError
        )
        context = f" (context {self.context!r})" if self.context else ""
        return Unreachable(
            f"cannot reach the Kubernetes API at {self.server}{context} to {target}: "
            f"{_short_cause(exc)}; check that the cluster is up and that the kubeconfig's "
            "server address is right (kubectl cluster-info)",
            maybe_sent=not never_sent,
        )

    def _status_error(
        self, exc: Any, verb: str, resource: str, namespace: str | None, name: str | None
    ) -> ClusterError:
        # TLS failures come as status 0 before anything was sent
        target = _target(verb, resource, namespace, name)
        if not exc.status:
            unreachable = self.unreachable(exc, target)
            unreachable.maybe_sent = False
            return unreachable
        try:
            status = json.loads(exc.body) if exc.body else {}
        except (ValueError, TypeError):
            status = {}
        if not isinstance(status, dict):
            status = {}
        api_message = " ".join(str(status.get("message") or exc.reason or "").split())
        details = status.get("details") or {}
        common = {
            "code": exc.status,
            "reason": status.get("reason", ""),
            "api_message": api_message,
            "causes": details.get("causes") or (),
            "details": details,
        }
        if exc.status == 401:
            return ApiStatusError(
                f"the Kubernetes API at {self.server} rejected the credentials of context "
                f"{self.context!r} (401 Unauthorized) to {target}; log in again to refresh "
                "them, or pick another context with --context",
                **common,
            )
        if exc.status == 403:
            return ApiStatusError(
                f"RBAC forbids {target}: {api_message}; ask a cluster admin for a Role or "
                f"ClusterRole granting '{verb}' on '{resource}'",
                **common,
            )
        return ApiStatusError(
            f"{target} failed ({exc.status} {status.get('reason') or exc.reason}): {api_message}",
            **common,
        )

    # -- discovery -----------------------------------------------------------------

    def forget_discovery(self) -> None:
        """Drop cached API groups and resources (after CRDs were created or removed)."""
        self._groups = None
        self._resources.clear()

    def api_groups(self) -> dict[str, list[str]]:
        """API group -> served versions, preferred first ('' is the core group)."""
        if self._groups is None:
            _, core = self.request("GET", "/api", verb="get", resource="/api")
            _, apis = self.request("GET", "/apis", verb="get", resource="/apis")
            groups = {"": list(core.get("versions") or ["v1"])}
            for group in apis.get("groups") or []:
                preferred = (group.get("preferredVersion") or {}).get("version")
                versions = [v["version"] for v in group.get("versions") or []]
                if preferred in versions:
                    versions.remove(preferred)
                    versions.insert(0, preferred)
                groups[group["name"]] = versions
            self._groups = groups
        return self._groups

    def resources(self, group: str, version: str) -> list[Resource]:
        """What ``group/version`` serves (empty when it is not served)."""
        key = f"{group}/{version}"
        if key not in self._resources:
            if version not in self.api_groups().get(group, []):
                self._resources[key] = []
            else:
                path = f"/apis/{group}/{version}" if group else f"/api/{version}"
                try:
                    _, doc = self.request("GET", path, verb="get", resource=path)
                except ApiStatusError as exc:
                    if exc.code != 404:
                        raise
                    doc = {}
                self._resources[key] = [
                    Resource(group, version, r["kind"], r["name"], bool(r.get("namespaced")))
                    for r in doc.get("resources") or []
                    if "/" not in r["name"]
                ]
        return self._resources[key]

    def resource(self, api_version: str, kind: str) -> Resource:
        """The resource serving ``kind`` in ``api_version``; ClusterError naming what to install."""
        group, _, version = api_version.rpartition("/")
        groups = self.api_groups()
        component = COMPONENTS.get(group)
        if group not in groups:
            install = f"{component} is not installed" if component else "its CRD is not installed"
            raise ClusterError(
                f"the cluster does not serve {kind} ({api_version}): {install} (no {group} API "
                "group); install it first, or plan against the live fleet (--fleet live) so "
                "gpukit only uses what the cluster has"
            )
        if version not in groups[group]:
            raise ClusterError(
                f"the cluster serves {group or 'the core group'} in {', '.join(groups[group])}, "
                f"not {version}; {kind} needs apiVersion {group}/{groups[group][0]}"
                f"{' (upgrade ' + component + ')' if component else ''}"
            )
        for res in self.resources(group, version):
            if res.kind == kind:
                return res
        kinds = [r.kind for r in self.resources(group, version)]
        raise ClusterError(
            f"the cluster serves {api_version} but no kind {kind!r} in it"
            f"{did_you_mean(kind, kinds)}; kinds there: {', '.join(sorted(kinds)) or 'none'}"
        )

    def find(self, group: str, plural: str) -> Resource | None:
        """``plural`` in ``group``'s preferred version that serves it, or None."""
        for version in self.api_groups().get(group, []):
            for res in self.resources(group, version):
                if res.plural == plural:
                    return res
        return None

    # -- verbs ---------------------------------------------------------------------

    def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj | None:
        """The object, or None when it does not exist."""
        namespace = (namespace or self.namespace) if res.namespaced else None
        try:
            _, obj = self.request(
                "GET",
                res.path(namespace, name),
                verb="get",
                resource=res.qualified,
                namespace=namespace,
                name=name,
            )
        except ApiStatusError as exc:
            if exc.code == 404:
                return None
            raise
        return obj

    def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        labels: str | None = None,
        fields: str | None = None,
    ) -> tuple[list[Obj], str]:
        """(items, resourceVersion) across pages; namespace None lists all namespaces."""
        namespace = namespace if res.namespaced else None
        items: list[Obj] = []
        token = None
        while True:
            query: list[tuple[str, Any]] = [("limit", PAGE_SIZE)]
            if labels:
                query.append(("labelSelector", labels))
            if fields:
                query.append(("fieldSelector", fields))
            if token:
                query.append(("continue", token))
            _, doc = self.request(
                "GET",
                res.path(namespace),
                verb="list",
                resource=res.qualified,
                namespace=_scope(res, namespace),
                query=query,
            )
            for item in doc.get("items") or []:
                # Built-in lists omit each item's apiVersion and kind.
                item.setdefault("apiVersion", res.api_version)
                item.setdefault("kind", res.kind)
                items.append(item)
            meta = doc.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return items, str(meta.get("resourceVersion") or "")

    def watch(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        resource_version: str,
        timeout_seconds: int = 30,
        labels: str | None = None,
        fields: str | None = None,
    ) -> Iterator[tuple[str, Obj]]:
        """(event type, object) until the server ends the stream after ``timeout_seconds``.

        Raises WatchDropped when the stream is cut mid-way or its resourceVersion expired
        (410): the caller lists again and resumes.
        """
        import urllib3

        namespace = namespace if res.namespaced else None
        query: list[tuple[str, Any]] = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", int(timeout_seconds)),
            ("allowWatchBookmarks", "true"),
        ]
        if labels:
            query.append(("labelSelector", labels))
        if fields:
            query.append(("fieldSelector", fields))
        target = _target("watch", res.qualified, _scope(res, namespace), None)
        _, response = self.request(
            "GET",
            res.path(namespace),
            verb="watch",
            resource=res.qualified,
            namespace=_scope(res, namespace),
            query=query,
            stream=True,
            timeout=(TIMEOUT[0], timeout_seconds + 10),
        )
        buffer = b""
        ended = False
        try:
            for chunk in response.stream(2**16, decode_content=True):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield self._watch_event(line, target)
            if buffer.strip():
                yield self._watch_event(buffer, target)
            ended = True
        except urllib3.exceptions.HTTPError as exc:
            raise WatchDropped(f"the watch ({target}) was cut: {_short_cause(exc)}") from None
        finally:
            if not ended:
                response.close()  # the stream was left mid-way: its connection is not reusable
            response.release_conn()

    @staticmethod
    def _watch_event(line: bytes, target: str) -> tuple[str, Obj]:
        try:
            event = json.loads(line)
        except ValueError:
            raise WatchDropped(f"the watch ({target}) sent a line that is not JSON") from None
        kind, obj = event.get("type", ""), event.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise WatchDropped(f"the watch ({target}) expired: {obj.get('message')}")
            raise ApiStatusError(
                f"{target} failed ({code} {obj.get('reason')}): {obj.get('message')}",
                code=int(code or 0),
                reason=obj.get("reason", ""),
                api_message=obj.get("message", ""),
            )
        return kind, obj

    def apply(
        self,
        res: Resource,
        obj: Obj,
        *,
        dry_run: bool,
        force: bool = False,
        field_manager: str = FIELD_MANAGER,
    ) -> tuple[int, Obj]:
        """Server-side apply of one object: (201 created | 200 updated, the object)."""
        meta = obj["metadata"]
        namespace = meta.get("namespace") if res.namespaced else None
        query: list[tuple[str, Any]] = [("fieldManager", field_manager)]
        if force:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        return self.request(
            "PATCH",
            res.path(namespace, meta["name"]),
            verb="patch",
            resource=res.qualified,
            namespace=namespace,
            name=meta["name"],
            query=query,
            body=obj,
            content_type=APPLY_PATCH,
        )


# -- connecting -------------------------------------------------------------------------


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
        raise ClusterError(f"kubeconfig {path}: not UTF-8 text; give a kubeconfig YAML file") from None
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
            kubernetes.client.ApiClient(configuration),
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
            kubernetes.client.ApiClient(config),
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
        kubernetes.client.ApiClient(config),
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
