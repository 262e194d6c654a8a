"""Bounded, safe YAML reading for every file gpukit is given: size, depth, alias and node limits.

Workload and fleet files, manifests for lint and configs are read through here. Files may
come from anyone (lint runs in CI on every pull request), so loading is safe (no Python
object tags) and bounded before anything walks the data:

- ``MAX_FILE_BYTES``: larger files are refused before they are parsed;
- ``MAX_DEPTH``: nesting deeper than this is refused while parsing;
- ``MAX_ALIASES``: more ``*alias`` uses than this in one file are refused;
- ``MAX_NODES``: the node count of a file with every alias expanded (what a walker would
  visit) is bounded, so an alias bomb ("billion laughs") is refused before it is walked;
- ``MAX_DOCUMENTS``: documents per file.

Every refusal is a one-line :class:`~gpukit.errors.ManifestError` naming the file, the limit
and how to proceed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from gpukit.errors import ManifestError

try:  # libyaml: fast, and its parser refuses nesting deeper than 1000 before composing
    from yaml._yaml import CParser as _Parser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        """Pure-Python fallback; too-deep nesting ends in RecursionError, reported cleanly."""

        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENTS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "YAML_SUFFIXES",
    "Loaded",
    "Reported",
    "expand_paths",
    "load_reporting",
    "load_text",
    "read_source",
]

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 100
MAX_ALIASES = 1000
MAX_NODES = 500_000
MAX_DOCUMENTS = 2000

YAML_SUFFIXES = (".yaml", ".yml", ".json")

Loc = tuple[Any, ...]


class _LimitError(Exception):
    """Raised inside the composer; turned into a ManifestError that names the file."""


class _Loader(_Parser, SafeConstructor, Resolver):  # type: ignore[misc,valid-type]
    """libyaml's parser and composer (C, bounded nesting) with PyYAML's safe constructor."""

    def __init__(self, text: str) -> None:
        _Parser.__init__(self, text)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


@dataclass
class Loaded:
    """One YAML document: its value and its node tree (for line numbers)."""

    index: int
    value: Any
    node: Node | None = field(repr=False, default=None)

    def line_of(self, loc: Loc) -> tuple[int, int] | None:
        """1-based (line, column) of the value at ``loc``, or of its nearest ancestor."""
        node = self.node
        if node is None:
            return None
        best = node
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = best = child
        return best.start_mark.line + 1, best.start_mark.column + 1


def _child(node: Node, part: Any) -> Node | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == str(part):
                return value
    elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def _check_graph(root: Node) -> int:
    """Expanded size of a document's node graph; refuses cycles and what breaks the limits.

    The composer shares one node for every alias of an anchor, so sizes and heights are
    memoised per node: the walk is linear in the file, whatever the expansion. Recursion
    stops at MAX_DEPTH, so it stays far from Python's recursion limit.
    """
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    active: set[int] = set()
    references = 0

    def visit(node: Node, depth: int) -> int:
        nonlocal references
        key = id(node)
        if key in sizes:
            if depth + heights[key] - 1 > MAX_DEPTH:
                raise _LimitError(f"nested deeper than {MAX_DEPTH} levels; flatten the document")
            return sizes[key]
        if depth > MAX_DEPTH:
            raise _LimitError(f"nested deeper than {MAX_DEPTH} levels; flatten the document")
        if key in active:
            raise _LimitError("a YAML alias refers to its own anchor (a cycle); remove it")
        size, height = 1, 0
        if isinstance(node, (MappingNode, SequenceNode)):
            active.add(key)
            items = node.value if isinstance(node, SequenceNode) else [n for pair in node.value for n in pair]
            references += len(items)
            for child in items:
                size += visit(child, depth + 1)
                height = max(height, heights[id(child)])
            active.discard(key)
            if size > MAX_NODES:
                raise _LimitError(
                    f"more than {MAX_NODES} values once aliases are expanded (an alias bomb?); "
                    "expand the aliases or split the file"
                )
        sizes[key], heights[key] = size, height + 1
        return size

    total = visit(root, 1)
    # A tree has one reference fewer than nodes; every extra reference is an alias.
    if references - (len(sizes) - 1) > MAX_ALIASES:
        raise _LimitError(f"more than {MAX_ALIASES} YAML aliases (*name); expand them or split the file")
    return total


def _duplicate_key(root: Node) -> tuple[str, int] | None:
    """The first mapping key that appears twice in a document, with its line, or None."""
    stack = [root]
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if key.value in keys:
                        return key.value, key.start_mark.line + 1
                    keys.add(key.value)
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return None


def load_text(label: str, text: str, *, duplicate_keys: bool = True) -> list[Loaded]:
    """Every document in ``text`` (empty ones included, value None), within the limits.

    With ``duplicate_keys=False`` a key repeated in one mapping is refused: YAML would
    silently keep the last value, and a user's intent file must not mean something else
    than it says.
    """
    if "\x00" in text:
        raise ManifestError(f"{label}: binary data (NUL bytes), not YAML or JSON; give a text file")
    loader = _Loader(text)
    docs: list[Loaded] = []
    total = 0
    try:
        while loader.check_node():
            if len(docs) >= MAX_DOCUMENTS:
                raise _LimitError(f"more than {MAX_DOCUMENTS} documents; split the file")
            node = loader.get_node()
            if node is None:
                docs.append(Loaded(len(docs), None))
                continue
            total += _check_graph(node)
            if not duplicate_keys:
                repeated = _duplicate_key(node)
                if repeated is not None:
                    raise _LimitError(
                        f"key {repeated[0]!r} appears twice in one mapping (line {repeated[1]}); "
                        "keep one"
                    )
            if total > MAX_NODES:
                raise _LimitError(
                    f"more than {MAX_NODES} values once aliases are expanded; split the file"
                )
            docs.append(Loaded(len(docs), loader.construct_document(node), node))
    except _LimitError as exc:
        raise ManifestError(f"{label}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(f"{label}: not valid YAML or JSON{where}: {problem}") from None
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError) as exc:
        # Constructors raise these on pathological scalars (huge timestamps, odd tags).
        raise ManifestError(f"{label}: cannot be loaded: {type(exc).__name__}: {exc}") from None
    finally:
        loader.dispose()
    return docs


@dataclass
class Reported:
    """One document read by :func:`load_reporting`: its value and the keys it repeats.

    ``duplicates`` is (key, 1-based line) for every mapping key given again in the same
    mapping, in the order the loader met them.
    """

    index: int
    value: Any
    duplicates: list[tuple[str, int]] = field(default_factory=list)


class _Reporting(_Loader):
    """The bounded loader, remembering repeated mapping keys instead of silently keeping the last.

    ``by_value``: keys are compared once constructed ('1' and '0x1', 'yes' and 'true' are
    the same key), as YAML's own mapping would; otherwise by their text, as the Kubernetes
    API server's strict JSON decoding does (merge keys '<<' are not keys). Without
    ``timestamps`` unquoted dates stay strings, as kubectl's decoder hands them on.
    """

    def __init__(self, text: str, *, by_value: bool, timestamps: bool) -> None:
        super().__init__(text)
        self.by_value = by_value
        self.duplicates: list[tuple[str, int]] = []
        if not timestamps:
            self.yaml_implicit_resolvers = _NO_TIMESTAMPS

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if self.by_value:
                key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
                if not isinstance(key, str | int | float | bool):
                    continue
            elif isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = key_node.value
            else:
                continue
            if key in seen:
                self.duplicates.append((str(key), key_node.start_mark.line + 1))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_NO_TIMESTAMPS = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}


def load_reporting(
    label: str, text: str, *, keys: str = "text", timestamps: bool = True, what: str = "YAML"
) -> list[Reported]:
    """Every document in ``text`` (empty ones included, value None), within the same limits as
    :func:`load_text`, with the keys each repeats reported instead of refused.

    For files whose checks report findings with line numbers (manifests under validation,
    mig-parted configs) rather than stop at the first repeat. ``keys`` is 'text' or 'value'
    (see :class:`_Reporting`); ``timestamps=False`` keeps unquoted dates as strings;
    ``what`` names the format in the syntax-error message ('not valid YAML ...').
    """
    if "\x00" in text:
        raise ManifestError(f"{label}: binary data (NUL bytes), not YAML or JSON; give a text file")
    if keys not in ("text", "value"):
        raise ValueError(f"keys must be 'text' or 'value', not {keys!r}")
    loader = _Reporting(text, by_value=keys == "value", timestamps=timestamps)
    docs: list[Reported] = []
    total = 0
    try:
        while loader.check_node():
            if len(docs) >= MAX_DOCUMENTS:
                raise _LimitError(f"more than {MAX_DOCUMENTS} documents; split the file")
            node = loader.get_node()
            if node is None:
                docs.append(Reported(len(docs), None))
                continue
            total += _check_graph(node)
            if total > MAX_NODES:
                raise _LimitError(
                    f"more than {MAX_NODES} values once aliases are expanded; split the file"
                )
            loader.duplicates = []
            value = loader.construct_document(node)
            docs.append(Reported(len(docs), value, loader.duplicates))
    except _LimitError as exc:
        raise ManifestError(f"{label}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(f"{label}: not valid {what}{where}: {problem}") from None
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError) as exc:
        raise ManifestError(f"{label}: cannot be loaded: {type(exc).__name__}: {exc}") from None
    finally:
        loader.dispose()
    return docs


def read_source(source: str | Path) -> tuple[str, str]:
    """(label, text) of a file, or of standard input for '-'; refuses big or binary input."""
    if str(source) == "-":
        stream = getattr(sys.stdin, "buffer", None)
        raw = stream.read(MAX_FILE_BYTES + 1) if stream is not None else sys.stdin.read(
            MAX_FILE_BYTES + 1
        ).encode("utf-8", "surrogateescape")
        return "<stdin>", _decode("<stdin>", raw)
    path = Path(source)
    label = str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ManifestError(f"{label}: is a folder; lint expands folders itself, pass it as is")
        if size > MAX_FILE_BYTES:
            raise ManifestError(_too_big(label))
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ManifestError(f"{label}: no such file or folder; check the path") from None
    except PermissionError:
        raise ManifestError(f"{label}: permission denied; make it readable") from None
    except OSError as exc:
        raise ManifestError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    return label, _decode(label, raw)


def _too_big(label: str) -> str:
    return (
        f"{label}: refused: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB "
        "(a Kubernetes object is at most 1.5 MiB); split the file"
    )


def _decode(label: str, raw: bytes) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise ManifestError(_too_big(label))
    if b"\x00" in raw:
        raise ManifestError(f"{label}: binary data (NUL bytes), not YAML or JSON; give a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestError(f"{label}: not UTF-8 text; give a YAML or JSON file") from None


def expand_paths(
    sources: list[str | Path], suffixes: tuple[str, ...] = YAML_SUFFIXES
) -> Iterator[str]:
    """Files to read: files and '-' as given, folders walked recursively for files with one
    of ``suffixes`` (sorted). Hidden files and folders (``.git``) are skipped inside folders.
    """
    for source in sources:
        path = Path(source)
        if str(source) != "-" and path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in suffixes
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                names = ", ".join(suffixes[:-1]) + " or " + suffixes[-1]
                raise ManifestError(f"{path}: folder holds no {names} files")
            yield from (str(p) for p in found)
        else:
            yield str(source)


# -- streams: many documents in one file ------------------------------------------------------

#: Bytes (characters) one document of a stream may take; the stream itself is unbounded.
MAX_DOCUMENT_BYTES = MAX_FILE_BYTES
#: Suffixes read as JSON Lines (one JSON document per line).
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
_CHUNK = 64 * 1024


class _BoundedStream:
    """A text stream that refuses to feed a document past MAX_DOCUMENT_BYTES.

    The parser reads ahead in chunks; ``mark(end)`` records where the last document ended,
    and a read that would carry the current document past the limit raises instead of
    letting one huge document into memory.
    """

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self.read_chars = 0
        self.document_start = 0

    def read(self, size: int = _CHUNK) -> str:
        if self.read_chars - self.document_start > MAX_DOCUMENT_BYTES + _CHUNK:
            raise _LimitError(
                f"a document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB; split it"
            )
        text = self._handle.read(min(max(size, 1), _CHUNK))
        if "\x00" in text:
            raise _LimitError("binary data (NUL bytes), not YAML or JSON; give a text file")
        self.read_chars += len(text)
        return text


def stream_documents(label: str, handle: Any, *, duplicate_keys: bool = True) -> Iterator[Loaded]:
    """Every YAML (or JSON) document of a text stream, one at a time, each within the limits.

    The limits of :func:`load_text` hold per document (depth, aliases, expanded nodes,
    MAX_DOCUMENT_BYTES), not per file, and there is no cap on the number of documents:
    memory stays bounded by one document.
    """
    stream = _BoundedStream(handle)
    loader = _Loader(stream)  # type: ignore[arg-type]
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                yield Loaded(index, None)
                index += 1
                continue
            start, end = node.start_mark.index, node.end_mark.index
            if end - start > MAX_DOCUMENT_BYTES:
                raise _LimitError(
                    f"document {index + 1} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} "
                    "MiB; split it"
                )
            stream.document_start = end
            _check_graph(node)
            if not duplicate_keys:
                repeated = _duplicate_key(node)
                if repeated is not None:
                    raise _LimitError(
                        f"key {repeated[0]!r} appears twice in one mapping (line {repeated[1]}); "
                        "keep one"
                    )
            yield Loaded(index, loader.construct_document(node), node)
            index += 1
    except _LimitError as exc:
        raise ManifestError(f"{label}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(f"{label}: not valid YAML or JSON{where}: {problem}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{label}: not UTF-8 text; give a YAML or JSON file") from None
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError) as exc:
        raise ManifestError(f"{label}: cannot be loaded: {type(exc).__name__}: {exc}") from None
    finally:
        loader.dispose()


def _json_depth_ok(value: Any) -> bool:
    if isinstance(value, dict) and not any(isinstance(v, (dict, list)) for v in value.values()):
        return True  # the common JSON Lines record: one flat object
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _LimitError(f"key {key!r} appears twice in one object; keep one")
        out[key] = value
    return out


def stream_json_lines(label: str, handle: Any, *, duplicate_keys: bool = True) -> Iterator[Loaded]:
    """Every document of a JSON Lines stream (one JSON value per line; blank lines skipped).

    Each line is bounded (MAX_DOCUMENT_BYTES, MAX_DEPTH); the number of lines is not.
    ``Loaded.index`` is the 0-based line number.
    """
    import json

    decoder = json.JSONDecoder(object_pairs_hook=None if duplicate_keys else _unique_pairs)
    number = 0
    try:
        while True:
            line = handle.readline(MAX_DOCUMENT_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_DOCUMENT_BYTES:
                raise _LimitError(
                    f"line {number} is longer than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB; "
                    "split it"
                )
            if "\x00" in line:
                raise _LimitError("binary data (NUL bytes), not JSON Lines; give a text file")
            text = line.strip()
            if not text:
                continue
            try:
                value = decoder.decode(text)
            except json.JSONDecodeError as exc:
                raise ManifestError(
                    f"{label}: line {number}: not valid JSON at column {exc.colno}: {exc.msg}"
                ) from None
            if not _json_depth_ok(value):
                raise _LimitError(
                    f"line {number} is nested deeper than {MAX_DEPTH} levels; flatten it"
                )
            yield Loaded(number - 1, value)
    except _LimitError as exc:
        raise ManifestError(f"{label}: refused: {exc}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{label}: not UTF-8 text; give a JSON Lines file") from None
    except RecursionError:
        raise ManifestError(
            f"{label}: refused: line {number} is nested deeper than {MAX_DEPTH} levels; flatten it"
        ) from None


def _looks_like_json_lines(head: str) -> bool:
    """Two or more lines that each open a JSON object: JSON Lines, not one YAML document."""
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    return len(lines) >= 2 and all(line.startswith("{") for line in lines[:2]) and lines[0].endswith("}")


def stream_source(source: str | Path, *, duplicate_keys: bool = True) -> Iterator[tuple[str, Loaded]]:
    """(label, document) for every document of a file, or of standard input for '-'.

    JSON Lines when the name ends in .jsonl / .ndjson, or when the first two lines each
    hold a JSON object; YAML / JSON documents otherwise. Streamed: no file-size cap, each
    document within the per-document limits.
    """
    import io

    if str(source) == "-":
        label = "<stdin>"
        raw = getattr(sys.stdin, "buffer", None)
        handle: Any = (
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") if raw is not None else sys.stdin
        )
        suffix = ""
    else:
        path = Path(source)
        label, suffix = str(path), path.suffix.lower()
        if path.is_dir():
            raise ManifestError(f"{label}: is a folder; give a file, or the folder's files")
        try:
            handle = path.open("r", encoding="utf-8-sig", newline="")
        except FileNotFoundError:
            raise ManifestError(f"{label}: no such file or folder; check the path") from None
        except PermissionError:
            raise ManifestError(f"{label}: permission denied; make it readable") from None
        except OSError as exc:
            raise ManifestError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    try:
        try:
            head = handle.read(_CHUNK)
        except UnicodeDecodeError:
            raise ManifestError(f"{label}: not UTF-8 text; give a YAML or JSON file") from None
        rest = _Rejoined(head, handle)
        if suffix in JSON_LINES_SUFFIXES or (suffix != ".yaml" and _looks_like_json_lines(head)):
            docs = stream_json_lines(label, rest, duplicate_keys=duplicate_keys)
        else:
            docs = stream_documents(label, rest, duplicate_keys=duplicate_keys)
        for loaded in docs:
            yield label, loaded
    finally:
        if str(source) != "-":
            handle.close()
        elif isinstance(handle, io.TextIOWrapper) and handle is not sys.stdin:
            handle.detach()  # leave standard input open for whoever reads it next


class _Rejoined:
    """A text stream whose first chunk was already read (to sniff the format)."""

    def __init__(self, head: str, handle: Any) -> None:
        self._head = head
        self._handle = handle

    def read(self, size: int = _CHUNK) -> str:
        if self._head:
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._handle.read(size)

    def readline(self, limit: int = -1) -> str:
        if self._head:
            cut = self._head.find("\n")
            if cut >= 0 and (limit < 0 or cut < limit):
                out, self._head = self._head[: cut + 1], self._head[cut + 1 :]
                return out
            out, self._head = self._head, ""
            more = self._handle.readline(limit - len(out) if limit >= 0 else -1)
            return out + more
        return self._handle.readline(limit)


def stream_json_items(label: str, handle: Any, key: str = "items") -> Iterator[Any]:
    """The elements of the array under ``key`` of one (possibly huge) JSON object, one at a time.

    For API lists (``kubectl get pods -A -o json``: a List whose ``items`` may run to
    hundreds of MiB): each element, and each other top-level value, must fit
    MAX_DOCUMENT_BYTES and MAX_DEPTH; the list itself is unbounded. A top-level array is
    streamed the same way.
    """
    import json

    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = handle.read(_CHUNK)
        if "\x00" in chunk:
            raise _LimitError("binary data (NUL bytes), not JSON; give a text file")
        if not chunk:
            eof = True
            return False
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def skip_space() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not fill():
                return ""

    def value() -> Any:
        nonlocal pos
        skip_space()
        while True:
            try:
                item, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                if len(buf) - pos > MAX_DOCUMENT_BYTES:
                    raise _LimitError(
                        f"a value is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB"
                    ) from None
                if not fill():
                    if not buf[pos:].strip():
                        raise ManifestError(
                            f"{label}: not valid JSON: the file ends where a value should be "
                            "(cut short?)"
                        ) from None
                    raise ManifestError(f"{label}: not valid JSON: {exc.msg}") from None
                continue
            if end >= len(buf) and fill():
                continue  # a number may go on in the next chunk: decode it again whole
            if end - pos > MAX_DOCUMENT_BYTES:
                raise _LimitError(f"a value is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
            pos = end
            if not _json_depth_ok(item):
                raise _LimitError(f"nested deeper than {MAX_DEPTH} levels; flatten it")
            return item

    def expect(chars: str) -> str:
        nonlocal pos
        c = skip_space()
        if not c or c not in chars:
            found = repr(c) if c else "the end of the file"
            raise ManifestError(f"{label}: not valid JSON: expected {' or '.join(chars)}, found {found}")
        pos += 1
        return c

    def array() -> Iterator[Any]:
        nonlocal pos
        expect("[")
        if skip_space() == "]":
            pos += 1
            return
        while True:
            yield value()
            if expect(",]") == "]":
                return

    try:
        first = skip_space()
        if first == "[":
            yield from array()
            return
        expect("{")
        if skip_space() == "}":
            return
        while True:
            name = value()
            expect(":")
            if name == key and skip_space() == "[":
                yield from array()
            else:
                value()
            if expect(",}") == "}":
                return
    except _LimitError as exc:
        raise ManifestError(f"{label}: refused: {exc}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{label}: not UTF-8 text; give a JSON file") from None
