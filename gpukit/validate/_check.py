"""The schema walk: prune nulls, apply defaults, then validate, as the API server does."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from gpukit.errors import did_you_mean
from gpukit.validate import _names
from gpukit.validate._schema import MISSING, Node

__all__ = ["Checker", "Path", "copy_json", "render_path", "show"]

# A path is a linked chain (parent, segment) so that descending costs O(1); it is only
# rendered when an issue is recorded. A segment is a field name (str), a list index (int)
# or a map key (a 1-tuple), printed as `.name`, `[0]` and `[key]` like the API server.
Path = tuple[Any, Any] | None

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
# What resource.ParseQuantity accepts: a signed decimal number, then one suffix (binary
# SI, decimal SI, or a decimal exponent with an integer power).
QUANTITY = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)((Ki|Mi|Gi|Ti|Pi|Ei)|[numkMGTPE]|[eE][+-]?\d+)?")
_NUMBER = (int, float)


def render_path(path: Path) -> str:
    parts: list[str] = []
    while path is not None:
        path, segment = path
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif isinstance(segment, tuple):
            parts.append(f"[{segment[0]}]")
        else:
            parts.append(f".{segment}")
    return "".join(reversed(parts)).lstrip(".")


def show(value: Any, limit: int = 60) -> str:
    """A value as JSON for messages, shortened."""
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return f"non-JSON value ({type(value).__name__})"


def _is(kind: str, value: Any) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, _NUMBER) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def copy_json(value: Any) -> Any:
    """A deep copy of plain JSON data (several times faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    # bool vs int and key order must not make equal JSON values differ, nor differ equal ones.
    return json.dumps(value, sort_keys=True, default=repr)


class Checker:
    """One walk over one object. ``issues`` collects (severity, code, path, message).

    ``structural`` walks mutate the object as the API server does before validating it:
    null values of non-nullable fields are dropped, defaults are filled in, and fields the
    schema does not declare are reported (the server would drop them silently; strict
    field validation rejects them). Non-structural walks (inside anyOf/allOf/oneOf/not)
    only evaluate the value.
    """

    __slots__ = ("issues", "meta", "podspec_hook", "structural")

    def __init__(
        self, structural: bool = True, podspec_hook: Any = None, meta: Node | None = None
    ) -> None:
        self.issues: list[tuple[str, str, Path, str]] = []
        self.structural = structural
        self.podspec_hook = podspec_hook
        self.meta = meta  # the ObjectMeta node, for embedded resources

    def add(self, code: str, path: Path, message: str, severity: str = "error") -> None:
        self.issues.append((severity, code, path, message))

    def walk(self, value: Any, node: Node, path: Path) -> None:
        if value is None:
            if not node.nullable:
                self.add("null", path, "must not be null; remove the field or give a value")
            return
        if node.format == "quantity":
            self._quantity(value, path)
            return
        if node.int_or_string:
            if not (isinstance(value, str) or _is("integer", value)):
                self.add(
                    "type",
                    path,
                    f"expected an integer or a string, got {json_type(value)} {show(value)}",
                )
                return
        elif node.type is not None and not _is(node.type, value):
            self.add("type", path, f"expected {node.type}, got {json_type(value)} {show(value)}")
            return
        if node.enum is not None:
            self._enum(value, node, path)
        if isinstance(value, str):
            self._string(value, node, path)
        elif isinstance(value, dict):
            self._object(value, node, path)
        elif isinstance(value, list):
            self._array(value, node, path)
        elif isinstance(value, _NUMBER) and not isinstance(value, bool):
            self._number(value, node, path)
        if node.any_of or node.all_of or node.one_of or node.not_:
            self._combinators(value, node, path)

    # -- scalars -----------------------------------------------------------------------

    def _enum(self, value: Any, node: Node, path: Path) -> None:
        key = _canonical(value)
        allowed = node.enum or ()
        if any(_canonical(a) == key for a in allowed):
            return
        shown = ", ".join(show(a) for a in allowed[:12]) + (", ..." if len(allowed) > 12 else "")
        hint = did_you_mean(str(value), [str(a) for a in allowed]) if isinstance(value, str) else ""
        self.add("enum", path, f"unsupported value {show(value)}{hint}; allowed: {shown}")

    def _string(self, value: str, node: Node, path: Path) -> None:
        if node.min_len is not None and len(value) < node.min_len:
            self.add(
                "length", path, f"must have at least {node.min_len} characters (got {len(value)})"
            )
        if node.max_len is not None and len(value) > node.max_len:
            self.add(
                "length", path, f"must have at most {node.max_len} characters (got {len(value)})"
            )
        if node.pattern is not None and not node.pattern.search(value):
            if "[KMGTPE]i" in (node.pattern_src or ""):  # the quantity pattern of controller-gen
                message = f"{show(value)} is not a quantity (e.g. 8, 500m, 6Gi)"
            else:
                message = f"{show(value)} does not match pattern {node.pattern_src}"
            self.add("pattern", path, message)
        fmt = node.format
        if fmt == "date-time":
            if not _DATE_TIME.fullmatch(value):
                self.add(
                    "format",
                    path,
                    f"{show(value)} is not an RFC 3339 date-time (e.g. 2026-01-31T12:00:00Z)",
                )
        elif fmt == "byte":
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                self.add("format", path, f"{show(value)} is not base64; encode the value")

    def _quantity(self, value: Any, path: Path) -> None:
        if isinstance(value, str):
            if not QUANTITY.fullmatch(value):
                self.add(
                    "format",
                    path,
                    f"{show(value)} is not a quantity; use a number with an optional suffix "
                    "(Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent), e.g. 6Gi, 500m",
                )
        elif not _is("number", value):
            self.add("type", path, f"expected a quantity, got {json_type(value)} {show(value)}")
        elif isinstance(value, float) and not math.isfinite(value):
            self.add("format", path, f"{show(value)} is not a quantity")

    def _number(self, value: float, node: Node, path: Path) -> None:
        if node.format in ("int32", "int64") and isinstance(value, int):
            low, high = _INT32 if node.format == "int32" else _INT64
            if not low <= value <= high:
                self.add("format", path, f"{value} does not fit in {node.format} ({low}..{high})")
        low, high = node.minimum, node.maximum
        if low is not None and (value < low or (node.excl_min and value == low)):
            self.add("range", path, f"must be {'>' if node.excl_min else '>='} {low} (got {value})")
        if high is not None and (value > high or (node.excl_max and value == high)):
            self.add(
                "range", path, f"must be {'<' if node.excl_max else '<='} {high} (got {value})"
            )
        if node.multiple_of:
            ratio = value / node.multiple_of
            if ratio != int(ratio):
                self.add("range", path, f"must be a multiple of {node.multiple_of} (got {value})")

    # -- containers --------------------------------------------------------------------

    def _object(self, value: dict[str, Any], node: Node, path: Path) -> None:
        props = node.props
        structural = self.structural
        for key in list(value):
            child = value[key]
            sub = props.get(key) if props else None
            if node.embedded and key == "metadata" and structural:
                continue  # always ObjectMeta, whatever the CRD declares: see _embedded
            if sub is not None:
                if child is None and not sub.nullable and structural:
                    # The API server prunes such nulls, then defaults the field.
                    if sub.default is MISSING:
                        del value[key]
                        continue
                    value[key] = child = copy_json(sub.default)
                self.walk(child, sub, (path, key))
            elif not isinstance(key, str):
                self.add("type", (path, (key,)), f"field names must be strings, got {show(key)}")
            elif isinstance(node.addl, Node):
                self.walk(child, node.addl, (path, (key,)))
            elif (
                node.addl is True
                or node.preserve
                or not structural
                or node.embedded
                and key in ("apiVersion", "kind", "metadata")
            ):
                continue
            else:
                self._unknown(key, node, path)
        if structural and node.defaults:
            for key, default in node.defaults:
                if key not in value:
                    value[key] = copy_json(default)
                    self.walk(value[key], props[key], (path, key))  # type: ignore[index]
        if node.required:
            for key in node.required:
                if key not in value:
                    self.add("required", (path, key), "required field is missing")
        count = len(value)
        if node.min_props is not None and count < node.min_props:
            self.add("length", path, f"must have at least {node.min_props} fields (got {count})")
        if node.max_props is not None and count > node.max_props:
            self.add("length", path, f"must have at most {node.max_props} fields (got {count})")
        if node.embedded and structural:
            self._embedded(value, path)
        if node.hook == "meta":
            self.check_labels(value, path)
        elif node.hook is not None and self.podspec_hook is not None and structural:
            self.podspec_hook(self, value, path, node.hook == "podspec")

    def _unknown(self, key: str, node: Node, path: Path) -> None:
        names = node.field_names()
        hint = did_you_mean(key, names)
        if not names:
            detail = "; this object takes no fields"
        elif len(names) <= 12:
            detail = f"; allowed: {', '.join(names)}"
        else:
            detail = ""
        self.add("unknown-field", (path, key), f"unknown field {key!r}{hint}{detail}")

    def _embedded(self, value: dict[str, Any], path: Path) -> None:
        for key in ("apiVersion", "kind"):
            if key not in value:
                self.add("required", (path, key), "required field is missing (embedded object)")
            elif not isinstance(value[key], str):
                self.add("type", (path, key), f"expected string, got {json_type(value[key])}")
        if self.meta is not None and "metadata" in value:
            self.walk(value["metadata"], self.meta, (path, "metadata"))

    def _array(self, value: list[Any], node: Node, path: Path) -> None:
        count = len(value)
        if node.min_items is not None and count < node.min_items:
            self.add("length", path, f"must have at least {node.min_items} items (got {count})")
        if node.max_items is not None and count > node.max_items:
            self.add("length", path, f"must have at most {node.max_items} items (got {count})")
        items = node.items
        if items is not None:
            for index, item in enumerate(value):
                self.walk(item, items, (path, index))
        if node.list_type == "map" and node.map_keys:
            seen: dict[str, int] = {}
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    continue
                key = _canonical([item.get(k) for k in node.map_keys])
                if key in seen:
                    shown = ", ".join(f"{k}={show(item.get(k))}" for k in node.map_keys)
                    self.add(
                        "duplicate",
                        (path, index),
                        f"duplicate entry ({shown}); item {seen[key]} has the same key",
                    )
                else:
                    seen[key] = index
        elif node.list_type == "set" or node.unique:
            seen = {}
            for index, item in enumerate(value):
                key = _canonical(item)
                if key in seen:
                    self.add(
                        "duplicate",
                        (path, index),
                        f"duplicate value {show(item)}; item {seen[key]} has the same value",
                    )
                else:
                    seen[key] = index

    def _combinators(self, value: Any, node: Node, path: Path) -> None:
        def passes(sub: Node) -> bool:
            probe = Checker(structural=False)
            probe.walk(value, sub, path)
            return not any(i[0] == "error" for i in probe.issues)

        if node.all_of:
            for sub in node.all_of:
                probe = Checker(structural=False)
                probe.walk(value, sub, path)
                self.issues.extend(probe.issues)
        if node.any_of and not any(passes(sub) for sub in node.any_of):
            self.add("combinator", path, f"{show(value)} matches none of the allowed forms (anyOf)")
        if node.one_of:
            matched = sum(passes(sub) for sub in node.one_of)
            if matched != 1:
                self.add(
                    "combinator",
                    path,
                    f"{show(value)} must match exactly one allowed form (oneOf); matches {matched}",
                )
        if node.not_ is not None and passes(node.not_):
            self.add("combinator", path, f"{show(value)} matches a forbidden form (not)")

    # -- metadata ----------------------------------------------------------------------

    def check_labels(self, meta: dict[str, Any], path: Path) -> None:
        labels = meta.get("labels")
        if isinstance(labels, dict):
            for key, val in labels.items():
                at = (path, "labels"), (str(key),)
                why = _names.check_qualified_name(str(key))
                if why:
                    self.add("name", at, f"label key {show(key)}: {why}")
                if isinstance(val, str):
                    why = _names.check_label_value(val)
                    if why:
                        self.add("name", at, f"label value {show(val)}: {why}")
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            total = 0
            for key, val in annotations.items():
                why = _names.check_qualified_name(str(key))
                if why:
                    self.add(
                        "name",
                        ((path, "annotations"), (str(key),)),
                        f"annotation key {show(key)}: {why}",
                    )
                total += len(str(key)) + (len(val) if isinstance(val, str) else 0)
            if total > 256 * 1024:
                self.add(
                    "length",
                    (path, "annotations"),
                    f"annotations total {total} bytes; the limit is 262144 (256 KiB)",
                )
