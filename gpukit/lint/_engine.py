"""lint(): gather documents from paths or objects, run every rule, return sorted Findings.

Imports flow one way: _model and _objects (what a finding and a document are) <- _context
(what rules may look at) <- rules (the registry) <- this engine <- _fix and the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpukit._yaml import Loaded, expand_paths, load_text, read_source
from gpukit.errors import ManifestError
from gpukit.fleet import Fleet, load_fleet
from gpukit.lint._context import Context
from gpukit.lint._model import SEVERITIES, Edit, Finding, Hit, Rule, format_loc
from gpukit.lint._objects import Doc, as_map
from gpukit.lint.rules import RULES
from gpukit.workload import Workload, load_workloads

__all__ = ["DEFAULT_FLEET", "Basis", "collect", "docs_of_object", "docs_of_text", "lint", "run_rules"]

Loc = tuple[Any, ...]

# Strings in a ConfigMap worth parsing as nested device-plugin or mig-parted configs.
_EMBED_MARKERS = ("mig-configs", "sharing", "flags", "timeSlicing")


def _is_list(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("kind"), str)
        and value["kind"].endswith("List")
        and isinstance(value.get("items"), list)
    )


def docs_of_text(label: str, text: str) -> list[Doc]:
    """The documents lint sees in one file's text (nested configs included)."""
    return [doc for loaded in load_text(label, text) for doc in _docs_of(label, loaded)]


def docs_of_object(label: str, obj: Any) -> list[Doc]:
    """The documents lint sees in one in-memory object (a List's items, nested configs)."""
    return list(_docs_of(label, Loaded(0, obj)))


def _docs_of(file: str, loaded: Loaded) -> Iterator[Doc]:
    value = loaded.value
    if value is None:
        return
    if _is_list(value):
        for i, item in enumerate(value["items"]):
            yield from _with_embedded(Doc(file, loaded.index, item, loaded, ("items", i)))
    elif isinstance(value, list):
        # A bare list of objects (as JSON output of tools often is).
        for i, item in enumerate(value):
            yield from _with_embedded(Doc(file, loaded.index, item, loaded, (i,)))
    else:
        yield from _with_embedded(Doc(file, loaded.index, value, loaded))


def _with_embedded(doc: Doc) -> Iterator[Doc]:
    yield doc
    if doc.kind != "ConfigMap" or doc.group:
        return
    for key, text in as_map(doc.data.get("data")).items():
        if not isinstance(text, str) or not any(m in text for m in _EMBED_MARKERS):
            continue
        label = f"{doc.file} ConfigMap/{doc.name} data[{key}]"
        try:
            inner = load_text(label, text)
        except ManifestError:
            continue  # a data value that is not YAML is not lint's business
        for loaded in inner:
            nested = Doc(doc.file, doc.index, loaded.value, loaded, (), (*doc.base, "data", key),
                         outer=doc.loaded, owner=doc)
            if nested.category in ("device-plugin", "mig-parted"):
                yield nested


def collect(objects_or_paths: Any, texts: dict[str, str] | None = None) -> list[Doc]:
    """Documents from paths ('-' is stdin, folders are walked), mappings, or a mix.

    ``texts``, when given, receives the text read for each file (what a fix rewrites).
    """
    items: Sequence[Any]
    if isinstance(objects_or_paths, (str, Path, dict)):
        items = [objects_or_paths]
    elif isinstance(objects_or_paths, Iterable):
        items = list(objects_or_paths)
    else:
        raise ManifestError(
            f"lint takes paths or Kubernetes objects (dicts), got {type(objects_or_paths).__name__}"
        )
    docs: list[Doc] = []
    objects = 0
    for item in items:
        if isinstance(item, dict):
            loaded = Loaded(0, item)
            docs.extend(_docs_of(f"<object {objects}>", loaded))
            objects += 1
        elif isinstance(item, (str, Path)):
            for path in expand_paths([item]):
                label, text = read_source(path)
                if texts is not None:
                    texts[label] = text
                for loaded in load_text(label, text):
                    docs.extend(_docs_of(label, loaded))
        else:
            raise ManifestError(
                f"lint takes paths or Kubernetes objects (dicts), got {type(item).__name__} "
                f"{str(item)[:40]!r}"
            )
    return docs


#: ``lint(..., fleet=DEFAULT_FLEET)``: check against the fleet ``plan()`` uses by default.
DEFAULT_FLEET = "default"


def _fleet(fleet: Fleet | str | Path | None) -> tuple[Fleet | None, str, bool]:
    """(fleet, label, assumed): assumed when it is gpukit's default fleet standing in."""
    if fleet is None or isinstance(fleet, Fleet):
        return fleet, "<fleet>" if fleet is None else f"<fleet {fleet.name}>", False
    if isinstance(fleet, str) and fleet == DEFAULT_FLEET:
        from gpukit.fleet import default_fleet

        return default_fleet(), "<default fleet>", True
    return load_fleet(fleet), str(fleet), False


def _workloads(workloads: Any) -> tuple[Workload, ...]:
    if workloads is None:
        return ()
    if isinstance(workloads, Workload):
        return (workloads,)
    if isinstance(workloads, (str, Path)):
        return tuple(load_workloads(workloads))
    out = []
    for item in workloads:
        out.extend([item] if isinstance(item, Workload) else load_workloads(item))
    return tuple(out)


def lint(
    objects_or_paths: Any,
    fleet: Fleet | str | Path | None = None,
    workloads: Any = None,
    *,
    rules: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    texts: dict[str, str] | None = None,
) -> list[Finding]:
    """Findings for every GPU anti-pattern in the given manifests and configs.

    ``objects_or_paths``: a path (file, folder, '-' for stdin), a Kubernetes object (dict),
    or a list of either. ``fleet`` (a Fleet or a fleet file) and ``workloads`` (Workloads,
    a workload file or folder) give the rules context; rules that need them stay silent
    without them. ``fleet="default"`` checks against the fleet ``plan()`` uses when given
    none (the CLI's default, so lint and plan agree), and offers no fix that needs fleet
    facts: such a finding says so, and which fleet it was judged on. ``rules`` limits the run to some rule ids, ``skip`` leaves some out; an
    object annotated ``gpukit.io/lint-skip: "GPU010,GPU012"`` (or ``all``) silences those
    rules on itself. Unreadable input raises
    ManifestError (an InputError). ``texts``, when given, receives each file's text.
    """
    the_fleet, label, assumed = _fleet(fleet)
    ctx = Context(collect(objects_or_paths, texts), the_fleet, _workloads(workloads), label,
                  fleet_assumed=assumed)
    return run_rules(ctx, rules, skip)


#: Annotation that silences rules on one object: "GPU010,GPU012" (or "all").
SKIP_ANNOTATION = "gpukit.io/lint-skip"


def _check_ids(ids: set[str], known: Iterable[str]) -> None:
    known = list(known)
    unknown = sorted(ids - set(known))
    if unknown:
        from gpukit.errors import InputError, did_you_mean

        raise InputError(
            f"unknown rule id {unknown[0]!r}{did_you_mean(unknown[0], known)}; "
            f"rules: {', '.join(known)}"
        )


def _skipped(doc: Doc) -> set[str]:
    owner = doc.owner if doc.owner is not None else doc
    value = owner.annotations.get(SKIP_ANNOTATION)
    if not isinstance(value, str):
        return set()
    return {part.strip().upper() for part in value.split(",") if part.strip()}


@dataclass(frozen=True)
class Basis:
    """What one lint run looked at besides a document: what a fix re-lints with.

    Every Finding of the run carries it (a private attribute), so ``fix_objects`` and
    ``write_fixes`` can re-derive fixes from already-fixed documents in the same context.
    Two bases compare by their settings, not by the documents they saw.
    """

    fleet: Fleet | None
    workloads: tuple[Workload, ...]
    fleet_label: str
    only: frozenset[str] | None
    skip: frozenset[str]
    docs: tuple[Doc, ...] = field(default=(), compare=False, repr=False)
    fleet_assumed: bool = False

    def relint(self, docs: list[Doc], targets: set[tuple[str, int]]) -> list[Finding]:
        """Findings for the documents in ``targets`` ((file, document index) pairs)."""
        ctx = Context(docs, self.fleet, self.workloads, self.fleet_label,
                      fleet_assumed=self.fleet_assumed)
        return run_rules(ctx, self.only, self.skip, targets=targets)


def run_rules(ctx: Context, only: Iterable[str] | None = None,
              skip: Iterable[str] = (), *, targets: set[tuple[str, int]] | None = None) -> list[Finding]:
    """Every rule over ``ctx.docs``; with ``targets``, only findings in those documents."""
    wanted = {r.upper() for r in only} if only is not None else None
    unwanted = {r.upper() for r in skip}
    _check_ids((wanted or set()) | unwanted, RULES)
    basis = Basis(ctx.fleet, ctx.workloads, ctx.fleet_label,
                  frozenset(wanted) if wanted is not None else None, frozenset(unwanted),
                  tuple(ctx.docs), ctx.fleet_assumed)
    order = {id(d): i for i, d in enumerate(ctx.docs)}
    mine = ctx.docs if targets is None else [d for d in ctx.docs if (d.file, d.index) in targets]
    findings: list[tuple[tuple[Any, ...], Finding]] = []
    for rule in RULES.values():
        if (wanted is not None and rule.id not in wanted) or rule.id in unwanted:
            continue
        pairs: Iterable[tuple[Doc, Hit]]
        if rule.check_set is not None:
            pairs = rule.check_set(ctx)
        else:
            pairs = ((doc, hit) for doc in mine for hit in rule.check(doc, ctx))  # type: ignore[misc]
        for doc, hit in pairs:
            if targets is not None and (doc.file, doc.index) not in targets:
                continue
            silenced = _skipped(doc)
            if rule.id in silenced or "ALL" in silenced:
                continue
            finding = _finding(rule, doc, hit)
            finding._basis = basis
            key = (
                order.get(id(doc), len(order)),
                finding.line or 0,
                finding.column or 0,
                finding.rule,
                finding.path,
                finding.message,
            )
            findings.append((key, finding))
    findings.sort(key=lambda kf: kf[0])
    out = [f for _, f in findings]
    if ctx.fleet_assumed and any(f.fixable for f in out):
        out = _without_fleet_fixes(ctx, out, only, skip, targets)
    return out


def _without_fleet_fixes(ctx: Context, findings: list[Finding], only: Iterable[str] | None,
                         skip: Iterable[str], targets: set[tuple[str, int]] | None) -> list[Finding]:
    """Drop the fixes that only the assumed fleet's facts made: a fix must be the same
    without any fleet, or it would rewrite files for pools the user's cluster may not have."""
    bare = Context(ctx.docs, None, ctx.workloads, ctx.fleet_label)
    same: dict[tuple[str, str, int, str], list[tuple[Edit, ...]]] = {}
    for f in run_rules(bare, only, skip, targets=targets):
        if f.fixable:
            same.setdefault((f.rule, f.file, f.document, f.path), []).append(f.edits)
    out = []
    for f in findings:
        if f.fixable and f.edits not in same.get((f.rule, f.file, f.document, f.path), []):
            kept = f.model_copy(update={
                "fixable": False,
                "edits": (),
                "message": f"{f.message} (judged on gpukit's default fleet, not your cluster: "
                           "no fix is offered; lint with --fleet FLEET.yaml for one)",
            })
            kept._basis = f._basis
            f = kept
        out.append(f)
    return out


def _finding(rule: Rule, doc: Doc, hit: Hit) -> Finding:
    if doc.embed:
        path = format_loc(doc.embed) + " > " + format_loc(hit.loc)
        line_col = doc.outer.line_of(doc.embed) if doc.outer is not None else None
        inner = doc.loaded.line_of(hit.loc) if doc.loaded is not None else None
        if line_col and inner:
            # The nested text's own indentation is not known here, so no column.
            line_col = (line_col[0] + inner[0], None)  # type: ignore[assignment]
        edits = tuple(Edit.model_construct(op=e.op, loc=e.loc, value=e.value, embed=doc.embed)
                      for e in hit.edits)
    else:
        full = (*doc.base, *hit.loc)
        path = format_loc(full)
        line_col = doc.loaded.line_of(full) if doc.loaded is not None else None
        edits = hit.edits if not doc.base else tuple(
            Edit.model_construct(op=e.op, loc=(*doc.base, *e.loc), value=e.value, embed=e.embed)
            for e in hit.edits
        )
    severity = hit.severity or rule.severity
    shown = doc.owner if doc.owner is not None else doc
    # Built from checked parts, so skip validation: lint may report tens of thousands.
    return Finding.model_construct(
        rule=rule.id,
        severity=severity,
        message=hit.message,
        file=doc.file,
        document=doc.index,
        kind=shown.kind,
        name=shown.name,
        path=path,
        line=line_col[0] if line_col else None,
        column=line_col[1] if line_col else None,
        fixable=bool(edits),
        edits=edits,
    )


def at_or_above(findings: Iterable[Finding], severity: str) -> list[Finding]:
    """Findings as severe as ``severity`` or more."""
    limit = SEVERITIES.index(severity)  # type: ignore[arg-type]
    return [f for f in findings if SEVERITIES.index(f.severity) <= limit]
