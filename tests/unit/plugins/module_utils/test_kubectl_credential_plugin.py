"""Unit tests of the plugin installer: file layout, modes, ownership checks, exec entries (local files only)."""

import json
import os
import stat

import pytest

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import kubectl_credential_plugin as plugin

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"


def oidc_params(directory, **extra):
    params = {
        "name": "oidc-test", "directory": str(directory), "state": "present", "plugin": "oidc", "python": None,
        "issuer_url": ISSUER, "client_id": "client-1", "login": "password", "username": "test@example.com",
        "password": "Correct-Horse-9", "discovery_url": None, "ca_file": None,
        "cognito_endpoint_url": "https://127.0.0.1:4566", "scopes": None, "redirect_uri": None,
    }
    params.update(extra)
    return params


def eks_params(directory, **extra):
    params = {
        "name": "admin-test", "directory": str(directory), "state": "present", "plugin": "eks_token", "python": None,
        "cluster_name": "oidc-test", "region": "us-west-2", "role_arn": None, "aws_profile": "admin",
        "aws_ca_bundle": None, "sts_endpoint_url": "https://127.0.0.1:4566",
    }
    params.update(extra)
    return params


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_oidc_install_writes_private_files_and_an_exec_entry(tmp_path):
    directory = tmp_path / "kube" / "plugins"
    result = plugin.run(oidc_params(directory), check_mode=False)
    assert result["changed"]
    assert mode(directory) == 0o700 and mode(directory / "cache") == 0o700
    for name in ("credential_plugin.py", "oidc-test.json", "oidc-test.password"):
        assert mode(directory / name) == 0o600, name
    config = json.loads((directory / "oidc-test.json").read_text())
    assert config["cognito"] == {"region": "us-west-2", "user_pool_id": "us-west-2_re1u6bpRA",
                                 "endpoint_url": "https://127.0.0.1:4566"}
    assert config["password_file"] == str(directory / "oidc-test.password")
    assert "Correct-Horse-9" not in json.dumps(config)
    assert (directory / "oidc-test.password").read_text() == "Correct-Horse-9\n"
    entry = result["exec"]
    assert entry["args"] == ["-I", "-S", str(directory / "credential_plugin.py"), "get-token",
                             "--config", str(directory / "oidc-test.json")]
    assert entry["command"] == os.path.realpath(entry["command"])
    assert entry["interactive_mode"] == "Never"


def test_the_installed_plugin_is_the_collections_own_file(tmp_path):
    plugin.run(oidc_params(tmp_path / "p"), check_mode=False)
    with open(plugin.credential_plugin.__file__) as handle:
        assert (tmp_path / "p" / "credential_plugin.py").read_text() == handle.read()


def test_second_run_changes_nothing_and_a_loose_mode_is_fixed(tmp_path):
    directory = tmp_path / "p"
    plugin.run(oidc_params(directory), check_mode=False)
    assert not plugin.run(oidc_params(directory), check_mode=False)["changed"]
    os.chmod(directory / "oidc-test.json", 0o644)
    result = plugin.run(oidc_params(directory), check_mode=False)
    assert result["changed"] and result["paths"] == [str(directory / "oidc-test.json")]
    assert mode(directory / "oidc-test.json") == 0o600


def test_check_mode_writes_nothing(tmp_path):
    result = plugin.run(oidc_params(tmp_path / "p"), check_mode=True)
    assert result["changed"] and not (tmp_path / "p").exists()


def test_the_diff_never_shows_the_password(tmp_path):
    result = plugin.run(oidc_params(tmp_path / "p"), check_mode=False)
    assert "Correct-Horse-9" not in json.dumps(result)
    changed = plugin.run(oidc_params(tmp_path / "p", password="Another-Secret-7"), check_mode=False)
    assert changed["changed"] and "Another-Secret-7" not in json.dumps(changed)
    assert "Correct-Horse-9" not in json.dumps(changed)


def test_browser_login_has_no_password_file_and_may_ask(tmp_path):
    result = plugin.run(oidc_params(tmp_path / "p", login="browser", username=None, password=None), check_mode=False)
    assert not (tmp_path / "p" / "oidc-test.password").exists()
    assert result["exec"]["interactive_mode"] == "IfAvailable"


def test_another_issuer_is_no_cognito_pool(tmp_path):
    plugin.run(oidc_params(tmp_path / "p", issuer_url="https://keycloak.example.com/realms/eks"), check_mode=False)
    assert "cognito" not in json.loads((tmp_path / "p" / "oidc-test.json").read_text())


@pytest.mark.parametrize("key", ["issuer_url", "discovery_url", "cognito_endpoint_url"])
def test_http_urls_are_refused_before_anything_is_written(tmp_path, key):
    with pytest.raises(plugin.PluginInstallError, match="%s must be an https URL" % key):
        plugin.run(oidc_params(tmp_path / "p", **{key: "http://127.0.0.1:4566/x"}), check_mode=False)
    assert not (tmp_path / "p").exists()


def test_a_name_that_is_not_a_file_name_is_refused(tmp_path):
    with pytest.raises(plugin.PluginInstallError, match="cannot name a file"):
        plugin.run(oidc_params(tmp_path / "p", name="../escape"), check_mode=False)


def test_eks_token_entry_carries_settings_not_keys(tmp_path):
    result = plugin.run(eks_params(tmp_path / "p"), check_mode=False)
    entry = result["exec"]
    assert entry["args"][:4] == ["-I", str(tmp_path / "p" / "eks_token.py"), "get-token", "--cluster-name"]
    assert entry["env"] == {"AWS_PROFILE": "admin", "AWS_ENDPOINT_URL_STS": "https://127.0.0.1:4566"}
    assert mode(tmp_path / "p" / "eks_token.py") == 0o600


def test_a_directory_owned_by_someone_else_is_refused_and_left_alone(tmp_path):
    directory = tmp_path / "p"
    directory.mkdir(mode=0o700)
    os.chown(directory, 4321, 4321)
    with pytest.raises(plugin.PluginInstallError, match="owned by uid 4321, not by you"):
        plugin.run(oidc_params(directory), check_mode=False)
    assert os.listdir(directory) == []


def test_a_group_writable_directory_is_refused(tmp_path):
    directory = tmp_path / "p"
    directory.mkdir()
    os.chmod(directory, 0o770)
    with pytest.raises(plugin.PluginInstallError, match="writable by group"):
        plugin.run(oidc_params(directory), check_mode=False)


def test_a_symlinked_directory_or_file_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    os.symlink(tmp_path / "elsewhere", tmp_path / "p")
    with pytest.raises(plugin.PluginInstallError, match="symbolic link"):
        plugin.run(oidc_params(tmp_path / "p"), check_mode=False)
    directory = tmp_path / "q"
    plugin.run(oidc_params(directory), check_mode=False)
    os.unlink(directory / "oidc-test.password")
    os.symlink(tmp_path / "target", directory / "oidc-test.password")
    with pytest.raises(plugin.PluginInstallError, match="symbolic link"):
        plugin.run(oidc_params(directory), check_mode=False)
    assert not (tmp_path / "target").exists()


def test_a_file_owned_by_someone_else_is_refused(tmp_path):
    directory = tmp_path / "p"
    plugin.run(oidc_params(directory), check_mode=False)
    os.chown(directory / "oidc-test.json", 4321, 4321)
    with pytest.raises(plugin.PluginInstallError, match="oidc-test.json is owned by uid 4321"):
        plugin.run(oidc_params(directory), check_mode=False)


def test_removal_keeps_other_contexts_and_removes_the_directory_with_the_last(tmp_path):
    directory = tmp_path / "p"
    plugin.run(oidc_params(directory), check_mode=False)
    plugin.run(eks_params(directory), check_mode=False)
    result = plugin.run(dict(oidc_params(directory), state="absent"), check_mode=False)
    removed = [str(directory / "oidc-test.json"), str(directory / "oidc-test.password")]
    assert result["changed"] and sorted(result["paths"]) == removed
    assert (directory / "admin-test.json").exists()
    check = plugin.run(dict(eks_params(directory), state="absent"), check_mode=True)
    assert check["changed"] and check["paths"] == [str(directory)] and directory.exists()
    plugin.run(dict(eks_params(directory), state="absent"), check_mode=False)
    assert not directory.exists()
    assert not plugin.run(dict(eks_params(directory), state="absent"), check_mode=False)["changed"]
