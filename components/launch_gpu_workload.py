"""KFP component: submit the workload KFP cannot express (Job, Volcano Job, PyTorchJob,
TrainJob, JobSet) from a manifests artifact, follow it, and fail the step when it fails."""

from kfp import dsl
from kfp.dsl import Artifact, Input

try:
    from components._base import BASE_IMAGE
except ImportError:  # compiled from inside components/
    from _base import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def launch_gpu_workload(
    manifests: Input[Artifact],
    dry_run: bool = True,
    namespace: str = "",
    timeout_seconds: int = 86400,
    poll_seconds: int = 10,
    kubeconfig: str = "",
) -> str:
    """Server-side apply the manifests (field manager gpukit), then follow the workload.

    dry_run (the default) asks the API server to check every object and changes nothing.
    Otherwise the step logs each status change (pods, scheduling events, what to do when
    stuck) and fails when the workload fails or does not finish within timeout_seconds.
    Inside a cluster it uses the pod's service account (see gpukit.kfp.rbac); kubeconfig
    names a kubeconfig file instead. Returns the final phase ('dry-run' for a dry run).
    """
    import sys

    from gpukit.errors import GpukitError
    from gpukit.kube import apply, load_manifests, wait

    followed_kinds = ("Job", "PyTorchJob", "TrainJob", "JobSet", "Deployment", "LeaderWorkerSet", "Pod")
    try:
        objects = load_manifests(manifests.path)
        result = apply(objects, dry_run=dry_run, namespace=namespace or None, kubeconfig=kubeconfig or None)
    except GpukitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2 if exc.exit_code == 2 else 1) from None
    print(result.table())
    print(result.summary())
    if not result.ok:
        raise SystemExit(1)
    if dry_run:
        return "dry-run"
    # The workload is the last object that runs pods; Services and the like come before it.
    workload = [o for o in objects if o.get("kind") in followed_kinds][-1]
    meta = workload["metadata"]
    try:
        final = wait(
            meta["name"],
            meta.get("namespace") or namespace or None,
            workload["kind"],
            timeout=timeout_seconds,
            poll=poll_seconds,
            on_change=lambda status: print(status.text(), flush=True),
            kubeconfig=kubeconfig or None,
        )
    except GpukitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if final.phase == "failed":
        print(f"{final.ref} failed: {final.message or 'see the status above'}", file=sys.stderr)
        raise SystemExit(1)
    return final.phase
