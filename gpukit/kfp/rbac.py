"""The least-privilege ServiceAccount, Role and RoleBinding the launcher component needs."""

from __future__ import annotations

from typing import Any

from gpukit.vocab import GPUKIT, MANAGED_BY_LABEL

__all__ = ["LAUNCHER_RULES", "launcher_rbac"]

_SUBMIT = ["get", "list", "watch", "create", "patch"]  # server-side apply is a PATCH; never delete
_READ = ["get", "list", "watch"]

#: Exactly what launch_gpu_workload does: apply the job kinds gpukit renders (and the
#: headless Service of an indexed Job), then follow them, their pods and the pods' events.
LAUNCHER_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["services"], "verbs": _SUBMIT},
    {"apiGroups": [""], "resources": ["pods", "events"], "verbs": _READ},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": _SUBMIT},
    {"apiGroups": ["batch.volcano.sh"], "resources": ["jobs"], "verbs": _SUBMIT},
    {"apiGroups": ["scheduling.volcano.sh"], "resources": ["podgroups"], "verbs": _READ},
    {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs"], "verbs": _SUBMIT},
    {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"], "verbs": _SUBMIT},
    {"apiGroups": ["jobset.x-k8s.io"], "resources": ["jobsets"], "verbs": _SUBMIT},
    {"apiGroups": ["kueue.x-k8s.io"], "resources": ["workloads", "localqueues"], "verbs": _READ},
]


def launcher_rbac(namespace: str, name: str = "gpukit-launcher") -> list[dict[str, Any]]:
    """ServiceAccount, Role and RoleBinding for the launcher in ``namespace``, apply order.

    Run the KFP step with this service account (kfp.kubernetes.set_service_account... or the
    pipeline's default service account) so it can submit jobs in that namespace only.
    """
    labels = {MANAGED_BY_LABEL: GPUKIT, "app.kubernetes.io/component": "launcher"}
    meta = {"name": name, "namespace": namespace, "labels": labels}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": dict(meta),
            "rules": [dict(rule) for rule in LAUNCHER_RULES],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": dict(meta),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ]
