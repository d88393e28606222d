"""Unit tests of RBAC subject naming and access-review reporting (no cluster)."""

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.access_review import compare_expectations
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.access_review import describe_check
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.rbac import rbac_subjects


def test_post_binding_subject_gets_the_group_prefix():
    assert rbac_subjects(["secret-reader"], groups_prefix="gid:") == [
        {"kind": "Group", "name": "gid:secret-reader", "apiGroup": "rbac.authorization.k8s.io"},
    ]


def test_users_get_the_username_prefix_groups_do_not():
    subjects = rbac_subjects(["devs"], ["alice"], groups_prefix="", username_prefix="https://issuer.example#")
    assert subjects == [
        {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "User", "name": "https://issuer.example#alice", "apiGroup": "rbac.authorization.k8s.io"},
    ]


def test_no_prefix_given_means_none():
    assert [s["name"] for s in rbac_subjects(["a"], ["b"], None, None)] == ["a", "b"]


def test_describe_check_reads_like_a_sentence():
    assert describe_check({"verb": "list", "resource": "secrets", "namespace": "default"}) == "list secrets in namespace default"
    assert describe_check({"verb": "get", "resource": "deployments", "group": "apps"}) == "get deployments.apps (cluster-wide)"


def test_expectations_compared_row_by_row():
    checks = [
        {"verb": "list", "resource": "secrets", "namespace": "default", "allowed": True},
        {"verb": "list", "resource": "nodes", "allowed": False},
        {"verb": "get", "resource": "pods"},
    ]
    answers = [
        {"allowed": True, "denied": False, "reason": "RBAC: allowed"},
        {"allowed": True, "denied": False, "reason": "RBAC: allowed by oops"},
        {"allowed": False, "denied": False, "reason": ""},
    ]
    rows = compare_expectations(checks, answers)
    assert [row["ok"] for row in rows] == [True, False, True]
    assert rows[1]["expected"] == "forbidden" and rows[1]["actual"] == "allowed"
    assert rows[2]["expected"] is None
