"""Streams: many documents in one file, read one at a time, each within the per-document limits.

YAML / JSON document streams (:func:`stream_documents`), JSON Lines (:func:`stream_json_lines`),
the items of one huge JSON list (:func:`stream_json_items`), and :func:`stream_source`, which
opens a file or standard input and picks the reader. Memory stays bounded by one document.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gpukit._yaml.bounded import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    Loaded,
    _check_graph,
    _duplicate_key,
    _LimitError,
    _Loader,
    loading_errors,
)
from gpukit.errors import ManifestError

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
    with loading_errors(label):
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
    return (
        len(lines) >= 2
        and all(line.startswith("{") for line in lines[:2])
        and lines[0].endswith("}")
    )


def stream_source(
    source: str | Path, *, duplicate_keys: bool = True
) -> Iterator[tuple[str, Loaded]]:
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
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            if raw is not None
            else sys.stdin
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
                raise _LimitError(
                    f"a value is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB"
                )
            pos = end
            if not _json_depth_ok(item):
                raise _LimitError(f"nested deeper than {MAX_DEPTH} levels; flatten it")
            return item

    def expect(chars: str) -> str:
        nonlocal pos
        c = skip_space()
        if not c or c not in chars:
            found = repr(c) if c else "the end of the file"
            raise ManifestError(
                f"{label}: not valid JSON: expected {' or '.join(chars)}, found {found}"
            )
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
