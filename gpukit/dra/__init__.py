"""Dynamic Resource Allocation with the NVIDIA DRA driver: the fleet's driver settings, the
claims a plan renders, the driver's and Kueue's configuration, and discovery from
ResourceSlices. Submodules load on demand; importing this package loads nothing else."""
