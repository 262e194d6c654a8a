"""apply(): server-side apply, dry run first, apply order, per-object results, no deletes."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from gpukit import kube
from gpukit.errors import ClusterError, InputError, ManifestError
from gpukit.kube._apply import _rank


def job(
    name: str = "train",
    namespace: str | None = "team-nlp",
    image: str = "busybox",
    parallelism: int = 1,
) -> dict:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "parallelism": parallelism,
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": image}]}
            },
        },
    }


def config_map(name: str = "settings", namespace: str = "team-nlp") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"a": "1"},
    }


def patches(api) -> list:
    return [r for r in api.requests if r.method == "PATCH"]


def test_dry_run_is_the_default_and_writes_nothing(api, cluster):
    result = kube.apply([job(), config_map()], cluster=cluster)
    assert result.ok and result.dry_run
    assert [(o.ref, o.action, o.dry_run) for o in result.objects] == [
        ("ConfigMap/team-nlp/settings", "created", True),
        ("Job/team-nlp/train", "created", True),
    ]
    assert result.applied == []
    assert api.get("batch/v1", "Job", "train", "team-nlp") is None
    for request in patches(api):
        assert request.query["dryRun"] == "All"
        assert request.query["fieldManager"] == "gpukit"
        assert request.content_type == "application/apply-patch+yaml"
    assert result.summary() == (
        "server-side dry run: all 2 objects accepted (2 created); nothing "
        "was changed; run again with --yes to apply"
    )


def test_real_apply_dry_runs_everything_first_then_writes(api, cluster):
    result = kube.apply([job(), config_map()], dry_run=False, cluster=cluster)
    assert result.ok and [o.action for o in result.objects] == ["created", "created"]
    assert [("dryRun" in r.query, r.path.rsplit("/", 1)[1]) for r in patches(api)] == [
        (True, "settings"),
        (True, "train"),
        (False, "settings"),
        (False, "train"),
    ]
    stored = api.get("batch/v1", "Job", "train", "team-nlp")
    assert stored["spec"]["parallelism"] == 1
    again = kube.apply([job(parallelism=2)], dry_run=False, cluster=cluster)
    assert again.objects[0].action == "configured" and again.objects[0].code == 200
    assert api.get("batch/v1", "Job", "train", "team-nlp")["spec"]["parallelism"] == 2
    assert result.summary() == "applied 2 objects (2 created)"


def test_objects_go_in_apply_order(api, cluster):
    objects = [
        job(),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "r", "namespace": "team-nlp"},
            "rules": [],
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "sa", "namespace": "team-nlp"},
        },
        config_map(),
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "LocalQueue",
            "metadata": {"name": "q", "namespace": "team-nlp"},
            "spec": {"clusterQueue": "cq"},
        },
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "ClusterQueue",
            "metadata": {"name": "cq"},
            "spec": {},
        },
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-nlp"}},
    ]
    result = kube.apply(objects, cluster=cluster, cluster_scope=True)
    assert [o.kind for o in result.objects] == [
        "Namespace",
        "ClusterQueue",
        "ConfigMap",
        "ServiceAccount",
        "Role",
        "LocalQueue",
        "Job",
    ]
    assert result.objects[1].namespace is None


def test_rank_puts_unknown_cluster_kinds_before_namespaced_ones():
    assert (
        _rank("Widget", False)
        < _rank("ConfigMap", True)
        < _rank("Widget", True)
        < _rank("Job", True)
    )


def test_cluster_scoped_objects_need_the_flag_and_nothing_is_sent(api, cluster):
    queue = {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "ClusterQueue",
        "metadata": {"name": "gpu"},
        "spec": {},
    }
    result = kube.apply([job(), queue], dry_run=False, cluster=cluster)
    assert not result.ok and patches(api) == []
    by_kind = {o.kind: o for o in result.objects}
    assert by_kind["ClusterQueue"].action == "refused"
    assert "cluster-scoped; pass --cluster-scope" in by_kind["ClusterQueue"].message
    assert by_kind["Job"].action == "not-applied"
    assert result.summary() == "nothing applied: 1 of 2 objects refused before any request was made"


def test_a_kind_the_cluster_does_not_serve_is_refused(api, cluster):
    lws = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "serve", "namespace": "team-nlp"},
        "spec": {},
    }
    result = kube.apply([lws], cluster=cluster)
    assert result.objects[0].action == "refused"
    assert "LeaderWorkerSet is not installed" in result.objects[0].message
    assert patches(api) == []


def test_missing_namespace_fails_with_what_to_do(cluster):
    result = kube.apply([job(namespace="ghost")], cluster=cluster)
    assert result.objects[0].action == "failed" and result.objects[0].code == 404
    assert result.objects[0].message == (
        "namespace 'ghost' does not exist; create it (kubectl create namespace ghost) or add a "
        "Namespace object to what you apply"
    )


def test_a_namespace_created_by_the_same_apply(api, cluster):
    objects = [
        job(namespace="fresh"),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}},
    ]
    dry = kube.apply(objects, cluster=cluster, cluster_scope=True)
    assert dry.ok and [o.action for o in dry.objects] == ["created", "unchecked"]
    assert "this apply creates it" in dry.objects[1].message
    real = kube.apply(objects, dry_run=False, cluster=cluster, cluster_scope=True)
    assert real.ok and [o.action for o in real.objects] == ["created", "created"]
    assert api.get("batch/v1", "Job", "train", "fresh") is not None


def test_objects_without_namespace_take_the_given_or_context_namespace(api, cluster):
    result = kube.apply([job(namespace=None)], cluster=cluster)
    assert result.objects[0].namespace == "default"
    result = kube.apply([job(namespace=None)], cluster=cluster, namespace="team-vision")
    assert result.objects[0].namespace == "team-vision"


def test_conflicts_name_the_other_manager_and_force_takes_over(api, cluster):
    api.add(job(), manager="kubectl-client-side-apply")
    result = kube.apply([job(parallelism=4)], dry_run=False, cluster=cluster)
    failed = result.objects[0]
    assert (failed.action, failed.code, failed.dry_run) == ("failed", 409, False)
    assert failed.message == (
        'conflict: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using '
        "batch/v1: .spec.parallelism; another field manager owns these fields: re-run with "
        "--force-conflicts (force=True) to take them over, or change them through that manager"
    )
    assert all("dryRun" in r.query for r in patches(api))
    forced = kube.apply([job(parallelism=4)], dry_run=False, force=True, cluster=cluster)
    assert forced.ok and api.get("batch/v1", "Job", "train", "team-nlp")["spec"]["parallelism"] == 4
    assert patches(api)[-1].query["force"] == "true"


def test_invalid_objects_carry_the_api_message(cluster):
    result = kube.apply([job(image="")], cluster=cluster)
    assert result.objects[0].message == (
        'invalid: Job.batch "train" is invalid: spec.template.spec.containers[0].image: '
        "Required value"
    )


def test_rbac_denial_per_object(api, cluster):
    api.forbid("patch", "jobs.batch", namespace="team-nlp")
    result = kube.apply([config_map(), job()], cluster=cluster)
    assert [o.action for o in result.objects] == ["created", "failed"]
    assert result.objects[1].message.startswith(
        "RBAC forbids patch jobs.batch 'train' in namespace 'team-nlp': jobs.batch \"train\" is "
        'forbidden: User "gpukit-test" cannot patch resource "jobs" in API group "batch" in the '
        'namespace "team-nlp"'
    )
    assert result.summary() == ("server-side dry run: 1 of 2 objects rejected; nothing was changed")


def test_a_dry_run_rejection_stops_the_real_apply_before_any_write(api, cluster):
    api.fail(
        422,
        verb="patch",
        resource="jobs.batch",
        dry_run=True,
        times=None,
        message='Job.batch "train" is invalid: spec.completions: Invalid value: 0',
    )
    result = kube.apply([config_map(), job()], dry_run=False, cluster=cluster)
    assert [o.action for o in result.objects] == ["not-applied", "failed"]
    assert all("dryRun" in r.query for r in patches(api))
    assert api.get("v1", "ConfigMap", "settings", "team-nlp") is None
    assert result.summary() == "nothing applied: 1 of 2 objects rejected"
    assert "the server-side dry run rejected 1 object(s)" in result.objects[0].message


def test_a_failure_mid_way_reports_exactly_what_was_applied(api, cluster):
    api.fail(
        409,
        verb="patch",
        resource="jobs.batch",
        dry_run=False,
        name="second",
        message="Operation cannot be fulfilled: the object has been modified",
    )
    objects = [job("first"), job("second"), job("third")]
    result = kube.apply(objects, dry_run=False, cluster=cluster)
    assert [(o.name, o.action) for o in result.objects] == [
        ("first", "created"),
        ("second", "failed"),
        ("third", "not-applied"),
    ]
    assert [o.name for o in result.applied] == ["first"]
    assert [o.name for o in result.not_applied] == ["second", "third"]
    assert result.summary() == (
        "applied 1 of 3 objects (Job/team-nlp/first), then "
        "Job/team-nlp/second failed; not applied: Job/team-nlp/third"
    )
    assert api.get("batch/v1", "Job", "first", "team-nlp") is not None
    assert api.get("batch/v1", "Job", "third", "team-nlp") is None
    with pytest.raises(ClusterError, match="^applied 1 of 3 objects .*: Job/team-nlp/second: "):
        result.raise_for_failure()


def test_a_connection_cut_mid_apply_is_reported_as_unknown(api, cluster):
    api.reset(verb="patch", name="second", dry_run=False)
    result = kube.apply([job("first"), job("second"), job("third")], dry_run=False, cluster=cluster)
    second = result.objects[1]
    assert second.action == "unknown"
    assert (
        "the request may have reached the server: check with kubectl get jobs.batch second "
        "-n team-nlp" in second.message
    )
    assert result.objects[2].action == "not-applied"


def test_an_unreachable_cluster_raises_before_anything_is_applied(api, cluster):
    cluster.api_groups()
    api.stop()
    with pytest.raises(kube.Unreachable):
        kube.apply([job()], dry_run=False, cluster=cluster)


def test_apply_never_deletes(api, cluster):
    api.add(job("old"))
    kube.apply([job("new")], dry_run=False, cluster=cluster)
    assert api.get("batch/v1", "Job", "old", "team-nlp") is not None
    assert all(r.method in ("GET", "PATCH") for r in api.requests)


def test_bad_objects_are_input_errors(cluster):
    with pytest.raises(ManifestError, match="object 1: missing kind, metadata.name"):
        kube.apply([{"apiVersion": "v1"}], cluster=cluster)
    with pytest.raises(InputError, match="nothing to apply"):
        kube.apply([], cluster=cluster)


def test_result_json_is_stable(cluster):
    result = kube.apply([config_map()], cluster=cluster)
    assert json.loads(json.dumps(result.to_dict())) == {
        "dry_run": True,
        "ok": True,
        "summary": result.summary(),
        "objects": [
            {
                "kind": "ConfigMap",
                "api_version": "v1",
                "name": "settings",
                "namespace": "team-nlp",
                "action": "created",
                "dry_run": True,
                "code": 201,
                "message": None,
            }
        ],
    }


def test_load_manifests_reads_folders_lists_and_streams(tmp_path):
    (tmp_path / "b.yaml").write_text(yaml.safe_dump_all([job("b1"), job("b2")]))
    (tmp_path / "a.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [config_map()]})
    )
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.yaml").write_text("not: [an object")
    objects = kube.load_manifests(tmp_path)
    assert [o["metadata"]["name"] for o in objects] == ["settings", "b1", "b2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "document 1: expected a Kubernetes object (a mapping), got str"),
        ("apiVersion: v1\nkind: ConfigMap\n", "document 1: missing metadata.name"),
        ("a: [1\n", "not valid YAML or JSON"),
    ],
    ids=["not-a-mapping", "no-name", "bad-yaml"],
)
def test_load_manifests_errors(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError, match=re.escape(message)):
        kube.load_manifests(path)


def test_load_manifests_empty_folder(tmp_path):
    with pytest.raises(ManifestError, match="no .yaml, .yml or .json files"):
        kube.load_manifests(tmp_path)


def test_custom_resources_whose_crd_comes_in_the_same_apply(api, cluster):
    from gpukit.testing import crd

    objects = [
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "team-nlp"},
            "spec": {"size": 1},
        },
        crd("example.com", "Widget"),
    ]
    dry = kube.apply(objects, cluster=cluster, cluster_scope=True)
    assert dry.ok and [(o.kind, o.action) for o in dry.objects] == [
        ("CustomResourceDefinition", "created"),
        ("Widget", "unchecked"),
    ]
    assert "its CustomResourceDefinition is created by this apply" in dry.objects[1].message
    real = kube.apply(objects, dry_run=False, cluster=cluster, cluster_scope=True)
    assert real.ok and [o.action for o in real.objects] == ["created", "created"]
    assert api.get("example.com/v1", "Widget", "w", "team-nlp")["spec"] == {"size": 1}
    assert cluster.resource("example.com/v1", "Widget").plural == "widgets"
