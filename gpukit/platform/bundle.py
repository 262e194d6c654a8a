"""The platform bundle: every file, its header comment (what it is for, how to apply it), in order."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from gpukit import integrations
from gpukit.errors import InputError
from gpukit.fleet import Fleet
from gpukit.manifests.yaml import to_yaml
from gpukit.platform import gpu_operator, labels, queues, standalone
from gpukit.platform.files import PlatformFile, manifest_file
from gpukit.platform.model import PlatformOptions, PlatformPlan, StandalonePlugin, platform_plan
from gpukit.vocab import DEVICE_PLUGIN_CONFIG_LABEL, MIG_CONFIG_LABEL
from gpukit.workload import Workload

__all__ = ["PlatformFile", "platform_files", "render_platform", "write_platform"]


def _standalone_file(
    pp: PlatformPlan, spec: StandalonePlugin, driver_managed: bool
) -> PlatformFile:
    path = standalone.values_path(spec)
    selector = ", ".join(f"{k}={v}" for k, v in spec.selector.items())
    config = spec.config
    sharing = f"{config.mode}, {config.replicas} replicas per GPU" if config else "no sharing"
    purpose = [
        f"Pool {spec.pool} is served by this device plugin and its GPU Feature Discovery, not by",
        f"the GPU Operator's, which get MIG strategy {pp.mig_strategy} on every node"
        + (" (the plugin refuses MPS under mixed)." if pp.mig_strategy == "mixed" else "."),
        f"Config {spec.config_name}: migStrategy {spec.mig_strategy}, {sharing}.",
        f"Its DaemonSets run only on nodes labelled {selector};",
        "scripts/label-nodes.sh sets the pool's labels and switches the operator's plugin and GFD off there.",
        "nfd.enabled: false: the GPU Operator already runs Node Feature Discovery.",
        *(
            [
                f"nvidiaDriverRoot {standalone.OPERATOR_DRIVER_ROOT}: the GPU Operator installs the driver."
            ]
            if driver_managed
            else []
        ),
        "Helm values, not a Kubernetes object: `gpukit validate` does not read helm/.",
    ]
    return PlatformFile(
        path,
        f"Standalone NVIDIA device plugin Helm values for pool {spec.pool}.",
        tuple(purpose),
        (
            "after the GPU Operator (its driver and toolkit must be running), before the labels;",
            "needs the nvdp Helm repository (NVIDIA's k8s-device-plugin charts) added:",
            (
                f"helm upgrade -i {standalone.release_name(spec)} {standalone.CHART} "
                f"-n {standalone.NAMESPACE} --create-namespace -f {path}"
            ),
        ),
        text=to_yaml(standalone.standalone_values(pp, spec, driver_managed)),
    )


def platform_files(pp: PlatformPlan) -> list[PlatformFile]:
    """Every file of the bundle, in the order to apply them."""
    options, installed = pp.options, pp.fleet.installed
    files: list[PlatformFile] = []
    files.append(
        manifest_file(
            "manifests/00-namespaces.yaml",
            "Namespaces.",
            [
                "The GPU Operator's namespace and every team namespace that gets a queue or a workload.",
                "Applying an existing namespace only adds gpukit's managed-by label.",
            ],
            queues.namespaces(pp),
        )
    )
    configmaps = gpu_operator.operator_configmaps(pp)
    if configmaps:
        purpose = []
        if pp.device_plugin:
            purpose.append(
                f"Device-plugin sharing configs ({options.device_plugin_configmap}): one named "
                f"config per sharing set-up; a node uses the one its {DEVICE_PLUGIN_CONFIG_LABEL} label names:"
            )
            purpose += [
                f"  {c.name}: {c.mode}, {c.replicas} replicas per GPU (pools {', '.join(c.pools)})"
                for c in pp.device_plugin
            ]
        if pp.mig_configs:
            purpose.append(
                f"mig-parted configs ({options.mig_configmap}): the MIG manager applies the one a "
                f"node's {MIG_CONFIG_LABEL} label names; changing it evicts that node's GPU pods:"
            )
            purpose += [f"  {name}: pool {pool}" for pool, name in sorted(pp.mig_configs.items())]
        purpose.append(
            "Both must exist before the GPU Operator is installed (its Helm values name them)."
        )
        files.append(
            manifest_file(
                "manifests/10-gpu-operator-config.yaml",
                "GPU Operator ConfigMaps: device-plugin sharing and mig-parted configs.",
                purpose,
                configmaps,
            )
        )
    files.append(
        manifest_file(
            "manifests/20-priority-classes.yaml",
            "Priority classes.",
            [
                "The levels gpukit workloads name (priorityClassName and Kueue's priority-class label).",
                "gpukit-preemptible is negative: pods without a class (priority 0) preempt it.",
                "WorkloadPriorityClasses only when the fleet runs Kueue.",
            ],
            queues.priority_classes(pp),
            needs="Kueue" if installed.kueue else None,
        )
    )
    # Each integration's files: those under manifests/ (queues) here, in path order; the
    # others (node pools) after the node-labeling script.
    extra = [
        file
        for integration in integrations.integrations()
        if integration.platform is not None
        for file in integration.platform(pp)
    ]
    files += sorted((f for f in extra if f.path.startswith("manifests/")), key=lambda f: f.path)
    values_path = "helm/gpu-operator-values.yaml"
    if pp.dra:
        plugin = "off (the NVIDIA DRA driver allocates GPUs; install its chart separately)"
    elif pp.device_plugin:
        plugin = f"reading {options.device_plugin_configmap}"
    else:
        plugin = "with no sharing config"
    operator_values = gpu_operator.helm_values(pp)
    off = [
        f"Not on pool(s) {', '.join(s.pool for s in pp.standalone)}: node labels switch the device plugin",
        "and GFD off there; a standalone device plugin serves them (helm/nvidia-device-plugin-*).",
    ]
    files.append(
        PlatformFile(
            values_path,
            "GPU Operator Helm values.",
            (
                f"MIG strategy {pp.mig_strategy}; device plugin {plugin}; DCGM exporter with a",
                "ServiceMonitor (needs the Prometheus Operator CRDs).",
                *(off if pp.standalone else ()),
                "driver.enabled: true installs the driver; set it to false on nodes with a preinstalled driver.",
                "Helm values, not a Kubernetes object: `gpukit validate` takes manifests/ and karpenter/, not helm/.",
            ),
            (
                "after manifests/ (the ConfigMaps it names must exist):",
                (
                    f"helm upgrade --install gpu-operator nvidia/gpu-operator "
                    f"-n {options.operator_namespace} -f {values_path}"
                ),
            ),
            text=to_yaml(operator_values),
        )
    )
    driver_managed = bool(operator_values.get("driver", {}).get("enabled"))
    for plugin_spec in pp.standalone:
        files.append(_standalone_file(pp, plugin_spec, driver_managed))
    plan = labels.label_plan(pp)
    purpose = [
        "Labels each pool's nodes so the MIG manager and the device plugin apply its config:"
    ]
    purpose += [
        f"  {e.pool}: {', '.join(f'{k}={v}' for k, v in e.labels)}"
        + ("" if e.selector else f" (nodes from ${e.nodes_env})")
        for e in plan
    ] or ["  (no pool needs labels)"]
    if pp.standalone:
        purpose.append(
            "The gpu.deploy.*=false labels make the GPU Operator remove its device plugin and GFD"
        )
        purpose.append("from pools a standalone device plugin serves (install that first).")
    purpose.append(
        "Relabelling a MIG node reconfigures its GPUs and evicts their pods: drain it first."
    )
    files.append(
        PlatformFile(
            "scripts/label-nodes.sh",
            "Node-labeling script.",
            tuple(purpose),
            (
                "after the GPU Operator is running:",
                "bash scripts/label-nodes.sh --dry-run   # print the commands",
                "bash scripts/label-nodes.sh",
            ),
            text="#!/usr/bin/env bash\n" + labels.label_script(pp),
            executable=True,
        )
    )
    files += [f for f in extra if not f.path.startswith("manifests/")]
    return files


def render_platform(
    fleet: Fleet, workloads: Iterable[Workload], options: PlatformOptions | None = None
) -> list[PlatformFile]:
    """The platform bundle for running ``workloads`` on ``fleet``. Pure: no I/O."""
    return platform_files(platform_plan(fleet, workloads, options))


def write_platform(files: list[PlatformFile], out: Path) -> list[Path]:
    """Write the bundle under ``out`` (created if missing).

    Only the bundle's own paths are written, each through a temporary file and a rename, so
    a reader never sees half a file; other files in ``out`` are left alone.
    """
    if out.exists() and not out.is_dir():
        raise InputError(f"-o {out}: exists and is not a folder; give a folder path")
    contents = [(out / f.path, f.content(), f.executable) for f in files]  # render all first
    for path, text, executable in contents:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o755 if executable else 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return [path for path, _, _ in contents]
