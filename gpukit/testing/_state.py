"""The state behind the API double: stored objects, the watch log, field owners, apply."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field

from gpukit.testing._fields import (
    ListKeys,
    delete_paths,
    fields_v1,
    format_path,
    get_path,
    list_keys,
    owned_paths,
    set_path,
)
from gpukit.testing._selectors import field_matcher, label_matcher
from gpukit.testing._types import (
    BUILTIN_RESOURCES,
    CRD,
    ApiError,
    Key,
    Obj,
    Path,
    ResourceType,
    invalid,
    namespace_not_found,
    not_found,
    version_priority,
)
from gpukit.testing._validation import validation_causes

__all__ = ["Store"]


@dataclass
class _Event:
    rv: int
    type: str
    group: str
    plural: str
    namespace: str
    obj: Obj


@dataclass
class Store:
    """Objects by (group, plural, namespace, name), an event log for watches, field owners."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    rv: int = 0
    objects: dict[Key, Obj] = field(default_factory=dict)
    owners: dict[Key, dict[Path, dict[str, tuple[str, str]]]] = field(default_factory=dict)
    log: list[_Event] = field(default_factory=list)
    compacted: int = 0
    _uids: int = 0

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)
        self._managed_cache: dict[Key, list[Obj]] = {}
        self._sorted: dict[tuple[str, str], tuple[int, list[Key]]] = {}

    # -- resource types ------------------------------------------------------------

    def types(self) -> list[ResourceType]:
        """Built-in resources, then every served version of every stored CRD."""
        with self.lock:
            crds = [o for k, o in self.objects.items() if k[:2] == CRD]
        found = list(BUILTIN_RESOURCES)
        for crd in sorted(crds, key=lambda c: c["metadata"]["name"]):
            spec = crd.get("spec") or {}
            names = spec.get("names") or {}
            for version in spec.get("versions") or []:
                if not version.get("served", True):
                    continue
                found.append(
                    ResourceType(
                        group=spec.get("group", ""),
                        version=version["name"],
                        kind=names.get("kind", ""),
                        plural=names.get("plural", ""),
                        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                        singular=names.get("singular", ""),
                        short_names=tuple(names.get("shortNames") or ()),
                        status="status" in (version.get("subresources") or {}),
                        builtin=False,
                    )
                )
        return found

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions, highest priority first (the first is preferred)."""
        versions: dict[str, set[str]] = {}
        for rt in self.types():
            versions.setdefault(rt.group, set()).add(rt.version)
        return {g: sorted(vs, key=version_priority) for g, vs in versions.items()}

    def resolve(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rt in self.types():
            if (rt.group, rt.version, rt.plural) == (group, version, plural):
                return rt
        return None

    def list_keys(self, rt: ResourceType) -> ListKeys:
        """How apply merges ``rt``'s lists: by key where its schema says so, else whole."""
        return list_keys(rt, self.objects)

    def by_kind(self, api_version: str, kind: str) -> ResourceType:
        group, _, version = api_version.rpartition("/")
        for rt in self.types():
            if (rt.group, rt.version, rt.kind) == (group, version, kind):
                return rt
        raise KeyError(f"the fake API server does not serve {kind} in {api_version}")

    # -- reads ---------------------------------------------------------------------

    def present(self, rt: ResourceType, obj: Obj, *, in_list: bool = False) -> Obj:
        """An object as the API returns it in ``rt``'s group version.

        A shallow copy: stored objects are never changed in place (every write stores a new
        object), so answers can share their nested parts.
        """
        out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        if not (in_list and rt.builtin):
            # Built-in list items come without apiVersion and kind, as from a real server.
            out = {"apiVersion": rt.group_version, "kind": rt.kind, **out}
        out["metadata"] = dict(obj["metadata"])
        key = self._key(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        owners = self.owners.get(key)
        if owners:
            cached = self._managed_cache.get(key)
            if cached is None:
                cached = self._managed_cache[key] = self._managed_fields(owners)
            out["metadata"]["managedFields"] = cached
        return out

    @staticmethod
    def _managed_fields(owners: dict[Path, dict[str, tuple[str, str]]]) -> list[Obj]:
        grouped: dict[tuple[str, str, str], list[Path]] = {}
        for path, managers in owners.items():
            for manager, (operation, api_version) in managers.items():
                grouped.setdefault((manager, operation, api_version), []).append(path)
        return [
            {
                "manager": m,
                "operation": op,
                "apiVersion": av,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1(paths),
            }
            for (m, op, av), paths in sorted(grouped.items())
        ]

    @staticmethod
    def _key(rt: ResourceType, namespace: str | None, name: str) -> Key:
        return (rt.group, rt.plural, (namespace or "") if rt.namespaced else "", name)

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        with self.lock:
            obj = self.objects.get(self._key(rt, namespace, name))
            if obj is None:
                raise not_found(rt, name)
            return self.present(rt, obj)

    def find(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        with self.lock:
            obj = self.objects.get(self._key(rt, namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        start: int = 0,
        limit: int = 0,
    ) -> tuple[list[Obj], int, int]:
        """(items from ``start``, at most ``limit`` of them, resourceVersion, matches in all).

        Objects come in key order (namespace, then name), as etcd returns them. Pages are
        offsets into that order: unlike a real server's snapshot, a list that changes between
        pages may repeat or skip an object.
        """
        labels_ok = label_matcher(label_selector)
        fields_ok = field_matcher(rt, field_selector)
        target = (rt.group, rt.plural)
        with self.lock:
            built_at, keys = self._sorted.get(target, (-1, []))
            if built_at != self.rv:
                keys = sorted(k for k in self.objects if k[:2] == target)
                self._sorted[target] = (self.rv, keys)
            matching = [
                obj
                for key in keys
                if (not namespace or not rt.namespaced or key[2] == namespace)
                and labels_ok(
                    ((obj := self.objects[key]).get("metadata") or {}).get("labels") or {}
                )
                and fields_ok(obj)
            ]
            page = matching[start : start + limit] if limit else matching[start:]
            return [self.present(rt, o, in_list=True) for o in page], self.rv, len(matching)

    def namespace_exists(self, namespace: str) -> bool:
        return ("", "namespaces", "", namespace) in self.objects

    # -- writes --------------------------------------------------------------------

    def _record(self, kind: str, rt: ResourceType, key: Key, obj: Obj) -> None:
        self.log.append(_Event(self.rv, kind, rt.group, rt.plural, key[2], copy.deepcopy(obj)))
        self.changed.notify_all()

    def _stamp_new(self, rt: ResourceType, obj: Obj, namespace: str | None) -> Obj:
        self._uids += 1
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        meta["uid"] = f"00000000-0000-4000-8000-{self._uids:012d}"
        meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        meta["generation"] = 1
        if (rt.group, rt.plural) == ("", "namespaces"):
            obj.setdefault("status", {"phase": "Active"})
        if (rt.group, rt.plural) == CRD:
            obj.setdefault(
                "status",
                {
                    "conditions": [
                        {"type": "Established", "status": "True"},
                        {"type": "NamesAccepted", "status": "True"},
                    ],
                    "acceptedNames": (obj.get("spec") or {}).get("names", {}),
                },
            )
        obj["apiVersion"] = rt.group_version
        obj["kind"] = rt.kind
        return obj

    def _commit(self, rt: ResourceType, key: Key, obj: Obj, created: bool) -> None:
        old = self.objects.get(key)
        if old is not None and _same(old, obj):
            return
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        if old is not None and old.get("spec") != obj.get("spec"):
            obj["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        self.objects[key] = obj
        self._record("ADDED" if created else "MODIFIED", rt, key, obj)

    def put(
        self,
        rt: ResourceType,
        obj: Obj,
        manager: str | None,
        namespace: str | None = None,
        validate: bool = False,
        dry_run: bool = False,
    ) -> tuple[int, Obj]:
        """Create or replace ``obj`` (an Update operation: the manager takes changed fields)."""
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            namespace = meta.get("namespace") or namespace or ("default" if rt.namespaced else None)
            name = meta.get("name", "")
            if validate:
                causes = validation_causes(rt, obj)
                if causes:
                    raise invalid(rt, name, causes)
                if rt.namespaced and not self.namespace_exists(namespace or ""):
                    raise namespace_not_found(namespace or "")
            key = self._key(rt, namespace, name)
            old = self.objects.get(key)
            if old is None:
                obj = self._stamp_new(rt, obj, namespace)
            else:
                for field_name in ("uid", "creationTimestamp", "generation", "resourceVersion"):
                    if field_name in old["metadata"]:
                        obj["metadata"][field_name] = old["metadata"][field_name]
                if rt.namespaced:
                    obj["metadata"]["namespace"] = namespace
                obj["apiVersion"], obj["kind"] = rt.group_version, rt.kind
                if rt.status and "status" not in obj and "status" in old:
                    obj["status"] = copy.deepcopy(old["status"])
            if dry_run:
                return (201 if old is None else 200), self.present(rt, obj)
            if manager:
                self._take_update(rt, key, old or {}, obj, manager)
            self._commit(rt, key, obj, created=old is None)
            return (201 if old is None else 200), self.present(rt, obj)

    def _take_update(self, rt: ResourceType, key: Key, old: Obj, new: Obj, manager: str) -> None:
        self._managed_cache.pop(key, None)
        owners = self.owners.setdefault(key, {})
        keys = self.list_keys(rt)
        old_paths = owned_paths(old, rt, keys) if old else {}
        new_paths = owned_paths(new, rt, keys)
        for path in set(owners) - set(new_paths):
            owners.pop(path, None)
        for path, value in new_paths.items():
            if path not in old_paths or old_paths[path] != value or path not in owners:
                owners[path] = {manager: ("Update", rt.group_version)}

    def set_status(self, rt: ResourceType, namespace: str | None, name: str, status: Obj) -> Obj:
        with self.lock:
            key = self._key(rt, namespace, name)
            old = self.objects.get(key)
            if old is None:
                raise not_found(rt, name)
            obj = copy.deepcopy(old)
            obj["status"] = copy.deepcopy(status)
            self._commit(rt, key, obj, created=False)
            return self.present(rt, obj)

    def delete(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        with self.lock:
            key = self._key(rt, namespace, name)
            obj = self.objects.pop(key, None)
            if obj is None:
                raise not_found(rt, name)
            self.owners.pop(key, None)
            self._managed_cache.pop(key, None)
            self.rv += 1
            self._record("DELETED", rt, key, obj)
            if (rt.group, rt.plural) == ("", "namespaces"):
                # The namespace controller removes everything inside; done at once here.
                for inner in [
                    k for k in self.objects if k[2] == name and k[:2] != ("", "namespaces")
                ]:
                    inner_rt = next(t for t in self.types() if (t.group, t.plural) == inner[:2])
                    self.delete(inner_rt, name, inner[3])
            return self.present(rt, obj)

    def apply(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: Obj,
        manager: str,
        *,
        force: bool,
        dry_run: bool,
    ) -> tuple[int, Obj]:
        """Server-side apply: create, or merge the manager's fields, with conflict detection."""
        with self.lock:
            key = self._key(rt, namespace, name)
            current = self.objects.get(key)
            new_paths = owned_paths(body, rt, self.list_keys(rt))
            if current is None:
                obj = copy.deepcopy(body)
                obj.setdefault("metadata", {})
                if rt.status:
                    obj.pop("status", None)  # status is written through its subresource only
                causes = validation_causes(rt, obj)
                if causes:
                    raise invalid(rt, name, causes)
                if rt.namespaced and not self.namespace_exists(namespace or ""):
                    raise namespace_not_found(namespace or "")
                obj = self._stamp_new(rt, obj, namespace)
                owners = {p: {manager: ("Apply", rt.group_version)} for p in new_paths}
                code = 201
            else:
                owners = copy.deepcopy(self.owners.get(key, {}))
                conflicts = []
                for path, value in new_paths.items():
                    others = {m: o for m, o in owners.get(path, {}).items() if m != manager}
                    if others and get_path(current, path) != value:
                        conflicts.extend((m, o[1], path) for m, o in others.items())
                if conflicts and not force:
                    raise _conflict(rt, name, conflicts)
                obj = copy.deepcopy(current)
                dropped = []
                for path in list(owners):
                    managers = owners[path]
                    if (
                        manager in managers
                        and managers[manager][0] == "Apply"
                        and path not in new_paths
                    ):
                        del managers[manager]
                        if not managers:
                            del owners[path]
                            dropped.append(path)
                delete_paths(obj, dropped)
                for path, value in new_paths.items():
                    if force or get_path(current, path) != value:
                        owners[path] = {manager: ("Apply", rt.group_version)}
                    else:
                        owners.setdefault(path, {})[manager] = ("Apply", rt.group_version)
                    set_path(obj, path, value)
                causes = validation_causes(rt, obj)
                if causes:
                    raise invalid(rt, name, causes)
                code = 200
            if dry_run:
                out = self.present(rt, obj)
                out["metadata"]["managedFields"] = self._managed_fields(owners)
                return code, out
            self.owners[key] = owners
            self._managed_cache.pop(key, None)
            self._commit(rt, key, obj, created=current is None)
            return code, self.present(rt, self.objects[key])

    # -- watch ---------------------------------------------------------------------

    def events_after(
        self,
        rt: ResourceType,
        namespace: str | None,
        rv: int,
        labels_ok,
        fields_ok,
    ) -> list[tuple[int, str, Obj]]:
        if rv < self.compacted:
            raise ApiError(410, "Expired", f"too old resource version: {rv} ({self.compacted})")
        found = []
        for event in self.log:
            if event.rv <= rv or (event.group, event.plural) != (rt.group, rt.plural):
                continue
            if namespace and rt.namespaced and event.namespace != namespace:
                continue
            meta = event.obj.get("metadata") or {}
            if labels_ok(meta.get("labels") or {}) and fields_ok(event.obj):
                found.append((event.rv, event.type, self.present_event(rt, event.obj)))
        return found

    def present_event(self, rt: ResourceType, obj: Obj) -> Obj:
        return {
            "apiVersion": rt.group_version,
            "kind": rt.kind,
            **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
        }

    def compact(self) -> None:
        """Forget the event log, as etcd compaction does: older resourceVersions expire."""
        with self.lock:
            self.compacted = self.rv
            self.log.clear()


def _same(old: Obj, new: Obj) -> bool:
    def strip(o: Obj) -> Obj:
        o = copy.deepcopy(o)
        o.get("metadata", {}).pop("resourceVersion", None)
        o.get("metadata", {}).pop("generation", None)
        return o

    return strip(old) == strip(new)


def _conflict(rt: ResourceType, name: str, conflicts: list[tuple[str, str, Path]]) -> ApiError:
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{m}" using {av}',
            "field": format_path(p),
        }
        for m, av, p in conflicts
    ]
    if len(conflicts) == 1:
        m, av, p = conflicts[0]
        message = f'Apply failed with 1 conflict: conflict with "{m}" using {av}: {format_path(p)}'
    else:
        managers = sorted({(m, av) for m, av, _ in conflicts})
        lines = [
            f'conflicts with "{m}" using {av}:'
            + "".join(f"\n- {format_path(p)}" for mm, aa, p in conflicts if (mm, aa) == (m, av))
            for m, av in managers
        ]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(
        409,
        "Conflict",
        message,
        {"name": name, "group": rt.group, "kind": rt.plural, "causes": causes},
    )
