"""Writing mig-parted configs: names as the GPU Operator gives them, per-node configs, the ConfigMap."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from gpukit import vocab
from gpukit.hardware.catalog import GpuModel
from gpukit.hardware.mig import canonical_counts

__all__ = [
    "DEFAULT_CONFIGMAP",
    "MIG_CONFIG_LABEL",
    "MigPartedEntry",
    "config_name",
    "mig_parted_configmap",
    "mig_parted_spec",
    "node_configs",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: The node label the MIG manager watches.
MIG_CONFIG_LABEL = vocab.MIG_CONFIG_LABEL
#: Name gpukit gives its ConfigMap; point ClusterPolicy spec.migManager.config.name at it.
DEFAULT_CONFIGMAP = "gpukit-mig-parted-config"

_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")


# ----------------------------------------------------------------------------- generation


class MigPartedEntry(BaseModel):
    """One entry of a named mig-parted config."""

    model_config = _FROZEN

    device_filter: tuple[str, ...] = ()
    devices: Literal["all"] | tuple[int, ...] = "all"
    mig_enabled: bool
    mig_devices: tuple[tuple[str, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.device_filter:
            out["device-filter"] = list(self.device_filter)
        out["devices"] = self.devices if self.devices == "all" else list(self.devices)
        out["mig-enabled"] = self.mig_enabled
        if self.mig_enabled:
            out["mig-devices"] = dict(self.mig_devices)
        return out


def _layout_key(model: GpuModel, layout: Mapping[str, int] | None) -> tuple[tuple[str, int], ...] | None:
    if layout is None:
        return None
    return tuple(canonical_counts(model, layout).items())


def config_name(gpus: Sequence[tuple[GpuModel, Mapping[str, int] | None]]) -> str:
    """The ``nvidia.com/mig.config`` name for a node whose GPU i has ``gpus[i]`` (None: MIG off).

    Uniform nodes get the operator's names (``all-disabled``, ``all-enabled``,
    ``all-1g.10gb``, ``all-balanced``) or a readable ``custom-`` name; nodes whose GPUs
    differ get ``custom-`` and a digest of the per-GPU layouts.
    """
    keys = [(m.key, _layout_key(m, layout)) for m, layout in gpus]
    if not keys:
        return "all-disabled"
    layouts = {k for _, k in keys}
    if len(layouts) == 1:
        (only,) = layouts
        if only is None:
            return "all-disabled"
        if not only:
            return "all-enabled"
        models = [m for m, _ in gpus]
        if len(only) == 1:
            name, count = only[0]
            if all(count == m.find_profile(name).max_instances for m in models):  # type: ignore[union-attr]
                return "all-" + name.replace("+", ".")
        if all(dict(only) == dict(m.mig.balanced) for m in models if m.mig):  # type: ignore[union-attr]
            return "all-balanced"
        readable = "custom-" + _short(only)
        if _LABEL_VALUE.match(readable):
            return readable
    else:
        # Runs of GPUs with one layout, in index order: 'custom-4x3g.40gbx2_4xoff'.
        runs: list[list[Any]] = []
        for _, key in keys:
            if runs and runs[-1][1] == key:
                runs[-1][0] += 1
            else:
                runs.append([1, key])
        readable = "custom-" + "_".join(f"{n}x{_short(key)}" for n, key in runs)
        if _LABEL_VALUE.match(readable) and len({m for m, _ in keys}) == 1:
            return readable
    digest = hashlib.sha256(repr(keys).encode()).hexdigest()[:10]
    return f"custom-{digest}"


def _short(key: tuple[tuple[str, int], ...] | None) -> str:
    if key is None:
        return "off"
    if not key:
        return "on"
    return "-".join(n.replace("+", ".") + (f"x{c}" if c > 1 else "") for n, c in key)


def _entries(gpus: Sequence[tuple[GpuModel, Mapping[str, int] | None]]) -> list[MigPartedEntry]:
    keys = [(m, _layout_key(m, layout)) for m, layout in gpus]
    uniform = len({(m.key, k) for m, k in keys}) == 1
    groups: dict[tuple[str, Any], list[int]] = {}
    models: dict[str, GpuModel] = {}
    for index, (model, key) in enumerate(keys):
        groups.setdefault((model.key, key), []).append(index)
        models[model.key] = model
    out = []
    for (model_key, key), indexes in groups.items():
        model = models[model_key]
        out.append(
            MigPartedEntry(
                device_filter=model.device_filter_ids,
                devices="all" if uniform else tuple(indexes),
                mig_enabled=key is not None,
                mig_devices=key or (),
            )
        )
    return out


def node_configs(
    nodes: Mapping[str, Sequence[tuple[GpuModel, Mapping[str, int] | None]]],
) -> tuple[dict[str, str], dict[str, list[MigPartedEntry]]]:
    """Per node, the config name to label it with; and the named configs they need.

    ``nodes`` maps a node name to its GPUs by index: (model, layout counts or None for MIG
    disabled). Entries with identical content for different models share one entry with
    both device filters, as mig-parted's own default config does.
    """
    labels: dict[str, str] = {}
    configs: dict[str, dict[tuple[Any, ...], MigPartedEntry]] = {"all-disabled": {}}
    for node in sorted(nodes):
        gpus = nodes[node]
        name = config_name(gpus)
        labels[node] = name
        bucket = configs.setdefault(name, {})
        for entry in _entries(gpus):
            content = (entry.devices, entry.mig_enabled, entry.mig_devices)
            known = bucket.get(content)
            filters = entry.device_filter if known is None else tuple(
                dict.fromkeys(known.device_filter + entry.device_filter)
            )
            bucket[content] = entry.model_copy(update={"device_filter": filters})
    out: dict[str, list[MigPartedEntry]] = {}
    for name in sorted(configs, key=lambda n: (n != "all-disabled", n)):
        entries = list(configs[name].values())
        if name == "all-disabled":
            entries = [MigPartedEntry(devices="all", mig_enabled=False)]
        out[name] = sorted(entries, key=lambda e: (e.device_filter, str(e.devices)))
    return labels, out


class _Dumper(yaml.SafeDumper):
    """Block YAML, with short lists of scalars inline as the operator's own configs write them."""


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(isinstance(v, str | int) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _list)


def mig_parted_spec(configs: Mapping[str, Sequence[MigPartedEntry]]) -> dict[str, Any]:
    """The mig-parted config document: ``{version: v1, mig-configs: {...}}``."""
    return {
        "version": "v1",
        "mig-configs": {name: [e.to_dict() for e in entries] for name, entries in configs.items()},
    }


def mig_parted_configmap(
    configs: Mapping[str, Sequence[MigPartedEntry]],
    *,
    name: str = DEFAULT_CONFIGMAP,
    namespace: str = "gpu-operator",
) -> dict[str, Any]:
    """The ConfigMap (key ``config.yaml``) the GPU Operator's MIG manager reads.

    Set ClusterPolicy ``spec.migManager.config.name`` (Helm ``migManager.config.name``) to
    its name, then label each node ``nvidia.com/mig.config=<config name>``.
    """
    text = yaml.dump(mig_parted_spec(configs), Dumper=_Dumper, sort_keys=False, default_flow_style=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"config.yaml": text},
    }
