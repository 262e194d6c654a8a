"""The node-label plan (MIG config, device-plugin config per pool) and a shell script that applies it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from gpukit.fleet import NodePool
from gpukit.manifests.pods import pool_node_selector
from gpukit.platform.model import PlatformPlan, env_name
from gpukit.vocab import (
    DEPLOY_DEVICE_PLUGIN_LABEL,
    DEPLOY_GFD_LABEL,
    DEVICE_PLUGIN_CONFIG_LABEL,
    GPU_PRODUCT_LABEL,
    MIG_CONFIG_LABEL,
)

__all__ = ["OPERATOR_GATES_OFF", "PoolLabels", "label_plan", "label_script"]

PRODUCT_LABEL = GPU_PRODUCT_LABEL  # kept for one release; gpukit.vocab names it
#: The GPU Operator's per-operand gates that keep its device plugin and GFD off a node whose
#: GPUs a standalone device plugin serves (its GFD would also run with the cluster's strategy).
OPERATOR_GATES_OFF = (
    (DEPLOY_DEVICE_PLUGIN_LABEL, "false"),
    (DEPLOY_GFD_LABEL, "false"),
)


@dataclass(frozen=True)
class PoolLabels:
    """Labels one pool's nodes need, and how the script finds those nodes.

    ``selector`` is a label selector when the pool's nodes can be told apart by labels they
    already carry (the pool's own labels, or a GPU product no other pool has); otherwise
    None, and the script takes node names from the ``nodes_env`` variable.
    """

    pool: str
    labels: tuple[tuple[str, str], ...]
    selector: str | None
    nodes_env: str


def _selector(pool: NodePool, pools: tuple[NodePool, ...], dra: bool) -> str | None:
    if pool.labels:
        return ",".join(f"{k}={v}" for k, v in sorted(pool.labels.items()))
    others = [p for p in pools if p.name != pool.name and p.gpu_product == pool.gpu_product]
    if others:
        return None
    # Before and after its config is applied GFD writes different product values
    # (-SHARED, -MIG-<profile>): match both, so the script can be run again.
    products = sorted({pool.gpu_product, pool_node_selector(pool, dra=dra)[PRODUCT_LABEL]})
    return f"{PRODUCT_LABEL} in ({','.join(products)})"


def label_plan(pp: PlatformPlan) -> list[PoolLabels]:
    """Per pool that needs labels: which, and how to select its nodes. Pools of plain whole
    GPUs need none (the device plugin's default config applies)."""
    plan = []
    pools = pp.fleet.node_pools
    for pool in pools:
        labels: list[tuple[str, str]] = []
        if pool.name in pp.mig_configs:
            labels.append((MIG_CONFIG_LABEL, pp.mig_configs[pool.name]))
        config = pp.device_plugin_config(pool.name)
        if config:
            labels.append((DEVICE_PLUGIN_CONFIG_LABEL, config))
        if pp.standalone_plugin(pool.name) is not None:
            labels += OPERATOR_GATES_OFF
        if labels:
            plan.append(
                PoolLabels(
                    pool.name, tuple(labels), _selector(pool, pools, pp.dra), env_name(pool.name)
                )
            )
    return plan


def _command(args: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in args)


_PRELUDE = """\
set -euo pipefail

KUBECTL="${KUBECTL:-kubectl}"
DRY_RUN=0
if [ "${1:-}" = "--dry-run" ]; then DRY_RUN=1; fi
missing=0

run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '%q ' "$@"; printf '\\n'
  else
    "$@"
  fi
}
"""


def label_script(pp: PlatformPlan) -> str:
    """A bash script that labels every pool's nodes; all generated arguments are quoted.

    ``--dry-run`` prints the kubectl commands instead of running them; ``KUBECTL`` picks
    the binary (e.g. ``KUBECTL='kubectl --context prod'`` is not split: use a wrapper).
    """
    lines = [_PRELUDE]
    plan = label_plan(pp)
    if not plan:
        lines.append('echo "no pool needs MIG or device-plugin config labels"')
    for entry in plan:
        pairs = [f"{k}={v}" for k, v in entry.labels]
        lines.append(f"# pool {entry.pool}: {', '.join(pairs)}")
        if entry.selector is not None:
            args = ["label", "nodes", "--overwrite", "-l", entry.selector, *pairs]
            lines.append(f'run "$KUBECTL" {_command(args)}')
        else:
            var = entry.nodes_env
            hint = (
                f"pool {entry.pool}: its nodes carry no label that sets them apart from other pools; "
                f"set {var}='node-a node-b' (space-separated node names)"
            )
            lines.append(f'if [ -z "${{{var}:-}}" ]; then')
            lines.append(f"  echo {shlex.quote(hint)} >&2")
            lines.append("  missing=1")
            lines.append("else")
            lines.append(f'  read -r -a nodes <<< "${{{var}}}"')
            lines.append(
                f'  run "$KUBECTL" label nodes --overwrite "${{nodes[@]}}" {_command(pairs)}'
            )
            lines.append("fi")
        lines.append("")
    lines.append('exit "$missing"')
    return "\n".join(lines) + "\n"
