"""Unit tests of the kit writer (module login_kit): validation, the files and their modes, check mode,
idempotence, the diff, ownership checks, removal (local files only)."""

import hashlib
import json
import os
import stat

import pytest

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import login_kit_writer as writer

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"


def cluster(name, **extra):
    entry = {"name": name, "server": "https://%s.eks.example.com" % name, "certificate_authority_data": "TFMwdA==",
             "issuer_url": ISSUER, "client_id": "client-1", "username_claim": "email", "username_prefix": "",
             "groups_claim": "cognito:groups", "groups_prefix": "gid:"}
    entry.update(extra)
    return entry


def params(dest, *clusters, **extra):
    result = {"dest": str(dest), "state": "present", "clusters": list(clusters) or [cluster("oidc-test"), cluster("oidc-test-2")],
              "ca_file": None, "redirect_uri": None, "scopes": None}
    result.update(extra)
    return result


def mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_the_kit_is_a_program_and_a_readme_readable_by_all_writable_by_the_admin(tmp_path):
    result = writer.run(params(tmp_path / "login-kit"), check_mode=False)
    program = tmp_path / "login-kit" / "kubeauth-login"
    assert result["changed"] and result["program"] == str(program)
    assert mode(tmp_path / "login-kit") == 0o755 and mode(program) == 0o755 and mode(tmp_path / "login-kit" / "README.md") == 0o644
    assert result["sha256"] == hashlib.sha256(program.read_bytes()).hexdigest()
    assert result["clusters"] == ["oidc-oidc-test", "oidc-oidc-test-2"] and result["issuers"] == [ISSUER]
    assert result["sha256"] in (tmp_path / "login-kit" / "README.md").read_text()
    assert writer.kit_of_program(program.read_text())["clusters"][1]["name"] == "oidc-test-2"


def test_a_second_run_changes_nothing_and_check_mode_writes_nothing(tmp_path):
    writer.run(params(tmp_path / "kit"), check_mode=False)
    assert not writer.run(params(tmp_path / "kit"), check_mode=False)["changed"]
    planned = writer.run(params(tmp_path / "kit", cluster("oidc-test")), check_mode=True)
    assert planned["changed"] and writer.kit_of_program((tmp_path / "kit" / "kubeauth-login").read_text())["clusters"][1]
    assert writer.run(params(tmp_path / "new"), check_mode=True)["files"]
    assert not (tmp_path / "new").exists()


def test_the_diff_shows_the_kit_before_and_after(tmp_path):
    writer.run(params(tmp_path / "kit"), check_mode=False)
    result = writer.run(params(tmp_path / "kit", cluster("oidc-test")), check_mode=False)
    assert [c["name"] for c in result["diff"]["before"]["clusters"]] == ["oidc-test", "oidc-test-2"]
    assert [c["name"] for c in result["diff"]["after"]["clusters"]] == ["oidc-test"]


def test_the_kit_carries_the_ca_bundle_it_is_given(tmp_path):
    (tmp_path / "ca.pem").write_text(CA_PEM)
    writer.run(params(tmp_path / "kit", ca_file=str(tmp_path / "ca.pem"), redirect_uri="http://localhost:18000"), check_mode=False)
    kit = writer.kit_of_program((tmp_path / "kit" / "kubeauth-login").read_text())
    assert kit["ca_pem"] == CA_PEM and kit["redirect_uri"] == "http://localhost:18000"


def test_the_kit_holds_no_secret_field(tmp_path):
    writer.run(params(tmp_path / "kit"), check_mode=False)
    kit = writer.kit_of_program((tmp_path / "kit" / "kubeauth-login").read_text())
    assert sorted(kit) == ["ca_pem", "clusters", "redirect_uri", "scopes", "version"]
    assert sorted(kit["clusters"][0]) == sorted(["name", "server", "certificate_authority_data", "issuer_url", "client_id",
                                                 "username_claim", "username_prefix", "groups_claim", "groups_prefix"])


@pytest.mark.parametrize("change, message", [
    ({"clusters": [cluster("a", issuer_url="http://idp.example.com")]}, "not https"),
    ({"clusters": [cluster("a", server="http://a.example.com")]}, "not https"),
    ({"clusters": [cluster("a"), cluster("a")]}, "twice"),
    ({"clusters": [cluster("a", client_id=None)]}, "no client_id"),
    ({"redirect_uri": "https://example.com/callback"}, "loopback"),
    ({"redirect_uri": "http://localhost:99999"}, "no valid port"),
    ({"scopes": ["email"]}, "must include openid"),
    ({"ca_file": "/nonexistent/ca.pem"}, "cannot read ca_file"),
])
def test_bad_input_is_refused_with_what_to_do_and_writes_nothing(tmp_path, change, message):
    with pytest.raises(writer.KitWriteError, match=message):
        writer.run(dict(params(tmp_path / "kit"), **change), check_mode=False)
    assert not (tmp_path / "kit").exists()


def test_a_kit_directory_others_may_write_is_refused(tmp_path):
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit").chmod(0o777)
    with pytest.raises(writer.KitWriteError, match="writable by group and others"):
        writer.run(params(tmp_path / "kit"), check_mode=False)
    assert os.listdir(str(tmp_path / "kit")) == []


def test_a_program_replaced_by_a_link_is_refused(tmp_path):
    writer.run(params(tmp_path / "kit"), check_mode=False)
    program = tmp_path / "kit" / "kubeauth-login"
    program.unlink()
    program.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(writer.KitWriteError, match="symbolic link"):
        writer.run(params(tmp_path / "kit"), check_mode=False)
    assert not (tmp_path / "elsewhere").exists()


def test_absent_removes_the_kit_and_its_directory_once_empty(tmp_path):
    writer.run(params(tmp_path / "kit"), check_mode=False)
    absent = {"dest": str(tmp_path / "kit"), "state": "absent"}
    assert writer.run(absent, check_mode=True)["changed"] and (tmp_path / "kit").exists()
    result = writer.run(absent, check_mode=False)
    assert result["changed"] and json.dumps(result["diff"]["before"]).count("oidc-test") >= 2
    assert not (tmp_path / "kit").exists()
    assert not writer.run(absent, check_mode=False)["changed"]
