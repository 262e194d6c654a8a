"""The Validator: finds the schema of an object by apiVersion/kind and runs the checks."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gpukit.errors import ManifestError, did_you_mean
from gpukit.validate import _names
from gpukit.validate._check import Checker, copy_json, render_path, show
from gpukit.validate._files import expand_paths, load_manifests
from gpukit.validate._issue import Issue
from gpukit.validate._pod import check_podspec
from gpukit.validate._schema import META_DEF, Compiler, Node

__all__ = ["FileReport", "Validator"]

_SCHEMAS = "schemas"

# Core kinds that live outside namespaces (the schemas do not say; the API server does).
_CLUSTER_SCOPED_CORE = frozenset(
    {
        "APIService",
        "CSIDriver",
        "CSINode",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ComponentStatus",
        "CustomResourceDefinition",
        "DeviceClass",
        "DeviceTaintRule",
        "FlowSchema",
        "IngressClass",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "ResourceSlice",
        "RuntimeClass",
        "StorageClass",
        "StorageVersion",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeAttributesClass",
    }
)
# Node shapes inside CRDs that are a Kubernetes PodSpec (CRDs inline it).
_PODSPEC_FIELDS = frozenset({"containers", "initContainers", "volumes", "restartPolicy"})


@dataclass(frozen=True)
class _Schema:
    api_version: str
    kind: str
    root: Node
    source: str  # "core", "crd" (vendored) or "user" (a CRD given at run time)
    namespaced: bool | None
    name_rule: str
    deprecated: str | None = None  # warning text when the version is deprecated
    served: bool = True


@dataclass(frozen=True)
class FileReport:
    """What checking one file found: its label, how many objects, and the issues."""

    file: str
    objects: int
    issues: list[Issue] = field(default_factory=list)


def _read_packaged(name: str) -> Any:
    data = resources.files(__package__).joinpath(_SCHEMAS, name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return json.loads(data)


def _split(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


class Validator:
    """Checks Kubernetes objects against the Kubernetes core schema and CRD schemas.

    The vendored schemas (see ``gpukit/validate/schemas/SOURCES.md``) are always known.
    ``crds`` adds CustomResourceDefinitions (dicts, or paths of YAML/JSON files holding
    them); a CRD given here replaces a vendored one with the same group and kind, so the
    schemas of the cluster you target win. Compiled schemas are cached on the instance;
    keep one Validator and reuse it.
    """

    def __init__(self, crds: Iterable[dict[str, Any] | str | Path] = ()) -> None:
        index = _read_packaged("index.json")
        self._index: dict[str, str] = index["kinds"]
        self._files: dict[str, Any] = {}
        self._schemas: dict[str, _Schema | None] = {}
        self._core: Compiler | None = None
        self._core_kinds: dict[str, str] = {}
        self._user: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._user_kinds: set[tuple[str, str]] = set()  # (group, kind) given as CRDs
        for crd in crds:
            if isinstance(crd, dict):
                self._add_crd(crd, "<crd>")
            else:
                label, docs = load_manifests(crd)
                for doc in docs:
                    self._add_crd(doc.data, f"{label}#{doc.index}")

    # -- schema lookup -----------------------------------------------------------------

    def _add_crd(self, crd: Any, where: str) -> None:
        if not (
            isinstance(crd, dict)
            and crd.get("kind") == "CustomResourceDefinition"
            and crd.get("apiVersion") == "apiextensions.k8s.io/v1"
        ):
            raise ManifestError(
                f"{where}: not an apiextensions.k8s.io/v1 CustomResourceDefinition; "
                "give CRD manifests (kubectl get crd NAME -o yaml)"
            )
        try:
            spec = crd["spec"]
            group, kind = spec["group"], spec["names"]["kind"]
            for version in spec["versions"]:
                if not isinstance(version["schema"]["openAPIV3Schema"], dict):
                    raise TypeError
                self._user[f"{group}/{version['name']}/{kind}"] = (crd, version)
            self._user_kinds.add((group, kind))
        except (KeyError, TypeError):
            raise ManifestError(
                f"{where}: CRD lacks spec.group, spec.names.kind or a version's "
                "schema.openAPIV3Schema; give a complete apiextensions.k8s.io/v1 CRD"
            ) from None
        self._schemas.clear()

    def _core_compiler(self) -> Compiler:
        if self._core is None:
            name = next(f for f in sorted(set(self._index.values())) if f.startswith("core-"))
            core = self._file(name)
            self._core = Compiler(core["definitions"])
            self._core_kinds = core["kinds"]
        return self._core

    def _file(self, name: str) -> Any:
        if name not in self._files:
            self._files[name] = _read_packaged(name)
        return self._files[name]

    def meta_node(self) -> Node:
        return self._core_compiler().ref(META_DEF)

    def schema(self, api_version: str, kind: str) -> _Schema | None:
        """The compiled schema for apiVersion/kind, or None when gpukit knows none."""
        key = f"{api_version}/{kind}"
        if key not in self._schemas:
            self._schemas[key] = self._load(api_version, kind, key)
        return self._schemas[key]

    def _load(self, api_version: str, kind: str, key: str) -> _Schema | None:
        if key in self._user:
            crd, version = self._user[key]
            return self._crd_schema(
                api_version,
                kind,
                crd["spec"].get("scope"),
                version,
                version["schema"]["openAPIV3Schema"],
                "user",
            )
        name = self._index.get(key)
        if name is None or (_split(api_version)[0], kind) in self._user_kinds:
            return None  # unknown, or a version the CRD given in its place does not have
        data = self._file(name)
        if name.startswith("core-"):
            compiler = self._core_compiler()
            return _Schema(
                api_version,
                kind,
                compiler.ref(data["kinds"][key]),
                "core",
                kind not in _CLUSTER_SCOPED_CORE,
                _names.NAME_RULES.get(kind, "dns-subdomain"),
            )
        version = next(v for v in data["versions"] if v["name"] == _split(api_version)[1])
        return self._crd_schema(api_version, kind, data["scope"], version, version["schema"], "crd")

    def _crd_schema(
        self,
        api_version: str,
        kind: str,
        scope: str | None,
        version: dict[str, Any],
        schema: dict[str, Any],
        source: str,
    ) -> _Schema:
        root = Compiler().compile(schema)
        _mark_podspecs(root, set())
        # The API server validates a custom resource's metadata as ObjectMeta, whatever
        # the CRD says (controller-gen writes only `type: object`).
        props = dict(root.props or {})
        props["metadata"] = self.meta_node()
        for name in ("apiVersion", "kind"):
            if name not in props:
                props[name] = Compiler().compile({"type": "string"})
        root.props = props
        deprecated = None
        if version.get("deprecated"):
            deprecated = version.get("deprecationWarning") or (
                f"{api_version} {kind} is deprecated"
            )
        return _Schema(
            api_version,
            kind,
            root,
            source,
            None if scope is None else scope == "Namespaced",
            "dns-subdomain",
            deprecated,
            bool(version.get("served", True)),
        )

    def known_kinds(self) -> list[str]:
        """Every 'apiVersion/Kind' this validator has a schema for, sorted."""
        vendored = {
            key
            for key in self._index
            if (_split(key.rsplit("/", 1)[0])[0], key.rsplit("/", 1)[1]) not in self._user_kinds
        }
        return sorted({*vendored, *self._user})

    def _unknown_message(self, api_version: str, kind: str) -> str:
        group, _ = _split(api_version)
        known = self.known_kinds()
        same_kind = [
            k.rsplit("/", 1)[0]
            for k in known
            if k.endswith("/" + kind) and _split(k.rsplit("/", 1)[0])[0] == group
        ]
        if same_kind:
            return (
                f"{kind} is not served as {api_version}; known versions: "
                f"{', '.join(same_kind)}; change apiVersion"
            )
        in_group = sorted(
            {k.rsplit("/", 1)[1] for k in known if _split(k.rsplit("/", 1)[0])[0] == group}
        )
        if in_group:
            return (
                f"no kind {kind!r} in API group {group or 'core'!r}{did_you_mean(kind, in_group)}; "
                "nothing was checked"
            )
        return (
            f"no schema for {api_version} {kind}: gpukit knows Kubernetes core kinds and the "
            "CRDs listed by `gpukit.validate.known_kinds()`; nothing was checked. Pass the "
            "CRD (--crd FILE, or Validator(crds=[...]))"
        )

    # -- checking ----------------------------------------------------------------------

    def check(
        self, obj: Any, *, file: str | None = None, doc: int | None = None
    ) -> tuple[list[Issue], Any]:
        """(issues, the object as the API server would store it) for one object.

        The second item has nulls pruned and defaults applied; it is None when the object
        has no known schema.
        """
        where = {"file": file, "doc": doc}
        if not isinstance(obj, dict):
            return [
                Issue(
                    code="not-an-object",
                    message=f"expected a Kubernetes object (a mapping), got {type(obj).__name__}",
                    **where,
                )
            ], None
        ident = _ident(obj)
        issues: list[Issue] = []
        for key in ("apiVersion", "kind"):
            if not isinstance(obj.get(key), str) or not obj.get(key):
                issues.append(
                    Issue(
                        code="required" if key not in obj else "type",
                        path=key,
                        message=f"every object needs {key} as a non-empty string; add it",
                        **ident,
                        **where,
                    )
                )
        if issues:
            return issues, None
        api_version, kind = ident["api_version"], ident["kind"]
        if api_version == "v1" and kind == "List":
            return self._check_list(obj, ident, where)
        schema = self.schema(api_version, kind)
        if schema is None:
            return [
                Issue(
                    code="unknown-kind",
                    message=self._unknown_message(api_version, kind),
                    **ident,
                    **where,
                )
            ], None
        if not schema.served:
            issues.append(
                Issue(
                    code="unserved-version",
                    message=f"{api_version} {kind} is defined but not served; use a served version",
                    **ident,
                    **where,
                )
            )
        if schema.deprecated:
            issues.append(
                Issue(
                    severity="warning",
                    code="deprecated-version",
                    message=schema.deprecated,
                    **ident,
                    **where,
                )
            )
        stored = copy_json(obj)
        checker = Checker(podspec_hook=check_podspec, meta=self.meta_node())
        checker.walk(stored, schema.root, None)
        self._check_root_meta(checker, stored.get("metadata"), schema)
        issues.extend(
            Issue(
                severity=severity,  # type: ignore[arg-type]
                code=code,  # type: ignore[arg-type]
                path=render_path(path),
                message=message,
                **ident,
                **where,
            )
            for severity, code, path, message in checker.issues
        )
        return issues, stored

    def _check_list(
        self, obj: dict[str, Any], ident: dict[str, Any], where: dict[str, Any]
    ) -> tuple[list[Issue], Any]:
        items = obj.get("items")
        if not isinstance(items, list):
            return [
                Issue(
                    code="type",
                    path="items",
                    message="a v1 List needs items: a list of objects",
                    **ident,
                    **where,
                )
            ], None
        issues: list[Issue] = []
        stored = []
        for item in items:
            found, item_stored = self.check(item, **where)
            issues.extend(found)
            stored.append(item_stored)
        return issues, {**obj, "items": stored}

    def _check_root_meta(self, checker: Checker, meta: Any, schema: _Schema) -> None:
        at: Any = (None, "metadata")
        if meta is None:
            checker.add("required", (at, "name"), "name or generateName is required")
            return
        if not isinstance(meta, dict):
            return  # the schema walk reported the type
        name, generate = meta.get("name"), meta.get("generateName")
        if not name and not generate:
            checker.add("required", (at, "name"), "name or generateName is required")
        if isinstance(name, str) and name:
            why = _names.check_name(name, schema.name_rule)
            if why:
                checker.add("name", (at, "name"), f"{show(name)} {why}")
        elif isinstance(generate, str) and generate:
            # The server appends a random suffix; the prefix must allow a valid name.
            why = _names.check_name(generate + "x", schema.name_rule)
            if why:
                checker.add("name", (at, "generateName"), f"{show(generate)}: {why}")
        namespace = meta.get("namespace")
        if isinstance(namespace, str) and namespace:
            why = _names.check_name(namespace, "dns-label")
            if why:
                checker.add("name", (at, "namespace"), f"{show(namespace)} {why}")
            if schema.namespaced is False:
                checker.add(
                    "name",
                    (at, "namespace"),
                    f"{schema.kind} is cluster-scoped; the API server ignores the namespace; "
                    "remove it",
                    severity="warning",
                )

    def validate(self, obj: Any, *, file: str | None = None, doc: int | None = None) -> list[Issue]:
        """The issues of one object (an empty list when it is valid)."""
        return self.check(obj, file=file, doc=doc)[0]

    def with_defaults(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``obj`` as the API server would store it: nulls pruned, defaults set."""
        issues, stored = self.check(obj)
        if stored is None:
            raise ManifestError(f"cannot default this object: {issues[0]}")
        return stored

    def validate_objects(self, objs: Iterable[Any], *, file: str | None = None) -> list[Issue]:
        """The issues of many objects; ``doc`` in each issue is the object's position."""
        issues: list[Issue] = []
        for index, obj in enumerate(objs):
            issues.extend(self.check(obj, file=file, doc=index)[0])
        return issues

    def check_file(self, path: str | Path) -> FileReport:
        """Check every document of one file; raises ManifestError when it cannot be read."""
        label, docs = load_manifests(path)
        issues: list[Issue] = []
        count = 0
        for doc in docs:
            found, _ = self.check(doc.data, file=label, doc=doc.index)
            count += _count(doc.data)
            issues.extend(found)
            ident = _ident(doc.data) if isinstance(doc.data, dict) else {}
            for key, line in doc.duplicates:
                issues.append(
                    Issue(
                        code="duplicate",
                        message=f"key {key!r} appears twice in one mapping (line {line}); "
                        "the API server rejects duplicate fields; keep one",
                        file=label,
                        doc=doc.index,
                        **ident,
                    )
                )
        return FileReport(file=label, objects=count, issues=issues)

    def validate_files(self, paths: Iterable[str | Path]) -> list[Issue]:
        """The issues of every object in the files (folders: their YAML/JSON files)."""
        issues: list[Issue] = []
        for path in expand_paths(paths):
            issues.extend(self.check_file(path).issues)
        return issues


def _ident(obj: dict[str, Any]) -> dict[str, str | None]:
    """apiVersion, kind, name and namespace of an object, where they are strings."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    return {
        "api_version": text(obj.get("apiVersion")),
        "kind": text(obj.get("kind")),
        "name": text(meta.get("name")),
        "namespace": text(meta.get("namespace")),
    }


def _count(data: Any) -> int:
    if (
        isinstance(data, dict)
        and data.get("kind") == "List"
        and isinstance(data.get("items"), list)
    ):
        return len(data["items"])
    return 1


def _mark_podspecs(node: Node, seen: set[int]) -> None:
    """Tag inlined PodSpecs and template metadata in a CRD schema for the pod rules.

    The API server does not run them on a custom resource, but the pods its controller
    creates from these templates would be rejected.
    """
    if id(node) in seen:
        return
    seen.add(id(node))
    if node.props:
        if _PODSPEC_FIELDS <= node.props.keys():
            node.hook = "crd-podspec"
        meta = node.props.get("metadata")
        if meta is not None and meta.props and {"labels", "annotations"} <= meta.props.keys():
            meta.hook = "meta"  # a pod (or other) template's metadata
        for sub in node.props.values():
            _mark_podspecs(sub, seen)
    for sub in (node.items, node.addl if isinstance(node.addl, Node) else None):
        if sub is not None:
            _mark_podspecs(sub, seen)
