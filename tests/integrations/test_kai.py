"""KAI scheduler (issue 14, cases 1 and 2): queues with quota for non-preemptible work, and
KAI's own GPU fractions as the KAI way to share.

Facts from KAI-Scheduler: docs/priority/README.md (value >= 100 is non-preemptible, in quota
only; a Deployment gets ``inference``), docs/quickstart/default-queues.yaml (default-queue
has GPU quota 0), docs/gpu-sharing/README.md and gpu-sharing.yaml (``gpu-fraction`` pod
annotation, no GPU request, no memory isolation).
"""

from __future__ import annotations

import pytest

import gpukit as gk
from gpukit.fleet import Fleet
from gpukit.integrations.kai import kai_counted_gpus, kai_queues, kai_warnings
from gpukit.platform import platform_plan
from gpukit.vocab import GPU, KAI_DEFAULT_QUEUE, KAI_GPUKIT_QUEUE, KAI_QUEUE_LABEL


def _fleet(**pool) -> Fleet:
    pools = [
        {"name": "a100", "gpu": "A100-80GB", "gpus_per_node": 8, "nodes": 1},
        {
            "name": "l4-shared",
            "gpu": "L4",
            "gpus_per_node": 4,
            "nodes": 2,
            "sharing": {"mode": "time-slicing", "replicas": 4, "rename_by_default": True},
        },
    ]
    if pool:
        pools.append(pool)
    return Fleet.model_validate({"name": "kai", "installed": {"kai": True}, "node_pools": pools})


SERVE = gk.Workload(name="chat", kind="inference", image="vllm", gpus=2, replicas=2)


def _queues(fleet: Fleet, *workloads: gk.Workload) -> dict[str, dict]:
    return {q["metadata"]["name"]: q for q in kai_queues(platform_plan(fleet, workloads))}


def _gpu_quota(queue: dict) -> int:
    return queue["spec"]["resources"]["gpu"]["quota"]


def test_serving_of_no_team_goes_to_a_gpukit_queue_with_quota_for_it():
    p = gk.plan(SERVE, _fleet())
    assert p.scheduler == "kai" and p.queue == KAI_GPUKIT_QUEUE != KAI_DEFAULT_QUEUE
    (deployment,) = [o for o in gk.render(p) if o["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["metadata"]["labels"][KAI_QUEUE_LABEL] == KAI_GPUKIT_QUEUE
    queues = _queues(_fleet(), SERVE)
    # The queue exists and its in-quota GPUs cover the 2 replicas x 2 GPUs, non-preemptible.
    assert _gpu_quota(queues[KAI_GPUKIT_QUEUE]) >= 4
    assert queues[KAI_GPUKIT_QUEUE]["spec"]["parentQueue"] == "gpukit"


def test_non_preemptible_demand_is_reserved_before_the_even_split():
    teams = [
        gk.Workload(name=f"t{i}", kind="training", image="x", gpus=1, team=f"team-{i}")
        for i in range(3)
    ]
    big = SERVE.model_copy(update={"replicas": 3, "team": "team-0"})  # 6 GPUs in quota
    quotas = {n: _gpu_quota(q) for n, q in _queues(_fleet(), big, *teams).items()}
    assert quotas["team-0"] >= 6
    children = [n for n in quotas if n != "gpukit"]
    assert sum(quotas[n] for n in children) == quotas["gpukit"] == 8


def test_shared_pools_add_no_gpu_quota_kai_does_not_count_gpu_shared():
    fleet = _fleet()
    assert [kai_counted_gpus(p) for p in fleet.node_pools] == [8, 0]
    assert _gpu_quota(_queues(fleet, SERVE)["gpukit"]) == 8


def test_non_preemptible_work_beyond_what_kai_counts_is_warned():
    # Each fits the pool alone; together 12 GPUs in quota, of the 8 KAI counts.
    serving = [SERVE.model_copy(update={"name": f"chat-{i}"}) for i in range(3)]
    pp = platform_plan(_fleet(), serving)
    assert any("asks for 12 GPUs in quota but KAI counts 8" in w for w in kai_warnings(pp))
    assert any("asks for 12 GPUs in quota" in w for w in pp.warnings)


def test_naming_kais_zero_quota_default_queue_for_serving_is_warned():
    named = SERVE.model_copy(update={"queue": KAI_DEFAULT_QUEUE})
    warnings = kai_warnings(platform_plan(_fleet(), [named]))
    assert any("GPU quota is 0" in w and "chat" in w for w in warnings)
    # Preemptible work may run over quota there: no warning.
    job = gk.Workload(name="j", kind="training", image="x", gpus=1, queue=KAI_DEFAULT_QUEUE)
    assert kai_warnings(platform_plan(_fleet(), [job])) == []


# -- KAI fractions --------------------------------------------------------------------------

NOTEBOOK = gk.Workload(name="nb", kind="interactive", image="x", gpu_memory="4Gi")


def test_a_kai_fraction_pool_shares_whole_gpus_by_annotation_not_by_gpu_request():
    fleet = _fleet(name="l4-kai", gpu="L4", gpus_per_node=4, nodes=2, kai_fractions=4)
    p = gk.plan(NOTEBOOK, fleet)
    assert p.sharing == "kai-fraction" and p.choice.pool == "l4-kai"
    assert p.choice.gpu_share == 0.25
    assert "KAI_FRACTION_NO_ISOLATION" in {w.code for w in p.warnings}
    (pod,) = gk.render(p)
    assert pod["metadata"]["annotations"] == {"gpu-fraction": "0.25"}
    limits = pod["spec"]["containers"][0]["resources"]["limits"]
    assert GPU not in limits and not any(k.startswith("nvidia.com/") for k in limits)
    assert pod["spec"]["schedulerName"] == "kai-scheduler"
    # explain() says what the pod asks for: the annotation, not a GPU request.
    decision = next(line for line in p.explain().splitlines() if line.startswith("Decision:"))
    assert "annotation gpu-fraction: 0.25 per pod (no nvidia.com/gpu request)" in decision


def test_kai_fractions_count_in_kai_quota_as_fractions():
    fleet = _fleet(name="l4-kai", gpu="L4", gpus_per_node=4, nodes=2, kai_fractions=4)
    serve = gk.Workload(
        name="small",
        kind="inference",
        image="x",
        gpu_memory="3Gi",
        replicas=6,
        isolation="none",
        priority="cost",
    )
    p = gk.plan(serve, fleet)
    assert p.sharing == "kai-fraction"
    quotas = {n: _gpu_quota(q) for n, q in _queues(fleet, serve).items()}
    assert quotas["gpukit"] == 16  # 8 A100 + 8 L4 whole GPUs, the fractions' GPUs
    assert quotas[KAI_GPUKIT_QUEUE] == 16  # one queue gets all; covers 6 x 0.25 = 1.5


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ({"mig": {"layout": {"1g.10gb": 7}}}, "must not be MIG-partitioned"),
        ({"sharing": {"mode": "time-slicing", "replicas": 2}}, "must not be MIG-partitioned"),
    ],
)
def test_kai_fractions_refuse_a_pool_the_device_plugin_already_splits(pool, message):
    with pytest.raises(ValueError, match=message):
        _fleet(name="x", gpu="A100-80GB", gpus_per_node=8, nodes=1, kai_fractions=2, **pool)


def test_kai_fractions_need_kai_installed():
    with pytest.raises(ValueError, match="installed.kai is false"):
        Fleet.model_validate(
            {
                "node_pools": [
                    {"name": "l4", "gpu": "L4", "gpus_per_node": 1, "nodes": 1, "kai_fractions": 2}
                ]
            }
        )
