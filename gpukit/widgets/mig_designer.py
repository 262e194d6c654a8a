"""MigDesigner: add and remove MIG profiles on one GPU model and watch the slot grid live."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from typing import Any

import ipywidgets as W

from gpukit.errors import GpukitError, InputError
from gpukit.hardware import GpuModel, catalog, get_gpu
from gpukit.quantity import format_gib
from gpukit.vocab import MIG_CONFIG_LABEL
from gpukit.widgets._draw import code_block, notice, slot_grid_svg
from gpukit.widgets._mig import LayoutCheck, check_layout, mig_parted_config

__all__ = ["MigDesigner"]

_DESC = {"description_width": "90px"}


def _profile_label(model: GpuModel, name: str) -> str:
    p = model.profile(name)
    starts = ",".join(str(s) for s in p.starts)
    return (
        f"{p.name}: {p.compute_slices} compute, {p.memory_slices} memory slot(s), "
        f"{format_gib(p.memory_bytes)}, starts {starts}"
    )


class MigDesigner(W.VBox):
    """Design one GPU's MIG layout: the picture, validity with the reason, nearest fixes, export.

    Validity, placement and the nearest valid layouts come from gpukit.hardware.mig; the
    designer draws them. ``layout`` is profile counts: ``{"3g.40gb": 1, "1g.10gb": 2}``.
    """

    def __init__(
        self,
        gpu: str = "H100-80GB",
        layout: Mapping[str, int] | None = None,
        *,
        config_name: str = "",
    ) -> None:
        model = get_gpu(gpu)
        if model.mig is None:
            mig_models = ", ".join(g.key for g in catalog().mig_capable)
            raise InputError(
                f"{model.key} is not MIG-capable; MigDesigner needs one of: {mig_models}"
            )
        self._counts: dict[str, int] = {}
        self.check: LayoutCheck | None = None
        self.config_yaml = ""
        self.error: str | None = None

        self.gpu = W.Dropdown(
            options=[g.key for g in catalog().mig_capable],
            value=model.key,
            description="GPU",
            style=_DESC,
            layout=W.Layout(width="330px"),
        )
        self.gpu.add_class("gpukit-mig-gpu")
        self.profile = W.Dropdown(
            description="profile", style=_DESC, layout=W.Layout(width="520px")
        )
        self.profile.add_class("gpukit-mig-profile")
        self.add_button = W.Button(description="Add", icon="plus", button_style="primary")
        self.add_button.add_class("gpukit-mig-add")
        self.clear_button = W.Button(description="Clear", icon="trash")
        self.instances = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.instances.add_class("gpukit-mig-instances")
        self.picture = W.HTML()
        self.picture.add_class("gpukit-mig-grid")
        self.status = W.HTML()
        self.status.add_class("gpukit-mig-status")
        self.nearest = W.VBox()
        self.nearest.add_class("gpukit-mig-nearest")
        self.config_name = W.Text(
            value=config_name,
            description="config name",
            placeholder="(as the GPU Operator names it)",
            style=_DESC,
            continuous_update=False,
            layout=W.Layout(width="330px"),
        )
        self.export = W.HTML()
        self.export.add_class("gpukit-mig-config")

        self.gpu.observe(self._on_gpu, names="value")
        self.config_name.observe(lambda _c: self.refresh(), names="value")
        self.add_button.on_click(lambda _b: self.add(self.profile.value))
        self.clear_button.on_click(lambda _b: self.clear())

        super().__init__(
            [
                W.HTML("<h3 style='margin:0 0 6px 0'>gpukit MIG designer</h3>"),
                self.gpu,
                W.HBox([self.profile, self.add_button, self.clear_button]),
                W.HTML("<small>click an instance to remove it</small>"),
                self.instances,
                self.picture,
                self.status,
                self.nearest,
                W.HTML("<b>mig-parted config</b>"),
                self.config_name,
                self.export,
            ],
            layout=W.Layout(border="1px solid #ddd", padding="8px"),
        )
        self.add_class("gpukit-mig-designer")
        self._set_profiles(model)
        if layout:
            self.use(layout)
        else:
            self.refresh()

    # -- state ----------------------------------------------------------------------------

    @property
    def model(self) -> GpuModel:
        return get_gpu(self.gpu.value)

    @property
    def counts(self) -> dict[str, int]:
        """Instances asked for, per profile."""
        return dict(self._counts)

    def add(self, profile: str, count: int = 1) -> MigDesigner:
        """Add ``count`` instances of ``profile`` (a name on this GPU model)."""
        try:
            name = self.model.profile(profile).name
        except GpukitError as exc:
            self._show_error(str(exc))
            return self
        self._counts[name] = self._counts.get(name, 0) + count
        self.refresh()
        return self

    def remove(self, profile: str) -> MigDesigner:
        """Remove one instance of ``profile``."""
        if self._counts.get(profile):
            self._counts[profile] -= 1
            if not self._counts[profile]:
                del self._counts[profile]
        self.refresh()
        return self

    def clear(self) -> MigDesigner:
        self._counts.clear()
        self.refresh()
        return self

    def use(self, counts: Mapping[str, int]) -> MigDesigner:
        """Replace the layout with ``counts`` (for example one of the nearest valid layouts)."""
        self._counts = {}
        for name, count in counts.items():
            try:
                self._counts[self.model.profile(name).name] = int(count)
            except GpukitError as exc:
                self._show_error(str(exc))
                return self
        self.refresh()
        return self

    # -- drawing ----------------------------------------------------------------------------

    def _set_profiles(self, model: GpuModel) -> None:
        self.profile.options = [(_profile_label(model, p.name), p.name) for p in model.profiles]
        self.profile.value = model.profiles[0].name

    def _on_gpu(self, change: dict[str, Any]) -> None:
        model = get_gpu(change["new"])
        self._set_profiles(model)
        # Profile names mean different shapes on different models: start from an empty GPU.
        self._counts.clear()
        self.refresh()

    def _show_error(self, message: str) -> None:
        self.error = message
        self.status.value = notice(message, "error", "gpukit-error")

    def refresh(self) -> None:
        """Ask the MIG engine about the current layout and redraw everything."""
        model = self.model
        self.error = None
        self.instances.children = [
            self._chip(name) for name, n in self._counts.items() for _ in range(n)
        ]
        try:
            check = check_layout(model.key, self._counts)
        except GpukitError as exc:
            self.check = None
            self._show_error(str(exc))
            return
        self.check = check
        geo = model.mig
        assert geo is not None  # checked in __init__; the dropdown lists MIG models only
        title = (
            f"{model.key}: {geo.memory_slices} memory slots, {geo.compute_slices} compute slices"
        )
        rows = [("GPU", check.blocks)]
        self.picture.value = slot_grid_svg(geo.memory_slices, rows, title=title)
        if not self._counts:
            self.status.value = notice(
                "empty GPU: add profiles to design a layout", "info", "gpukit-mig-empty"
            )
        elif check.valid:
            used_c = sum(b.compute for b in check.blocks)
            used_m = sum(b.size for b in check.blocks)
            self.status.value = notice(
                f"valid: {used_c}/{geo.compute_slices} compute and {used_m}/{geo.memory_slices} "
                f"memory slices used; create with: {check.command}",
                "ok",
                "gpukit-mig-valid",
            )
        else:
            left = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in check.left_out.items())
            drawn = (
                f" The picture shows the largest part that fits; not placed: {left}."
                if left
                else ""
            )
            others = "".join(f"<li>{escape(r)}</li>" for r in check.reasons[1:])
            self.status.value = notice(
                f"invalid on {model.key}: {check.reason}.{drawn}", "error", "gpukit-mig-invalid"
            ) + (f"<ul style='margin:2px 0'>{others}</ul>" if others else "")
        self.nearest.children = self._nearest_buttons(check)
        self._export(check)

    def _chip(self, name: str) -> W.Button:
        chip = W.Button(
            description=f"✕ {name}", tooltip=f"remove one {name}", layout=W.Layout(width="auto")
        )
        chip.add_class("gpukit-mig-chip")
        chip.on_click(lambda _b, name=name: self.remove(name))
        return chip

    def _nearest_buttons(self, check: LayoutCheck) -> list[W.Widget]:
        if check.valid or not check.nearest:
            return []
        out: list[W.Widget] = [W.HTML("<b>Nearest valid layouts</b> (click to use)")]
        for counts, text in zip(check.nearest, check.nearest_text, strict=True):
            button = W.Button(description=text, layout=W.Layout(width="auto"))
            button.add_class("gpukit-mig-use")
            button.on_click(lambda _b, counts=counts: self.use(counts))
            out.append(button)
        return out

    def _export(self, check: LayoutCheck) -> None:
        if not self._counts or not check.valid:
            self.config_yaml = ""
            self.export.value = "<i>a valid, non-empty layout can be exported</i>"
            return
        try:
            name, text = mig_parted_config(
                check.gpu, check.counts, self.config_name.value.strip() or None
            )
        except GpukitError as exc:
            self.config_yaml = ""
            self.export.value = notice(str(exc), "error", "gpukit-error")
            return
        self.config_yaml = text
        payload = base64.b64encode(text.encode()).decode()
        self.export.value = code_block(text, "gpukit-mig-config-text") + (
            '<a class="gpukit-download-link" download="mig-parted-config.yaml" '
            f'href="data:application/x-yaml;base64,{payload}">⬇ Download mig-parted ConfigMap</a>'
            "<br><small>Apply it to the GPU Operator's namespace, point the MIG manager at it "
            "(ClusterPolicy <code>migManager.config.name</code>) and label the nodes "
            f"<code>{MIG_CONFIG_LABEL}={escape(name)}</code> (changing the label evicts the "
            "node's GPU pods).</small>"
        )
