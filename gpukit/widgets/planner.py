"""Planner: a form over Workload whose every change re-runs gpukit.plan and gpukit.render."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as W

import gpukit
from gpukit._loading import validate_model
from gpukit.errors import GpukitError, InputError, NoFeasiblePlan, WorkloadError
from gpukit.widgets._cluster import ClusterAccess, detect_cluster
from gpukit.widgets._draw import code_block, notice
from gpukit.workload import KINDS

__all__ = ["Planner"]

_AUTO = "auto"
_ISOLATIONS = (_AUTO, "strict", "process", "none")
_PRIORITIES = (_AUTO, "latency", "throughput", "cost")
_PRECISIONS = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
_MODES = ("inference", "training", "lora", "qlora")
# Workload fields the form edits; every other field of a given workload is kept as it is.
_FORM_FIELDS = (
    "name", "kind", "gpus", "workers", "replicas", "gpu_memory", "model", "isolation",
    "priority", "team", "queue",
)
_DEFAULT = gpukit.Workload(name="my-job", kind="inference", gpu_memory="6Gi")
_DESC = {"description_width": "110px"}


def _wide() -> W.Layout:
    # A Layout per control: controls are hidden one by one through their layout.
    return W.Layout(width="330px")


def _text(value: str, description: str, placeholder: str = "") -> W.Text:
    # Typing re-plans on Enter or leaving the box, not on every key.
    return W.Text(
        value=value, description=description, placeholder=placeholder,
        continuous_update=False, style=_DESC, layout=_wide(),
    )


def _int(value: int, description: str) -> W.IntText:
    return W.IntText(value=value, description=description, style=_DESC, layout=_wide())


def _choice(options: tuple[str, ...], value: str, description: str) -> W.Dropdown:
    return W.Dropdown(options=options, value=value, description=description, style=_DESC, layout=_wide())


class Planner(W.VBox):
    """Describe a GPU job in a form; see the plan, why, the alternatives and the YAML, live.

    Every value change builds a :class:`gpukit.Workload` and calls :func:`gpukit.plan`,
    :func:`gpukit.render` and :func:`gpukit.to_yaml`, the same functions a notebook user
    calls. Bad input is shown in the widget as the same one-line error the CLI prints.

    >>> p = Planner(gpukit.Workload(name="bert-serve", kind="inference", gpu_memory="6Gi"))
    >>> p.set(kind="training")  # doctest: +SKIP
    """

    def __init__(
        self,
        workload: gpukit.Workload | None = None,
        fleet: gpukit.Fleet | str | Path | None = None,
        *,
        cluster: ClusterAccess | None = None,
    ) -> None:
        """``fleet``: a Fleet, a fleet file, ``"live"`` (discovered through gpukit.kube) or
        None (the embedded default). ``cluster`` is for tests; by default it is detected."""
        base = workload or _DEFAULT
        self._base = base
        self.cluster = cluster if cluster is not None else detect_cluster()
        self._given_fleet = fleet if isinstance(fleet, gpukit.Fleet) else None
        self._live_fleet: gpukit.Fleet | None = None
        self._muted = False
        self.plan: gpukit.Plan | None = None
        self.objects: list[dict[str, Any]] = []
        self.yaml = ""
        self.error: str | None = None

        model = base.model
        fleet_options: list[tuple[str, str]] = [("embedded default", "embedded")]
        if self._given_fleet is not None:
            fleet_options.insert(0, (f"given: {self._given_fleet.name}", "given"))
        fleet_options += [("file", "file"), ("live cluster", "live")]
        if self._given_fleet is not None:
            fleet_value = "given"
        elif fleet is not None and str(fleet) == "live":
            fleet_value, fleet = "live", None
        elif fleet is not None:
            fleet_value = "file"
        else:
            fleet_value = "embedded"
        self.controls: dict[str, W.ValueWidget] = {
            "name": _text(base.name, "name"),
            "kind": _choice(KINDS, base.kind, "kind"),
            "gpus": _int(base.gpus or 0, "GPUs (0=auto)"),
            "workers": _int(base.workers, "workers"),
            "replicas": _int(base.replicas, "replicas"),
            "memory_from": W.ToggleButtons(
                options=[("GPU memory", "memory"), ("model size", "model")],
                value="model" if model is not None and base.gpu_memory is None else "memory",
                description="size from", style={"description_width": "110px", "button_width": "112px"},
            ),
            "gpu_memory": _text(base.gpu_memory or "", "GPU memory", "6Gi"),
            "params": _text(_params_text(model.params) if model else "7B", "model size", "7B"),
            "precision": _choice(_PRECISIONS, model.precision if model else "bf16", "precision"),
            "mode": _choice(_MODES, model.mode if model else "inference", "mode"),
            "isolation": _choice(_ISOLATIONS, base.isolation or _AUTO, "isolation"),
            "priority": _choice(_PRIORITIES, base.priority or _AUTO, "priority"),
            "team": _text(base.team or "", "team", "team-nlp"),
            "queue": _text(base.queue or "", "queue", "(team's queue)"),
            "fleet": W.Dropdown(
                options=fleet_options, value=fleet_value, description="fleet", style=_DESC,
                layout=_wide(),
            ),
            "fleet_file": _text(
                str(fleet) if isinstance(fleet, (str, Path)) else "", "fleet file", "fleet.yaml"
            ),
        }
        for key, control in self.controls.items():
            control.add_class(f"gpukit-field-{key.replace('_', '-')}")
            control.observe(self._on_change, names="value")

        # Outputs
        self.status = W.HTML(layout=W.Layout(width="100%"))
        self.status.add_class("gpukit-status")
        self.decision = W.HTML(layout=W.Layout(width="100%"))
        self.decision.add_class("gpukit-decision")
        self.warnings = W.HTML(layout=W.Layout(width="100%"))
        self.warnings.add_class("gpukit-warnings")
        self.yaml_view = W.HTML(layout=W.Layout(width="100%"))
        self.yaml_view.add_class("gpukit-yaml")
        self.alternatives = W.HTML(layout=W.Layout(width="100%"))
        self.alternatives.add_class("gpukit-alternatives")
        self.rejections = W.HTML(layout=W.Layout(width="100%"))
        self.rejections.add_class("gpukit-rejections")
        self.tabs = W.Tab(children=[self.yaml_view, self.alternatives, self.rejections])
        for index, title in enumerate(("YAML", "Alternatives", "Rejected")):
            self.tabs.set_title(index, title)

        # Actions
        self.download = W.HTML()
        self.download.add_class("gpukit-download")
        self.dry_run_button = W.Button(
            description="Dry-run apply", icon="check", disabled=not self.cluster.ready,
            tooltip="server-side dry run: the API server validates, nothing changes",
        )
        self.submit_button = W.Button(
            description="Submit…", icon="upload", button_style="warning",
            disabled=not self.cluster.ready, tooltip="apply for real, after confirmation",
        )
        self.dry_run_button.add_class("gpukit-dry-run")
        self.submit_button.add_class("gpukit-submit")
        self.cluster_note = W.HTML(notice(self.cluster.note, "ok" if self.cluster.ready else "info"))
        self.cluster_note.add_class("gpukit-cluster-note")
        self.confirm_text = W.HTML()
        self.confirm_button = W.Button(description="Yes, submit", button_style="danger")
        self.cancel_button = W.Button(description="Cancel")
        self.confirm_box = W.VBox(
            [self.confirm_text, W.HBox([self.confirm_button, self.cancel_button])],
            layout=W.Layout(display="none"),
        )
        self.confirm_box.add_class("gpukit-confirm")
        self.action_result = W.HTML()
        self.action_result.add_class("gpukit-action-result")
        self.dry_run_button.on_click(lambda _b: self.dry_run())
        self.submit_button.on_click(lambda _b: self.ask_submit())
        self.confirm_button.on_click(lambda _b: self.submit(confirmed=True))
        self.cancel_button.on_click(lambda _b: self._hide_confirm("submit cancelled"))

        c = self.controls
        self._model_box = W.VBox([c["params"], c["precision"], c["mode"]])
        form = W.VBox(
            [
                W.HTML("<b>Workload</b>"),
                c["name"], c["kind"], c["gpus"], c["workers"], c["replicas"],
                c["memory_from"], c["gpu_memory"], self._model_box,
                c["isolation"], c["priority"], c["team"], c["queue"],
                W.HTML("<b>Fleet</b>"), c["fleet"], c["fleet_file"],
            ],
            layout=W.Layout(width="350px", flex="0 0 350px"),
        )
        result = W.VBox(
            [
                self.status, self.decision, self.warnings, self.tabs,
                W.HBox([self.download, self.dry_run_button, self.submit_button],
                       layout=W.Layout(align_items="center")),
                self.cluster_note, self.confirm_box, self.action_result,
            ],
            layout=W.Layout(flex="1 1 auto", min_width="420px", padding="0 0 0 12px"),
        )
        super().__init__(
            [W.HTML("<h3 style='margin:0 0 6px 0'>gpukit Planner</h3>"), W.HBox([form, result])],
            layout=W.Layout(border="1px solid #ddd", padding="8px"),
        )
        self.add_class("gpukit-planner")
        self.refresh()

    # -- reading the form ----------------------------------------------------------------

    @property
    def values(self) -> dict[str, Any]:
        """The form's current values, by control name."""
        return {key: control.value for key, control in self.controls.items()}

    def set(self, **values: Any) -> Planner:
        """Set several form values at once and re-plan once: ``planner.set(kind="training")``."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            from gpukit.errors import did_you_mean

            raise InputError(
                f"Planner has no field {unknown[0]!r}{did_you_mean(unknown[0], self.controls)}; "
                f"fields: {', '.join(self.controls)}"
            )
        self._muted = True
        try:
            for key, value in values.items():
                self.controls[key].value = value
        finally:
            self._muted = False
        self.refresh()
        return self

    def workload(self) -> gpukit.Workload:
        """The Workload the form describes (WorkloadError, one line, when it is invalid)."""
        v = self.values
        data = self._base.model_dump(exclude=set(_FORM_FIELDS), exclude_defaults=True)
        data.update({"name": v["name"].strip(), "kind": v["kind"]})
        if v["gpus"]:
            data["gpus"] = v["gpus"]
        data["workers"] = v["workers"]
        data["replicas"] = v["replicas"]
        if v["memory_from"] == "memory":
            if v["gpu_memory"].strip():
                data["gpu_memory"] = v["gpu_memory"].strip()
        else:
            extra = (
                self._base.model.model_dump(exclude={"params", "precision", "mode"}, exclude_none=True)
                if self._base.model else {}
            )
            data["model"] = {
                **extra, "params": v["params"].strip(), "precision": v["precision"], "mode": v["mode"],
            }
        for key in ("isolation", "priority"):
            if v[key] != _AUTO:
                data[key] = v[key]
        for key in ("team", "queue"):
            if v[key].strip():
                data[key] = v[key].strip()
        return validate_model(gpukit.Workload, data, "Planner", WorkloadError)

    def fleet(self) -> gpukit.Fleet:
        """The fleet the form points at: embedded, a file, the live cluster, or the given one."""
        source = self.controls["fleet"].value
        if source == "given" and self._given_fleet is not None:
            return self._given_fleet
        if source == "file":
            path = self.controls["fleet_file"].value.strip()
            if not path:
                raise InputError("fleet file: give the path of a fleet YAML file, or pick another fleet")
            return gpukit.load_fleet(path)
        if source == "live":
            if self._live_fleet is None:
                self._live_fleet = self.cluster.discover()
            return self._live_fleet
        return gpukit.default_fleet()

    # -- updating --------------------------------------------------------------------------

    def _on_change(self, change: dict[str, Any]) -> None:
        if change["owner"] is self.controls["fleet"] and change["new"] != "live":
            self._live_fleet = None  # rediscover when the user comes back to 'live'
        if not self._muted:
            self.refresh()

    def refresh(self) -> None:
        """Re-plan from the form and redraw every output; errors land in the widget."""
        memory = self.controls["memory_from"].value == "memory"
        self.controls["gpu_memory"].layout.display = None if memory else "none"
        self._model_box.layout.display = "none" if memory else None
        file_source = self.controls["fleet"].value == "file"
        self.controls["fleet_file"].layout.display = None if file_source else "none"
        self._hide_confirm("")
        try:
            plan = gpukit.plan(self.workload(), self.fleet())
            objects = gpukit.render(plan)
            text = gpukit.to_yaml(objects)
        except NoFeasiblePlan as exc:
            self._show_error(str(exc), exc.rejections)
            return
        except GpukitError as exc:
            self._show_error(str(exc), ())
            return
        except Exception as exc:  # noqa: BLE001 - a bug, not bad input: still no traceback in the form
            self._show_error(f"unexpected {type(exc).__name__} (please report it): {exc}", ())
            return
        self.plan, self.objects, self.yaml, self.error = plan, objects, text, None
        self._show_plan(plan)

    def _show_error(self, message: str, rejections: Any) -> None:
        self.plan, self.objects, self.yaml, self.error = None, [], "", message
        self.status.value = notice(message, "error", "gpukit-error")
        self.decision.value = ""
        self.warnings.value = ""
        self.yaml_view.value = code_block("# no plan: fix the input above", "gpukit-yaml-text")
        self.alternatives.value = ""
        self.rejections.value = _rejections_html(rejections)
        self.download.value = ""
        self.dry_run_button.disabled = True
        self.submit_button.disabled = True

    def _show_plan(self, plan: gpukit.Plan) -> None:
        data = plan.to_dict()
        c = plan.choice
        sched = plan.scheduler + (f" (queue {plan.queue})" if plan.queue else "")
        self.status.value = notice(f"{plan.name}: {plan.summary}", "ok", "gpukit-ok")
        why = "".join(
            f"<li><code>{escape(r.code)}</code> {escape(r.message)}</li>" for r in plan.reasons
        )
        self.decision.value = (
            f'<div class="gpukit-decision-text"><b>Decision:</b> {escape(c.label)}<br>'
            f"<code>{escape(c.resource_name)}: {c.gpus}</code> per pod · {plan.pods} pod(s) · "
            f"scheduler <b>{escape(sched)}</b> · namespace {escape(plan.namespace)} · "
            f"~${data['cost_per_hour']:.2f}/h<br>GPU memory per pod: {escape(plan.memory.describe())}"
            f"<br><b>Why</b><ul style='margin:2px 0'>{why}</ul></div>"
        )
        self.warnings.value = "".join(
            notice(f"[{w.code}] {w.message}", "warning", "gpukit-warning") for w in plan.warnings
        )
        self.yaml_view.value = code_block(self.yaml, "gpukit-yaml-text")
        self.alternatives.value = _alternatives_html(data["alternatives"])
        self.rejections.value = _rejections_html(plan.rejections)
        payload = base64.b64encode(self.yaml.encode()).decode()
        self.download.value = (
            f'<a class="gpukit-download-link" download="{escape(plan.name)}.yaml" '
            f'href="data:application/x-yaml;base64,{payload}" '
            'style="padding:4px 8px;border:1px solid #999;border-radius:3px;text-decoration:none">'
            f"⬇ Download {escape(plan.name)}.yaml</a>"
        )
        self.dry_run_button.disabled = not self.cluster.ready
        self.submit_button.disabled = not self.cluster.ready

    # -- cluster actions -------------------------------------------------------------------

    def dry_run(self) -> None:
        """Server-side dry-run apply of the current manifests (needs a configured cluster)."""
        self._run_apply(dry_run=True)

    def ask_submit(self) -> None:
        """Show what would be submitted and ask for confirmation."""
        if self.plan is None:
            return
        kinds = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in self.objects)
        self.confirm_text.value = notice(
            f"Submit {len(self.objects)} object(s) to namespace {self.plan.namespace} on the live "
            f"cluster: {kinds}?",
            "warning",
        )
        self.confirm_box.layout.display = None

    def submit(self, *, confirmed: bool = False) -> None:
        """Apply for real; only after ``ask_submit`` was confirmed (or ``confirmed=True``)."""
        if not confirmed:
            self.ask_submit()
            return
        self._hide_confirm("")
        self._run_apply(dry_run=False)

    def _hide_confirm(self, message: str) -> None:
        self.confirm_box.layout.display = "none"
        if message:
            self.action_result.value = notice(message, "info")

    def _run_apply(self, *, dry_run: bool) -> None:
        what = "dry-run apply" if dry_run else "submit"
        if self.plan is None:
            self.action_result.value = notice(f"{what}: no plan to apply; fix the input first", "error")
            return
        try:
            result = self.cluster.apply(self.objects, dry_run=dry_run)
        except GpukitError as exc:
            self.action_result.value = notice(f"{what} failed: {exc}", "error")
            return
        except Exception as exc:  # noqa: BLE001 - the client's own errors, shown, not raised
            self.action_result.value = notice(f"{what} failed: {type(exc).__name__}: {exc}", "error")
            return
        ok = getattr(result, "ok", True)
        detail = _result_detail(result)
        self.action_result.value = notice(f"{what}: {_result_text(result)}", "ok" if ok else "error") + (
            code_block(detail, "gpukit-apply-detail") if detail else ""
        )


def _params_text(params: float) -> str:
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if params >= size:
            return f"{params / size:g}{unit}"
    return f"{params:g}"


def _alternatives_html(alternatives: list[dict[str, Any]]) -> str:
    if not alternatives:
        return "<i>no other option fits</i>"
    rows = "".join(
        "<tr>"
        f"<td>{i}</td><td>{escape(a['sharing'])}</td><td>{escape(a['gpu_model'])}</td>"
        f"<td>{escape(a['mig_profile'] or '')}</td><td>{a['gpus']}</td><td>{escape(a['pool'])}</td>"
        f"<td>${a['cost_per_hour']:.2f}</td></tr>"
        for i, a in enumerate(alternatives, 1)
    )
    return (
        "<table class='gpukit-table'><tr><th>#</th><th>sharing</th><th>GPU</th><th>MIG</th>"
        f"<th>per pod</th><th>pool</th><th>$/h</th></tr>{rows}</table>"
    )


def _rejections_html(rejections: Any) -> str:
    items = list(rejections or ())
    if not items:
        return "<i>nothing was rejected</i>"
    rows = "".join(
        f"<tr><td>{escape(str(r.option))}</td><td><code>{escape(str(r.code))}</code></td>"
        f"<td>{escape(str(r.message))}</td></tr>"
        for r in items
    )
    return f"<table class='gpukit-table'><tr><th>option</th><th>code</th><th>why</th></tr>{rows}</table>"


def _result_text(result: Any) -> str:
    """gpukit.kube's ApplyResult says it best itself; other results are listed."""
    summary = getattr(result, "summary", None)
    if callable(summary):
        return str(summary())
    if isinstance(result, (list, tuple)):
        return f"{len(result)} object(s) accepted"
    return str(result) if result is not None else "done"


def _result_detail(result: Any) -> str:
    table = getattr(result, "table", None)
    if callable(table):
        return str(table())
    if isinstance(result, (list, tuple)):
        return "\n".join(str(r) for r in result)
    return ""
