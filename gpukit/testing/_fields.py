"""Field paths for server-side apply: the leaves a manager owns, with lists merged by key.

A path is a tuple of map keys and, for an item of a list the API server merges by key, an
:class:`ItemKey` naming the item by its key fields, spelled as managedFields spell it
(``k:{"name":"main"}``). Such lists are the ones a schema marks ``x-kubernetes-list-type:
map`` with ``x-kubernetes-list-map-keys``: two managers can own different containers, or
different env vars of one container, and an apply that drops an item removes only that
item. Every other list is atomic: one leaf, owned and replaced whole.

Which lists are keyed comes from the object's schema: for a custom resource, the stored
CRD's openAPIV3Schema (lists under ``x-kubernetes-preserve-unknown-fields`` are atomic, as
on a real server); for built-in kinds, :data:`BUILTIN_LIST_KEYS`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator
from itertools import pairwise
from typing import Any, Self

from gpukit.testing._types import CRD, Obj, Path, ResourceType

__all__ = [
    "BUILTIN_LIST_KEYS",
    "ItemKey",
    "ListKeys",
    "delete_paths",
    "fields_v1",
    "format_path",
    "get_path",
    "list_keys",
    "owned_paths",
    "set_path",
]

#: The key fields of a list at a path (given with its ItemKeys), or None when it is atomic.
ListKeys = Callable[[Path], tuple[str, ...] | None]

#: Keyed lists of the built-in kinds, by field name: the ``+listType=map`` / ``+listMapKey``
#: markers of k8s.io/api core/v1 (PodSpec, Container, ResourceRequirements) and
#: k8s.io/apimachinery ObjectMeta, as controller-gen carries them into the JobSet and
#: LeaderWorkerSet CRDs' pod templates (``x-kubernetes-list-map-keys``). Not keyed there,
#: hence atomic: tolerations, envFrom, command, args, finalizers (a set of scalars).
BUILTIN_LIST_KEYS: dict[str, tuple[str, ...]] = {
    "claims": ("name",),
    "containers": ("name",),
    "env": ("name",),
    "ephemeralContainers": ("name",),
    "hostAliases": ("ip",),
    "imagePullSecrets": ("name",),
    "initContainers": ("name",),
    "ownerReferences": ("uid",),
    "ports": ("containerPort", "protocol"),
    "resourceClaims": ("name",),
    "schedulingGates": ("name",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "volumeDevices": ("devicePath",),
    "volumeMounts": ("mountPath",),
    "volumes": ("name",),
}
#: ServiceSpec.ports: ``+listMapKey=port`` and ``+listMapKey=protocol``.
SERVICE_PORT_KEYS = ("port", "protocol")
#: Key fields the API server defaults before it merges (ContainerPort and ServicePort).
KEY_DEFAULTS = {"protocol": "TCP"}

_META_SYSTEM = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "selfLink",
}


class ItemKey(str):
    """One item of a keyed list, by the values of its key fields: ``k:{"name":"main"}``."""

    fields: dict[str, Any]

    def __new__(cls, fields: dict[str, Any]) -> Self:
        text = "k:" + json.dumps(fields, sort_keys=True, separators=(",", ":"))
        key = super().__new__(cls, text)
        key.fields = dict(fields)
        return key

    @classmethod
    def of(cls, item: Obj, names: tuple[str, ...]) -> ItemKey:
        return cls({name: item.get(name, KEY_DEFAULTS.get(name)) for name in names})

    def matches(self, item: Any) -> bool:
        return isinstance(item, dict) and all(
            item.get(name, KEY_DEFAULTS.get(name)) == value for name, value in self.fields.items()
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (ItemKey, (self.fields,))

    def __deepcopy__(self, memo: dict[int, Any]) -> ItemKey:
        return self

    def __copy__(self) -> ItemKey:
        return self


# -- which lists are keyed ---------------------------------------------------------------


def _builtin_keys(rt: ResourceType) -> ListKeys:
    service = (rt.group, rt.plural) == ("", "services")

    def keys(path: Path) -> tuple[str, ...] | None:
        name = path[-1] if path else ""
        if service and path == ("spec", "ports"):
            return SERVICE_PORT_KEYS
        if name == "ports" and not (len(path) >= 2 and isinstance(path[-2], ItemKey)):
            return None  # container ports sit in a container item; others are not known
        return BUILTIN_LIST_KEYS.get(name)

    return keys


def _schema_keys(schema: Obj) -> ListKeys:
    def keys(path: Path) -> tuple[str, ...] | None:
        node: Any = schema
        for part in path:
            if not isinstance(node, dict):
                return None
            if isinstance(part, ItemKey):
                node = node.get("items")
            else:
                props = node.get("properties") or {}
                node = props.get(part, node.get("additionalProperties"))
        if isinstance(node, dict) and node.get("x-kubernetes-list-type") == "map":
            return tuple(node.get("x-kubernetes-list-map-keys") or ()) or None
        return None

    return keys


def _no_keys(path: Path) -> None:
    return None


def list_keys(rt: ResourceType, objects: dict[Any, Obj]) -> ListKeys:
    """How ``rt``'s lists merge: built-in markers, or the served CRD version's schema."""
    if rt.builtin:
        return _builtin_keys(rt)
    crd = objects.get((*CRD, "", f"{rt.plural}.{rt.group}"))
    for version in ((crd or {}).get("spec") or {}).get("versions") or []:
        if version.get("name") == rt.version:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if isinstance(schema, dict):
                return _schema_keys(schema)
    return _no_keys


# -- leaves and ownership ----------------------------------------------------------------


def _leaves(value: Any, keys: ListKeys, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    if isinstance(value, dict) and (value or not prefix):
        for key, item in value.items():
            yield from _leaves(item, keys, (*prefix, key))
        return
    if isinstance(value, list) and all(isinstance(i, dict) for i in value):
        names = keys(prefix)
        if names:
            # An empty keyed list owns no item (and built-in kinds omit it when empty).
            for item in value:
                yield from _leaves(item, keys, (*prefix, ItemKey.of(item, names)))
            return
    yield prefix, value


def owned_paths(obj: Obj, rt: ResourceType, keys: ListKeys = _no_keys) -> dict[Path, Any]:
    """Leaf fields a manager owns after writing ``obj``; status is not owned."""
    result: dict[Path, Any] = {}
    for path, value in _leaves(obj, keys):
        top = path[0]
        if top in ("apiVersion", "kind") or (top == "status" and rt.status):
            continue
        if top == "metadata" and len(path) > 1 and path[1] in _META_SYSTEM:
            continue
        if top == "metadata" and len(path) == 1:
            continue
        result[path] = value
    return result


# -- reading and writing by path ---------------------------------------------------------

MISSING = object()


def _child(node: Any, part: str) -> Any:
    if isinstance(part, ItemKey):
        if isinstance(node, list):
            return next((item for item in node if part.matches(item)), MISSING)
        return MISSING
    if isinstance(node, dict) and part in node:
        return node[part]
    return MISSING


def get_path(obj: Obj, path: Path) -> Any:
    current: Any = obj
    for part in path:
        current = _child(current, part)
        if current is MISSING:
            return MISSING
    return current


def set_path(obj: Obj, path: Path, value: Any) -> None:
    """Set a leaf, making the maps and keyed list items on the way (new items go last)."""
    current: Any = obj
    for part, after in pairwise(path):
        nxt = _child(current, part)
        if isinstance(part, ItemKey):
            if nxt is MISSING:
                nxt = dict(part.fields)
                current.append(nxt)
        else:
            wanted = list if isinstance(after, ItemKey) else dict
            if not isinstance(nxt, wanted):
                nxt = current[part] = wanted()
        current = nxt
    last = path[-1]
    if isinstance(last, ItemKey):
        item = {**last.fields, **copy.deepcopy(value)}
        for i, existing in enumerate(current):
            if last.matches(existing):
                current[i] = item
                return
        current.append(item)
        return
    current[last] = copy.deepcopy(value)


def _is_key_field(path: Path) -> bool:
    return len(path) >= 2 and isinstance(path[-2], ItemKey) and path[-1] in path[-2].fields


def delete_paths(obj: Obj, paths: Iterable[Path]) -> None:
    """Remove leaves, then what that left empty; an item's key fields go after its others."""
    for path in sorted(paths, key=lambda p: (_is_key_field(p), -len(p))):
        _delete_path(obj, path)


def _delete_path(obj: Obj, path: Path) -> None:
    nodes: list[Any] = [obj]
    for part in path[:-1]:
        nxt = _child(nodes[-1], part)
        if nxt is MISSING or not isinstance(nxt, dict | list):
            return
        nodes.append(nxt)
    parent, last = nodes[-1], path[-1]
    if _is_key_field(path) and set(parent) - set(path[-2].fields):
        return  # another manager still owns fields of this item: it keeps its identity
    if isinstance(last, ItemKey):
        if isinstance(parent, list):
            parent[:] = [item for item in parent if not last.matches(item)]
    elif isinstance(parent, dict):
        parent.pop(last, None)
    # Drop maps, items and lists the removal left empty, as the real server's field sets do.
    for depth in range(len(path) - 1, 0, -1):
        if nodes[depth] in ({}, []):
            above = nodes[depth - 1]
            if isinstance(above, list):
                above[:] = [item for item in above if item is not nodes[depth]]
            else:
                above.pop(path[depth - 1], None)


def format_path(path: Path) -> str:
    """'.spec.template.spec.containers[name="main"].image', as apply conflicts name fields."""
    text = ""
    for part in path:
        if isinstance(part, ItemKey):
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in part.fields.items()) + "]"
        else:
            text += "." + part
    return text


def fields_v1(paths: Iterable[Path]) -> Obj:
    tree: Obj = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            if isinstance(part, ItemKey):
                node = node.setdefault(part, {})
                node.setdefault(".", {})
            else:
                node = node.setdefault(f"f:{part}", {})
    return tree
