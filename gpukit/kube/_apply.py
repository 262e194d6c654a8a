"""apply(): server-side apply in apply order, dry-run first, per-object results, no deletes."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gpukit._loading import load_documents, read_text
from gpukit._text import table
from gpukit.errors import ClusterError, InputError, ManifestError
from gpukit.kube._client import (
    FIELD_MANAGER,
    ApiStatusError,
    Cluster,
    Resource,
    Unreachable,
    object_ref,
)
from gpukit.kube._connect import use_cluster

__all__ = ["ApplyResult", "ObjectResult", "apply", "load_manifests"]

Obj = dict[str, Any]
#: How long a real apply waits for a CRD it just created to be served (attempts x seconds).
CRD_WAIT_ATTEMPTS = 20
CRD_WAIT_SECONDS = 0.5
Action = Literal[
    "created", "configured", "unchecked", "failed", "refused", "not-applied", "unknown"
]

#: Apply order: namespaces, CRDs, other cluster-scoped objects, quotas, config, identities,
#: RBAC, services and queues, then the workloads that need all of those.
_RANK = {
    "Namespace": 0,
    "CustomResourceDefinition": 1,
    "ResourceQuota": 3,
    "LimitRange": 3,
    "Secret": 4,
    "ConfigMap": 4,
    "ServiceAccount": 5,
    "Role": 6,
    "RoleBinding": 6,
}
_CLUSTER_KINDS = {
    "PriorityClass",
    "NodePool",
    "ClusterRole",
    "ClusterRoleBinding",
    "ResourceFlavor",
    "ClusterQueue",
    "Cohort",
    "Topology",
    "WorkloadPriorityClass",
    "DeviceClass",
    "ClusterTrainingRuntime",
    "StorageClass",
    "PersistentVolume",
}
_WORKLOAD_KINDS = {
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "PyTorchJob",
    "MPIJob",
    "TrainJob",
    "JobSet",
    "LeaderWorkerSet",
    "RayJob",
    "RayCluster",
    "RayService",
}
_OTHER_NAMESPACED = 7


def _rank(kind: str, namespaced: bool | None) -> int:
    if kind in _RANK:
        return _RANK[kind]
    if namespaced is False or (namespaced is None and kind in _CLUSTER_KINDS):
        return 2
    return 8 if kind in _WORKLOAD_KINDS else _OTHER_NAMESPACED


class ObjectResult(BaseModel):
    """What happened to one object: its action, the HTTP code, the API's message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    api_version: str
    name: str
    namespace: str | None = None
    action: Action
    dry_run: bool = True
    code: int | None = None
    message: str | None = None

    @property
    def ref(self) -> str:
        return object_ref(self.kind, self.api_version, self.name, self.namespace)

    @property
    def ok(self) -> bool:
        return self.action in ("created", "configured", "unchecked")

    @property
    def applied(self) -> bool:
        """Written to the cluster (a dry run writes nothing)."""
        return not self.dry_run and self.action in ("created", "configured")


class ApplyResult(BaseModel):
    """Per-object results of one apply, in apply order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dry_run: bool
    objects: tuple[ObjectResult, ...]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.objects)

    @property
    def applied(self) -> list[ObjectResult]:
        return [o for o in self.objects if o.applied]

    @property
    def failed(self) -> list[ObjectResult]:
        return [o for o in self.objects if o.action in ("failed", "refused", "unknown")]

    @property
    def not_applied(self) -> list[ObjectResult]:
        return [o for o in self.objects if not o.applied]

    def summary(self) -> str:
        total = len(self.objects)
        counts = {a: sum(o.action == a for o in self.objects) for a in ("created", "configured")}
        done = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
        refused = [o for o in self.objects if o.action == "refused"]
        if refused:
            return (
                f"nothing applied: {len(refused)} of {total} objects refused before any "
                "request was made"
            )
        if self.dry_run:
            if self.ok:
                return (
                    f"server-side dry run: all {total} objects accepted ({done or 'none'}); "
                    "nothing was changed; run again with --yes to apply"
                )
            return (
                f"server-side dry run: {len(self.failed)} of {total} objects rejected; "
                "nothing was changed"
            )
        if self.ok:
            return f"applied {total} objects ({done})"
        applied = self.applied
        if not applied:
            return f"nothing applied: {len(self.failed)} of {total} objects rejected"
        failed = ", ".join(o.ref for o in self.failed)
        rest = [o.ref for o in self.objects if o.action == "not-applied"]
        return (
            f"applied {len(applied)} of {total} objects ({', '.join(o.ref for o in applied)})"
            f", then {failed} failed" + (f"; not applied: {', '.join(rest)}" if rest else "")
        )

    def table(self) -> str:
        rows = [
            (o.ref, o.action + (" (dry run)" if o.dry_run and o.ok else ""), o.message)
            for o in self.objects
        ]
        return table(["OBJECT", "RESULT", "MESSAGE"], rows, max_width=120)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "summary": self.summary(),
            "objects": [o.model_dump(mode="json") for o in self.objects],
        }

    def raise_for_failure(self) -> ApplyResult:
        """Self when every object went through; otherwise ClusterError with the summary."""
        if not self.ok:
            first = self.failed[0] if self.failed else None
            detail = f": {first.ref}: {first.message}" if first else ""
            raise ClusterError(self.summary() + detail)
        return self


# -- reading manifests -------------------------------------------------------------------


def load_manifests(*sources: str | Path) -> list[Obj]:
    """Objects from YAML/JSON files, folders (their *.yaml, *.yml, *.json, recursively,
    sorted) or '-' (stdin); `kind: List` documents and top-level lists are expanded."""
    objects: list[Obj] = []
    for source in sources:
        path = Path(source)
        if str(source) != "-" and path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix in (".yaml", ".yml", ".json")
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not files:
                raise ManifestError(f"{path}: no .yaml, .yml or .json files in this folder")
        else:
            files = [source]  # type: ignore[list-item]
        for file in files:
            label, text = read_text(file)
            for index, doc in load_documents(label, text):
                if isinstance(doc, dict) and doc.get("kind") == "List":
                    docs = doc.get("items")
                else:
                    docs = doc if isinstance(doc, list) else [doc]
                for obj in docs or []:
                    objects.append(_checked(obj, f"{label} document {index + 1}"))
    if not objects:
        raise ManifestError("no Kubernetes objects found in " + ", ".join(map(str, sources)))
    return objects


def _checked(obj: Any, where: str) -> Obj:
    if not isinstance(obj, dict):
        raise ManifestError(
            f"{where}: expected a Kubernetes object (a mapping), got {type(obj).__name__}"
        )
    missing = [f for f in ("apiVersion", "kind") if not obj.get(f)]
    if not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name"):
        missing.append("metadata.name")
    if missing:
        raise ManifestError(
            f"{where}: missing {', '.join(missing)}; every object needs "
            "apiVersion, kind and metadata.name"
        )
    return obj


# -- applying ----------------------------------------------------------------------------


def _result(
    obj: Obj, action: Action, dry_run: bool, code: int | None = None, message: str | None = None
) -> ObjectResult:
    meta = obj["metadata"]
    return ObjectResult(
        kind=obj["kind"],
        api_version=obj["apiVersion"],
        name=meta["name"],
        namespace=meta.get("namespace"),
        action=action,
        dry_run=dry_run,
        code=code,
        message=message,
    )


def _explain(exc: ApiStatusError, obj: Obj) -> str:
    namespace = obj["metadata"].get("namespace")
    if exc.code == 409:
        return (
            f"conflict: {exc.api_message}; another field manager owns these fields: "
            "re-run with --force-conflicts (force=True) to take them over, or change them "
            "through that manager"
        )
    if exc.code == 422:
        return f"invalid: {exc.api_message}"
    if exc.code == 404 and exc.details.get("kind") == "namespaces":
        return (
            f"namespace {namespace!r} does not exist; create it (kubectl create namespace "
            f"{namespace}) or add a Namespace object to what you apply"
        )
    return str(exc)


def apply(
    objects: Iterable[Obj],
    dry_run: bool = True,
    *,
    cluster_scope: bool = False,
    force: bool = False,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    cluster: Cluster | None = None,
    field_manager: str = FIELD_MANAGER,
) -> ApplyResult:
    """Server-side apply ``objects`` (field manager 'gpukit'); a server-side dry run by default.

    Objects go in apply order. Before anything is written, every object is resolved against
    the cluster's APIs (a kind it does not serve is refused), cluster-scoped objects are
    refused unless ``cluster_scope``, and a server-side dry run of all of them must pass; a
    real apply then stops at the first failure and the result says exactly which objects
    were applied and which were not. Nothing is ever deleted. Namespaced objects without a
    namespace go to ``namespace`` or the context's namespace.
    """
    items = [_checked(copy.deepcopy(o), f"object {i + 1}") for i, o in enumerate(objects)]
    if not items:
        raise InputError("nothing to apply: no objects given")
    cluster, owned = use_cluster(cluster, context, kubeconfig, namespace)
    try:
        return _apply(
            cluster,
            items,
            dry_run=dry_run,
            cluster_scope=cluster_scope,
            force=force,
            namespace=namespace or cluster.namespace,
            field_manager=field_manager,
        )
    finally:
        if owned:
            cluster.close()


def _apply(
    cluster: Cluster,
    items: list[Obj],
    *,
    dry_run: bool,
    cluster_scope: bool,
    force: bool,
    namespace: str,
    field_manager: str,
) -> ApplyResult:
    resolved: list[tuple[Obj, Resource | None, str | None]] = []
    batch_crds = _crd_resources(items)
    pending: set[int] = set()  # objects whose CRD this apply creates
    for obj in items:
        try:
            res = cluster.resource(obj["apiVersion"], obj["kind"])
        except (ApiStatusError, Unreachable):
            raise
        except ClusterError as exc:  # a kind the cluster does not serve
            found = batch_crds.get((obj["apiVersion"], obj["kind"]))
            if found is None:
                resolved.append((obj, None, str(exc)))
                continue
            res = found
            pending.add(id(obj))
        meta = obj["metadata"]
        if res.namespaced:
            meta["namespace"] = meta.get("namespace") or namespace
        else:
            meta.pop("namespace", None)
        refusal = None
        if not res.namespaced and not cluster_scope:
            refusal = (
                f"{obj['kind']} is cluster-scoped; pass --cluster-scope "
                "(cluster_scope=True) to apply cluster-wide objects"
            )
        resolved.append((obj, res, refusal))
    resolved = [
        r
        for _, r in sorted(
            enumerate(resolved),
            key=lambda ir: (
                _rank(ir[1][0]["kind"], ir[1][1].namespaced if ir[1][1] else None),
                ir[0],
            ),
        )
    ]

    if any(refusal for _, _, refusal in resolved):
        count = sum(1 for _, _, r in resolved if r)
        return ApplyResult(
            dry_run=dry_run,
            objects=tuple(
                _result(obj, "refused", dry_run, message=refusal)
                if refusal
                else _result(
                    obj,
                    "not-applied",
                    dry_run,
                    message=f"not applied: {count} object(s) refused; fix them first",
                )
                for obj, _, refusal in resolved
            ),
        )

    # Every object goes through a server-side dry run before anything is written.
    new_namespaces = {
        o["metadata"]["name"]
        for o, _, _ in resolved
        if o["kind"] == "Namespace" and o["apiVersion"] == "v1"
    }
    checked = [
        _result(
            obj,
            "unchecked",
            True,
            None,
            "its CustomResourceDefinition is created by "
            "this apply, so the server could not dry-run it",
        )
        if id(obj) in pending
        else _apply_one(cluster, obj, res, True, force, field_manager, new_namespaces)
        for obj, res, _ in resolved
    ]  # type: ignore[arg-type]
    if dry_run:
        return ApplyResult(dry_run=True, objects=tuple(checked))
    if not all(r.ok for r in checked):
        rejected = sum(not r.ok for r in checked)
        return ApplyResult(
            dry_run=False,
            objects=tuple(
                r.model_copy(update={"dry_run": False})
                if not r.ok
                else r.model_copy(
                    update={
                        "action": "not-applied",
                        "dry_run": False,
                        "code": None,
                        "message": f"not applied: the server-side dry run rejected "
                        f"{rejected} object(s); nothing was written",
                    }
                )
                for r in checked
            ),
        )
    results: list[ObjectResult] = []
    stopped: ObjectResult | None = None
    for obj, res, _ in resolved:
        if stopped is not None:
            results.append(
                _result(
                    obj,
                    "not-applied",
                    False,
                    message=f"not applied: stopped after {stopped.ref} failed",
                )
            )
            continue
        outcome = _apply_one(
            cluster,
            obj,
            res,
            False,
            force,
            field_manager,
            set(),  # type: ignore[arg-type]
            wait_for_crd=id(obj) in pending,
        )
        results.append(outcome)
        if not outcome.ok:
            stopped = outcome
    if any(r.applied and r.kind == "CustomResourceDefinition" for r in results):
        cluster.forget_discovery()
    return ApplyResult(dry_run=False, objects=tuple(results))


def _crd_resources(items: list[Obj]) -> dict[tuple[str, str], Resource]:
    """(apiVersion, kind) -> Resource for every served version of the CRDs in ``items``."""
    found: dict[tuple[str, str], Resource] = {}
    for obj in items:
        if obj["kind"] != "CustomResourceDefinition" or not str(obj["apiVersion"]).startswith(
            "apiextensions.k8s.io/"
        ):
            continue
        spec = obj.get("spec") or {}
        names = spec.get("names") or {}
        for version in spec.get("versions") or []:
            if version.get("served", True) and names.get("kind") and names.get("plural"):
                found[(f"{spec.get('group')}/{version['name']}", names["kind"])] = Resource(
                    group=spec.get("group", ""),
                    version=version["name"],
                    kind=names["kind"],
                    plural=names["plural"],
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                )
    return found


def _apply_one(
    cluster: Cluster,
    obj: Obj,
    res: Resource,
    dry_run: bool,
    force: bool,
    field_manager: str,
    new_namespaces: Sequence[str] | set[str],
    *,
    wait_for_crd: bool = False,
) -> ObjectResult:
    try:
        for attempt in range(CRD_WAIT_ATTEMPTS if wait_for_crd else 1):
            try:
                code, _ = cluster.apply(
                    res, obj, dry_run=dry_run, force=force, field_manager=field_manager
                )
                break
            except ApiStatusError as exc:
                # A CRD created a moment ago is served once it is Established.
                if exc.code != 404 or attempt == CRD_WAIT_ATTEMPTS - 1 or not wait_for_crd:
                    raise
                time.sleep(CRD_WAIT_SECONDS)
    except ApiStatusError as exc:
        namespace = obj["metadata"].get("namespace")
        if (
            dry_run
            and exc.code == 404
            and exc.details.get("kind") == "namespaces"
            and namespace in new_namespaces
        ):
            return _result(
                obj,
                "unchecked",
                dry_run,
                exc.code,
                f"namespace {namespace!r} does not exist yet and this apply creates "
                "it, so the server could not dry-run this object",
            )
        return _result(obj, "failed", dry_run, exc.code, _explain(exc, obj))
    except Unreachable as exc:
        if dry_run:
            raise
        if exc.maybe_sent:
            return _result(
                obj,
                "unknown",
                dry_run,
                None,
                f"{exc}; the request may have reached the server: check with kubectl "
                f"get {res.qualified} {obj['metadata']['name']}"
                + (
                    f" -n {obj['metadata']['namespace']}"
                    if obj["metadata"].get("namespace")
                    else ""
                ),
            )
        return _result(obj, "failed", dry_run, None, f"not applied: {exc}")
    return _result(obj, "created" if code == 201 else "configured", dry_run, code)
