"""The bounded whole-file loader: every document of one text, within size, depth, alias and node limits.

:func:`load_text` refuses what breaks a limit (and, on request, repeated mapping keys);
:func:`load_reporting` reports repeated keys with their lines instead. The streaming readers
(:mod:`gpukit._yaml.streams`) reuse this loader and its graph check per document.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 100
MAX_ALIASES = 1000
MAX_NODES = 500_000
MAX_DOCUMENTS = 2000

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
            items = (
                node.value
                if isinstance(node, SequenceNode)
                else [n for pair in node.value for n in pair]
            )
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
        raise _LimitError(
            f"more than {MAX_ALIASES} YAML aliases (*name); expand them or split the file"
        )
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


@contextmanager
def loading_errors(label: str, what: str = "YAML or JSON") -> Iterator[None]:
    """One line for whatever stops a load: a broken limit, bad syntax, undecodable text, or a
    constructor failing on a pathological scalar (huge timestamps, odd tags)."""
    try:
        yield
    except _LimitError as exc:
        raise ManifestError(f"{label}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(f"{label}: not valid {what}{where}: {problem}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{label}: not UTF-8 text; give a {what} file") from None
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError) as exc:
        raise ManifestError(f"{label}: cannot be loaded: {type(exc).__name__}: {exc}") from None


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
    with loading_errors(label):
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
    with loading_errors(label, what):
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
        finally:
            loader.dispose()
    return docs
