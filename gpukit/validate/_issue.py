"""The Issue record: one problem found in one object, with where it is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Issue", "IssueCode", "Severity"]

Severity = Literal["error", "warning"]

IssueCode = Literal[
    "not-an-object",  # a document that is not a mapping
    "unknown-kind",  # no schema for this apiVersion/kind: nothing was checked
    "unserved-version",  # the CRD exists but does not serve this version
    "deprecated-version",  # served, but the CRD marks the version deprecated (warning)
    "unknown-field",  # a field the schema does not declare (the server would reject or drop it)
    "required",  # a required field is missing
    "null",  # null where the schema does not allow it
    "type",  # wrong JSON type
    "enum",  # a value outside the allowed set
    "pattern",  # a string that does not match the schema's pattern
    "format",  # a string or number that breaks its format (int32, date-time, quantity...)
    "range",  # a number outside minimum/maximum
    "length",  # a string, list or map that is too short or too long
    "duplicate",  # a repeated key in a list-type map or set
    "combinator",  # fails anyOf / oneOf / allOf / not
    "name",  # metadata.name, namespace, labels or annotations break Kubernetes name rules
    "pod",  # a pod spec that the API server's own Go validation rejects
]


class Issue(BaseModel):
    """One problem in one object.

    ``path`` is the field path inside the object in the API server's notation
    (``spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]``); ``""`` means
    the object as a whole. ``doc`` is the 0-based position of the object in its file (the
    YAML document index) or in the list given to ``validate_objects``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity = "error"
    code: IssueCode
    message: str
    path: str = ""
    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    file: str | None = None
    doc: int | None = None

    @property
    def object(self) -> str:
        """'Kind/name' (or what is known of it) for reports."""
        kind = self.kind or "?"
        return f"{kind}/{self.name}" if self.name else kind

    @property
    def location(self) -> str:
        """'file#doc' (or what is known of it) for reports."""
        where = self.file or ""
        if self.doc is not None:
            where = f"{where}#{self.doc}"
        return where

    def __str__(self) -> str:
        parts = [p for p in (self.location, self.object, self.path) if p]
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{': '.join(parts)}: {prefix}{self.message}"
