"""Lint's file reading: the bounded, safe loader of :mod:`gpukit._yaml`, under lint's names."""

from gpukit._yaml import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_DOCUMENTS,
    MAX_FILE_BYTES,
    MAX_NODES,
    YAML_SUFFIXES,
    Loaded,
    expand_paths,
    load_text,
    read_source,
)

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENTS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "YAML_SUFFIXES",
    "Loaded",
    "expand_paths",
    "load_text",
    "read_source",
]
