"""Checking mig-parted configs against the catalog: every entry, for every device it can apply to."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel

from gpukit._yaml import load_reporting
from gpukit.errors import ManifestError, did_you_mean
from gpukit.hardware.catalog import Catalog, GpuModel, catalog
from gpukit.hardware.mig import MigLayout, Unplaceable
from gpukit.hardware.migparted.configs import _FROZEN, _LABEL_VALUE

__all__ = ["Finding", "validate_mig_parted", "validate_mig_parted_text"]

_PROFILE = re.compile(r"^(?:(?P<ci>\d+)c\.)?(?P<gi>\d+g\.\d+gb(?:[+-][a-z]+(?:\.[a-z]+)*)?)$")
_FILTER = re.compile(r"^0x[0-9A-Fa-f]{8}$")
_ENTRY_KEYS = ("device-filter", "devices", "mig-enabled", "mig-devices")
_HOOKS = ("apply-start", "pre-apply-mode", "pre-apply-config", "apply-exit")
_HOOK_KEYS = ("workdir", "command", "args", "envs")


class Finding(BaseModel):
    """One problem in a mig-parted config: where, which config and entry, which device, why."""

    model_config = _FROZEN

    source: str
    config: str
    entry: int | None = None
    device: str = "-"
    severity: Literal["error", "warning"] = "error"
    reason: str

    def __str__(self) -> str:
        where = f"config {self.config!r}"
        if self.entry is not None:
            where += f" entry {self.entry}"
        device = "" if self.device == "-" else f" [{self.device}]"
        return f"{self.source}: {self.severity}: {where}{device}: {self.reason}"


def _load_all(text: str, label: str) -> tuple[list[Any], list[tuple[str, int]]]:
    """Every document, and the keys repeated anywhere in the text (compared as YAML values).

    Read by the bounded reader (:func:`gpukit._yaml.load_reporting`), so a config has the
    same size, depth and alias limits as every other file gpukit reads.
    """
    docs = load_reporting(label, text, keys="value")
    return [d.value for d in docs], [repeat for d in docs for repeat in d.duplicates]


def _is_spec(doc: Any) -> bool:
    return isinstance(doc, dict) and ("mig-configs" in doc or "hooks" in doc)


def validate_mig_parted_text(text: str, label: str = "<input>", *, cat: Catalog | None = None) -> list[Finding]:
    """Findings for every mig-parted config in ``text``: a bare config, hooks, or ConfigMaps.

    Multi-document files (a MIG manager deployment) are searched for ConfigMaps whose
    ``config.yaml`` is a mig-parted config. ManifestError when nothing in the text is one.
    """
    cat = cat or catalog()
    docs, repeated = _load_all(text, label)
    findings: list[Finding] = []
    found = 0
    for index, doc in enumerate(d for d in docs if d is not None):
        where = label if len(docs) == 1 else f"{label} (document {index + 1})"
        if _is_spec(doc):
            found += 1
            findings.extend(_repeats(where, repeated))
            findings.extend(validate_mig_parted(doc, where, cat=cat))
        elif isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
            name = (doc.get("metadata") or {}).get("name", "?")
            for key, value in sorted((doc.get("data") or {}).items()):
                if not isinstance(value, str):
                    continue
                inner_where = f"{label} ConfigMap/{name} {key}"
                inner, inner_repeated = _load_all(value, inner_where)
                specs = [d for d in inner if _is_spec(d)]
                if not specs:
                    continue
                found += 1
                findings.extend(_repeats(inner_where, inner_repeated))
                for spec in specs:
                    findings.extend(validate_mig_parted(spec, inner_where, cat=cat))
                if key != "config.yaml" and any("mig-configs" in s for s in specs):
                    findings.append(Finding(
                        source=inner_where, config="-", severity="warning",
                        reason=f"the MIG manager reads only the key 'config.yaml', not {key!r}",
                    ))
    if not found:
        raise ManifestError(
            f"{label}: no mig-parted config found; expected a document with 'version: v1' and "
            "'mig-configs' (or 'hooks'), or a ConfigMap whose 'config.yaml' holds one"
        )
    return findings


def _repeats(where: str, repeated: Iterable[tuple[str, int]]) -> list[Finding]:
    return [
        Finding(
            source=where, config=key,
            reason=f"key {key!r} appears twice (line {line}); YAML keeps only the last, so the "
            "earlier definition is silently lost; rename or merge them",
        )
        for key, line in repeated
    ]


def validate_mig_parted(spec: Any, source: str = "<input>", *, cat: Catalog | None = None) -> list[Finding]:
    """Findings for one parsed mig-parted document (``version``, ``mig-configs`` / ``hooks``)."""
    cat = cat or catalog()
    out: list[Finding] = []

    def bad(config: str, reason: str, entry: int | None = None, device: str = "-") -> None:
        out.append(Finding(source=source, config=config, entry=entry, device=device, reason=reason))

    if not isinstance(spec, dict):
        bad("-", f"a mig-parted config is a mapping, got {type(spec).__name__}")
        return out
    if spec.get("version") != "v1":
        bad("-", f"'version' must be 'v1', got {spec.get('version')!r}")
    for key in spec:
        if key not in ("version", "mig-configs", "hooks"):
            bad("-", f"unknown top-level key {key!r}{did_you_mean(str(key), ['version', 'mig-configs', 'hooks'])}; "
                "allowed: version, mig-configs, hooks")
    if "hooks" in spec:
        out.extend(_check_hooks(spec["hooks"], source))
    if "mig-configs" in spec:
        configs = spec["mig-configs"]
        if not isinstance(configs, dict) or not configs:
            bad("-", "'mig-configs' must be a non-empty mapping of config name -> list of entries")
            return out
        for name, entries in configs.items():
            out.extend(_check_config(str(name), entries, source, cat))
    return out


def _check_hooks(hooks: Any, source: str) -> list[Finding]:
    out: list[Finding] = []
    if not isinstance(hooks, dict):
        return [Finding(source=source, config="hooks", reason="'hooks' must be a mapping of hook name -> list")]
    for name, items in hooks.items():
        if name not in _HOOKS:
            out.append(Finding(
                source=source, config=str(name),
                reason=f"unknown hook {name!r}{did_you_mean(str(name), _HOOKS)}; hooks: {', '.join(_HOOKS)}",
            ))
            continue
        if not isinstance(items, list) or not items:
            out.append(Finding(source=source, config=str(name), reason="a hook is a non-empty list of commands"))
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                out.append(Finding(source=source, config=str(name), entry=i, reason="each hook item is a mapping"))
                continue
            for key in item:
                if key not in _HOOK_KEYS:
                    out.append(Finding(
                        source=source, config=str(name), entry=i,
                        reason=f"unknown key {key!r}{did_you_mean(str(key), _HOOK_KEYS)}; allowed: {', '.join(_HOOK_KEYS)}",
                    ))
            if not isinstance(item.get("command"), str) or not item.get("command"):
                out.append(Finding(source=source, config=str(name), entry=i, reason="'command' (a string) is required"))
            args = item.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                out.append(Finding(source=source, config=str(name), entry=i, reason="'args' must be a list of strings"))
    return out


def _check_config(name: str, entries: Any, source: str, cat: Catalog) -> list[Finding]:
    out: list[Finding] = []

    def add(reason: str, entry: int | None = None, device: str = "-", severity: str = "error") -> None:
        out.append(Finding(source=source, config=name, entry=entry, device=device,
                           severity=severity, reason=reason))  # type: ignore[arg-type]

    if not _LABEL_VALUE.match(name):
        add("config name cannot be a node label value (at most 63 letters, digits, '-', '_', '.', "
            "starting and ending alphanumeric), so no node can select it via nvidia.com/mig.config")
    if not isinstance(entries, list) or not entries:
        add("a config is a non-empty list of entries {devices, mig-enabled, mig-devices, device-filter}")
        return out
    scopes: list[tuple[int, frozenset[str] | None, frozenset[int] | None]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            add(f"entry must be a mapping, got {type(entry).__name__}", i)
            continue
        for key in entry:
            if key not in _ENTRY_KEYS:
                add(f"unknown key {key!r}{did_you_mean(str(key), _ENTRY_KEYS)}; allowed: {', '.join(_ENTRY_KEYS)}", i)
        filters = _filters(entry.get("device-filter"), lambda r, i=i: add(r, i))
        devices = _devices(entry, lambda r, i=i: add(r, i))
        enabled = entry.get("mig-enabled")
        if "mig-enabled" not in entry:
            add("'mig-enabled' is required (true or false)", i)
            continue
        if not isinstance(enabled, bool):
            add(f"'mig-enabled' must be true or false, got {enabled!r}", i)
            continue
        counts = _mig_devices(entry.get("mig-devices"), lambda r, i=i: add(r, i), cat)
        if counts is None:
            continue
        if not enabled and any(counts.values()):
            add("'mig-devices' lists instances but 'mig-enabled' is false; set mig-enabled: true "
                "or remove the devices", i)
            continue
        scopes.append((i, filters, devices))
        if enabled:
            out.extend(_check_devices(name, i, filters, counts, source, cat))
    # Two entries that can select the same GPU contradict each other.
    for a in range(len(scopes)):
        for b in range(a + 1, len(scopes)):
            i, fa, da = scopes[a]
            j, fb, db = scopes[b]
            same_filter = fa is None or fb is None or bool(fa & fb)
            same_device = da is None or db is None or bool(da & db)
            if same_filter and same_device:
                which = "all devices" if da is None and db is None else (
                    "device(s) " + ", ".join(str(d) for d in sorted((da or db or frozenset()) & (db or da or frozenset())))
                )
                add(f"entries {i} and {j} both apply to {which}"
                    + ("" if fa is None or fb is None else " of " + ", ".join(sorted(fa & fb)))
                    + "; give them disjoint 'devices' or 'device-filter'", j)
    return out


def _filters(raw: Any, bad: Any) -> frozenset[str] | None:
    if raw is None:
        return None
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        bad("'device-filter' must be a PCI id string like '0x20B010DE' or a list of them")
        return None
    out = set()
    for item in items:
        if not isinstance(item, str) or not _FILTER.match(item):
            bad(f"'device-filter' value {item!r} is not a PCI id of the form 0xDDDDVVVV "
                "(device id then vendor id, e.g. 0x20B010DE)")
            continue
        out.add(item.upper().replace("0X", "0x"))
    return frozenset(out)


def _devices(entry: Mapping[str, Any], bad: Any) -> frozenset[int] | None:
    if "devices" not in entry:
        bad("'devices' is required: 'all' or a list of GPU indexes")
        return None
    raw = entry["devices"]
    if raw == "all":
        return None
    if isinstance(raw, list) and raw and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in raw):
        if len(set(raw)) != len(raw):
            bad(f"'devices' lists an index twice: {raw}")
        return frozenset(raw)
    bad(f"'devices' must be 'all' or a non-empty list of GPU indexes (0, 1, ...), got {raw!r}")
    return None


def _mig_devices(raw: Any, bad: Any, cat: Catalog) -> dict[str, int] | None:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        bad(f"'mig-devices' must be a mapping of profile -> count, got {type(raw).__name__}")
        return None
    counts: dict[str, int] = {}
    ok = True
    for profile, count in raw.items():
        profile = str(profile)
        if not _PROFILE.match(profile):
            known = sorted({p.name for m in cat.mig_capable for p in m.profiles})
            bad(f"{profile!r} is not a MIG profile name{did_you_mean(profile, known)}; "
                "names look like 1g.10gb, 1g.10gb+me or 1c.3g.20gb")
            ok = False
        elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
            bad(f"count of {profile} must be a whole number >= 0, got {count!r}")
            ok = False
        else:
            counts[profile] = count
    return counts if ok else None


def _check_devices(
    name: str, index: int, filters: frozenset[str] | None, counts: dict[str, int], source: str, cat: Catalog
) -> list[Finding]:
    out: list[Finding] = []

    def add(reason: str, device: str, severity: str = "error") -> None:
        out.append(Finding(source=source, config=name, entry=index, device=device,
                           severity=severity, reason=reason))  # type: ignore[arg-type]

    wanted = {p: c for p, c in counts.items() if c}
    ci = [p for p in wanted if _PROFILE.match(p)["ci"]]  # type: ignore[index]
    if ci:
        add("compute-instance profiles (" + ", ".join(ci) + ") are checked only for their GPU "
            "instance profile existing", "-", "warning")
    # Placement is checked on GPU-instance profiles; compute-instance ones only by name.
    named = dict.fromkeys(_PROFILE.match(p)["gi"] for p in wanted)  # type: ignore[index]
    wanted = {p: c for p, c in wanted.items() if p not in ci}

    if filters is not None:
        for pci in sorted(filters):
            model = cat.by_pci_id(pci)
            if model is None:
                other = _unmodelled_by_pci(cat, pci)
                add(f"PCI id {pci} is {other + ', which gpukit does not model' if other else 'not in the gpukit catalog'}; "
                    "entry not checked for it", pci, "warning")
                continue
            device = f"{pci} {model.key}"
            if model.mig is None:
                add(f"{model.key} is not MIG-capable, but the entry enables MIG", device)
                continue
            problem = _layout_problem(model, wanted, named)
            if problem:
                add(problem, device)
        return out

    if not named:
        return out
    candidates = [m for m in cat.mig_capable if all(m.find_profile(p) for p in named)]
    if not candidates:
        missing = [p for p in named if not any(m.find_profile(p) for m in cat.mig_capable)]
        if missing:
            unmodelled = [u.name for u in cat.unmodelled if all(p in u.profiles for p in missing)]
            if unmodelled:
                add(f"profile(s) {', '.join(missing)} belong to {', '.join(unmodelled)}, which gpukit "
                    "does not model; entry not checked", "any GPU", "warning")
                return out
            known = sorted({p.name for m in cat.mig_capable for p in m.profiles})
            add(f"no GPU model has MIG profile {missing[0]!r}{did_you_mean(missing[0], known)}; "
                "mig-parted would fail on every GPU", "any GPU")
            return out
        add(f"no GPU model has all of {', '.join(named)} (names are per model); split the entry "
            "per GPU model with a device-filter", "any GPU")
        return out
    failing = []
    for model in candidates:
        problem = _layout_problem(model, wanted, named)
        if problem:
            failing.append((model, problem))
    if len(failing) == len(candidates):
        for model, problem in failing:
            add(problem, f"any GPU: {model.key}")
    else:
        for model, problem in failing:
            add(f"without a device-filter this entry also selects {model.key}, where it fails: "
                f"{problem}; add a device-filter for the models it is meant for", model.key, "warning")
    return out


def _unmodelled_by_pci(cat: Catalog, pci: str) -> str:
    key = pci.upper().removeprefix("0X")[:4]
    for other in cat.unmodelled:
        if any(p.upper().removeprefix("0X") == key for p in other.pci_device_ids):
            return other.name
    return ""


def _layout_problem(model: GpuModel, counts: Mapping[str, int], named: Iterable[str]) -> str:
    for profile in named:
        if model.find_profile(profile) is None:
            names = [p.name for p in model.profiles]
            return (f"{model.key} has no MIG profile {profile!r}{did_you_mean(profile, names)}; "
                    f"profiles: {', '.join(names)}")
    result = MigLayout.from_counts(model, counts).place()
    if isinstance(result, Unplaceable):
        near = "; ".join(str(n) for n in result.nearest)
        return result.reason + (f"; nearest valid: {near}" if near else "")
    return ""
