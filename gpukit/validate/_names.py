"""Kubernetes name rules (apimachinery validation): DNS names, label keys and values."""

from __future__ import annotations

import re

__all__ = [
    "NAME_RULES",
    "check_label_value",
    "check_name",
    "check_qualified_name",
]

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def _dns1123_label(value: str) -> str | None:
    if len(value) > 63:
        return f"must be no more than 63 characters (got {len(value)})"
    if not _DNS1123_LABEL.fullmatch(value):
        return (
            "must be a lowercase RFC 1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (e.g. 'my-name')"
        )
    return None


def _dns1123_subdomain(value: str) -> str | None:
    if len(value) > 253:
        return f"must be no more than 253 characters (got {len(value)})"
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        return (
            "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit (e.g. 'example.com')"
        )
    return None


def _dns1035_label(value: str) -> str | None:
    if len(value) > 63:
        return f"must be no more than 63 characters (got {len(value)})"
    if not _DNS1035_LABEL.fullmatch(value):
        return (
            "must be a lowercase RFC 1035 label: lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit (e.g. 'my-name')"
        )
    return None


def _path_segment(value: str) -> str | None:
    if value in (".", ".."):
        return f"may not be {value!r}"
    for bad in ("/", "%"):
        if bad in value:
            return f"may not contain {bad!r}"
    return None


_RULES = {
    "dns-label": _dns1123_label,
    "dns-subdomain": _dns1123_subdomain,
    "dns-1035-label": _dns1035_label,
    "path-segment": _path_segment,
}

# Core kinds whose name rule is not the default (RFC 1123 subdomain); from the kinds'
# Go validation (ValidateNamespaceName, ValidateServiceName, ValidateRBACName).
NAME_RULES = {
    "Namespace": "dns-label",
    "Service": "dns-1035-label",
    "Role": "path-segment",
    "ClusterRole": "path-segment",
    "RoleBinding": "path-segment",
    "ClusterRoleBinding": "path-segment",
}


def check_name(value: str, rule: str = "dns-subdomain") -> str | None:
    """Why ``value`` breaks ``rule`` ('dns-subdomain', 'dns-label', ...), or None."""
    return _RULES[rule](value)


def check_qualified_name(value: str) -> str | None:
    """Why ``value`` is not a label or annotation key (``[prefix/]name``), or None."""
    prefix, slash, name = value.rpartition("/")
    if slash:
        if not prefix:
            return "prefix part must be non-empty"
        why = _dns1123_subdomain(prefix)
        if why:
            return f"prefix part {why}"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return f"name part must be no more than 63 characters (got {len(name)})"
    if not _QUALIFIED_NAME.fullmatch(name):
        return (
            "name part must consist of letters, digits, '-', '_' or '.', "
            "and must start and end with a letter or digit"
        )
    return None


def check_label_value(value: str) -> str | None:
    """Why ``value`` is not a label value, or None."""
    if len(value) > 63:
        return f"must be no more than 63 characters (got {len(value)})"
    if value and not _QUALIFIED_NAME.fullmatch(value):
        return (
            "must be empty or consist of letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None
