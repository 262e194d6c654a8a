#!/usr/bin/env bash
# Read-only GPU facts from a lent GPU machine: MIG GPU-instance profiles (-lgip), their
# placements (-lgipp), driver/product, and the library versions the measurement scripts use.
# Changes no GPU setting: listing profiles works with MIG mode off.
# Usage (on the GPU machine): bash bench/gpu_facts.sh > OUT.txt; the H200 capture the catalog
# checks against lies in tests/hardware/data/h200-nvidia-smi-mig.txt.
set -u
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# command: nvidia-smi --query-gpu=name,driver_version,memory.total,mig.mode.current --format=csv"
nvidia-smi --query-gpu=name,driver_version,memory.total,mig.mode.current --format=csv
echo "# command: nvidia-smi mig -lgip"
nvidia-smi mig -lgip
echo "# command: nvidia-smi mig -lgipp"
nvidia-smi mig -lgipp
echo "# command: nvidia-smi mig -lcip (compute-instance profiles need a GPU instance; may print nothing)"
nvidia-smi mig -lcip 2>&1 | head -40
echo "# python libraries"
python3 - <<'PY'
import importlib
for name in ("torch", "transformers", "peft", "accelerate", "vllm", "bitsandbytes"):
    try:
        mod = importlib.import_module(name)
        print(f"{name} {getattr(mod, '__version__', '?')}")
    except Exception as exc:  # noqa: BLE001 - report what is missing
        print(f"{name} missing ({type(exc).__name__})")
try:
    import torch
    print("cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0))
    free, total = torch.cuda.mem_get_info()
    print(f"mem_get_info free={free} total={total}")
except Exception as exc:  # noqa: BLE001
    print("torch.cuda unavailable", exc)
PY
