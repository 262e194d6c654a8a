"""What the API double serves and how it fails: resource types, discovery, metav1.Status errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BUILTIN_RESOURCES",
    "CRD",
    "ApiError",
    "Key",
    "Obj",
    "Path",
    "ResourceType",
    "invalid",
    "namespace_not_found",
    "not_found",
    "version_priority",
]

Obj = dict[str, Any]
Key = tuple[str, str, str, str]  # group, plural, namespace ('' when cluster-scoped), name
#: A field's place in an object: map keys, and list items by key (see _fields.ItemKey).
Path = tuple[str, ...]


class ApiError(Exception):
    """An API failure, answered as a metav1.Status object with the same code and reason."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: Obj | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> Obj:
        body: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


@dataclass(frozen=True)
class ResourceType:
    """One served resource: what discovery lists and what a URL's plural resolves to."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    status: bool = True  # has a status subresource that apply ignores
    builtin: bool = True

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """'jobs.batch', or 'pods' in the core group, as RBAC and error messages write it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery(self) -> list[Obj]:
        verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
        entry: Obj = {
            "name": self.plural,
            "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        entries = [entry]
        if self.status:
            entries.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return entries


def _builtin(
    group: str,
    version: str,
    kind: str,
    plural: str,
    namespaced: bool,
    *short: str,
    status: bool = True,
) -> ResourceType:
    return ResourceType(group, version, kind, plural, namespaced, kind.lower(), short, status)


#: The built-in resources a Kubernetes 1.34 API server serves that gpukit reads or writes.
BUILTIN_RESOURCES: tuple[ResourceType, ...] = (
    _builtin("", "v1", "Namespace", "namespaces", False, "ns"),
    _builtin("", "v1", "Node", "nodes", False, "no"),
    _builtin("", "v1", "Pod", "pods", True, "po"),
    _builtin("", "v1", "Event", "events", True, "ev", status=False),
    _builtin("", "v1", "ConfigMap", "configmaps", True, "cm", status=False),
    _builtin("", "v1", "Secret", "secrets", True, status=False),
    _builtin("", "v1", "Service", "services", True, "svc"),
    _builtin("", "v1", "ServiceAccount", "serviceaccounts", True, "sa", status=False),
    _builtin("", "v1", "LimitRange", "limitranges", True, "limits", status=False),
    _builtin("", "v1", "ResourceQuota", "resourcequotas", True, "quota"),
    _builtin("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, "pvc"),
    _builtin("apps", "v1", "Deployment", "deployments", True, "deploy"),
    _builtin("apps", "v1", "StatefulSet", "statefulsets", True, "sts"),
    _builtin("apps", "v1", "DaemonSet", "daemonsets", True, "ds"),
    _builtin("batch", "v1", "Job", "jobs", True),
    _builtin("batch", "v1", "CronJob", "cronjobs", True, "cj"),
    _builtin("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, "pdb"),
    _builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", True, status=False),
    _builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, status=False),
    _builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, status=False),
    _builtin(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        False,
        status=False,
    ),
    _builtin(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        "crd",
        "crds",
    ),
    _builtin(
        "scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, "pc", status=False
    ),
    _builtin("resource.k8s.io", "v1", "DeviceClass", "deviceclasses", False, status=False),
    _builtin("resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", True),
    _builtin(
        "resource.k8s.io",
        "v1",
        "ResourceClaimTemplate",
        "resourceclaimtemplates",
        True,
        status=False,
    ),
    _builtin("resource.k8s.io", "v1", "ResourceSlice", "resourceslices", False, status=False),
)

CRD = ("apiextensions.k8s.io", "customresourcedefinitions")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Kubernetes' version order: GA before beta before alpha, higher numbers first."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, 0, 0, version)
    major = int(match[1])
    stage = {None: 0, "beta": 1, "alpha": 2}[match[2]]
    return (stage, -major, -int(match[3] or 0), version)


def invalid(rt: ResourceType, name: str, causes: list[Obj]) -> ApiError:
    kind = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    parts = [f"{c['field']}: {c['message']}" for c in causes]
    detail = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {detail}',
        {"name": name, "group": rt.group, "kind": rt.kind, "causes": causes},
    )


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{rt.qualified} "{name}" not found',
        {"name": name, "group": rt.group, "kind": rt.plural},
    )


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'namespaces "{namespace}" not found',
        {"name": namespace, "kind": "namespaces"},
    )
