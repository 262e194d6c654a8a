"""Whole files and folders: read one file (or standard input) within the size limit, expand folders."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from gpukit._yaml.bounded import MAX_FILE_BYTES
from gpukit.errors import ManifestError

YAML_SUFFIXES = (".yaml", ".yml", ".json")


def read_source(source: str | Path) -> tuple[str, str]:
    """(label, text) of a file, or of standard input for '-'; refuses big or binary input."""
    if str(source) == "-":
        stream = getattr(sys.stdin, "buffer", None)
        raw = (
            stream.read(MAX_FILE_BYTES + 1)
            if stream is not None
            else sys.stdin.read(MAX_FILE_BYTES + 1).encode("utf-8", "surrogateescape")
        )
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
