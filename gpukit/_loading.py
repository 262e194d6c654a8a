"""Reading YAML/JSON documents into models, with one-line errors naming file, field and fix."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gpukit._yaml import load_text
from gpukit.errors import InputError, ManifestError, did_you_mean

__all__ = ["format_validation_error", "load_documents", "read_text"]

M = TypeVar("M", bound=BaseModel)


def read_text(source: str | Path) -> tuple[str, str]:
    """(label, text) of a file path, or of standard input for '-'."""
    if str(source) == "-":
        return "<stdin>", sys.stdin.read()
    path = Path(source)
    try:
        return str(path), path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise ManifestError(f"{path}: is a folder; give a file, or the folder's files") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text; give a YAML or JSON file") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read ({exc.strerror})") from None


def load_documents(label: str, text: str) -> Iterator[tuple[int, Any]]:
    """(index, document) for each non-empty YAML or JSON document in ``text``.

    Read through the bounded, safe loader (:mod:`gpukit._yaml`): nesting, aliases and size
    are limited, and a key given twice in one mapping is refused rather than silently
    keeping the last value.
    """
    for loaded in load_text(label, text, duplicate_keys=False):
        if loaded.value is not None:
            yield loaded.index, loaded.value


def format_validation_error(
    error: ValidationError, model: type[BaseModel], where: str
) -> str:
    """The first problem of a pydantic error as one line: where, field, value, what's allowed."""
    err = error.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = _fields_at(model, err["loc"][:-1])
        return (
            f"{where}: unknown field {loc!r}{did_you_mean(str(err['loc'][-1]), allowed)}; "
            f"allowed fields: {', '.join(allowed)}"
        )
    if kind == "missing":
        return f"{where}: field {loc!r} is required; add it"
    message = err["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        allowed = err.get("ctx", {}).get("expected", "")
        hint = did_you_mean(str(value), [a.strip(" '") for a in allowed.replace(" or ", ",").split(",")])
        return f"{where}: field {loc!r}: {value!r} is not allowed{hint}; use one of {allowed}"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in bounds:
        limit = next(iter(err.get("ctx", {}).values()), "")
        return f"{where}: field {loc!r}: {value!r} is not allowed: must be {bounds[kind]} {limit}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{where}: field {loc!r}: {value!r} is not allowed: {message.lower()}"
    return f"{where}: field {loc!r}: {message}"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _inner_model(field.annotation)
    return sorted(getattr(current, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validate_model(model: type[M], data: Any, where: str, error: type[InputError]) -> M:
    """Build ``model`` from ``data`` or raise ``error`` with a one-line message."""
    if not isinstance(data, dict):
        raise error(f"{where}: expected a mapping of fields, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(format_validation_error(exc, model, where)) from None
