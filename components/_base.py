"""The container image every gpukit component runs in (see components/README.md)."""

#: Built from components/Dockerfile: python:3.11-slim with gpukit[kube,lint,validate] and kfp.
#: Push it to your registry under this name, or rebuild the components with GPUKIT_IMAGE set.
import os

BASE_IMAGE = os.environ.get("GPUKIT_IMAGE", "gpukit/gpukit:0.1.0")
