"""Unit tests of the kubeconfig merge, removal, masking, ownership checks, lock and atomic write (no network)."""

import json
import os
import pwd
import stat
import subprocess
import sys
import tempfile
import time

import fakes
import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import kubeconfig as kc
from ansible_collections.kubeauth.eks_oidc.plugins.modules import kubeconfig as kubeconfig_module

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
    base = {"path": "/tmp/config", "state": "present", "cluster": None, "user": None, "context": None, "current_context": False,
            "follow": False, "lock_timeout": 30}
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


def existing_file(path, mode, owner=None):
    """``path`` holding EXISTING with ``mode``, owned by uid ``owner`` when given; ``path``."""
    path.write_text(EXISTING)
    os.chmod(str(path), mode)
    if owner is not None:
        os.chown(str(path), owner, -1)
    return path


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
    (params(state="absent", context=CONTEXT, lock_timeout=-1), "lock_timeout must be 0 .do not wait. or more seconds, got -1"),
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


@pytest.mark.parametrize("text, place", [
    # PyYAML's own message quotes the broken line: here the line of the token.
    ("users:\n- name: u\n  user:\n    token: s3cr3t-t0ken: [\n", "line 4, column 24"),
    ("users:\n- name: u\n  user: {token: *s3cr3t-t0ken}\n", "line 3, column 17"),
    ("users:\n- name: u\n  user:\n    token: s3cr3t-t0ken\x07\n", "line 4, column 24"),
    ("users:\n- name: u\n  user:\n    token: !!python/name:s3cr3t-t0ken ''\n", "line 4, column 12"),
])
def test_a_yaml_error_names_the_place_and_never_quotes_the_file(text, place):
    with pytest.raises(kc.KubeconfigError) as e:
        kc.parse_kubeconfig(text, "/x/config")
    assert str(e.value) == (
        "/x/config is not valid YAML (%s); fix or move the file, this module will not overwrite it" % place)
    assert "s3cr3t" not in str(e.value)


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
    assert document["users"][0]["user"]["token"] == "other-secret-token"  # the original is not touched


def test_every_exec_env_value_is_masked_whatever_its_name():
    user = kc.user_entry({"name": "e", "exec": dict(EXEC_USER["exec"], env={
        "AWS_PROFILE": "dev", "MY_API_KEY": "k3y-value", "MY_TOKEN": "t0k", "EMPTY": ""})})
    assert kc.mask_secrets(user)["user"]["exec"]["env"] == [
        {"name": "AWS_PROFILE", "value": "********"}, {"name": "EMPTY", "value": ""},
        {"name": "MY_API_KEY", "value": "********"}, {"name": "MY_TOKEN", "value": "********"}]
    assert user["user"]["exec"]["env"][2] == {"name": "MY_API_KEY", "value": "k3y-value"}  # the file keeps it


JWT_VALUE = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyIiwiZXhwIjoxfQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize("args, shown, secrets", [
    (["-I", "-S", "/p/plugin.py", "get-token", "--config", "/p/c.json"],
     ["-I", "-S", "/p/plugin.py", "get-token", "--config", "/p/c.json"], []),
    (["--token=t0k", "--password=pa55", "--client-secret=cs", "--token-file=/p/t"],
     ["--token=********", "--password=********", "--client-secret=********", "--token-file=/p/t"], ["t0k", "pa55", "cs"]),
    (["--token", "t0k", "--password", "pa55", "--client-secret", "cs", "--cluster-name", "c"],
     ["--token", "********", "--password", "********", "--client-secret", "********", "--cluster-name", "c"],
     ["t0k", "pa55", "cs"]),
    (["--refresh-token=r", "--id-token", "i", "-token=g", "--API_KEY", "a", "--token="],
     ["--refresh-token=********", "--id-token", "********", "-token=********", "--API_KEY", "********", "--token="],
     ["r", "i", "g", "a"]),
    ([JWT_VALUE, "--header=Authorization: Bearer " + JWT_VALUE, "--oidc-issuer-url=https://idp.example.com"],
     ["********", "--header=Authorization: Bearer ********", "--oidc-issuer-url=https://idp.example.com"],
     [JWT_VALUE, JWT_VALUE]),
])
def test_credential_args_are_masked_and_listed(args, shown, secrets):
    assert kc.exec_args_masked(args) == (shown, secrets)


def test_mask_secrets_masks_exec_args_and_any_jwt():
    document = kc.upsert_entry(existing(), "users", kc.user_entry({"name": "e", "exec": dict(
        EXEC_USER["exec"], args=["get-token", "--token", "t0k"], install_hint="or use " + JWT_VALUE)}))
    document["users"][0]["user"]["unknown-field"] = "x " + JWT_VALUE
    masked = kc.mask_secrets(document)
    assert masked["users"][-1]["user"]["exec"]["args"] == ["get-token", "--token", "********"]
    assert masked["users"][-1]["user"]["exec"]["installHint"] == "or use ********"
    assert masked["users"][0]["user"]["unknown-field"] == "x ********"
    assert "t0k" not in kc.render(masked) and JWT_VALUE not in kc.render(masked)
    assert document["users"][-1]["user"]["exec"]["args"] == ["get-token", "--token", "t0k"]


def test_credential_values_are_what_no_log_does_not_cover():
    p = params(user=dict(EXEC_USER, exec=dict(EXEC_USER["exec"], args=["--token=t0k", "--password", "pa55"])),
               cluster=dict(CLUSTER, name="c-" + JWT_VALUE))
    assert kc.credential_values(p) == {"t0k", "pa55", JWT_VALUE}


def test_diff_text_starts_with_the_mode_and_is_masked():
    text = kc.diff_text(existing(), 0o644)
    assert text.startswith("# mode 0644\n")
    assert "stale-token" not in text and "********" in text
    assert kc.diff_text(None, None) == ""
    assert kc.diff_text(existing(), 0o600, "masked values change").startswith("# mode 0600\n# masked values change\n")


def test_only_masked_values_differ():
    other_token = kc.upsert_entry(existing(), "users", kc.user_entry({"name": "cognito-user", "token": "new-token"}))
    other_server = kc.upsert_entry(existing(), "clusters", {"name": "other", "cluster": {"server": "https://x"}})
    assert kc.only_masked_values_differ(existing(), other_token)
    assert not kc.only_masked_values_differ(existing(), other_server)
    assert not kc.only_masked_values_differ(existing(), existing())
    assert not kc.only_masked_values_differ(None, existing())


def test_render_round_trips():
    document, dummy_entries = kc.plan_present(existing(), params(cluster=CLUSTER, user=OIDC_USER, context=CONTEXT))
    assert yaml.safe_load(kc.render(document)) == document


# -- the file -----------------------------------------------------------------

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="giving a file to another user needs root")
NOBODY = pwd.getpwnam("nobody").pw_uid


def test_ensure_directory_creates_a_missing_one_0700_and_leaves_an_existing_one(tmp_path):
    directory = str(tmp_path / "new" / ".kube")
    kc.ensure_directory(directory)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    existing_dir = tmp_path / "existing"
    existing_dir.mkdir()
    os.chmod(str(existing_dir), 0o755)
    kc.ensure_directory(str(existing_dir))
    assert stat.S_IMODE(os.stat(str(existing_dir)).st_mode) == 0o755


def test_write_atomically_writes_0600_and_leaves_no_temporary_file(tmp_path):
    path = str(tmp_path / "config")
    kc.write_atomically(path, "apiVersion: v1\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ["config"]


def test_write_atomically_replaces_a_0644_file(tmp_path):
    path = existing_file(tmp_path / "config", 0o644)
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
    os.mkfifo(str(tmp_path / "fifo"), 0o600)
    with pytest.raises(kc.KubeconfigError, match="fifo is not a regular file; path must name the kubeconfig file"):
        kc.load_kubeconfig(str(tmp_path / "fifo"))


@pytest.mark.parametrize("mode", [0o664, 0o646, 0o666, 0o620])
def test_a_kubeconfig_others_may_write_is_refused(tmp_path, mode):
    path = existing_file(tmp_path / "config", mode)
    with pytest.raises(kc.KubeconfigError) as e:
        kc.load_kubeconfig(str(path))
    assert str(e.value) == (
        "the kubeconfig %s is writable by group or others (mode %04o); refusing to use it, since whoever can write it "
        "decides what kubectl runs and where it sends credentials. Check it, then run: chmod go-w %s" % (path, mode, path))


@needs_root
def test_a_kubeconfig_of_another_user_is_refused(tmp_path):
    path = existing_file(tmp_path / "config", 0o600, owner=NOBODY)
    with pytest.raises(kc.KubeconfigError) as e:
        kc.load_kubeconfig(str(path))
    assert str(e.value) == (
        "the kubeconfig %s is owned by uid %d (nobody), not by uid 0 (root) who runs this task; refusing to use it. "
        "Run the task as its owner (become_user), or choose a path of your own" % (path, NOBODY))


@pytest.mark.parametrize("mode", [0o775, 0o777, 0o1777, 0o730])
def test_a_directory_others_may_write_is_refused(tmp_path, mode):
    directory = tmp_path / "kube"
    directory.mkdir()
    os.chmod(str(directory), mode)
    with pytest.raises(kc.KubeconfigError, match=r"^the kubeconfig's directory %s is writable by group or others \(mode %04o\); "
                       r".*chmod go-w %s$" % (directory, mode, directory)):
        kc.check_directory(str(directory))
    with pytest.raises(kc.KubeconfigError, match="is writable by group or others"):
        kc.ensure_directory(str(directory))


@needs_root
def test_a_directory_of_another_user_is_refused(tmp_path):
    directory = tmp_path / "kube"
    directory.mkdir()
    os.chmod(str(directory), 0o700)
    os.chown(str(directory), NOBODY, -1)
    with pytest.raises(kc.KubeconfigError, match=r"^the kubeconfig's directory %s is owned by uid %d \(nobody\), not by uid 0 "
                       r"\(root\) who runs this task; refusing to use it" % (directory, NOBODY)):
        kc.ensure_directory(str(directory))
    assert kc.check_directory(str(tmp_path / "missing")) is False


def test_a_symbolic_link_is_refused_unless_follow(tmp_path):
    real = tmp_path / "real-config"
    real.write_text(EXISTING)
    link = tmp_path / "config"
    link.symlink_to(real)
    with pytest.raises(kc.KubeconfigError) as e:
        kc.kubeconfig_file(str(link), follow=False)
    assert str(e.value) == (
        "%s is a symbolic link (to %s); refusing to follow it, since whoever can change the link chooses the file "
        "written. Give the file's own path, or set follow: true to write the file that a link of yours points to"
        % (link, real))
    assert kc.kubeconfig_file(str(link), follow=True) == str(real)
    assert kc.kubeconfig_file(str(real), follow=False) == str(real)
    assert kc.kubeconfig_file(str(tmp_path / "missing"), follow=False) == str(tmp_path / "missing")


def test_follow_walks_a_chain_of_links_to_the_file_even_a_missing_one(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("real/config")
    assert kc.kubeconfig_file(str(tmp_path / "a"), follow=True) == str(tmp_path / "real" / "config")


@needs_root
def test_follow_refuses_a_link_of_another_user_anywhere_on_the_way(tmp_path):
    real = tmp_path / "real-config"
    real.write_text(EXISTING)
    (tmp_path / "b").symlink_to(real)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    os.lchown(str(tmp_path / "b"), NOBODY, -1)
    with pytest.raises(kc.KubeconfigError, match=r"^%s is a symbolic link owned by uid %d \(nobody\), not by uid 0 \(root\) who "
                       r"runs this task; refusing to follow it" % (tmp_path / "b", NOBODY)):
        kc.kubeconfig_file(str(tmp_path / "a"), follow=True)


# -- the lock -----------------------------------------------------------------

PROBE = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('acquired')\n"
    "except BlockingIOError:\n    print('blocked')\n"
)


def python(*args, **kwargs):
    """Run this interpreter with the collection importable, as the module runs on a host."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, "-c"] + list(args), env=env, **kwargs)


def shared_temp_entries():
    return set(os.listdir(tempfile.gettempdir()))


def test_the_lock_is_beside_the_file():
    assert kc.lock_path("/home/me/.kube/config") == "/home/me/.kube/.config.lock"
    assert kc.lock_path("/home/me/.kube/other") == "/home/me/.kube/.other.lock"


def test_the_lock_excludes_a_second_writer_and_is_removed_after(tmp_path):
    path = str(tmp_path / "config")
    lock = str(tmp_path / ".config.lock")
    before = shared_temp_entries()
    with kc.kubeconfig_lock(path, 30) as held:
        assert held == lock
        assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600
        inside = python(PROBE, lock, stdout=subprocess.PIPE, text=True)
        assert inside.communicate()[0].strip() == "blocked"
    assert not os.path.exists(lock)
    assert os.listdir(str(tmp_path)) == []
    assert shared_temp_entries() - before == set()


def test_the_lock_file_is_never_a_link_followed(tmp_path):
    victim = tmp_path / "elsewhere"
    os.symlink(str(victim), str(tmp_path / ".config.lock"))
    with pytest.raises(kc.KubeconfigError, match=r"^the lock file %s is a symbolic link; refusing to follow it\. "
                       r"Remove the link and run again$" % (tmp_path / ".config.lock")):
        with kc.kubeconfig_lock(str(tmp_path / "config"), 30):
            pass
    assert not victim.exists()


HOLD = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_the_wait_is_bounded_and_the_error_names_the_lock(tmp_path):
    path = str(tmp_path / "config")
    lock = str(tmp_path / ".config.lock")
    holder = python(HOLD, lock, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(kc.KubeconfigError) as e:
            with kc.kubeconfig_lock(path, 1):
                pass
        waited = time.monotonic() - started
        with pytest.raises(kc.KubeconfigError, match="timed out after 0 s"):
            with kc.kubeconfig_lock(path, 0):
                pass
    finally:
        holder.communicate("")
    assert 1 <= waited < 3
    assert str(e.value) == (
        "timed out after 1 s waiting for the lock %s: another task or process is writing %s, or hangs while it holds "
        "the lock (`fuser -v %s` names it). Run again when it is done, or give lock_timeout more seconds"
        % (lock, path, lock))
    with kc.kubeconfig_lock(path, 0):  # the holder exited: its lock went with it
        pass
    assert not os.path.exists(lock)


def test_a_lock_file_left_by_a_dead_writer_is_taken_over_and_removed(tmp_path):
    lock = tmp_path / ".config.lock"
    lock.write_text("")
    with kc.kubeconfig_lock(str(tmp_path / "config"), 0):
        assert lock.exists()
    assert not lock.exists()


WRITER = (
    "import sys\n"
    "from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import kubeconfig as kc\n"
    "path = sys.argv[1]\n"
    "for _ in range(int(sys.argv[2])):\n"
    "    with kc.kubeconfig_lock(path, 60):\n"
    "        with open(path) as handle:\n"
    "            count = int(handle.read())\n"
    "        with open(path, 'w') as handle:\n"
    "            handle.write(str(count + 1))\n"
)


def test_writers_racing_for_the_removed_lock_never_overlap(tmp_path):
    """Each writer increments a counter under the lock: a lost increment is two writers holding it at once.

    The lock file is removed at every release, so writers keep meeting one that
    waits on a removed file while another creates a new one.
    """
    path = tmp_path / "counter"
    path.write_text("0")
    writers = [python(WRITER, str(path), "30") for dummy in range(4)]
    assert [writer.wait(timeout=120) for writer in writers] == [0] * 4
    assert path.read_text() == "120"
    assert sorted(os.listdir(str(tmp_path))) == ["counter"]


# -- the module flow ----------------------------------------------------------

class Ran(object):
    """What a run of the module flow gave: ``result`` (``failed`` and ``msg`` when refused), and the fake module."""

    def __init__(self, module, result):
        self.module = module
        self.result = result


def run_module(check_mode=False, **overrides):
    module = fakes.FakeModule(params(**overrides), check_mode=check_mode)
    try:
        return Ran(module, kc.run(module))
    except kc.KubeconfigError as e:
        return Ran(module, {"failed": True, "msg": str(e)})


def test_run_check_mode_diff_idempotence_and_mode(tmp_path):
    path = existing_file(tmp_path / "config", 0o644)
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

    os.chmod(str(path), 0o644)
    text = path.read_text()
    fixed = run_module(**task)
    assert fixed.result["changed"] and stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert path.read_text() == text  # a mode fix does not rewrite the text
    assert sorted(os.listdir(str(tmp_path))) == ["config"]  # no lock file, no temporary file left


def test_a_change_of_masked_values_alone_is_changed_and_says_so_in_the_diff(tmp_path):
    path = tmp_path / "config"
    task = dict(path=str(path), user=dict(EXEC_USER, exec=dict(EXEC_USER["exec"], env={"API_KEY": "first-key"})))
    run_module(**task)
    task["user"]["exec"]["env"] = {"API_KEY": "second-key"}
    rotated = run_module(**task)
    assert rotated.result["changed"]
    assert rotated.result["diff"]["after"].startswith("# mode 0600\n# masked values change\n")
    assert rotated.result["diff"]["before"] == rotated.result["diff"]["after"].replace("# masked values change\n", "")
    assert "second-key" in path.read_text() and "key" not in json.dumps(rotated.result).replace("API_KEY", "")
    assert not run_module(**task).result["changed"]


def test_run_refuses_a_file_others_may_write_and_touches_nothing(tmp_path):
    path = existing_file(tmp_path / "config", 0o664)
    for check_mode in (True, False):
        failed = run_module(check_mode=check_mode, path=str(path), user={"name": "u", "token": "t"})
        assert failed.result["failed"] and "is writable by group or others (mode 0664)" in failed.result["msg"]
    assert path.read_text() == EXISTING and stat.S_IMODE(os.stat(str(path)).st_mode) == 0o664
    assert sorted(os.listdir(str(tmp_path))) == ["config"]


def test_run_refuses_a_link_and_with_follow_writes_its_target(tmp_path):
    real = existing_file(tmp_path / "real-config", 0o600)
    link = tmp_path / "config"
    link.symlink_to(real)
    task = dict(path=str(link), user={"name": "u", "token": "t"})
    refused = run_module(**task)
    assert refused.result["failed"] and refused.result["msg"].startswith("%s is a symbolic link (to %s)" % (link, real))
    assert real.read_text() == EXISTING
    followed = run_module(follow=True, **task)
    assert followed.result["changed"] and followed.result["path"] == str(real)
    assert os.path.islink(str(link)) and "name: u" in real.read_text()
    assert sorted(os.listdir(str(tmp_path))) == ["config", "real-config"]


@needs_root
def test_run_refuses_a_file_or_directory_of_another_user(tmp_path):
    path = existing_file(tmp_path / "config", 0o600, owner=NOBODY)
    failed = run_module(path=str(path), user={"name": "u", "token": "t"})
    assert failed.result["failed"] and "is owned by uid %d (nobody)" % NOBODY in failed.result["msg"]
    assert path.read_text() == EXISTING

    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(str(theirs), NOBODY, -1)
    failed = run_module(path=str(theirs / "config"), user={"name": "u", "token": "t"})
    assert failed.result["failed"]
    assert failed.result["msg"].startswith("the kubeconfig's directory %s is owned by uid %d (nobody)" % (theirs, NOBODY))
    assert os.listdir(str(theirs)) == []


def test_run_creates_a_missing_directory_0700(tmp_path):
    path = tmp_path / "home" / ".kube" / "config"
    created = run_module(path=str(path), user={"name": "u", "token": "t"})
    assert created.result["changed"]
    assert stat.S_IMODE(os.stat(str(path.parent)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert os.listdir(str(path.parent)) == ["config"]


def test_run_absent(tmp_path):
    path = tmp_path / "config"
    path.write_text(EXISTING)
    removed = run_module(path=str(path), state="absent", user={"name": "cognito-user"}, cluster={"name": "other"})
    assert removed.result["changed"]
    assert removed.result["removed"] == {"clusters": [], "users": ["cognito-user"], "contexts": []}
    assert removed.module.warnings == ["cluster 'other' is kept: context 'other' still uses it"]
    again = run_module(path=str(path), state="absent", user={"name": "cognito-user"})
    assert not again.result["changed"]
    nothing = run_module(path=str(tmp_path / "missing" / "config"), state="absent", user={"name": "u"})
    assert not nothing.result["changed"] and not (tmp_path / "missing").exists()
    nothing = run_module(path=str(tmp_path / "gone"), state="absent", user={"name": "u"})
    assert not nothing.result["changed"]
    assert sorted(os.listdir(str(tmp_path))) == ["config"]  # no lock file for a file that is not there


def test_run_fails_clearly_on_a_broken_file(tmp_path):
    path = tmp_path / "config"
    path.write_text("users:\n- name: u\n  user: {token: s3cr3t-t0ken\n")
    failed = run_module(path=str(path), cluster=CLUSTER)
    assert failed.result["failed"]
    assert failed.result["msg"] == (
        "%s is not valid YAML (line 4, column 1); fix or move the file, this module will not overwrite it" % path)
    assert path.read_text() == "users:\n- name: u\n  user: {token: s3cr3t-t0ken\n"


def test_run_waits_for_the_lock_no_longer_than_lock_timeout(tmp_path):
    path = tmp_path / "config"
    holder = python(HOLD, str(tmp_path / ".config.lock"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        failed = run_module(path=str(path), user={"name": "u", "token": "t"}, lock_timeout=0)
    finally:
        holder.communicate("")
    assert failed.result["failed"] and failed.result["msg"].startswith("timed out after 0 s waiting for the lock %s" % (
        tmp_path / ".config.lock"))
    assert not path.exists()


# -- the module in-process: what Ansible prints at -vvv and what it logs -------

SECRET_ENV_VALUE = "env-s3cr3t-value"
SECRET_TOKEN_ARG = "arg-s3cr3t-token"
SECRET_PASSWORD = "arg-s3cr3t-password"


def test_no_credential_in_the_invocation_result_diff_or_log(tmp_path, capsys, monkeypatch):
    logged = []
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append((msg, log_args)))
    args = {
        "path": str(tmp_path / "config"),
        "user": {"name": "u", "exec": {
            "command": "/usr/bin/plugin",
            "args": ["get-token", "--token=" + SECRET_TOKEN_ARG, "--password", SECRET_PASSWORD, JWT_VALUE, "--config", "/p/c.json"],
            "env": {"MY_API_KEY": SECRET_ENV_VALUE}}},
        "_ansible_diff": True,
    }
    with patch_module_args(args), pytest.raises(SystemExit):
        kubeconfig_module.main()
    printed = capsys.readouterr().out
    result = json.loads(printed)
    assert result["changed"] and "--config" in printed and "get-token" in printed
    assert result["user"]["user"]["exec"]["args"] == ["get-token", "--token=********", "--password", "********", "********",
                                                      "--config", "/p/c.json"]
    assert result["invocation"]["module_args"]["user"]["exec"]["env"] == {"MY_API_KEY": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert logged and "get-token" in logged[0][0]
    for secret in (SECRET_ENV_VALUE, SECRET_TOKEN_ARG, SECRET_PASSWORD, JWT_VALUE):
        assert secret not in printed
        assert secret not in repr(logged)
        assert secret in (tmp_path / "config").read_text()


# -- prune: removing a login by its context's name ---------------------------------------

def _two_logins_one_cluster():
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "arn-c", "cluster": {"server": "https://c"}}, {"name": "other", "cluster": {"server": "https://o"}}],
        "users": [{"name": "oidc-c", "user": {"token": "t1"}}, {"name": "admin-c", "user": {"token": "t2"}}],
        "contexts": [{"name": "oidc-c", "context": {"cluster": "arn-c", "user": "oidc-c"}},
                     {"name": "admin-c", "context": {"cluster": "arn-c", "user": "admin-c"}}],
    }


def test_prune_removes_the_context_its_user_and_an_unused_cluster():
    document = _two_logins_one_cluster()
    params = {"state": "absent", "prune": True, "context": {"name": "oidc-c"}, "cluster": None, "user": None}
    after, removed, kept = kc.plan_absent(document, params)
    assert removed == {"clusters": [], "users": ["oidc-c"], "contexts": ["oidc-c"]}
    assert kept == []  # the cluster another context uses is kept without a warning
    params["context"] = {"name": "admin-c"}
    after, removed, kept = kc.plan_absent(after, params)
    assert removed == {"clusters": ["arn-c"], "users": ["admin-c"], "contexts": ["admin-c"]}
    assert [c["name"] for c in after["clusters"]] == ["other"] and after["users"] == [] and after["contexts"] == []


def test_without_prune_only_named_entries_go():
    params = {"state": "absent", "prune": False, "context": {"name": "oidc-c"}, "cluster": None, "user": None}
    _after, removed, _kept = kc.plan_absent(_two_logins_one_cluster(), params)
    assert removed == {"clusters": [], "users": [], "contexts": ["oidc-c"]}


def test_prune_needs_a_context():
    with pytest.raises(kc.KubeconfigError, match="prune removes what a context used"):
        kc.validate_params({"state": "absent", "prune": True, "cluster": {"name": "x"}, "user": None,
                            "context": None, "lock_timeout": 30})


# -- kubeconfig_info -------------------------------------------------------------------

def test_user_tokens_of_an_auth_provider_a_token_and_a_missing_user():
    document = {"users": [
        {"name": "ap", "user": {"auth-provider": {"name": "oidc", "config": {"id-token": "i", "refresh-token": "r"}}}},
        {"name": "static", "user": {"token": "t"}},
    ]}
    assert kc.user_tokens(document, "ap") == {"id_token": "i", "refresh_token": "r"}
    assert kc.user_tokens(document, "static") == {"id_token": "t", "refresh_token": ""}
    assert kc.user_tokens(document, "nobody") == {"id_token": "", "refresh_token": ""}
    assert kc.user_tokens(None, "ap") == {"id_token": "", "refresh_token": ""}


def test_read_info_masks_entries_and_returns_tokens_only_under_no_log(tmp_path):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "static",
                                    "users": [{"name": "static", "user": {"token": "the-token"}}]}))
    os.chmod(str(path), 0o600)
    params = {"path": str(path), "follow": False, "user": "static", "return_credentials": False}
    info = kc.read_info(params, no_log=False)
    assert info["exists"] and info["current_context"] == "static"
    assert "the-token" not in json.dumps(info) and "tokens" not in info
    with pytest.raises(kc.KubeconfigError, match="set no_log: true"):
        kc.read_info(dict(params, return_credentials=True), no_log=False)
    assert kc.read_info(dict(params, return_credentials=True), no_log=True)["tokens"]["id_token"] == "the-token"


def test_read_info_of_a_missing_file_and_a_foreign_one(tmp_path):
    params = {"path": str(tmp_path / "none"), "follow": False, "user": None, "return_credentials": False}
    assert kc.read_info(params, no_log=False)["exists"] is False
    path = tmp_path / "theirs"
    path.write_text("apiVersion: v1\n")
    os.chown(str(path), 4321, 4321)
    with pytest.raises(kc.KubeconfigError, match="owned by"):
        kc.read_info(dict(params, path=str(path)), no_log=False)
