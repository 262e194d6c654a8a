"""Config rules: device-plugin sharing configs, mig-parted layouts, GPU Operator values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gpukit.errors import did_you_mean
from gpukit.lint._context import Context
from gpukit.lint._model import Edit, Hit
from gpukit.lint._objects import Doc, as_list, as_map, as_str
from gpukit.lint.rules._facts import closest
from gpukit.lint.rules._registry import rule, set_rule

__all__ = ["DEVICE_PLUGIN_SCHEMA"]

Loc = tuple[Any, ...]

# The device plugin's config file (version v1), as its Go structs define it. A dict is a
# mapping with these keys; a list of one dict is a list of such mappings; None is a leaf.
_REPLICATED = {
    "renameByDefault": None,
    "failRequestsGreaterThanOne": None,
    "resources": [{"name": None, "replicas": None, "rename": None, "devices": None}],
}
DEVICE_PLUGIN_SCHEMA: dict[str, Any] = {
    "version": None,
    "flags": {
        "migStrategy": None, "failOnInitError": None, "nvidiaDriverRoot": None,
        "nvidiaDevRoot": None, "mpsRoot": None, "gdrcopyEnabled": None, "gdsEnabled": None,
        "mofedEnabled": None, "useNodeFeatureAPI": None, "deviceDiscoveryStrategy": None,
        "plugin": {
            "passDeviceSpecs": None, "deviceListStrategy": None, "deviceIDStrategy": None,
            "cdiAnnotationPrefix": None, "nvidiaCTKPath": None, "containerDriverRoot": None,
            "sharedDevicesAllocationPolicy": None,
        },
        "gfd": {
            "oneshot": None, "noTimestamp": None, "sleepInterval": None, "outputFile": None,
            "machineTypeFile": None,
        },
    },
    "resources": {"gpus": [{"pattern": None, "name": None}], "mig": [{"pattern": None, "name": None}]},
    "sharing": {"timeSlicing": _REPLICATED, "mps": _REPLICATED},
    "imex": {"channelIDs": None, "required": None},
}

_ENUMS: dict[Loc, tuple[str, ...]] = {
    ("flags", "migStrategy"): ("none", "single", "mixed"),
    ("flags", "deviceDiscoveryStrategy"): ("auto", "nvml", "tegra"),
    ("flags", "plugin", "deviceIDStrategy"): ("uuid", "index"),
    ("flags", "plugin", "sharedDevicesAllocationPolicy"): ("distributed", "packed"),
}
_LIST_STRATEGIES = ("envvar", "volume-mounts", "cdi-annotations", "cdi-cri")


def _device_plugin(doc: Doc) -> bool:
    return doc.category == "device-plugin"


def _walk_keys(value: Any, schema: Any, loc: Loc) -> Iterator[tuple[Loc, Any, list[str]]]:
    """(loc, key, allowed keys) for every key the schema does not know.

    Under a misspelt key with one close match the walk goes on with that key's schema, so
    a mistake inside it shows now, not only once the misspelling is fixed.
    """
    if isinstance(schema, dict) and isinstance(value, dict):
        for key, child in value.items():
            if key in schema:
                yield from _walk_keys(child, schema[key], (*loc, key))
                continue
            yield (*loc, key), key, sorted(schema)
            meant = closest(key, schema) if isinstance(key, str) else None
            if meant is not None and meant not in value:
                yield from _walk_keys(child, schema[meant], (*loc, key))
    elif isinstance(schema, list) and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_keys(item, schema[0], (*loc, i))


@rule("GPU023", "error", "device-plugin-unknown-key",
      "a device-plugin config key the plugin does not know (ignored, or the config is rejected)",
      fixable=True)
def unknown_key(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if not _device_plugin(doc):
        return
    for loc, key, allowed in _walk_keys(doc.data, DEVICE_PLUGIN_SCHEMA, ()):
        parent = as_map(_get(doc.data, loc[:-1]))
        suggestion = closest(str(key), allowed) if isinstance(key, str) else None
        edits: tuple[Edit, ...] = ()
        if suggestion is not None and suggestion not in parent:
            edits = (Edit(op="rename", loc=loc, value=suggestion),)
        where = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int)) or "the top level"
        yield Hit(
            loc,
            f"unknown key {key!r} under {where}{did_you_mean(str(key), allowed)}; the plugin "
            f"ignores it or refuses the file: use one of {', '.join(allowed)}",
            edits,
        )


def _get(value: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
    return value


def _sharing(doc: Doc) -> dict[str, Any]:
    return as_map(doc.data.get("sharing"))


@rule("GPU024", "error", "device-plugin-bad-value",
      "a device-plugin config value the plugin rejects (version, enums, replicas, resources)",
      fixable=True)
def bad_value(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if not _device_plugin(doc):
        return
    data = doc.data
    version = data.get("version")
    if version not in (None, "", "v1"):
        yield Hit(("version",), f"version {version!r} is not supported; the plugin reads 'v1' only: "
                               "set version: v1",
                  (Edit(op="set", loc=("version",), value="v1"),))
    for loc, allowed in _ENUMS.items():
        value = _get(data, loc)
        if value is None or value in allowed:
            continue
        fixed = closest(str(value), allowed)
        yield Hit(
            loc,
            f"{'.'.join(loc)}: {value!r} is not allowed{did_you_mean(str(value), allowed)}; use one "
            f"of {', '.join(allowed)}",
            (Edit(op="set", loc=loc, value=fixed),) if fixed else (),
        )
    strategy = _get(data, ("flags", "plugin", "deviceListStrategy"))
    for item in ([strategy] if isinstance(strategy, str) else as_list(strategy)):
        if item not in _LIST_STRATEGIES:
            yield Hit(("flags", "plugin", "deviceListStrategy"),
                      f"deviceListStrategy {item!r} is not allowed; use one or more of "
                      f"{', '.join(_LIST_STRATEGIES)}")
    channels = _get(data, ("imex", "channelIDs"))
    if channels is not None and channels not in ([], [0]):
        yield Hit(("imex", "channelIDs"), f"imex.channelIDs {channels!r} is not allowed; only [] or [0]")
    for mode in ("timeSlicing", "mps"):
        block = _sharing(doc).get(mode)
        if block is None:
            continue
        base: Loc = ("sharing", mode)
        resources = as_map(block).get("resources")
        if not isinstance(resources, list) or not resources:
            yield Hit((*base, "resources") if isinstance(block, dict) else base,
                      f"sharing.{mode}.resources must be a non-empty list of {{name, replicas}}; "
                      f"add - {{name: nvidia.com/gpu, replicas: 4}}")
            continue
        for i, res in enumerate(resources):
            res = as_map(res)
            name = as_str(res.get("name"))
            loc = (*base, "resources", i)
            if not name:
                yield Hit(loc, f"sharing.{mode}.resources[{i}] has no name; set name: nvidia.com/gpu")
            replicas = res.get("replicas")
            if isinstance(replicas, bool) or not isinstance(replicas, int):
                yield Hit((*loc, "replicas"), f"sharing.{mode}.resources[{i}].replicas must be an "
                                              f"integer >= 2, got {replicas!r}")
            elif replicas < 2:
                yield Hit((*loc, "replicas"), f"replicas {replicas} is rejected (it must be >= 2); "
                                              "remove the resource to stop sharing it, or set 2 or more")
            elif mode == "mps" and replicas > 48:
                yield Hit((*loc, "replicas"), f"MPS replicas {replicas} exceed the 48 clients an MPS "
                                              "server allows per GPU (16 before Volta): set 48 or fewer")


@rule("GPU021", "error", "mps-on-mig",
      "MPS sharing configured together with MIG (the device plugin does not support it)")
def mps_on_mig(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if not _device_plugin(doc):
        return
    mps = _sharing(doc).get("mps")
    if mps is None:
        return
    strategy = _get(doc.data, ("flags", "migStrategy"))
    if strategy in ("single", "mixed"):
        yield Hit(
            ("flags", "migStrategy"),
            f"sharing.mps with migStrategy {strategy!r}: the device plugin cannot run MPS on MIG "
            "devices and fails to start; use time-slicing on MIG nodes, or migStrategy: none "
            "with MPS on whole GPUs",
        )
    for i, res in enumerate(as_list(as_map(mps).get("resources"))):
        name = as_str(as_map(res).get("name")) or ""
        if name.removeprefix("nvidia.com/").startswith("mig-"):
            yield Hit(
                ("sharing", "mps", "resources", i, "name"),
                f"MPS on {name}: the device plugin offers MPS only on whole GPUs "
                "(nvidia.com/gpu); share MIG devices with time-slicing instead",
            )


@rule("GPU022", "warning", "time-slicing-allows-multiple",
      "time-slicing with failRequestsGreaterThanOne off (pods may ask for several replicas)",
      fixable=True)
def fail_requests(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if not _device_plugin(doc):
        return
    block = _sharing(doc).get("timeSlicing")
    if not isinstance(block, dict) or "mps" in _sharing(doc):
        return
    if block.get("failRequestsGreaterThanOne") is True:
        return
    loc = ("sharing", "timeSlicing", "failRequestsGreaterThanOne")
    yield Hit(
        loc if "failRequestsGreaterThanOne" in block else loc[:-1],
        "time-slicing with failRequestsGreaterThanOne off (its default): a pod asking for 2 "
        "replicas gets no more compute, only a bigger share of the queue; set "
        "sharing.timeSlicing.failRequestsGreaterThanOne: true",
        (Edit(op="set", loc=loc, value=True),),
    )


@rule("GPU025", "warning", "time-slicing-and-mps",
      "time-slicing and MPS both configured (MPS wins, time-slicing is ignored)")
def both_sharing(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if not _device_plugin(doc):
        return
    sharing = _sharing(doc)
    if sharing.get("timeSlicing") is not None and sharing.get("mps") is not None:
        yield Hit(
            ("sharing", "timeSlicing"),
            "sharing has both timeSlicing and mps; they exclude each other and the plugin uses "
            "mps, ignoring timeSlicing: keep one (one config per node via "
            "nvidia.com/device-plugin.config)",
        )


@rule("GPU026", "error", "mig-parted-invalid",
      "a mig-parted layout that cannot be applied (unknown profile, impossible placement, "
      "contradicting entries), checked by the MIG engine")
def mig_parted_invalid(doc: Doc, ctx: Context) -> Iterator[Hit]:
    if doc.category != "mig-parted":
        return
    from gpukit.hardware.migparted import validate_mig_parted

    for problem in validate_mig_parted(doc.data, doc.file):
        loc: Loc = ()
        if problem.config != "-" and problem.config in as_map(doc.data.get("mig-configs")):
            loc = ("mig-configs", problem.config)
            if problem.entry is not None:
                loc = (*loc, problem.entry)
        elif problem.config != "-" and problem.config in as_map(doc.data.get("hooks")):
            loc = ("hooks", problem.config)
        device = "" if problem.device == "-" else f"[{problem.device}] "
        yield Hit(loc, f"{device}{problem.reason}", severity=problem.severity)


def _dcgm_block(doc: Doc) -> tuple[Loc, dict[str, Any]] | None:
    if doc.category == "operator-values":
        return ("dcgmExporter",), as_map(doc.data.get("dcgmExporter"))
    if doc.kind == "ClusterPolicy" and doc.group == "nvidia.com":
        return ("spec", "dcgmExporter"), as_map(doc.spec.get("dcgmExporter"))
    return None


@set_rule("GPU027", "warning", "dcgm-exporter-disabled",
          "GPU Operator values, a ClusterPolicy or the fleet with the DCGM exporter off (no GPU "
          "metrics)", fixable=True)
def dcgm_disabled(ctx: Context) -> Iterator[tuple[Doc, Hit]]:
    fix = ("idle or failing GPUs go unnoticed and nothing can be right-sized; set "
           "dcgmExporter.enabled: true")
    for doc in ctx.docs:
        found = _dcgm_block(doc)
        if found is None:
            continue
        loc, block = found
        if block.get("enabled") is False or str(block.get("enabled")).lower() == "false":
            yield doc, Hit(
                (*loc, "enabled"),
                f"the DCGM exporter is disabled: no GPU utilisation, memory or error metrics, so {fix}",
                (Edit(op="set", loc=(*loc, "enabled"), value=True),),
            )
    if ctx.fleet is not None and not ctx.fleet.installed.dcgm_exporter:
        yield Doc(ctx.fleet_label, 0, None), Hit(
            ("installed", "dcgm_exporter"),
            f"fleet {ctx.fleet.name!r} runs no DCGM exporter: no per-GPU metrics, so {fix} in the "
            "GPU Operator values (then installed.dcgm_exporter: true)",
        )
