"""Unit tests of kubeauth-login (module_utils/login_kit.py): the kit, the kubeconfig merge and removal, YAML,
status, and install/uninstall on local files (kubectl reads the kubeconfig, as on a developer's machine)."""

import ast
import json
import os
import stat
import subprocess
import sys

import pytest
import yaml

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import credential_plugin
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import login_kit

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"
PLUGIN_SOURCE = open(credential_plugin.__file__).read()
PROGRAM_SOURCE = open(login_kit.__file__).read()
# A hand-written kubeconfig: comments, flow style, a relative path; what install must give back byte for byte.
ORIGINAL = b"""# my clusters
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example.com", certificate-authority: ca.crt}
users:
- name: me
  user: {token: not-a-real-token}
contexts:
- {name: prod, context: {cluster: prod, user: me, namespace: web}}
current-context: prod
"""


def cluster(name, issuer=ISSUER, client_id="client-1"):
    return {"name": name, "server": "https://%s.eks.example.com" % name, "certificate_authority_data": "TFMwdExTMUNSVWQ=",
            "issuer_url": issuer, "client_id": client_id, "username_claim": "email", "username_prefix": "",
            "groups_claim": "cognito:groups", "groups_prefix": "gid:"}


def kit_of(*clusters, **extra):
    kit = {"version": 1, "clusters": list(clusters) or [cluster("oidc-test")], "ca_pem": "", "redirect_uri": "", "scopes": []}
    kit.update(extra)
    return kit


def mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


# -- the kit ---------------------------------------------------------------------------------------------------------

def test_a_good_kit_passes_and_broken_ones_say_what_is_wrong():
    assert login_kit.kit_problem(kit_of(cluster("a"), cluster("b"))) is None
    assert "version" in login_kit.kit_problem({"clusters": []})
    assert "no cluster" in login_kit.kit_problem(kit_of(clusters=[]))
    assert "twice" in login_kit.kit_problem(kit_of(cluster("a"), cluster("a")))
    assert "not https" in login_kit.kit_problem(kit_of(cluster("a", issuer="http://issuer.example.com")))
    assert "not an EKS cluster name" in login_kit.kit_problem(kit_of(cluster("../etc")))
    assert "no client_id" in login_kit.kit_problem(kit_of(dict(cluster("a"), client_id="")))
    assert "PEM" in login_kit.kit_problem(kit_of(ca_pem="not a certificate"))


def test_contexts_of_one_issuer_share_one_login_and_others_get_their_own():
    kit = kit_of(cluster("a"), cluster("b"), cluster("c", issuer="https://idp.example.com"))
    assert [(issuer, [c["name"] for c in clusters]) for issuer, _client, clusters in login_kit.logins(kit)] == [
        (ISSUER, ["a", "b"]), ("https://idp.example.com", ["c"])]
    configs = [login_kit.plugin_config(kit, c, "/home/dev/.kube/kubeauth-login") for c in kit["clusters"]]
    caches = set(credential_plugin.cache_file_of(config) for config in configs)
    assert len(caches) == 2  # a and b share one cache file: one login serves both


def test_plugin_config_carries_the_kits_ca_redirect_and_scopes_but_no_secret():
    kit = kit_of(ca_pem="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                 redirect_uri="http://localhost:18000/callback", scopes=["openid", "email", "profile"])
    config = login_kit.plugin_config(kit, kit["clusters"][0], "/d")
    assert config == {"issuer_url": ISSUER, "client_id": "client-1", "login": "browser", "cache_dir": "/d/cache",
                      "ca_file": "/d/ca.pem", "redirect_uri": "http://localhost:18000/callback",
                      "scopes": ["openid", "email", "profile"]}
    assert credential_plugin.config_problem(config) is None


def test_exec_entry_runs_the_real_interpreter_isolated_without_site():
    entry = login_kit.exec_entry(cluster("a"), sys.executable, "/d")
    assert entry["command"] == os.path.realpath(sys.executable)
    assert entry["args"] == ["-I", "-S", "/d/credential_plugin.py", "get-token", "--config", "/d/oidc-a.json"]
    assert entry["apiVersion"] == "client.authentication.k8s.io/v1" and entry["interactiveMode"] == "IfAvailable"


def test_kubernetes_identity_applies_the_associations_claims_and_prefixes():
    claims = {"email": "test@example.com", "sub": "86f7", "cognito:groups": ["secret-reader", "ops"]}
    assert login_kit.kubernetes_identity(claims, cluster("a")) == ("test@example.com", ["gid:secret-reader", "gid:ops"])
    sub = dict(cluster("a"), username_claim="sub", username_prefix=ISSUER + "#", groups_claim="", groups_prefix="")
    assert login_kit.kubernetes_identity(claims, sub) == (ISSUER + "#86f7", [])
    assert login_kit.kubernetes_identity({"cognito:groups": "one"}, cluster("a")) == (None, ["gid:one"])


# -- the program -----------------------------------------------------------------------------------------------------

def test_the_program_embeds_the_kit_and_the_collections_plugin_unchanged(tmp_path):
    kit = kit_of(cluster("a"), cluster("b"))
    program = login_kit.render_program(kit, PROGRAM_SOURCE, PLUGIN_SOURCE)
    assert program.startswith("#!/usr/bin/env python3\n")
    namespace = {"__name__": "kubeauth_login"}
    exec(compile(program, "kubeauth-login", "exec"), namespace)
    assert json.loads(namespace["KIT_JSON"]) == kit
    assert namespace["PLUGIN_SOURCE"] == PLUGIN_SOURCE  # one implementation: the file kubectl runs is the collection's
    # Runs on any Python 3.8+: no syntax newer than 3.8 (the API it uses is 3.8's too).
    ast.parse(program, feature_version=(3, 8))
    path = tmp_path / "kubeauth-login"
    path.write_text(program)
    run = subprocess.run([sys.executable, "-I", str(path), "--help"], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "install" in run.stdout and "uninstall" in run.stdout


def test_the_template_itself_refuses_to_run():
    run = subprocess.run([sys.executable, "-I", login_kit.__file__, "status"], capture_output=True, text=True, check=False)
    assert run.returncode == 2 and "playbooks/login_kit.yml" in run.stderr


def test_a_kit_that_would_break_the_embedding_is_refused():
    with pytest.raises(login_kit.KitError, match="'''"):
        login_kit.render_program(kit_of(), PROGRAM_SOURCE, "x = '''\n")
    with pytest.raises(login_kit.KitError, match="not https"):
        login_kit.render_program(kit_of(cluster("a", issuer="http://x")), PROGRAM_SOURCE, PLUGIN_SOURCE)


# -- merge and removal (pure) ----------------------------------------------------------------------------------------

def existing_config():
    config = login_kit.empty_config()
    config.update({
        "clusters": [{"name": "prod", "cluster": {"server": "https://prod.example.com"}}],
        "users": [{"name": "me", "user": {"token": "t"}}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "me"}}],
        "current-context": "prod",
    })
    return config


def test_merge_adds_one_cluster_user_and_context_per_cluster_and_keeps_the_rest():
    kit = kit_of(cluster("a"), cluster("b"))
    entries = login_kit.kubeconfig_entries(kit, sys.executable, "/d")
    merged, owned = login_kit.merge_entries(existing_config(), entries, {})
    assert [e["name"] for e in merged["contexts"]] == ["prod", "oidc-a", "oidc-b"]
    assert [e["name"] for e in merged["users"]] == ["me", "oidc-a", "oidc-b"]
    assert merged["contexts"][1]["context"] == {"cluster": "oidc-a", "user": "oidc-a"}
    assert merged["current-context"] == "prod"  # the developer's choice stays
    assert owned == {"clusters": ["oidc-a", "oidc-b"], "users": ["oidc-a", "oidc-b"], "contexts": ["oidc-a", "oidc-b"]}


def test_merge_into_an_empty_kubeconfig_makes_the_first_context_current():
    merged, _owned = login_kit.merge_entries(login_kit.empty_config(), login_kit.kubeconfig_entries(kit_of(), "/usr/bin/python3", "/d"), {})
    assert merged["current-context"] == "oidc-oidc-test"


def test_merge_refuses_to_overwrite_an_entry_it_did_not_write():
    config = existing_config()
    config["contexts"].append({"name": "oidc-a", "context": {"cluster": "prod", "user": "me"}})
    entries = login_kit.kubeconfig_entries(kit_of(cluster("a")), sys.executable, "/d")
    with pytest.raises(login_kit.KitError, match="context named oidc-a that kubeauth-login did not write"):
        login_kit.merge_entries(config, entries, {})


def test_reinstalling_a_smaller_kit_drops_what_the_earlier_install_added():
    entries = login_kit.kubeconfig_entries(kit_of(cluster("a"), cluster("b")), sys.executable, "/d")
    merged, owned = login_kit.merge_entries(existing_config(), entries, {})
    smaller = login_kit.kubeconfig_entries(kit_of(cluster("b")), sys.executable, "/d")
    again, owned_again = login_kit.merge_entries(merged, smaller, owned)
    assert [e["name"] for e in again["contexts"]] == ["prod", "oidc-b"]
    assert owned_again["contexts"] == ["oidc-b"]
    assert login_kit.merge_entries(again, smaller, owned_again)[0] == again  # idempotent


def test_removal_gives_back_exactly_the_config_before_install():
    before = existing_config()
    entries = login_kit.kubeconfig_entries(kit_of(cluster("a"), cluster("b")), sys.executable, "/d")
    merged, owned = login_kit.merge_entries(before, entries, {})
    merged["current-context"] = "oidc-b"  # kubectl config use-context oidc-b, after install
    assert login_kit.same_config(login_kit.remove_entries(merged, owned, "prod"), before)


def test_removal_keeps_what_the_developer_added_after_install():
    entries = login_kit.kubeconfig_entries(kit_of(cluster("a")), sys.executable, "/d")
    merged, owned = login_kit.merge_entries(existing_config(), entries, {})
    merged["contexts"].append({"name": "staging", "context": {"cluster": "prod", "user": "me"}})
    merged["current-context"] = "staging"
    removed = login_kit.remove_entries(merged, owned, "prod")
    assert [e["name"] for e in removed["contexts"]] == ["prod", "staging"] and removed["current-context"] == "staging"
    assert not login_kit.same_config(removed, existing_config())


def test_an_emptied_config_is_empty_and_one_with_entries_is_not():
    assert login_kit.is_empty(login_kit.empty_config())
    assert not login_kit.is_empty(existing_config())


def test_yaml_out_is_what_a_yaml_parser_reads_back():
    config = login_kit.merge_entries(existing_config(), login_kit.kubeconfig_entries(kit_of(), sys.executable, "/d"), {})[0]
    config["users"][0]["user"]["token"] = "yes"  # a YAML 1.1 boolean if written plain
    config["preferences"] = {"colors": True}
    config["extensions"] = [{"name": "odd: #name", "extension": {"n": 1, "list": [], "multi": "line\nbreak", "unicode": "é"}}]
    text = login_kit.to_yaml(config)
    assert yaml.safe_load(text) == config
    assert "\n- name: oidc-oidc-test\n" in text and '- "-I"\n' in text


# -- status (pure) ---------------------------------------------------------------------------------------------------

def jwt(claims):
    import base64

    def part(document):
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    return "%s.%s.sig" % (part({"alg": "RS256"}), part(claims))


def test_status_says_who_the_clusters_see_and_until_when():
    token = jwt({"email": "test@example.com", "cognito:groups": ["secret-reader"]})
    ok, lines = login_kit.describe_login({"id_token": token, "expires_at": 1000 + 3600}, [cluster("a")], 1000, credential_plugin)
    assert ok and lines[0] == "signed in as test@example.com, groups gid:secret-reader"
    assert "(60 min from now)" in lines[1]
    ok, lines = login_kit.describe_login({"id_token": token, "expires_at": 900, "refresh_token": "r"}, [cluster("a")], 1000, credential_plugin)
    assert ok and "renews it with the cached refresh token" in lines[-1]
    ok, lines = login_kit.describe_login({"id_token": token, "expires_at": 900}, [cluster("a")], 1000, credential_plugin)
    assert not ok and "login" in lines[-1]
    assert login_kit.describe_login(None, [cluster("a")], 1000, credential_plugin) == (False, ["not signed in: python3 kubeauth-login login"])


# -- install and uninstall on files (kubectl, required on the developers machine, parses the kubeconfig) -------------

@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return home


def kubeauth_login(*argv, kit=None):
    lines = []
    status = login_kit.run(list(argv), kit or kit_of(cluster("a"), cluster("b")), credential_plugin, PLUGIN_SOURCE, out=lines.append)
    return status, "\n".join(lines)


def test_install_then_uninstall_gives_back_the_kubeconfig_byte_for_byte(home):
    kubeconfig = home / ".kube" / "config"
    kubeconfig.write_bytes(ORIGINAL)
    kubeconfig.chmod(0o600)
    assert kubeauth_login("install")[0] == 0
    directory = home / ".kube" / "kubeauth-login"
    assert mode(directory) == 0o700 and mode(kubeconfig) == 0o600
    assert sorted(os.listdir(str(directory))) == ["credential_plugin.py", "installed.json", "oidc-a.json", "oidc-b.json"]
    assert all(mode(directory / name) == 0o600 for name in os.listdir(str(directory)))
    assert (directory / "credential_plugin.py").read_text() == PLUGIN_SOURCE
    assert (home / ".kube" / "config.kubeauth-login.bak").read_bytes() == ORIGINAL
    contexts = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "config", "get-contexts", "-o", "name"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert sorted(contexts) == ["oidc-a", "oidc-b", "prod"]
    written = kubeconfig.read_bytes()
    assert kubeauth_login("install")[1].startswith("already installed")
    assert kubeconfig.read_bytes() == written
    subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "config", "use-context", "oidc-b"], check=True, capture_output=True)
    status, said = kubeauth_login("uninstall")
    assert status == 0 and "as it was before install" in said
    assert kubeconfig.read_bytes() == ORIGINAL
    assert sorted(os.listdir(str(home / ".kube"))) == ["config"]


def test_uninstall_keeps_later_changes_and_the_backup(home):
    kubeconfig = home / ".kube" / "config"
    kubeconfig.write_bytes(ORIGINAL)
    kubeauth_login("install")
    subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "config", "set-context", "staging", "--cluster", "prod",
                    "--user", "me"], check=True, capture_output=True)
    status, said = kubeauth_login("uninstall")
    assert status == 0 and "backup" in said
    contexts = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "config", "get-contexts", "-o", "name"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert sorted(contexts) == ["prod", "staging"]
    assert (home / ".kube" / "config.kubeauth-login.bak").read_bytes() == ORIGINAL


def test_a_kubeconfig_install_created_goes_again(home):
    kubeconfig = home / "elsewhere" / "config"
    kubeconfig.parent.mkdir(mode=0o700)
    assert kubeauth_login("install", "--kubeconfig", str(kubeconfig))[0] == 0
    assert mode(kubeconfig) == 0o600 and not os.path.exists(str(kubeconfig) + ".kubeauth-login.bak")
    assert kubeauth_login("uninstall", "--kubeconfig", str(kubeconfig))[0] == 0
    assert os.listdir(str(kubeconfig.parent)) == [] and not (home / ".kube" / "kubeauth-login").exists()


def test_install_refuses_a_loose_or_linked_kubeconfig_and_changes_nothing(home, tmp_path):
    kubeconfig = home / ".kube" / "config"
    kubeconfig.write_bytes(ORIGINAL)
    kubeconfig.chmod(0o666)
    with pytest.raises(credential_plugin.PluginError, match="writable by group and others"):
        kubeauth_login("install")
    kubeconfig.chmod(0o600)
    os.rename(str(kubeconfig), str(tmp_path / "real-config"))
    os.symlink(str(tmp_path / "real-config"), str(kubeconfig))
    with pytest.raises(login_kit.KitError, match="symbolic link"):
        kubeauth_login("install")
    assert (tmp_path / "real-config").read_bytes() == ORIGINAL
    assert not (home / ".kube" / "kubeauth-login").exists()


def test_install_refuses_a_plugin_directory_someone_else_may_write(home):
    directory = home / ".kube" / "kubeauth-login"
    directory.mkdir()
    directory.chmod(0o777)
    with pytest.raises(credential_plugin.PluginError, match="writable by group and others"):
        login_kit.install_plugin_files(kit_of(), credential_plugin, PLUGIN_SOURCE, str(directory))
    assert os.listdir(str(directory)) == []


def test_status_and_login_before_install_say_to_install(home):
    assert kubeauth_login("status") == (3, "not installed: python3 kubeauth-login install")
    with pytest.raises(login_kit.KitError, match="install"):
        kubeauth_login("login")


def test_logout_removes_the_cached_tokens_of_the_kit(home):
    kubeauth_login("install")
    kit = kit_of(cluster("a"), cluster("b"))
    directory = str(home / ".kube" / "kubeauth-login")
    cache_file = credential_plugin.cache_file_of(login_kit.plugin_config(kit, kit["clusters"][0], directory))
    credential_plugin.write_private_json(cache_file, {"issuer_url": ISSUER, "client_id": "client-1", "expires_at": 1,
                                                      "id_token": jwt({"email": "x@example.com"})})
    status, said = kubeauth_login("status")
    assert status == 3 and "expired" in said and "x@example.com" in said
    assert kubeauth_login("logout") == (0, "signed out of %s: cached tokens removed" % ISSUER)
    assert not os.path.exists(cache_file)
    assert kubeauth_login("logout") == (0, "not signed in to %s" % ISSUER)


def test_plugin_files_follow_the_kit_ca_bundle_included(home):
    directory = str(home / ".kube" / "kubeauth-login")
    ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    written = login_kit.install_plugin_files(kit_of(ca_pem=ca_pem), credential_plugin, PLUGIN_SOURCE, directory)
    assert sorted(os.path.basename(path) for path in written) == ["ca.pem", "credential_plugin.py", "oidc-oidc-test.json"]
    assert login_kit.install_plugin_files(kit_of(ca_pem=ca_pem), credential_plugin, PLUGIN_SOURCE, directory) == []
    written = login_kit.install_plugin_files(kit_of(), credential_plugin, PLUGIN_SOURCE, directory)
    assert [os.path.basename(path) for path in written] == ["oidc-oidc-test.json"]
    assert not os.path.exists(os.path.join(directory, "ca.pem"))
    assert "ca_file" not in json.loads(open(os.path.join(directory, "oidc-oidc-test.json")).read())
