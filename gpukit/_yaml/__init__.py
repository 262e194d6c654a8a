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

Where it lives: :mod:`gpukit._yaml.bounded` (the limits and the whole-text loaders
:func:`load_text` / :func:`load_reporting`), :mod:`gpukit._yaml.files` (reading one file or
standard input, expanding folders) and :mod:`gpukit._yaml.streams` (many documents per file,
JSON Lines, huge JSON lists, one document at a time). Import from ``gpukit._yaml``.
"""

from __future__ import annotations

from gpukit._yaml.bounded import _NO_TIMESTAMPS as _NO_TIMESTAMPS
from gpukit._yaml.bounded import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_DOCUMENTS,
    MAX_FILE_BYTES,
    MAX_NODES,
    Loaded,
    Reported,
    load_reporting,
    load_text,
)
from gpukit._yaml.bounded import Loc as Loc
from gpukit._yaml.bounded import _check_graph as _check_graph
from gpukit._yaml.bounded import _child as _child
from gpukit._yaml.bounded import _duplicate_key as _duplicate_key
from gpukit._yaml.bounded import _LimitError as _LimitError
from gpukit._yaml.bounded import _Loader as _Loader
from gpukit._yaml.bounded import _Parser as _Parser
from gpukit._yaml.bounded import _Reporting as _Reporting
from gpukit._yaml.files import YAML_SUFFIXES, expand_paths, read_source
from gpukit._yaml.files import _decode as _decode
from gpukit._yaml.files import _too_big as _too_big
from gpukit._yaml.streams import _CHUNK as _CHUNK
from gpukit._yaml.streams import (
    JSON_LINES_SUFFIXES,
    MAX_DOCUMENT_BYTES,
    stream_documents,
    stream_json_items,
    stream_json_lines,
    stream_source,
)
from gpukit._yaml.streams import _BoundedStream as _BoundedStream
from gpukit._yaml.streams import _json_depth_ok as _json_depth_ok
from gpukit._yaml.streams import _looks_like_json_lines as _looks_like_json_lines
from gpukit._yaml.streams import _Rejoined as _Rejoined
from gpukit._yaml.streams import _unique_pairs as _unique_pairs

__all__ = [
    "JSON_LINES_SUFFIXES",
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENTS",
    "MAX_DOCUMENT_BYTES",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "YAML_SUFFIXES",
    "Loaded",
    "Reported",
    "expand_paths",
    "load_reporting",
    "load_text",
    "read_source",
    "stream_documents",
    "stream_json_items",
    "stream_json_lines",
    "stream_source",
]
