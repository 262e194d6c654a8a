"""mig-parted configs: generate the ConfigMap the GPU Operator's MIG manager reads, and validate one.

A mig-parted config (``version: v1``) holds named configs under ``mig-configs``; each is a
list of entries ``{device-filter, devices, mig-enabled, mig-devices}``. The MIG manager
applies the config a node's ``nvidia.com/mig.config`` label names. Names follow the
operator's own: ``all-disabled``, ``all-<profile>`` (one profile at its maximum, ``+``
written ``.``), ``all-balanced``; other layouts get ``custom-...`` names.

Validation checks every entry against the catalog for every device it can apply to: the
PCI ids of its ``device-filter``, or, without a filter, every catalog model that has all of
its profiles. Problems are :class:`Finding` objects naming the config, the entry, the device
and the reason. ``error`` findings make a config invalid; ``warning`` findings are entries
gpukit cannot check, or unfiltered entries that would fail on some GPU models.
"""

from gpukit.hardware.migparted.checks import Finding, validate_mig_parted, validate_mig_parted_text
from gpukit.hardware.migparted.configs import (
    DEFAULT_CONFIGMAP,
    MIG_CONFIG_LABEL,
    MigPartedEntry,
    config_name,
    mig_parted_configmap,
    mig_parted_spec,
    node_configs,
)

__all__ = [
    "DEFAULT_CONFIGMAP",
    "MIG_CONFIG_LABEL",
    "Finding",
    "MigPartedEntry",
    "config_name",
    "mig_parted_configmap",
    "mig_parted_spec",
    "node_configs",
    "validate_mig_parted",
    "validate_mig_parted_text",
]
