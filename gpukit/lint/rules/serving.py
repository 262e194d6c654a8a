"""LLM serving rules: an engine (vLLM, SGLang) told to claim more GPU memory than its slice or
share holds, a tensor-parallel size that differs from the GPUs it has, no start-up probe while
the weights load, and a model downloaded at every start.

An LLM server is a container whose command line runs ``vllm serve``, vLLM's OpenAI server
module, or ``sglang.launch_server``. Its flags are read from command and args (a ``sh -c``
string is split as the shell would), in both ``--flag value`` and ``--flag=value`` forms.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from fractions import Fraction

from gpukit.lint._context import Context
from gpukit.lint._model import Hit
from gpukit.lint._objects import Container, Doc, PodSite, as_list, as_map, as_str, gpu_resource_kind
from gpukit.lint.rules._facts import pools_for, selects_mig_slice, selects_shared
from gpukit.lint.rules._registry import rule

__all__: list[str] = []

#: Memory flag of each engine: the share of the device's memory it claims.
MEMORY_FLAGS = {"vllm": ("--gpu-memory-utilization",), "sglang": ("--mem-fraction-static",)}
TP_FLAGS = {"vllm": ("--tensor-parallel-size", "-tp"), "sglang": ("--tp-size", "--tp")}
PP_FLAGS = {"vllm": ("--pipeline-parallel-size", "-pp"), "sglang": ("--pp-size",)}
#: On a MIG slice the engine sees the slice: a fraction above this leaves no room for the CUDA
#: context and the non-PyTorch memory the engines themselves leave outside the fraction.
SLICE_MAX = Fraction(95, 100)
#: Where the Hugging Face hub caches downloads when HF_HOME / HF_HUB_CACHE are not set.
DEFAULT_HF_CACHE = "/root/.cache/huggingface"
#: Volume sources that outlive the pod.
PERSISTENT = ("persistentVolumeClaim", "hostPath", "nfs", "csi", "image")


def _tokens(c: Container) -> list[str]:
    words = [str(w) for w in [*as_list(c.data.get("command")), *as_list(c.data.get("args"))]]
    if len(words) >= 3 and words[0].endswith("sh") and words[1] == "-c":
        try:
            words = [*words[:2], *shlex.split(words[2]), *words[3:]]
        except ValueError:
            pass
    return words


def engine_of(c: Container) -> str | None:
    """'vllm' or 'sglang' when the container runs that engine's server, else None."""
    words = _tokens(c)
    for i, word in enumerate(words):
        if word.endswith("vllm") and i + 1 < len(words) and words[i + 1] == "serve":
            return "vllm"
        if word == "vllm.entrypoints.openai.api_server":
            return "vllm"
        if word == "sglang.launch_server":
            return "sglang"
    return None


def flag(c: Container, names: tuple[str, ...]) -> str | None:
    """The value of the first of ``names`` on the command line, or None."""
    words = _tokens(c)
    for i, word in enumerate(words):
        key, eq, value = word.partition("=")
        if key in names:
            if eq:
                return value
            return words[i + 1] if i + 1 < len(words) else None
    return None


def _number(text: str | None) -> Fraction | None:
    if text is None:
        return None
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def _servers(doc: Doc) -> Iterator[tuple[PodSite, Container, str]]:
    for site in doc.pods:
        for c in site.app_containers:
            engine = engine_of(c)
            if engine is not None:
                yield site, c, engine


def _share_replicas(site: PodSite, c: Container, ctx: Context) -> tuple[int, str]:
    """How many replicas share the GPU, and where that figure comes from."""
    if ctx.fleet is not None:
        for name in c.gpu_names:
            for pool in pools_for(ctx.fleet.node_pools, site, name):
                if pool.sharing is not None:
                    return (
                        pool.sharing.replicas,
                        f"pool {pool.name} shares each GPU {pool.sharing.replicas} ways",
                    )
    return 2, "a shared GPU holds at most half of its memory per replica (2 ways or more)"


@rule(
    "GPU040",
    "error",
    "serving-memory-above-share",
    "an LLM server's --gpu-memory-utilization / --mem-fraction-static above what its MIG slice "
    "or GPU share holds",
)
def memory_above_share(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for site, c, engine in _servers(doc):
        name = MEMORY_FLAGS[engine][0]
        value = _number(flag(c, MEMORY_FLAGS[engine]))
        if value is None:
            continue
        kinds = {gpu_resource_kind(n) for n in c.gpu_names}
        shared = "shared" in kinds or selects_shared(site)
        if shared:
            replicas, why = _share_replicas(site, c, ctx)
            limit = Fraction(1, replicas)
            if value > limit:
                yield Hit(
                    c.loc,
                    f"container {c.name}: {name} {float(value):g} claims that share of the whole "
                    f"GPU, which a time-sliced or MPS replica sees; {why}, so it holds "
                    f"{float(limit):.2f} of it: set {name} to at most {float(limit) * 0.9:.2f} "
                    "(10% headroom), or the engine fails to start when a neighbour runs",
                )
        elif ("mig" in kinds or selects_mig_slice(site)) and value > SLICE_MAX:
            yield Hit(
                c.loc,
                f"container {c.name}: {name} {float(value):g} on a MIG slice leaves no room "
                "for the CUDA context and memory outside the engine's pool; the slice is the "
                f"whole device it sees: set {name} to 0.9 or less",
            )


def _group_size(doc: Doc) -> int:
    if doc.kind == "LeaderWorkerSet":
        size = as_map(as_map(doc.spec.get("leaderWorkerTemplate"))).get("size")
        return size if isinstance(size, int) and size > 0 else 1
    return 1


@rule(
    "GPU041",
    "error",
    "serving-tensor-parallel-mismatch",
    "an LLM server's tensor-parallel size (x pipeline-parallel) differs from the GPUs it requests",
)
def tensor_parallel_mismatch(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for _, c, engine in _servers(doc):
        gpus = sum((c.gpu_amount(n) or 0 for n in c.gpu_names), Fraction(0))
        if gpus <= 0:
            continue
        tp = _number(flag(c, TP_FLAGS[engine])) or Fraction(1)
        pp = _number(flag(c, PP_FLAGS[engine])) or Fraction(1)
        nodes = _group_size(doc)
        given = flag(c, ("--nnodes",)) if engine == "sglang" else None
        if given is not None and given.isdigit():  # else $(LWS_GROUP_SIZE): the group's size
            nodes = int(given)
        total = gpus * nodes
        if tp * pp != total:
            where = f"{int(gpus)} GPU(s) per pod" + (
                f" x {nodes} pods in the group" if nodes > 1 else ""
            )
            yield Hit(
                c.loc,
                f"container {c.name}: tensor parallel {int(tp)}"
                + (f" x pipeline parallel {int(pp)}" if pp != 1 else "")
                + f" = {int(tp * pp)} GPUs, but it has {where} = {int(total)}; the engine "
                "waits for GPUs it does not have, or leaves some idle: set "
                f"{TP_FLAGS[engine][0]} to {int(gpus)}"
                + (f" and {PP_FLAGS[engine][0]} to {nodes}" if nodes > 1 else "")
                + " (tensor parallel within a node, pipeline parallel across nodes)",
            )


def _group_worker(doc: Doc, site: PodSite) -> bool:
    """A LeaderWorkerSet worker beside a leader: a rank of the leader's server, no HTTP of its own."""
    lwt = as_map(doc.spec.get("leaderWorkerTemplate"))
    return doc.kind == "LeaderWorkerSet" and site.role == "worker" and "leaderTemplate" in lwt


@rule(
    "GPU042",
    "warning",
    "serving-startup-probe-missing",
    "an LLM server without a start-up probe: liveness kills it while the weights load",
)
def startup_probe_missing(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for site, c, engine in _servers(doc):
        if "startupProbe" in c.data or _group_worker(doc, site):
            continue
        yield Hit(
            c.loc,
            f"container {c.name} serves an LLM ({engine}) with no startupProbe; loading the "
            "weights takes minutes (longer on the first download), so a liveness probe restarts "
            "it before it is up and a readiness-only pod looks hung: add a startupProbe on GET "
            "/health with periodSeconds x failureThreshold longer than the load",
        )


def _env(c: Container) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in as_list(c.data.get("env")):
        item = as_map(item)
        name, value = as_str(item.get("name")), as_str(item.get("value"))
        if name and value:
            out[name] = value
    return out


def _cache_dirs(c: Container, engine: str) -> list[str]:
    env = _env(c)
    dirs = [env.get("HF_HUB_CACHE") or env.get("HF_HOME") or DEFAULT_HF_CACHE]
    download = flag(c, ("--download-dir",))
    if download:
        dirs.append(download)
    model = flag(c, ("--model-path", "--model")) if engine == "sglang" else None
    if engine == "vllm":
        words = _tokens(c)
        for i, word in enumerate(words):
            if word.endswith("vllm") and i + 2 < len(words) and words[i + 1] == "serve":
                model = words[i + 2]
        model = model or flag(c, ("--model",))
    if model and model.startswith("/"):
        return [model]  # a local path: the model is already on a volume, or it is not
    return dirs


def _under(path: str, mount: str) -> bool:
    mount = mount.rstrip("/") or "/"
    return path == mount or path.startswith(mount + "/") or mount == "/"


@rule(
    "GPU043",
    "warning",
    "serving-model-cache-missing",
    "an LLM server that downloads its model at every start: no persistent volume holds the "
    "Hugging Face cache (or the model path)",
)
def model_cache_missing(doc: Doc, ctx: Context) -> Iterator[Hit]:
    for site, c, engine in _servers(doc):
        volumes = {
            as_str(as_map(v).get("name")): as_map(v) for v in as_list(site.spec.get("volumes"))
        }
        persistent = set()
        for mount in as_list(c.data.get("volumeMounts")):
            mount = as_map(mount)
            volume = volumes.get(as_str(mount.get("name")), {})
            path = as_str(mount.get("mountPath"))
            if path and any(key in volume for key in PERSISTENT):
                persistent.add(path)
        dirs = _cache_dirs(c, engine)
        if any(_under(d, m) for d in dirs for m in persistent):
            continue
        yield Hit(
            c.loc,
            f"container {c.name} ({engine}) keeps the model in {dirs[0]}, which no persistent "
            "volume backs: every start (each restart, each new replica) downloads the weights "
            "again, tens to hundreds of GiB: mount a PersistentVolumeClaim there (or set HF_HOME "
            "to a mounted claim)",
        )
