"""Fixes: apply findings' edits to objects, or to files with ruamel.yaml round-trips.

Round-tripping keeps comments, key order and quoting where ruamel.yaml can. ruamel is
imported only here, only when a fix is asked for (the ``lint`` extra).
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, MutableMapping, MutableSequence
from pathlib import Path
from typing import Any

from gpukit.errors import ManifestError, MissingExtraError
from gpukit.lint._load import load_text, read_source
from gpukit.lint._model import Edit, Finding

__all__ = ["apply_edits", "fix_objects", "fix_text", "write_fixes"]

Loc = tuple[Any, ...]

_MISSING = object()


def _step(parent: Any, part: Any, create: bool) -> Any:
    if isinstance(parent, MutableMapping):
        if part not in parent or parent[part] is None:
            if not create:
                return _MISSING
            parent[part] = {}
        return parent[part]
    if isinstance(parent, MutableSequence) and isinstance(part, int) and 0 <= part < len(parent):
        return parent[part]
    return _MISSING


def _parent(root: Any, loc: Loc, create: bool) -> Any:
    node = root
    for part in loc[:-1]:
        node = _step(node, part, create)
        if node is _MISSING:
            return _MISSING
    return node


def _rename(mapping: MutableMapping[Any, Any], old: Any, new: Any) -> None:
    if old not in mapping or new in mapping:
        return
    keys = list(mapping)
    position = keys.index(old)
    value = mapping[old]
    insert = getattr(mapping, "insert", None)
    del mapping[old]
    if callable(insert):  # ruamel's CommentedMap keeps the key's place and its comment
        insert(position, new, value)
        return
    tail = [(k, mapping.pop(k)) for k in keys[position + 1 :]]
    mapping[new] = value
    mapping.update(tail)


def apply_edits(root: Any, edits: Iterable[Edit]) -> Any:
    """Apply edits (all addressed inside ``root``) in place; returns ``root``.

    Renames run first (they repair the structure other edits address); deletions run
    last, deepest and highest index first, so earlier ones do not shift the places later
    ones address. Edits whose place no longer exists are skipped.
    """
    edits = list(edits)
    first = [e for e in edits if e.op == "rename"]
    middle = [e for e in edits if e.op in ("set", "append")]
    later = sorted((e for e in edits if e.op == "delete"), key=lambda e: _sort_key(e.loc), reverse=True)
    for edit in first + middle + later:
        if not edit.loc:
            continue
        parent = _parent(root, edit.loc, create=edit.op in ("set", "append"))
        key = edit.loc[-1]
        if edit.op == "set":
            if isinstance(parent, MutableMapping) or isinstance(parent, MutableSequence) and isinstance(key, int) and 0 <= key < len(parent):
                parent[key] = copy.deepcopy(edit.value)
        elif edit.op == "rename":
            if isinstance(parent, MutableMapping):
                _rename(parent, key, edit.value)
        elif edit.op == "append":
            target = _step(parent, key, create=False) if parent is not _MISSING else _MISSING
            if target is _MISSING and isinstance(parent, MutableMapping):
                parent[key] = []
                target = parent[key]
            if isinstance(target, MutableSequence) and edit.value not in list(target):
                target.append(copy.deepcopy(edit.value))
        elif edit.op == "delete":
            in_map = isinstance(parent, MutableMapping) and key in parent
            in_list = isinstance(parent, MutableSequence) and isinstance(key, int) and 0 <= key < len(parent)
            if in_map or in_list:
                del parent[key]
    return root


def _sort_key(loc: Loc) -> tuple[Any, ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in loc)


def _group(findings: Iterable[Finding]) -> dict[tuple[str, int], list[Edit]]:
    """Edits by (file, document), in rule order (findings arrive sorted by place)."""
    grouped: dict[tuple[str, int], list[Edit]] = defaultdict(list)
    for finding in sorted(findings, key=lambda f: f.rule):
        grouped[(finding.file, finding.document)].extend(finding.edits)
    return grouped


def _apply_document(root: Any, edits: list[Edit], nested: Any) -> Any:
    """Apply plain edits to ``root`` and nested-document edits through ``nested``."""
    plain = [e for e in edits if not e.embed]
    apply_edits(root, plain)
    by_embed: dict[Loc, list[Edit]] = defaultdict(list)
    for edit in edits:
        if edit.embed:
            by_embed[edit.embed].append(edit)
    for embed, inner in by_embed.items():
        parent = _parent(root, embed, create=False)
        key = embed[-1]
        if not isinstance(parent, MutableMapping) or not isinstance(parent.get(key), str):
            continue
        parent[key] = nested(parent[key], inner)
    return root


def fix_objects(objects: list[dict[str, Any]], findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Fixed deep copies of in-memory objects (as passed to lint: '<object N>' findings)."""
    grouped = _group(f for f in findings if f.file.startswith("<object "))
    out = []
    for i, obj in enumerate(objects):
        fixed = copy.deepcopy(obj)
        edits = grouped.get((f"<object {i}>", 0), [])
        out.append(_apply_document(fixed, edits, _fix_nested_plain))
    return out


def _fix_nested_plain(text: str, edits: list[Edit]) -> str:
    import yaml

    docs = [d.value for d in load_text("<nested>", text)]
    if len(docs) != 1:
        return text
    apply_edits(docs[0], [e.model_copy(update={"embed": ()}) for e in edits])
    return yaml.safe_dump(docs[0], sort_keys=False)


# --------------------------------------------------------------------------- files (ruamel)


def _ruamel() -> Any:
    try:
        from ruamel.yaml import YAML
    except ImportError:  # pragma: no cover - the lint extra is installed in tests
        raise MissingExtraError.for_module("ruamel.yaml", "lint") from None
    return YAML


_INDENTED_SEQUENCE = re.compile(r"^(?P<indent> *)[^\s#-][^\n]*:[ \t]*\n(?P=indent)  +- ", re.MULTILINE)
_FLUSH_SEQUENCE = re.compile(r"^(?P<indent> *)[^\s#-][^\n]*:[ \t]*\n(?P=indent)- ", re.MULTILINE)
_HEADER = re.compile(r"\A((?:[ \t]*(?:#[^\n]*)?\n)*)(?=---)")


def _yaml_for(text: str) -> Any:
    yaml = _ruamel()(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    flush = len(_FLUSH_SEQUENCE.findall(text))
    indented = len(_INDENTED_SEQUENCE.findall(text))
    if indented > flush:
        yaml.indent(mapping=2, sequence=4, offset=2)
    else:
        yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def _fix_nested_ruamel(text: str, edits: list[Edit]) -> Any:
    from ruamel.yaml.scalarstring import LiteralScalarString

    fixed = fix_text(text, [Finding(rule="-", severity="info", message="-", file="-", document=0,
                                    edits=tuple(e.model_copy(update={"embed": ()}) for e in edits))])
    if not text.endswith("\n"):
        fixed = fixed.rstrip("\n")
    return LiteralScalarString(fixed)


def fix_text(text: str, findings: Iterable[Finding], *, as_json: bool = False) -> str:
    """``text`` with every fixable finding's edits applied (all findings from one file)."""
    grouped: dict[int, list[Edit]] = defaultdict(list)
    for (_, document), edits in _group(findings).items():
        grouped[document].extend(edits)
    if as_json:
        docs = [d.value for d in load_text("<json>", text)]
        for index, edits in grouped.items():
            if 0 <= index < len(docs):
                _apply_document(docs[index], edits, _fix_nested_plain)
        body = docs[0] if len(docs) == 1 else docs
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    header = ""
    match = _HEADER.match(text)
    if match:
        header = match.group(1)
        text = text[len(header):]
    yaml = _yaml_for(text)
    yaml.explicit_start = text.lstrip().startswith("---")
    from ruamel.yaml.error import YAMLError

    try:
        docs = list(yaml.load_all(text))
    except YAMLError as exc:  # lint parsed it safely already; ruamel is stricter on a few files
        raise ManifestError(f"cannot round-trip this file to fix it: {exc}".splitlines()[0]) from None
    for index, edits in grouped.items():
        if 0 <= index < len(docs) and docs[index] is not None:
            _apply_document(docs[index], edits, _fix_nested_ruamel)
    while docs and docs[-1] is None and len(docs) > 1:
        docs.pop()
    stream = io.StringIO()
    yaml.dump_all(docs, stream)
    return header + stream.getvalue()


def _target(out_dir: Path, file: str) -> Path:
    path = Path(file)
    if file == "<stdin>":
        return out_dir / "stdin.yaml"
    if path.is_absolute() or ".." in path.parts:
        return out_dir / path.name
    return out_dir / path


def write_fixes(
    findings: list[Finding],
    out_dir: Path | None,
    texts: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Write fixed copies of every file with fixable findings; returns {source: written}.

    With ``out_dir`` a file given as a relative path is written to out_dir/<that path>
    (others to out_dir/<file name>, standard input to out_dir/stdin.yaml); without it the
    source is rewritten in place. ``texts`` holds the text lint read for each file, so the
    fix applies to exactly what was linted.
    """
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.fixable and not finding.file.startswith("<") or finding.fixable and finding.file == "<stdin>":
            by_file[finding.file].append(finding)
    written: dict[str, Path] = {}
    for file, items in sorted(by_file.items()):
        if file == "<stdin>" and out_dir is None:
            raise ManifestError("--in-place cannot rewrite standard input; give a file, or --out DIR")
        text = (texts or {}).get(file)
        if text is None:
            _, text = read_source(file)
        new = fix_text(text, items, as_json=file.endswith(".json"))
        target = Path(file) if out_dir is None else _target(out_dir, file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(new, encoding="utf-8")
        written[file] = target
    return written
