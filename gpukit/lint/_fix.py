"""Fixes: apply findings' edits to objects, or to files with ruamel.yaml round-trips.

Fixes compose through a fixed point, not by merging edit lists: each round applies, per
document, the edits of one rule only (rules whose edits rename something first, then by
rule id), and the next round re-lints the fixed documents in the lint run's context (the
Basis each Finding carries) and takes the next rule's edits from that fresh result. So a
fix never works from a stale picture of a resource map another fix has changed (GPU001's
limit after GPU007 renamed nvidia.com/gpu to a MIG resource). Rounds stop when nothing
fixable is left, or after ``MAX_ROUNDS``; a rule whose edits change nothing is not tried
again on that document. Only documents with fixable findings given are changed; findings of
any rule the lint run enabled may be fixed on the way (a fix can reveal another fixable
finding, e.g. a whole GPU once a fractional count is rounded up).

Round-tripping keeps comments, key order and quoting where ruamel.yaml can, also inside
device-plugin or mig-parted configs nested in a ConfigMap's data (the nested text is
round-tripped on its own and written back as a literal block). Limits: a comment on a key
that a fix deletes goes with it; a nested text with several YAML documents is left as it
is (findings do not say which of its documents they address); ``fix_objects`` keeps nested
comments only when ruamel.yaml is installed (otherwise the nested text is re-dumped plainly),
and JSON files are re-dumped by the json module (JSON has no comments). ruamel is imported
only here, only when a fix is asked for (the ``lint`` extra).
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, MutableMapping, MutableSequence
from pathlib import Path
from typing import Any

from gpukit._yaml import load_text, read_source
from gpukit.errors import ManifestError, MissingExtraError
from gpukit.lint._engine import docs_of_object, docs_of_text
from gpukit.lint._model import Edit, Finding
from gpukit.lint._objects import Doc

__all__ = ["MAX_ROUNDS", "apply_edits", "fix_objects", "fix_text", "write_fixes"]

#: Most fix rounds (one rule per document each) before fixing stops: about twice the
#: number of fixable rules, room for fixes that reveal others, and a bound on fixes that fight.
MAX_ROUNDS = 32

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
    comments = getattr(getattr(mapping, "ca", None), "items", None)
    comment = comments.pop(old, None) if isinstance(comments, dict) else None
    del mapping[old]
    if callable(insert):  # ruamel's CommentedMap keeps the key's place and its comment
        insert(position, new, value)
        if comment is not None:
            comments[new] = comment  # type: ignore[index]
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


Key = tuple[str, int]  # (file, document index)
Nested = Callable[[str, list[Edit]], Any]


def _apply_document(root: Any, edits: list[Edit], nested: Nested) -> Any:
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


# --------------------------------------------------------------------------- the fixed point


def _choose(findings: list[Finding], stuck: set[tuple[Key, str]]) -> dict[Key, tuple[str, list[Edit]]]:
    """This round's fix for each document: every edit of one rule.

    Rules with a rename go first (a rename repairs a name other rules read: a misspelt
    key, a resource name), then rules by id; a rule stuck on a document is passed over.
    """
    by_key: dict[Key, dict[str, list[Edit]]] = defaultdict(lambda: defaultdict(list))
    for finding in findings:
        key = (finding.file, finding.document)
        if finding.fixable and (key, finding.rule) not in stuck:
            by_key[key][finding.rule].extend(finding.edits)
    chosen = {}
    for key, rules in by_key.items():
        rule = min(rules, key=lambda r: (not any(e.op == "rename" for e in rules[r]), r))
        chosen[key] = (rule, rules[rule])
    return chosen


def _context(basis: Any, current: dict[str, list[Doc]]) -> list[Doc]:
    """The lint run's documents, with those of the files being fixed in their fixed state."""
    out: list[Doc] = []
    seen: set[str] = set()
    for doc in basis.docs:
        if doc.file not in current:
            out.append(doc)
        elif doc.file not in seen:
            seen.add(doc.file)
            out.extend(current[doc.file])
    for label, docs in current.items():
        if label not in seen:
            out.extend(docs)
    return out


class _Store:
    """Documents being fixed: applies one round of edits, gives their current Docs."""

    def apply(self, edits: dict[Key, list[Edit]]) -> set[Key]:  # pragma: no cover - abstract
        """Apply edits; returns the documents whose content changed."""
        raise NotImplementedError

    def docs(self) -> dict[str, list[Doc]]:  # pragma: no cover - abstract
        raise NotImplementedError


def _converge(store: _Store, findings: Iterable[Finding]) -> None:
    fixable = [f for f in findings if f.fixable]
    basis = next((f._basis for f in fixable if f._basis is not None), None)
    stuck: set[tuple[Key, str]] = set()
    current = fixable
    for _ in range(MAX_ROUNDS):
        chosen = _choose(current, stuck)
        if not chosen:
            return
        changed = store.apply({key: edits for key, (_, edits) in chosen.items()})
        stuck |= {(key, rule) for key, (rule, _) in chosen.items() if key not in changed}
        if basis is None:
            # Findings made by hand record no lint run to re-lint with: apply them in order.
            current = [f for f in current if chosen.get((f.file, f.document), ("",))[0] != f.rule]
            continue
        current = basis.relint(_context(basis, store.docs()), set(chosen))


class _Objects(_Store):
    def __init__(self, objects: list[dict[str, Any]], nested: Nested) -> None:
        self.roots = [copy.deepcopy(obj) for obj in objects]
        self.labels = {f"<object {i}>": i for i in range(len(objects))}
        self.nested = nested

    def apply(self, edits: dict[Key, list[Edit]]) -> set[Key]:
        changed = set()
        for (label, document), items in edits.items():
            i = self.labels.get(label)
            if i is None or document != 0:
                continue
            before = copy.deepcopy(self.roots[i])
            _apply_document(self.roots[i], items, self.nested)
            if self.roots[i] != before:
                changed.add((label, document))
        return changed

    def docs(self) -> dict[str, list[Doc]]:
        return {label: docs_of_object(label, self.roots[i]) for label, i in self.labels.items()}


class _Texts(_Store):
    """Files being fixed: each parsed once (ruamel keeps it in memory across rounds),
    dumped after each round so the next round lints exactly the text that will be written."""

    def __init__(self, texts: dict[str, str], json: set[str] | None = None) -> None:
        self.texts = dict(texts)
        self.json = json if json is not None else {label for label in texts if label.endswith(".json")}
        self._files: dict[str, _Parsed] = {}
        self._values: dict[str, list[Any]] = {}
        self._docs: dict[str, list[Doc]] = {}

    def apply(self, edits: dict[Key, list[Edit]]) -> set[Key]:
        by_file: dict[str, dict[int, list[Edit]]] = defaultdict(dict)
        for (label, document), items in edits.items():
            if label in self.texts:
                by_file[label][document] = items
        changed = set()
        for label, by_document in by_file.items():
            old = self.texts[label]
            parsed = self._files.get(label)
            if parsed is None:
                parsed = self._files[label] = _Parsed(old, as_json=label in self.json)
            parsed.apply(by_document)
            new = parsed.dump()
            if new == old:
                continue
            before = self._values.get(label)
            if before is None:
                before = [d.value for d in load_text(label, old)]
            after = [d.value for d in load_text(label, new)]
            for document in by_document:
                if document >= len(after) or document >= len(before) or before[document] != after[document]:
                    changed.add((label, document))
            self.texts[label] = new
            self._values[label] = after
            self._docs.pop(label, None)
        return changed

    def docs(self) -> dict[str, list[Doc]]:
        for label, text in self.texts.items():
            if label not in self._docs:
                self._docs[label] = docs_of_text(label, text)
        return {label: self._docs[label] for label in self.texts}


def fix_objects(objects: list[dict[str, Any]], findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Fixed deep copies of in-memory objects (as passed to lint: '<object N>' findings).

    Fixes are applied one rule per object per round and re-derived from the fixed object
    (see the module docstring), in the fleet and workloads context of the lint run.
    """
    store = _Objects(objects, _fix_nested_kept)
    _converge(store, (f for f in findings if f.file.startswith("<object ")))
    return store.roots


def _edits_inside(edits: list[Edit]) -> list[Edit]:
    return [e.model_copy(update={"embed": ()}) for e in edits]


def _fix_nested_plain(text: str, edits: list[Edit]) -> str:
    import yaml

    docs = [d.value for d in load_text("<nested>", str(text))]
    if len(docs) != 1:
        return text
    apply_edits(docs[0], _edits_inside(edits))
    return yaml.safe_dump(docs[0], sort_keys=False)


def _fix_nested_kept(text: str, edits: list[Edit]) -> str:
    """A nested config fixed with its comments when ruamel.yaml is there, plainly if not."""
    try:
        _ruamel()
    except MissingExtraError:  # pragma: no cover - the lint extra is installed in tests
        return _fix_nested_plain(text, edits)
    return str(_fix_nested_ruamel(text, edits))


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

    text = str(text)  # ruamel hands over its own str subclasses, which the C loader refuses
    if len(load_text("<nested>", text)) != 1:
        return text
    fixed = _round_trip(text, {0: _edits_inside(edits)})
    if not text.endswith("\n"):
        fixed = fixed.rstrip("\n")
    return LiteralScalarString(fixed)


class _Parsed:
    """One file's documents, round-trippable: ruamel's for YAML, plain ones for JSON."""

    def __init__(self, text: str, *, as_json: bool = False) -> None:
        self.as_json = as_json
        self.header = ""
        if as_json:
            self.docs = [d.value for d in load_text("<json>", text)]
            return
        match = _HEADER.match(text)
        if match:
            self.header = match.group(1)
            text = text[len(self.header):]
        self.yaml = _yaml_for(text)
        self.yaml.explicit_start = text.lstrip().startswith("---")
        from ruamel.yaml.error import YAMLError

        try:
            self.docs = list(self.yaml.load_all(text))
        except YAMLError as exc:  # lint parsed it safely already; ruamel is stricter on a few files
            raise ManifestError(f"cannot round-trip this file to fix it: {exc}".splitlines()[0]) from None

    def apply(self, by_document: dict[int, list[Edit]]) -> None:
        nested = _fix_nested_kept if self.as_json else _fix_nested_ruamel
        for index, edits in by_document.items():
            if 0 <= index < len(self.docs) and self.docs[index] is not None:
                _apply_document(self.docs[index], edits, nested)

    def dump(self) -> str:
        if self.as_json:
            body = self.docs[0] if len(self.docs) == 1 else self.docs
            return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
        docs = list(self.docs)
        while docs and docs[-1] is None and len(docs) > 1:
            docs.pop()
        stream = io.StringIO()
        self.yaml.dump_all(docs, stream)
        return self.header + stream.getvalue()


def _round_trip(text: str, by_document: dict[int, list[Edit]], *, as_json: bool = False) -> str:
    """``text`` with the edits applied once (document index -> edits)."""
    parsed = _Parsed(text, as_json=as_json)
    parsed.apply(by_document)
    return parsed.dump()


def fix_text(text: str, findings: Iterable[Finding], *, as_json: bool = False) -> str:
    """``text`` with every fixable finding fixed (all findings from one file).

    Re-lints between rounds with the lint run's documents, this text standing in for the
    file the findings name.
    """
    findings = [f for f in findings if f.fixable]
    if not findings:
        return text
    label = findings[0].file
    findings = [f if f.file == label else f.model_copy(update={"file": label}) for f in findings]
    store = _Texts({label: text}, {label} if as_json else set())
    _converge(store, findings)
    return store.texts[label]


def _target(out_dir: Path, file: str) -> Path:
    path = Path(file)
    if file == "<stdin>":
        return out_dir / "stdin.yaml"
    if path.is_absolute() or ".." in path.parts:
        return out_dir / path.name
    return out_dir / path


def write_fixes(
    findings: list[Finding],
    out_dir: Path | str | None,
    texts: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Write fixed copies of every file with fixable findings; returns {source: written}.

    With ``out_dir`` a file given as a relative path is written to out_dir/<that path>
    (others to out_dir/<file name>, standard input to out_dir/stdin.yaml); without it the
    source is rewritten in place. ``texts`` holds the text lint read for each file, so the
    fix applies to exactly what was linted. All files are fixed together, so a fix that
    re-lints sees the other files' (fixed) documents.
    """
    out_dir = Path(out_dir) if out_dir is not None else None
    files = sorted({f.file for f in findings if f.fixable and (not f.file.startswith("<") or f.file == "<stdin>")})
    if "<stdin>" in files and out_dir is None:
        raise ManifestError("--in-place cannot rewrite standard input; give a file, or --out DIR")
    sources = {}
    for file in files:
        text = (texts or {}).get(file)
        if text is None:
            _, text = read_source(file)
        sources[file] = text
    store = _Texts(sources)
    _converge(store, (f for f in findings if f.file in sources))
    written: dict[str, Path] = {}
    for file in files:
        target = Path(file) if out_dir is None else _target(out_dir, file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(store.texts[file], encoding="utf-8")
        written[file] = target
    return written
