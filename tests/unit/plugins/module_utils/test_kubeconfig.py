"""Unit tests of the kubeconfig merge, removal, masking and atomic write (no network)."""

import json
import os
import stat

import pytest
import yaml

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import kubeconfig as kc

CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"

# A file someone else wrote: another cluster/user/context, preferences, extensions.
EXISTING = """\
apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- name: other
  cluster:
    server: https://other.example.com
- name: oidc-test
  cluster:
    server: https://old.example.com
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: other}
users:
- name: other-user
  user:
    token: other-secret-token
- name: cognito-user
  user:
    token: stale-token
contexts:
- name: other
  context: {cluster: other, user: other-user}
current-context: other
extensions:
- name: my-tool
  extension: {setting: 1}
"""


def params(**overrides):
    base = {"path": "/tmp/config", "state": "present", "cluster": None, "user": None, "context": None, "current_context": False}
    base.update(overrides)
    return base


CLUSTER = {"name": "oidc-test", "server": "https://127.0.0.1:6443", "certificate_authority_data": CA, "certificate_authority": None}
EXEC_USER = {
    "name": "cognito-user",
    "exec": {"command": "/usr/bin/python3.11", "args": ["-I", "-S", "/p/plugin.py", "get-token"], "env": None,
             "api_version": "client.authentication.k8s.io/v1", "interactive_mode": "Never",
             "provide_cluster_info": False, "install_hint": None},
}
OIDC_USER = {
    "name": "cognito-user",
    "auth_provider": {"name": "oidc", "config": {"idp-issuer-url": ISSUER, "client-id": "client"},
                      "id_token": "header.payload.signature", "refresh_token": "refresh-secret", "client_secret": None},
}
CONTEXT = {"name": "oidc-secret-reader", "namespace": None, "cluster": None, "user": None}


def existing():
    return kc.parse_kubeconfig(EXISTING)


# -- entries ------------------------------------------------------------------

def test_cluster_entry_uses_kubeconfig_key_names():
    assert kc.cluster_entry(CLUSTER) == {
        "name": "oidc-test",
        "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": CA},
    }


def test_exec_user_is_client_authentication_v1_with_interactive_mode():
    assert kc.user_entry(EXEC_USER) == {"name": "cognito-user", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "/usr/bin/python3.11",
        "args": ["-I", "-S", "/p/plugin.py", "get-token"],
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }}}


def test_exec_env_is_a_sorted_name_value_list():
    spec = dict(EXEC_USER["exec"], env={"B": "2", "A": 1})
    assert kc.exec_config(spec)["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]


def test_auth_provider_is_the_posts_oidc_config():
    assert kc.user_entry(OIDC_USER) == {"name": "cognito-user", "user": {"auth-provider": {"name": "oidc", "config": {
        "idp-issuer-url": ISSUER,
        "client-id": "client",
        "id-token": "header.payload.signature",
        "refresh-token": "refresh-secret",
    }}}}


def test_token_and_client_certificate_users():
    assert kc.user_entry({"name": "u", "token": "t"}) == {"name": "u", "user": {"token": "t"}}
    assert kc.user_entry({"name": "admin", "client_certificate_data": "cert", "client_key_data": "key"}) == {
        "name": "admin", "user": {"client-certificate-data": "cert", "client-key-data": "key"}}


def test_context_defaults_to_the_tasks_cluster_and_user():
    assert kc.context_entry(dict(CONTEXT, namespace="team"), "oidc-test", "cognito-user") == {
        "name": "oidc-secret-reader", "context": {"cluster": "oidc-test", "user": "cognito-user", "namespace": "team"}}
    assert kc.context_entry(dict(CONTEXT, cluster="x", user="y"), "oidc-test", "cognito-user")["context"] == {
        "cluster": "x", "user": "y"}


# -- validation ---------------------------------------------------------------

@pytest.mark.parametrize("bad, message", [
    (params(), "nothing to do"),
    (params(cluster=dict(CLUSTER, server=None)), "cluster.server is required"),
    (params(user={"name": "u"}), "exactly one way to authenticate"),
    (params(user={"name": "u", "token": "t", "exec": EXEC_USER["exec"]}), "got exec, token"),
    (params(context=CONTEXT), "needs a cluster"),
    (params(cluster=CLUSTER, context=CONTEXT), "needs a user"),
    (params(state="absent"), "state: absent needs the name"),
])
def test_invalid_input_is_refused_with_what_to_do(bad, message):
    with pytest.raises(kc.KubeconfigError, match=message):
        kc.validate_params(bad)


def test_secrets_inside_auth_provider_config_are_refused():
    user = {"name": "u", "auth_provider": {"name": "oidc", "config": {"id-token": "x", "client-id": "c"}}}
    with pytest.raises(kc.KubeconfigError, match="auth_provider.id_token"):
        kc.validate_params(params(user=user))


@pytest.mark.parametrize("value, expected", [
    (None, None), (False, None), ("no", None), ("False", None),
    (True, "ctx"), ("yes", "ctx"), ("True", "ctx"), ("other", "other"),
])
def test_current_context_choice(value, expected):
    assert kc.current_context_choice(value, "ctx") == expected


def test_current_context_true_needs_a_context():
    with pytest.raises(kc.KubeconfigError, match="needs context.name"):
        kc.current_context_choice(True, None)


# -- parse --------------------------------------------------------------------

def test_empty_file_is_an_empty_kubeconfig():
    assert kc.parse_kubeconfig("") == kc.empty_kubeconfig()


@pytest.mark.parametrize("text, message", [
    ("a: [", "not valid YAML"),
    ("- 1\n", "top level is a list"),
    ("clusters: {a: 1}\n", "'clusters' is not a list"),
])
def test_parse_refuses_what_is_not_a_kubeconfig(text, message):
    with pytest.raises(kc.KubeconfigError, match=message):
        kc.parse_kubeconfig(text, "/x/config")


# -- present ------------------------------------------------------------------

def test_present_keeps_everything_else_and_replaces_its_own_entries_whole():
    after, dummy_entries = kc.plan_present(existing(), params(cluster=CLUSTER, user=EXEC_USER, context=CONTEXT))
    before = existing()
    # untouched
    assert after["preferences"] == {"colors": True}
    assert after["extensions"] == before["extensions"]
    assert after["clusters"][0] == before["clusters"][0]
    assert after["users"][0] == before["users"][0]
    assert after["contexts"][0] == before["contexts"][0]
    assert after["current-context"] == "other"
    # replaced in place, extensions of the entry kept, no stale token
    assert [c["name"] for c in after["clusters"]] == ["other", "oidc-test"]
    assert after["clusters"][1]["cluster"]["server"] == "https://127.0.0.1:6443"
    assert after["clusters"][1]["cluster"]["extensions"] == before["clusters"][1]["cluster"]["extensions"]
    assert "token" not in after["users"][1]["user"]
    assert after["users"][1]["user"]["exec"]["command"] == "/usr/bin/python3.11"
    # appended
    assert after["contexts"][1] == {"name": "oidc-secret-reader", "context": {"cluster": "oidc-test", "user": "cognito-user"}}


def test_present_twice_is_the_same_document():
    p = params(cluster=CLUSTER, user=OIDC_USER, context=CONTEXT, current_context=True)
    once, dummy_entries = kc.plan_present(existing(), p)
    twice, dummy_entries = kc.plan_present(once, p)
    assert once == twice
    assert not kc.file_changed(once, twice, 0o600)


def test_present_on_no_file_builds_a_new_kubeconfig():
    after, dummy_entries = kc.plan_present(None, params(cluster=CLUSTER, user=EXEC_USER, context=CONTEXT, current_context=True))
    assert after["apiVersion"] == "v1" and after["kind"] == "Config"
    assert after["current-context"] == "oidc-secret-reader"
    assert kc.file_changed(None, after, None)


def test_current_context_must_exist():
    with pytest.raises(kc.KubeconfigError, match="'nope' is not a context of the file; contexts: other"):
        kc.plan_present(existing(), params(current_context="nope"))
    after, dummy_entries = kc.plan_present(existing(), params(current_context="other"))
    assert after == existing()


def test_duplicate_names_collapse_into_one_entry():
    document = existing()
    document["users"].append({"name": "cognito-user", "user": {"token": "dup"}})
    after = kc.upsert_entry(document, "users", kc.user_entry({"name": "cognito-user", "token": "new"}))
    assert [u["name"] for u in after["users"]] == ["other-user", "cognito-user"]
    assert after["users"][1]["user"] == {"token": "new"}


def test_mode_alone_makes_a_change():
    assert kc.file_changed(existing(), existing(), 0o644)
    assert not kc.file_changed(existing(), existing(), 0o600)


def test_changed_compares_parsed_documents_not_text():
    reformatted = yaml.safe_load(json.dumps(existing()))  # same content, other layout
    assert not kc.file_changed(existing(), reformatted, 0o600)


# -- absent -------------------------------------------------------------------

def test_absent_removes_the_named_entries_and_a_current_context_that_named_one():
    document, dummy_entries = kc.plan_present(existing(), params(cluster=CLUSTER, user=EXEC_USER, context=CONTEXT, current_context=True))
    after, removed, kept = kc.plan_absent(document, params(
        state="absent", cluster={"name": "oidc-test"}, user={"name": "cognito-user"}, context={"name": "oidc-secret-reader"}))
    assert removed == {"clusters": ["oidc-test"], "users": ["cognito-user"], "contexts": ["oidc-secret-reader"]}
    assert kept == []
    assert "current-context" not in after
    assert [c["name"] for c in after["clusters"]] == ["other"]
    assert after["preferences"] == {"colors": True} and after["extensions"] == existing()["extensions"]


def test_absent_keeps_current_context_naming_another_context():
    after, _removed, _kept = kc.plan_absent(existing(), params(state="absent", user={"name": "cognito-user"}))
    assert after["current-context"] == "other"
    assert [u["name"] for u in after["users"]] == ["other-user"]


def test_absent_keeps_a_cluster_another_context_uses():
    after, removed, kept = kc.plan_absent(existing(), params(state="absent", cluster={"name": "other"}))
    assert removed["clusters"] == [] and after == existing()
    assert kept == ["cluster 'other' is kept: context 'other' still uses it"]


def test_absent_of_missing_entries_or_file_changes_nothing():
    after, removed, dummy_kept = kc.plan_absent(existing(), params(state="absent", context={"name": "nope"}))
    assert after == existing() and removed == {"clusters": [], "users": [], "contexts": []}
    assert kc.plan_absent(None, params(state="absent", context={"name": "x"}))[0] is None
    assert not kc.file_changed(None, None, None)


# -- masking ------------------------------------------------------------------

def test_mask_secrets_everywhere_but_keeps_the_rest():
    document, dummy_entries = kc.plan_present(existing(), params(user=OIDC_USER))
    document = kc.upsert_entry(document, "users", kc.user_entry(
        {"name": "admin", "client_certificate_data": "cert", "client_key_data": "key"}))
    document = kc.upsert_entry(document, "users", kc.user_entry({"name": "e", "exec": dict(
        EXEC_USER["exec"], env={"AWS_PROFILE": "dev", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "MY_TOKEN": "t0k"})}))
    text = kc.render(kc.mask_secrets(document))
    for secret in ("other-secret-token", "header.payload.signature", "refresh-secret", "key\n", "s3cr3t", "t0k"):
        assert secret not in text
    masked = kc.mask_secrets(document)
    users = dict((u["name"], u["user"]) for u in masked["users"])
    assert users["cognito-user"]["auth-provider"]["config"] == {
        "idp-issuer-url": ISSUER, "client-id": "client", "id-token": "********", "refresh-token": "********"}
    assert users["admin"] == {"client-certificate-data": "cert", "client-key-data": "********"}
    assert users["e"]["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "dev"},
                                         {"name": "AWS_SECRET_ACCESS_KEY", "value": "********"},
                                         {"name": "MY_TOKEN", "value": "********"}]
    assert document["users"][0]["user"]["token"] == "other-secret-token"  # the original is not touched


def test_diff_text_starts_with_the_mode_and_is_masked():
    text = kc.diff_text(existing(), 0o644)
    assert text.startswith("# mode 0644\n")
    assert "stale-token" not in text and "********" in text
    assert kc.diff_text(None, None) == ""


def test_render_round_trips():
    document, dummy_entries = kc.plan_present(existing(), params(cluster=CLUSTER, user=OIDC_USER, context=CONTEXT))
    assert yaml.safe_load(kc.render(document)) == document


# -- the file -----------------------------------------------------------------

def test_write_atomically_creates_the_directory_and_mode_0600(tmp_path):
    path = str(tmp_path / "new" / ".kube" / "config")
    kc.write_atomically(path, "apiVersion: v1\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert os.listdir(os.path.dirname(path)) == ["config"]  # no temporary file left


def test_write_atomically_replaces_a_0644_file(tmp_path):
    path = tmp_path / "config"
    path.write_text(EXISTING)
    os.chmod(str(path), 0o644)
    kc.write_atomically(str(path), "kind: Config\n")
    assert path.read_text() == "kind: Config\n"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600


def test_load_kubeconfig(tmp_path):
    path = tmp_path / "config"
    assert kc.load_kubeconfig(str(path)) == (None, None)
    path.write_text(EXISTING)
    os.chmod(str(path), 0o640)
    document, mode = kc.load_kubeconfig(str(path))
    assert document == existing() and mode == 0o640
    with pytest.raises(kc.KubeconfigError, match="is a directory"):
        kc.load_kubeconfig(str(tmp_path))


def test_symlinked_kubeconfig_is_written_where_it_points(tmp_path):
    real = tmp_path / "real-config"
    real.write_text(EXISTING)
    link = tmp_path / "config"
    link.symlink_to(real)
    assert kc.target_path(str(link)) == str(real)
    assert kc.target_path(str(real)) == str(real)


# -- the module flow ----------------------------------------------------------

class FakeModule(object):
    def __init__(self, check_mode=False, **overrides):
        self.params = params(**overrides)
        self.check_mode = check_mode
        self.warnings = []
        self.result = None

    def warn(self, message):
        self.warnings.append(message)

    def exit_json(self, **result):
        self.result = result
        raise SystemExit(0)

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise SystemExit(1)


def run_module(**overrides):
    module = FakeModule(**overrides)
    with pytest.raises(SystemExit):
        kc.run(module)
    return module


def test_run_check_mode_diff_idempotence_and_mode(tmp_path):
    path = tmp_path / "config"
    path.write_text(EXISTING)
    os.chmod(str(path), 0o644)
    task = dict(path=str(path), cluster=CLUSTER, user=OIDC_USER, context=CONTEXT, current_context=True)

    checked = run_module(check_mode=True, **task)
    assert checked.result["changed"] and path.read_text() == EXISTING
    diff = checked.result["diff"]
    assert diff["before"].startswith("# mode 0644") and diff["after"].startswith("# mode 0600")
    assert "refresh-secret" not in json.dumps(checked.result)
    assert "stale-token" not in json.dumps(checked.result) and "other-secret-token" not in json.dumps(checked.result)

    written = run_module(**task)
    assert written.result["changed"]
    assert written.result["user"]["user"]["auth-provider"]["config"]["refresh-token"] == "********"
    assert written.result["current_context"] == "oidc-secret-reader"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    on_disk = yaml.safe_load(path.read_text())
    assert on_disk["users"][1]["user"]["auth-provider"]["config"]["refresh-token"] == "refresh-secret"

    again = run_module(**task)
    assert not again.result["changed"]

    os.chmod(str(path), 0o664)
    text = path.read_text()
    fixed = run_module(**task)
    assert fixed.result["changed"] and stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert path.read_text() == text  # a mode fix does not rewrite the text


def test_run_absent(tmp_path):
    path = tmp_path / "config"
    path.write_text(EXISTING)
    removed = run_module(path=str(path), state="absent", user={"name": "cognito-user"}, cluster={"name": "other"})
    assert removed.result["changed"]
    assert removed.result["removed"] == {"clusters": [], "users": ["cognito-user"], "contexts": []}
    assert removed.warnings == ["cluster 'other' is kept: context 'other' still uses it"]
    again = run_module(path=str(path), state="absent", user={"name": "cognito-user"})
    assert not again.result["changed"]
    nothing = run_module(path=str(tmp_path / "missing"), state="absent", user={"name": "u"})
    assert not nothing.result["changed"] and not (tmp_path / "missing").exists()


def test_run_fails_clearly_on_a_broken_file(tmp_path):
    path = tmp_path / "config"
    path.write_text("clusters: [\n")
    failed = run_module(path=str(path), cluster=CLUSTER)
    assert failed.result["failed"] and "not valid YAML" in failed.result["msg"]
    assert path.read_text() == "clusters: [\n"


def test_lock_excludes_a_second_writer_and_creates_nothing_beside_the_file(tmp_path):
    import os
    import subprocess
    import sys

    from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.kubeconfig import kubeconfig_lock
    from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.kubeconfig import lock_path

    path = str(tmp_path / "kube" / "config")
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('acquired')\n"
        "except BlockingIOError:\n    print('blocked')\n"
    )
    with kubeconfig_lock(path, check_mode=False):
        inside = subprocess.run([sys.executable, "-c", probe, lock_path(path)], capture_output=True, text=True, check=True)
    after = subprocess.run([sys.executable, "-c", probe, lock_path(path)], capture_output=True, text=True, check=True)
    assert inside.stdout.strip() == "blocked"
    assert after.stdout.strip() == "acquired"
    assert not os.path.exists(os.path.dirname(path))  # no directory made for a file not written
    assert lock_path(path) != lock_path(str(tmp_path / "other"))
