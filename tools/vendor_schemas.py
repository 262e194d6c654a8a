"""Build tool: extract the schemas gpukit validates against into gpukit/validate/schemas/.

Run from the repository root whenever a source changes:

    .venv/bin/python tools/vendor_schemas.py [--reference ../shared/reference] [--check]

Two sources, both reduced to what the validator reads (descriptions, CEL rules and
client-side hints are dropped: they are most of the bytes and the validator never looks
at them):

* CRDs: the ``openAPIV3Schema`` of every version of each CRD gpukit renders or lints
  (``CRDS`` below), read from the upstream CRD manifests in the reference set. One
  ``<crd-file>.json.gz`` per CRD.
* Kubernetes core: every group/version/kind of Kubernetes ``CORE_VERSION`` from the JSON
  schemas that the ``kubernetes-validate`` package ships (generated from upstream
  Kubernetes OpenAPI), normalised to the same dialect as CRDs: ``$ref`` by definition
  name, no ``null`` types, IntOrString as ``x-kubernetes-int-or-string``, Quantity as
  ``format: quantity``, free-form objects as ``x-kubernetes-preserve-unknown-fields``.
  One ``core-<version>.json.gz``.

``index.json`` maps apiVersion/kind to a file and records where each file came from;
``SOURCES.md`` says the same for people. The test suite re-runs the extraction and
compares (tests/validate/test_validate_vendoring.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
OUT = ROOT / "gpukit" / "validate" / "schemas"
DEFAULT_REFERENCE = ROOT / ".." / "shared" / "reference"

# Reference CRD file stems: the kinds gpukit renders (workloads, queues, platform) or lints.
CRDS = (
    "kueue.x-k8s.io_resourceflavors",
    "kueue.x-k8s.io_clusterqueues",
    "kueue.x-k8s.io_localqueues",
    "kueue.x-k8s.io_cohorts",
    "kueue.x-k8s.io_workloadpriorityclasses",
    "kueue.x-k8s.io_topologies",
    "batch.volcano.sh_jobs",
    "scheduling.volcano.sh_podgroups",
    "scheduling.volcano.sh_queues",
    "topology.volcano.sh_hypernodes",
    "kubeflow.org_pytorchjobs",
    "trainer.kubeflow.org_trainjobs",
    "trainer.kubeflow.org_trainingruntimes",
    "trainer.kubeflow.org_clustertrainingruntimes",
    "jobset.x-k8s.io_jobsets",
    "leaderworkerset.x-k8s.io_leaderworkersets",
    "scheduling.run.ai_queues",
    "scheduling.run.ai_podgroups",
    "kai.scheduler_topologies",
    "karpenter.sh_nodepools",
    "nvidia.com_clusterpolicies",
    "ray.io_rayjobs",
    "ray.io_rayclusters",
)

# Oldest Kubernetes gpukit targets (resource.k8s.io/v1 is GA from 1.34): what passes here
# passes on every newer release, since fields are only ever added.
CORE_VERSION = "1.34"
CORE_PACKAGE = "kubernetes-validate"
CORE_DIR = f"kubernetes-json-schema/v{CORE_VERSION}.0-local"

# Schema keywords the validator interprets; everything else is dropped.
KEEP = frozenset(
    {
        "type",
        "properties",
        "additionalProperties",
        "items",
        "required",
        "enum",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "nullable",
        "default",
        "anyOf",
        "allOf",
        "oneOf",
        "not",
        "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
    }
)
_SUBSCHEMA = frozenset({"items", "not", "additionalProperties"})
_SUBSCHEMA_LISTS = frozenset({"anyOf", "allOf", "oneOf"})

# Core list semantics are enforced by Go validation case by case, not by the schema.
_CORE_DROP = frozenset({"x-kubernetes-list-type", "x-kubernetes-list-map-keys"})

_META_PREFIX = "io.k8s.apimachinery.pkg.apis.meta."

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def strip(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with only the keywords the validator reads."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in KEEP:
            continue
        if key == "properties":
            value = {name: strip(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA and isinstance(value, dict):
            value = strip(value)
        elif key in _SUBSCHEMA_LISTS:
            value = [strip(sub) for sub in value]
        out[key] = value
    return out


def extract_crd(doc: dict[str, Any]) -> dict[str, Any]:
    """The parts of one CRD manifest the validator needs."""
    spec = doc["spec"]
    versions = []
    for version in spec["versions"]:
        entry: dict[str, Any] = {
            "name": version["name"],
            "served": bool(version.get("served", True)),
            "storage": bool(version.get("storage", False)),
            "schema": strip(version["schema"]["openAPIV3Schema"]),
        }
        if version.get("deprecated"):
            entry["deprecated"] = True
            if version.get("deprecationWarning"):
                entry["deprecationWarning"] = version["deprecationWarning"]
        versions.append(entry)
    return {
        "group": spec["group"],
        "kind": spec["names"]["kind"],
        "plural": spec["names"]["plural"],
        "scope": spec["scope"],
        "versions": versions,
    }


def _normalise_core(node: dict[str, Any]) -> dict[str, Any]:
    """Rewrite one kubernetes-validate node into the CRD dialect (see module docstring)."""
    ref = node.get("$ref")
    if ref is not None:
        return {"$ref": ref.rsplit("/", 1)[-1]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            kinds = [t for t in (value if isinstance(value, list) else [value]) if t != "null"]
            if len(kinds) != 1:
                raise ValueError(f"core schema: unexpected type list {value!r}")
            out["type"] = kinds[0]
        elif key == "additionalProperties":
            if isinstance(value, dict):
                out[key] = _normalise_core(value)
            # `false` is the validator's default for objects with properties.
        elif key == "properties":
            out[key] = {name: _normalise_core(sub) for name, sub in value.items()}
        elif key == "items":
            out[key] = _normalise_core(value)
        elif key in KEEP and key not in _SUBSCHEMA_LISTS and key not in _CORE_DROP:
            out[key] = value
    if (
        out.get("type", "object") == "object"
        and "properties" not in out
        and ("additionalProperties" not in out)
    ):
        # RawExtension, JSON, FieldsV1 and friends hold arbitrary JSON.
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def extract_core(definitions: dict[str, Any]) -> dict[str, Any]:
    """All definitions in the CRD dialect plus the apiVersion/kind -> definition index."""
    defs: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for name, node in sorted(definitions.items()):
        if name == INT_OR_STRING:
            defs[name] = {"x-kubernetes-int-or-string": True}
        elif name == QUANTITY:
            defs[name] = {"format": "quantity"}
        else:
            defs[name] = _normalise_core(node)
        if name.startswith(_META_PREFIX):
            continue  # API responses and options (Status, DeleteOptions...), not objects
        for gvk in node.get("x-kubernetes-group-version-kind", ()):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            key = f"{api_version}/{gvk['kind']}"
            if key in kinds and kinds[key] != name:
                raise ValueError(f"core schema: {key} defined by {kinds[key]} and {name}")
            kinds[key] = name
    return {"version": CORE_VERSION, "kinds": dict(sorted(kinds.items())), "definitions": defs}


def _core_definitions() -> tuple[dict[str, Any], str]:
    """(definitions, package version) from the installed kubernetes-validate."""
    import kubernetes_validate  # noqa: F401  (fails clearly when the package is missing)

    path = resources.files("kubernetes_validate").joinpath(CORE_DIR, "_definitions.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["$defs"], metadata.version(CORE_PACKAGE)


def _crd_sources(reference: Path) -> dict[str, dict[str, str]]:
    """file stem -> project, repository, tag, commit, path from crds/SOURCES.md."""
    text = (reference / "crds" / "SOURCES.md").read_text(encoding="utf-8")
    commits: dict[tuple[str, str], tuple[str, str]] = {}
    files: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[0-9a-f]{40}", cells[3]):
            repo = cells[1].split()[0]
            commits[(repo, cells[2])] = (cells[0], cells[3])
        elif len(cells) == 10 and cells[0].startswith("`") and cells[0].endswith(".yaml`"):
            stem = cells[0].strip("`").removesuffix(".yaml")
            files[stem] = {"repository": cells[6], "tag": cells[7], "path": cells[9].strip("`")}
    for stem, entry in files.items():
        project, commit = commits[(entry["repository"], entry["tag"])]
        entry["project"] = project
        entry["commit"] = commit
    return files


def build(reference: Path | None, core: bool = True) -> dict[str, Any]:
    """file name -> content (dict for JSON files, str for SOURCES.md) of the vendored set.

    ``reference=None`` or ``core=False`` leaves that half out (the tests use this to
    compare one half when only one source is present).
    """
    out: dict[str, Any] = {}
    index: dict[str, Any] = {"kinds": {}, "files": {}}
    if reference is not None:
        sources = _crd_sources(reference)
        for stem in CRDS:
            text = (reference / "crds" / f"{stem}.yaml").read_text("utf-8")
            doc = yaml.load(text, Loader=_YAML_LOADER)
            crd = extract_crd(doc)
            name = f"{stem}.json.gz"
            out[name] = crd
            index["files"][name] = {"source": "crd", **sources[stem]}
            for version in crd["versions"]:
                index["kinds"][f"{crd['group']}/{version['name']}/{crd['kind']}"] = name
    if core:
        definitions, package_version = _core_definitions()
        extracted = extract_core(definitions)
        name = f"core-{CORE_VERSION}.json.gz"
        out[name] = extracted
        index["files"][name] = {
            "source": "core",
            "project": f"Kubernetes v{CORE_VERSION}.0 OpenAPI, as JSON schema",
            "repository": f"{CORE_PACKAGE} (PyPI)",
            "tag": package_version,
            "path": CORE_DIR + "/_definitions.json",
        }
        for key in extracted["kinds"]:
            index["kinds"][key] = name
    index["kinds"] = dict(sorted(index["kinds"].items()))
    index["files"] = dict(sorted(index["files"].items()))
    out["index.json"] = index
    out["SOURCES.md"] = sources_md(index)
    return out


def sources_md(index: dict[str, Any]) -> str:
    """The human-readable provenance table, generated from the index."""
    lines = [
        "# Vendored schemas: sources",
        "",
        "Generated by `tools/vendor_schemas.py`; do not edit. Each file holds only the parts of",
        "the upstream schema that gpukit's validator reads: descriptions, CEL rules",
        "(`x-kubernetes-validations`) and client hints are removed. Nothing else is changed.",
        "",
        "| File | Project | Repository | Tag | Commit | Upstream path |",
        "|---|---|---|---|---|---|",
    ]
    for name, src in index["files"].items():
        commit = f"`{src['commit']}`" if src.get("commit") else ""
        lines.append(
            f"| `{name}` | {src['project']} | {src['repository']} | {src['tag']} | {commit} "
            f"| `{src['path']}` |"
        )
    lines.append("")
    return "\n".join(lines)


def encode(name: str, content: Any) -> bytes:
    """File bytes: deterministic compact JSON, gzip'd for schema files."""
    if isinstance(content, str):
        return content.encode("utf-8")
    if name.endswith(".json.gz"):
        raw = json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return gzip.compress(raw, compresslevel=9, mtime=0)
    return (json.dumps(content, sort_keys=True, indent=1) + "\n").encode("utf-8")


def decode(name: str, data: bytes) -> Any:
    """Inverse of ``encode``."""
    if name.endswith(".md"):
        return data.decode("utf-8")
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return json.loads(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    files = build(args.reference)
    stale = []
    for name, content in files.items():
        target = args.out / name
        current = decode(name, target.read_bytes()) if target.exists() else None
        if current == content:
            continue
        stale.append(name)
        if not args.check:
            args.out.mkdir(parents=True, exist_ok=True)
            target.write_bytes(encode(name, content))
    extra = (
        sorted(p.name for p in args.out.glob("*") if p.is_file() and p.name not in files)
        if args.out.exists()
        else []
    )
    for name in stale:
        print(f"{'stale' if args.check else 'wrote'} {name}")
    for name in extra:
        print(f"not generated (remove it): {name}")
    total = sum(len(encode(n, c)) for n, c in files.items())
    print(f"{len(files)} files, {total:,} bytes")
    return 1 if args.check and (stale or extra) else 0


if __name__ == "__main__":
    sys.exit(main())
