"""Logging in at Keycloak: the role keycloak_idp's realm, oidc_token_info and the kubectl credential plugin.

The session's Keycloak gets a realm of its own from the role (run twice: the
second run and a check run change nothing). Then, against Keycloak's real
endpoints: oidc_token_info obtains an ID token with the password grant,
verifies it and maps it as the association would (claim email, groups with
the prefix gid:), and redeems the refresh token; the credential plugin, run
as kubectl runs it, logs in with the password grant and with the browser
(authorization code with PKCE S256, Keycloak's own login form filled in as a
person would), and refreshes at Keycloak's token endpoint.
"""

import base64
import json
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from logins import expire_cached_tokens, free_port, NoRedirect, open_on_localhost, plugin_login_url, sign_in

pytestmark = pytest.mark.xdist_group("keycloak")  # one Keycloak, started once, on one worker

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.path.join(REPO_ROOT, "plugins", "module_utils", "credential_plugin.py")
MODULE = "ansible_collections.kubeauth.eks_oidc.plugins.modules.oidc_token_info"
PYTHON = os.path.realpath(sys.executable)
NON_INTERACTIVE = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                              "spec": {"interactive": False}})
REALM = "login-test"
CLIENT_ID = "kubectl-login-test"
USERNAME = "alice@example.com"
PASSWORD = "Alice-login-test-0123"
RECAP = re.compile(r"^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def run_role(keycloak, ca_file, variables, *args):
    """The role through tests/integration/keycloak/realm.yml; how many tasks changed."""
    extra = dict(variables, eks_oidc_keycloak_url=keycloak["url"],
                 eks_oidc_keycloak_admin_username=keycloak["admin_username"],
                 eks_oidc_keycloak_admin_password=keycloak["admin_password"], eks_oidc_keycloak_ca_file=ca_file)
    run = subprocess.run(["ansible-playbook", os.path.join(HERE, "realm.yml"), "-e", json.dumps(extra)] + list(args),
                         cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=600,
                         env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
    assert PASSWORD not in run.stdout and keycloak["admin_password"] not in run.stdout
    return int(RECAP.search(run.stdout).group(2)), run.stdout


@pytest.fixture(scope="module")
def realm(sandbox, keycloak):
    """A realm made by the role, with a client that allows the password grant and a browser callback port."""
    callback_port = free_port()
    variables = {
        "eks_oidc_keycloak_realm": REALM,
        "eks_oidc_keycloak_client_id": CLIENT_ID,
        "eks_oidc_keycloak_direct_access_grants": True,
        "eks_oidc_keycloak_redirect_uris": ["http://localhost:%d/*" % callback_port],
        "eks_oidc_groups": [{"name": "secret-reader"}, {"name": "auditors"}],
        "eks_oidc_users": [{"username": USERNAME, "attributes": {"email": USERNAME}, "password": PASSWORD,
                            "groups": ["secret-reader", "auditors"]}],
    }
    ca_file = sandbox["aws_ca_bundle"]
    checked, output = run_role(keycloak, ca_file, variables, "--check")
    assert checked > 0, output
    status = admin_get(keycloak, ca_file, "/admin/realms/%s" % REALM)[0]
    assert status == 404, "check mode made the realm"
    first, _output = run_role(keycloak, ca_file, variables)
    second, output = run_role(keycloak, ca_file, variables)
    again, check_output = run_role(keycloak, ca_file, variables, "--check")
    try:
        yield {"first": first, "second": second, "second_output": output, "check": again, "check_output": check_output,
               "issuer_url": "%s/realms/%s" % (keycloak["url"], REALM), "ca_file": ca_file, "callback_port": callback_port,
               "variables": variables}
    finally:
        removed, _output = run_role(keycloak, ca_file, dict(variables, eks_oidc_state="absent"))
        assert removed > 0 and admin_get(keycloak, ca_file, "/admin/realms/%s" % REALM)[0] == 404


def admin_get(keycloak, ca_file, path):
    context = ssl.create_default_context(cafile=ca_file)
    form = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli", "username": keycloak["admin_username"],
                                   "password": keycloak["admin_password"]}).encode()
    with urllib.request.urlopen(keycloak["url"] + "/realms/master/protocol/openid-connect/token", data=form, context=context,
                                timeout=30) as answer:
        token = json.load(answer)["access_token"]
    try:
        with urllib.request.urlopen(urllib.request.Request(keycloak["url"] + path, headers={"Authorization": "Bearer " + token}),
                                    context=context, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_the_role_converges_and_check_mode_changes_nothing(realm):
    assert realm["first"] > 0
    assert realm["second"] == 0, realm["second_output"]
    assert realm["check"] == 0, realm["check_output"]


def run_module(tmp_path, **args):
    """oidc_token_info as Ansible runs it on a target (python -m, arguments in a file); its result."""
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO_ROOT, ".build", "collections"))
    run = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True, env=env, timeout=120,
                         check=False)
    return json.loads(run.stdout)


MAPPING = {"username_claim": "email", "groups_claim": "groups", "groups_prefix": "gid:"}


def test_oidc_token_info_password_grant_verify_map_and_refresh(realm, tmp_path):
    common = dict(issuer_url=realm["issuer_url"], client_id=CLIENT_ID, ca_file=realm["ca_file"], **MAPPING)
    result = run_module(tmp_path, username=USERNAME, password=PASSWORD, return_tokens=True, _ansible_no_log=True, **common)
    assert not result.get("failed"), result
    assert result["verified"] is True
    assert result["kubernetes_user"] == {"username": USERNAME,
                                         "groups": ["gid:auditors", "gid:secret-reader", "system:authenticated"]}
    claims = claims_of(result["tokens"]["id_token"])
    assert claims["iss"] == realm["issuer_url"] and claims["aud"] == CLIENT_ID and claims["email_verified"] is True
    assert sorted(claims["groups"]) == ["auditors", "secret-reader"]  # names, not paths

    refreshed = run_module(tmp_path, refresh_token=result["tokens"]["refresh_token"], return_tokens=True, _ansible_no_log=True,
                           **common)
    assert not refreshed.get("failed"), refreshed
    assert refreshed["verified"] is True and refreshed["tokens"]["id_token"] != result["tokens"]["id_token"]
    assert claims_of(refreshed["tokens"]["id_token"])["sid"] == claims["sid"]  # the same session, refreshed

    wrong = run_module(tmp_path, username=USERNAME, password="Not-the-password-0", **common)
    assert wrong["failed"] and "Not-the-password-0" not in json.dumps(wrong)


def plugin_config(tmp_path, realm, **config):
    config = dict({"issuer_url": realm["issuer_url"], "client_id": CLIENT_ID, "ca_file": realm["ca_file"],
                   "cache_dir": str(tmp_path / "cache")}, **config)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def run_plugin(config_path, *extra):
    return subprocess.run([PYTHON, "-I", "-S", PLUGIN, "get-token", "--config", str(config_path)] + list(extra),
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, KUBERNETES_EXEC_INFO=NON_INTERACTIVE))


def credential_token(run):
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["status"]["token"]


def test_credential_plugin_password_grant_then_cache_then_refresh(realm, tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    os.chmod(str(password_file), 0o600)
    config_path = plugin_config(tmp_path, realm, login="password", username=USERNAME, password_file=str(password_file))
    first = run_plugin(config_path)
    token = credential_token(first)
    claims = claims_of(token)
    assert (claims["iss"], claims["aud"], claims["email"]) == (realm["issuer_url"], CLIENT_ID, USERNAME)
    assert credential_token(run_plugin(config_path)) == token  # cached
    (refresh_token,) = expire_cached_tokens(str(tmp_path / "cache"))
    second = run_plugin(config_path)
    refreshed = credential_token(second)
    assert refreshed != token and claims_of(refreshed)["sid"] == claims["sid"]  # refreshed at Keycloak, not a new login
    for run in (first, second):
        assert run.stderr == "" and PASSWORD not in run.stdout and refresh_token not in run.stdout


def sign_in_as_a_person(url, ca_file, callback_port):
    """Open the login URL, fill in Keycloak's form, and follow its redirect to the plugin on localhost."""
    callback = sign_in(url, ca_file, USERNAME, PASSWORD, form_id="kc-form-login")
    assert re.match(r"^http://localhost:%d/?\?" % callback_port, callback), callback
    return open_on_localhost(callback)


def test_credential_plugin_browser_login_with_pkce_then_refresh(realm, tmp_path):
    # The plugin's own form (DEFAULT_REDIRECT_URI, http://localhost:8000) on a free port: no path, which
    # Keycloak must match with the role's http://localhost:PORT/* pattern.
    redirect_uri = "http://localhost:%d" % realm["callback_port"]
    config_path = plugin_config(tmp_path, realm, login="browser", open_browser=False, login_timeout=120,
                                redirect_uri=redirect_uri)
    process = subprocess.Popen([PYTHON, "-I", "-S", PLUGIN, "get-token", "--config", str(config_path), "--login"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, KUBERNETES_EXEC_INFO=NON_INTERACTIVE))
    try:
        url, query, line = plugin_login_url(process)
        assert url.startswith(realm["issuer_url"] + "/protocol/openid-connect/auth?")
        assert query["code_challenge_method"] == "S256" and query["redirect_uri"] == redirect_uri
        assert "Login finished" in sign_in_as_a_person(url, realm["ca_file"], realm["callback_port"])
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    token = json.loads(out)["status"]["token"]
    claims = claims_of(token)
    assert claims["email"] == USERNAME and claims["nonce"] == query["nonce"] and claims["aud"] == CLIENT_ID
    (refresh_token,) = expire_cached_tokens(str(tmp_path / "cache"))
    refreshed = run_plugin(config_path)
    assert credential_token(refreshed) != token and refreshed.stderr == ""
    assert refresh_token not in line + refreshed.stderr


def test_keycloak_refuses_a_code_without_its_pkce_verifier(realm):
    """The client requires PKCE: an authorization request without a code challenge is turned away."""
    query = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID, "scope": "openid",
                                    "redirect_uri": "http://localhost:%d/callback" % realm["callback_port"], "state": "s"})
    context = ssl.create_default_context(cafile=realm["ca_file"])
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())
    try:
        opener.open("%s/protocol/openid-connect/auth?%s" % (realm["issuer_url"], query), timeout=60)
        raise AssertionError("Keycloak accepted an authorization request without PKCE")
    except urllib.error.HTTPError as exc:
        assert exc.code in (302, 303, 400), exc.code
        if exc.code != 400:
            assert "error=invalid_request" in exc.headers["Location"], exc.headers["Location"]


def test_in_someone_elses_realm_only_what_the_role_made_is_added_and_removed(realm, keycloak):
    """eks_oidc_keycloak_manage_realm=false: the realm and its users stay; the role's client, group and user go."""
    variables = {
        "eks_oidc_keycloak_realm": REALM,
        "eks_oidc_keycloak_manage_realm": False,
        "eks_oidc_keycloak_client_id": "kubectl-team-b",
        "eks_oidc_groups": [{"name": "team-b"}],
        "eks_oidc_users": [{"username": "bob@example.com", "attributes": {"email": "bob@example.com"},
                            "password": "Bob-team-b-password-0", "groups": ["team-b"]}],
    }
    ca_file = realm["ca_file"]
    added, output = run_role(keycloak, ca_file, variables)
    assert added > 0, output
    assert run_role(keycloak, ca_file, variables)[0] == 0
    [bob] = admin_get(keycloak, ca_file, "/admin/realms/%s/users?exact=true&username=bob@example.com" % REALM)[1]
    assert [g["name"] for g in admin_get(keycloak, ca_file, "/admin/realms/%s/users/%s/groups" % (REALM, bob["id"]))[1]] == ["team-b"]
    checked, output = run_role(keycloak, ca_file, dict(variables, eks_oidc_state="absent"), "--check")
    assert checked > 0 and "bob@example.com would be removed" in output
    assert admin_get(keycloak, ca_file, "/admin/realms/%s/users?exact=true&username=bob@example.com" % REALM)[1]  # still there
    removed, _output = run_role(keycloak, ca_file, dict(variables, eks_oidc_state="absent"))
    assert removed > 0
    assert admin_get(keycloak, ca_file, "/admin/realms/%s/users?exact=true&username=bob@example.com" % REALM)[1] == []
    assert admin_get(keycloak, ca_file, "/admin/realms/%s/clients?clientId=kubectl-team-b" % REALM)[1] == []
    assert "team-b" not in [g["name"] for g in admin_get(keycloak, ca_file, "/admin/realms/%s/groups" % REALM)[1]]
    assert admin_get(keycloak, ca_file, "/admin/realms/%s/users?exact=true&username=%s" % (REALM, USERNAME))[1]  # alice stays
