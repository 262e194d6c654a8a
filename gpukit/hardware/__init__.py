"""Hardware facts: the GPU catalog, MIG geometry (placement, layouts), mig-parted configs, packing."""

from gpukit.hardware.catalog import (
    Catalog,
    GpuModel,
    GpuSpec,
    MigGeometry,
    MigProfile,
    UnmodelledMig,
    catalog,
    get_gpu,
    parse_gpu,
    parse_product,
)
from gpukit.hardware.mig import (
    MigInstance,
    MigLayout,
    PlacedInstance,
    Placement,
    Unplaceable,
    maximal_layouts,
    maximal_multisets,
    place_counts,
    smallest_profile,
    valid_multisets,
)

__all__ = [
    "Catalog",
    "GpuModel",
    "GpuSpec",
    "MigGeometry",
    "MigInstance",
    "MigLayout",
    "MigProfile",
    "PlacedInstance",
    "Placement",
    "UnmodelledMig",
    "Unplaceable",
    "catalog",
    "get_gpu",
    "maximal_layouts",
    "maximal_multisets",
    "parse_gpu",
    "parse_product",
    "place_counts",
    "smallest_profile",
    "valid_multisets",
]
