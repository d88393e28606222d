"""The kubeconfig role end to end on the EKS twin: step 5 of the AWS post with real kubectl.

With the kubeconfig the role writes, `kubectl get secrets` works and
`kubectl get nodes` is Forbidden for User "test@example.com" - through the
exec credential plugin (also once its cached ID token has expired: the refresh
path), through the post's auth-provider style, and with a static token. The
admin entry works without the AWS CLI, a second run changes nothing, and
state absent leaves the rest of the file as it was.

The tests of this module run in order and share one kubeconfig.
"""

import base64
import json
import os
import shutil
import stat
import subprocess
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

KUBECTL = shutil.which("kubectl")
USERNAME = "test@example.com"
CONTEXT = "oidc-%s"  # the role's default context name, per cluster
FORBIDDEN_NODES = 'User "%s" cannot list resource "nodes" in API group "" at the cluster scope' % USERNAME

# Someone else's entries, which every run must leave alone.
OTHER = {
    "apiVersion": "v1",
    "kind": "Config",
    "preferences": {"colors": True},
    "clusters": [{"name": "other", "cluster": {"server": "https://other.example.com"}}],
    "users": [{"name": "other", "user": {"token": "someone-elses-token"}}],
    "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}],
    "current-context": "other",
}


@pytest.fixture(scope="module")
def kube(idp, tmp_path_factory):
    """The kubeconfig under test (with someone else's entries) and the role's variables for it."""
    directory = tmp_path_factory.mktemp("kube")
    path = directory / "config"
    path.write_text(yaml.safe_dump(OTHER))
    os.chmod(str(path), 0o644)
    return {"path": str(path), "helper_dir": str(directory / "kubeauth-eks-oidc"), "context": CONTEXT % idp.cluster}


def role(idp, kube, check=False, **variables):
    variables.setdefault("eks_oidc_kubeconfig_path", kube["path"])
    return idp.run("kubeconfig.yml", check=check, **variables)


def kubectl(kube, context, *args, env=None):
    return subprocess.run([KUBECTL, "--kubeconfig", kube["path"], "--context", context] + list(args),
                          capture_output=True, text=True, timeout=120, check=False, env=env)


def aws_environment(sandbox):
    """A person's shell for the admin entry: AWS credentials from the environment, nothing else of AWS."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("AWS_"))
    env.update(AWS_ACCESS_KEY_ID=sandbox["aws_access_key_id"], AWS_SECRET_ACCESS_KEY=sandbox["aws_secret_access_key"])
    return env


def document(kube):
    with open(kube["path"]) as handle:
        return yaml.safe_load(handle)


def entry(kube, section, name):
    found = [e for e in document(kube).get(section) or [] if e["name"] == name]
    return found[0] if found else None


def assert_secrets_yes_nodes_no(kube, context):
    """The post's proof (step 5)."""
    secrets = kubectl(kube, context, "get", "secrets")
    assert secrets.returncode == 0, secrets.stderr
    nodes = kubectl(kube, context, "get", "nodes")
    assert nodes.returncode != 0
    assert "Forbidden" in nodes.stderr and FORBIDDEN_NODES in nodes.stderr, nodes.stderr


def plugin_cache(kube):
    """The plugin's one cache file (per issuer, client and user, shared by the contexts of the issuer)."""
    directory = os.path.join(kube["helper_dir"], "cache")
    files = [name for name in os.listdir(directory) if name.endswith(".json")]
    assert len(files) == 1, files
    return os.path.join(directory, files[0])


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- exec (the default) ---------------------------------------------------------

def test_exec_style_kubectl_as_the_oidc_user(idp, kube):
    first = role(idp, kube)
    assert idp.changed(first) > 0

    assert_secrets_yes_nodes_no(kube, kube["context"])

    doc = document(kube)
    assert doc["current-context"] == kube["context"]
    assert stat.S_IMODE(os.stat(kube["path"]).st_mode) == 0o600
    for name in ("other",):  # someone else's entries are still there, unchanged
        assert entry(kube, "clusters", name) == OTHER["clusters"][0]
        assert entry(kube, "users", name) == OTHER["users"][0]
    assert doc["preferences"] == {"colors": True}

    exec_entry = entry(kube, "users", kube["context"])["user"]["exec"]
    # The real interpreter (no shim, no virtualenv symlink), isolated and without site.
    assert os.path.isabs(exec_entry["command"]) and not os.path.islink(exec_entry["command"])
    assert "/shims/" not in exec_entry["command"]
    assert exec_entry["args"][:2] == ["-I", "-S"]
    assert exec_entry["apiVersion"] == "client.authentication.k8s.io/v1"
    assert exec_entry["interactiveMode"] == "Never"
    config_file = exec_entry["args"][-1]
    password_file = json.load(open(config_file))["password_file"]
    for private in (config_file, password_file):
        assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(kube["helper_dir"]).st_mode) == 0o700

    again = role(idp, kube)
    assert idp.changed(again) == 0
    checked = role(idp, kube, check=True)
    assert idp.changed(checked) == 0


def test_admin_entry_is_the_eks_iam_token(idp, kube):
    """The admin entry is aws eks update-kubeconfig's: the EKS IAM token, which the twin maps to the cluster's creator."""
    admin = "admin-%s" % idp.cluster
    user = entry(kube, "users", admin)["user"]
    assert "client-certificate-data" not in user and "token" not in user
    assert user["exec"]["args"][1].endswith("/eks_token.py")
    env = aws_environment(idp.sandbox)
    can_i = kubectl(kube, admin, "auth", "can-i", "list", "nodes", env=env)
    assert can_i.returncode == 0 and can_i.stdout.strip() == "yes", can_i.stderr
    whoami = kubectl(kube, admin, "auth", "whoami", "-o", "json", env=env)
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["status"]["userInfo"]["username"].startswith("arn:aws:")
    # Without AWS credentials the plugin cannot sign, and the API server refuses anonymous admin access.
    no_credentials = dict((k, v) for k, v in env.items() if not k.startswith("AWS_"))
    no_credentials.update(AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_CONFIG_FILE="/nonexistent")
    assert kubectl(kube, admin, "auth", "can-i", "list", "nodes", env=no_credentials).stdout.strip() != "yes"


def test_exec_style_refreshes_an_expired_cached_token(idp, kube):
    """Once the cached ID token has expired, the plugin refreshes it with the refresh token (no password)."""
    cache_file = plugin_cache(kube)
    with open(cache_file) as handle:
        cached = json.load(handle)
    assert cached["refresh_token"]
    cached["expires_at"] = int(time.time()) - 60
    cached["obtained_at"] = int(time.time()) - 3700
    with open(cache_file, "w") as handle:
        json.dump(cached, handle)
    # A password login would now fail (the plugin refuses a password file others may read),
    # so a working kubectl proves the refresh path.
    password_file = json.load(open(entry(kube, "users", kube["context"])["user"]["exec"]["args"][-1]))["password_file"]
    os.chmod(password_file, 0o644)
    try:
        assert_secrets_yes_nodes_no(kube, kube["context"])
    finally:
        os.chmod(password_file, 0o600)

    with open(cache_file) as handle:
        refreshed = json.load(handle)
    assert refreshed["expires_at"] > time.time() + 300
    assert refreshed["obtained_at"] >= int(time.time()) - 120
    assert jwt_claims(refreshed["id_token"])["email"] == USERNAME


# -- the post's auth-provider style ------------------------------------------------

def test_auth_provider_style(idp, kube):
    context = "ap-%s" % idp.cluster
    first = role(idp, kube, eks_oidc_kubeconfig_auth_style="auth_provider", eks_oidc_kubeconfig_context_name=context,
                 eks_oidc_kubeconfig_admin=False, eks_oidc_kubeconfig_use_context=False)
    assert idp.changed(first) > 0
    assert "********" not in open(kube["path"]).read()
    provider = entry(kube, "users", context)["user"]["auth-provider"]
    assert provider["name"] == "oidc"
    assert set(provider["config"]) == {"idp-issuer-url", "client-id", "idp-certificate-authority", "id-token", "refresh-token"}
    assert jwt_claims(provider["config"]["id-token"])["iss"] == provider["config"]["idp-issuer-url"]

    assert_secrets_yes_nodes_no(kube, context)

    again = role(idp, kube, eks_oidc_kubeconfig_auth_style="auth_provider", eks_oidc_kubeconfig_context_name=context,
                 eks_oidc_kubeconfig_admin=False, eks_oidc_kubeconfig_use_context=False)
    assert idp.changed(again) == 0, "a still-valid ID token is kept: nothing changes"


def test_auth_provider_refreshes_through_the_issuer_url(idp, kube, tmp_path):
    """kubectl's oidc auth provider refreshes through idp-issuer-url + /.well-known/openid-configuration.

    It has no setting for another discovery URL: it must reach the issuer URL
    itself. Without a way to it (no proxy, and the Cognito issuer host does not
    resolve here) kubectl fails; with the sandbox's HTTPS proxy in the
    environment, as a corporate developer has an egress proxy, it refreshes and
    writes the new ID token into the kubeconfig. See docs/kubeconfig.md.
    """
    context = "ap-%s" % idp.cluster
    doc = document(kube)
    config = [u for u in doc["users"] if u["name"] == context][0]["user"]["auth-provider"]["config"]
    header = config["id-token"].split(".")[0]
    expired = dict(jwt_claims(config["id-token"]), exp=int(time.time()) - 3600)
    config["id-token"] = "%s.%s.%s" % (header, base64.urlsafe_b64encode(json.dumps(expired).encode()).decode().rstrip("="), "sig")
    expired_path = tmp_path / "expired-config"
    expired_path.write_text(yaml.safe_dump(doc))
    os.chmod(str(expired_path), 0o600)
    no_proxy = dict((k, v) for k, v in os.environ.items() if "proxy" not in k.lower())
    result = kubectl({"path": str(expired_path)}, context, "get", "secrets", env=no_proxy)
    assert result.returncode != 0
    assert "/.well-known/openid-configuration" in result.stderr, result.stderr

    proxied = dict(no_proxy, HTTPS_PROXY=idp.sandbox["https_proxy"], NO_PROXY=idp.sandbox["no_proxy"])
    result = kubectl({"path": str(expired_path)}, context, "get", "secrets", env=proxied)
    assert result.returncode == 0, result.stderr
    refreshed = [u for u in yaml.safe_load(expired_path.read_text())["users"] if u["name"] == context][0]
    assert jwt_claims(refreshed["user"]["auth-provider"]["config"]["id-token"])["exp"] > time.time() + 300


# -- a static token ------------------------------------------------------------------

def test_token_style(idp, kube):
    context = "token-%s" % idp.cluster
    role(idp, kube, eks_oidc_kubeconfig_auth_style="token", eks_oidc_kubeconfig_context_name=context,
         eks_oidc_kubeconfig_admin=False, eks_oidc_kubeconfig_use_context=False)
    assert jwt_claims(entry(kube, "users", context)["user"]["token"])["email"] == USERNAME
    assert_secrets_yes_nodes_no(kube, context)


# -- the admin entry alone: no AWS CLI ------------------------------------------------

def test_admin_entry_makes_the_eks_token_in_python(idp, tmp_path):
    """The admin user runs eks_token.py: `aws eks get-token` without the AWS CLI, signed for the connection's STS."""
    path = tmp_path / "config"
    role(idp, {"path": str(path)}, eks_oidc_kubeconfig_oidc_user=False)
    doc = yaml.safe_load(path.read_text())
    admin = "admin-%s" % idp.cluster
    exec_entry = [u for u in doc["users"] if u["name"] == admin][0]["user"]["exec"]
    assert exec_entry["args"][0] == "-I" and exec_entry["args"][1].endswith("/eks_token.py")
    assert exec_entry["args"][2:] == ["get-token", "--cluster-name", idp.cluster, "--region", idp.sandbox["region"]]
    assert doc["current-context"] == admin
    cluster = [c for c in doc["clusters"] if c["name"] == [x for x in doc["contexts"] if x["name"] == admin][0]["context"]["cluster"]][0]
    assert cluster["name"].endswith(":cluster/%s" % idp.cluster)
    assert cluster["cluster"]["server"] == idp.sandbox["clusters"][idp.cluster]["endpoint"]

    env = dict(aws_environment(idp.sandbox),
               KUBERNETES_EXEC_INFO=json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "spec": {"interactive": False}}))
    env.update(dict((e["name"], e["value"]) for e in exec_entry.get("env") or []))
    assert env["AWS_ENDPOINT_URL_STS"] == idp.sandbox["aws_endpoint_url"]
    out = subprocess.run([exec_entry["command"]] + exec_entry["args"], env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    credential = json.loads(out.stdout)
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    token = credential["status"]["token"]
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    body = token[len("k8s-aws-v1."):]
    url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    query = dict(parse_qsl(urlsplit(url).query))
    assert urlsplit(url).netloc == urlsplit(idp.sandbox["aws_endpoint_url"]).netloc
    assert query["Action"] == "GetCallerIdentity" and query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"


# -- absent --------------------------------------------------------------------------

def test_absent_removes_what_the_role_wrote_and_nothing_else(idp, kube):
    for context in ("ap-%s" % idp.cluster, "token-%s" % idp.cluster):
        role(idp, kube, eks_oidc_state="absent", eks_oidc_kubeconfig_context_name=context, eks_oidc_kubeconfig_admin=False)
    removed = role(idp, kube, eks_oidc_state="absent")
    assert idp.changed(removed) > 0

    doc = document(kube)
    assert [c["name"] for c in doc["clusters"]] == ["other"]
    assert doc["users"] == OTHER["users"]
    assert [c["name"] for c in doc["contexts"]] == ["other"]
    assert "current-context" not in doc  # it named the removed OIDC context
    assert doc["preferences"] == {"colors": True}
    assert not os.path.exists(kube["helper_dir"])
    assert stat.S_IMODE(os.stat(kube["path"]).st_mode) == 0o600

    again = role(idp, kube, eks_oidc_state="absent")
    assert idp.changed(again) == 0
