"""Hardware facts: the GPU catalog and MIG geometry."""

from gpukit.hardware.catalog import (
    Catalog,
    GpuModel,
    GpuSpec,
    MigGeometry,
    MigProfile,
    catalog,
    get_gpu,
    parse_gpu,
)

__all__ = [
    "Catalog",
    "GpuModel",
    "GpuSpec",
    "MigGeometry",
    "MigProfile",
    "catalog",
    "get_gpu",
    "parse_gpu",
]
