"""oidc_token_info against the sandbox: real Cognito tokens from MiniStack, verified through its discovery and JWKS.

Forged tokens are signed with the pool's real ID token key (MiniStack keeps it
in its state directory), with a key the issuer does not publish, with the
issuer's public key as an HMAC secret, or not at all. The module runs as
Ansible runs it on a target (python -m, arguments in a file).

The hardening tests (issue 10) add two local stand-ins: a plain TCP listener
that counts connections (an http:// URL must get none), and an https issuer
with its own CA whose discovery document can hand back http:// URLs and whose
token endpoint echoes the request in its error text, as some IdPs do.
"""

import base64
import hashlib
import hmac
import json
import re
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import ThreadingHTTPServer

import jwt
import pki
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from login_helpers import run_module
from logins import QuietJSONHandler


def refused(result, message):
    assert result.get("failed"), result
    assert message in result["msg"], result["msg"]
    return result


@pytest.fixture(scope="module")
def login(cognito, cognito_client):
    """A real ID token (and refresh token) of the test user, from AdminInitiateAuth, as Step 2 of the post."""
    result = cognito_client.admin_initiate_auth(
        UserPoolId=cognito["pool_id"], ClientId=cognito["client_id"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": cognito["username"], "PASSWORD": cognito["password"]},
    )["AuthenticationResult"]
    return {"id_token": result["IdToken"], "refresh_token": result["RefreshToken"], "access_token": result["AccessToken"]}


@pytest.fixture(scope="module")
def pool_key(cognito, login):
    """The private key the pool signs ID tokens with, and its kid."""
    with open(cognito["id_key_file"], "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    return key, jwt.get_unverified_header(login["id_token"])["kid"]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def real_claims(login, **overrides):
    claims = jwt.decode(login["id_token"], options={"verify_signature": False})
    claims.update(overrides)
    return claims


def forge(pool_key, claims, **headers):
    key, kid = pool_key
    return jwt.encode(claims, key, algorithm="RS256", headers=dict({"kid": kid}, **headers))


# -- verification --------------------------------------------------------------------

def test_valid_token(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], username_claim="email",
                        groups_claim="cognito:groups", groups_prefix="gid:")
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["verified"] is True
    assert result["token_source"] == "token"
    assert result["claims"]["iss"] == cognito["issuer_url"]
    assert result["group_claims"] == {"cognito:groups": ["secret-reader"]}
    assert result["kubernetes_user"] == {"username": cognito["username"], "groups": ["gid:secret-reader", "system:authenticated"]}
    assert "tokens" not in result


def test_tampered_payload_is_refused(sandbox, cognito, login, tmp_path):
    header, signature = login["id_token"].split(".")[0::2]
    payload = b64url(json.dumps(real_claims(login, **{"cognito:groups": ["system:masters"]})).encode())
    result = run_module(sandbox, cognito, tmp_path, token="%s.%s.%s" % (header, payload, signature))
    refused(result, "signature does not match its header and payload; the token was altered")
    assert result["claims"]["cognito:groups"] == ["system:masters"]  # what it claimed, for the record
    assert result["verified"] is False


def test_wrong_audience_is_refused(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], audience=cognito["other_client_id"])
    refused(result, "audience (aud) '%s' does not include '%s'" % (cognito["client_id"], cognito["other_client_id"]))


def test_token_for_another_client_signed_by_the_pool_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    token = forge(pool_key, real_claims(login, aud=cognito["other_client_id"]))
    refused(run_module(sandbox, cognito, tmp_path, token=token), "audience (aud) '%s' does not include" % cognito["other_client_id"])


def test_wrong_issuer_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    token = forge(pool_key, real_claims(login, iss="https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Someone"))
    refused(run_module(sandbox, cognito, tmp_path, token=token),
            "issuer (iss) 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Someone' is not the expected issuer")


def test_expired_token_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    now = int(time.time())
    token = forge(pool_key, real_claims(login, iat=now - 7200, exp=now - 3600))
    result = refused(run_module(sandbox, cognito, tmp_path, token=token), "token refused: it expired at")
    assert result["expires_in"] < -3500
    refused(run_module(sandbox, cognito, tmp_path, token=token, leeway=300), "(leeway 300 s)")
    just_expired = forge(pool_key, real_claims(login, iat=now - 3600, exp=now - 60))
    assert not run_module(sandbox, cognito, tmp_path, token=just_expired, leeway=120).get("failed")


@pytest.mark.parametrize("leeway", [301, 7200, -5])
def test_leeway_is_bounded(sandbox, cognito, login, tmp_path, leeway):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], leeway=leeway)
    refused(result, "leeway is %d s; it must be between 0 and 300 s" % leeway)


@pytest.mark.parametrize("claim, value, message", [
    ("exp", 1e20, "its exp claim 1e+20 is out of range"),
    ("exp", float("nan"), "its exp claim NaN is not a finite number"),
    ("exp", float("inf"), "its exp claim Infinity is not a finite number"),
    ("iat", 1e20, "its iat claim 1e+20 is out of range"),
    ("nbf", float("-inf"), "its nbf claim -Infinity is not a finite number"),
    ("exp", "tomorrow", 'its exp claim "tomorrow" is not a number of seconds since 1970'),
])
@pytest.mark.parametrize("verify", [True, False])
def test_times_that_are_not_times_are_refused_without_a_crash(sandbox, cognito, login, pool_key, tmp_path, claim, value, message, verify):
    """Signed with the pool's real key: only the time is wrong. PyJWT writes NaN and Infinity as JSON NaN and Infinity."""
    result = run_module(sandbox, cognito, tmp_path, token=forge(pool_key, real_claims(login, **{claim: value})), verify=verify)
    refused(result, "token refused: " + message)
    assert "Traceback" not in json.dumps(result)


def test_alg_none_is_refused(sandbox, cognito, login, tmp_path):
    token = "%s.%s." % (b64url(b'{"alg":"none","typ":"JWT"}'), b64url(json.dumps(real_claims(login)).encode()))
    refused(run_module(sandbox, cognito, tmp_path, token=token), "alg 'none', an unsigned token")


def test_hs256_signed_with_the_public_key_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    public_pem = pool_key[0].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = "%s.%s" % (b64url(json.dumps({"alg": "HS256", "kid": pool_key[1]}).encode()), b64url(json.dumps(real_claims(login)).encode()))
    token = signing_input + "." + b64url(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    refused(run_module(sandbox, cognito, tmp_path, token=token), "alg HS256, a shared-secret (HMAC) algorithm")


def test_unknown_kid_is_refused(sandbox, cognito, login, tmp_path):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(real_claims(login), stranger, algorithm="RS256", headers={"kid": "not-a-pool-key"})
    refused(run_module(sandbox, cognito, tmp_path, token=token), "key id (kid) 'not-a-pool-key' is not in the issuer's JWKS")


def test_pool_key_under_a_known_kid_but_other_key_is_refused(sandbox, cognito, login, pool_key, tmp_path):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(real_claims(login), stranger, algorithm="RS256", headers={"kid": pool_key[1]})
    refused(run_module(sandbox, cognito, tmp_path, token=token), "signature does not match")


def test_access_token_is_refused_with_a_hint(sandbox, cognito, login, tmp_path):
    refused(run_module(sandbox, cognito, tmp_path, token=login["access_token"]), "kube-apiserver needs the ID token")


def test_discovery_must_name_the_issuer(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], issuer_url="https://issuer.example.com")
    refused(result, "names the issuer '%s', not issuer_url 'https://issuer.example.com'" % cognito["issuer_url"])


def test_verify_false_only_decodes(sandbox, cognito, login, tmp_path):
    token = "%s.%s." % (b64url(b'{"alg":"none"}'), b64url(json.dumps(real_claims(login)).encode()))
    result = run_module(sandbox, cognito, tmp_path, token=token, verify=False, discovery_url=None, ca_file=None)
    assert result["verified"] is False and not result.get("failed")


# -- obtaining tokens -------------------------------------------------------------------

def test_admin_user_password_auth(sandbox, cognito, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, user_pool_id=cognito["pool_id"], issuer_url=None,
                        username=cognito["username"], password=cognito["password"], username_claim="email")
    assert result["token_source"] == "cognito_admin_user_password"
    assert result["verified"] is True
    assert result["issuer_url"] == cognito["issuer_url"]  # from user_pool_id
    assert result["kubernetes_user"]["username"] == cognito["username"]
    assert "tokens" not in result


def test_user_password_auth_needs_no_aws_credentials(sandbox, cognito, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, username=cognito["username"], password=cognito["password"],
                        access_key=None, secret_key=None, return_tokens=True, _ansible_no_log=True)
    assert result["token_source"] == "cognito_user_password", result
    assert result["verified"] is True
    assert set(result["tokens"]) == {"id_token", "access_token", "refresh_token"}
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_wrong_password(sandbox, cognito, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, username=cognito["username"], password="Wrong123$-kubeauth")
    refused(result, "Cognito refused USER_PASSWORD_AUTH")
    assert "Wrong123" not in json.dumps(result)


def test_refresh_token(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, refresh_token=login["refresh_token"], return_tokens=True, _ansible_no_log=True)
    assert result["token_source"] == "cognito_refresh_token", result
    assert result["verified"] is True
    assert result["tokens"]["id_token"] != login["id_token"]
    # Cognito renews no refresh token: the one given is the one to keep, not Ansible's no_log placeholder.
    assert result["tokens"]["refresh_token"] == login["refresh_token"]
    assert result["invocation"]["module_args"]["refresh_token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_return_tokens_needs_no_log(sandbox, cognito, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, username=cognito["username"], password=cognito["password"], return_tokens=True)
    refused(result, "return_tokens returns the ID, access and refresh tokens in clear in the task's result; set no_log: true on the task")
    assert "tokens" not in result


def test_check_mode_reads_the_same(sandbox, cognito, login, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], _ansible_check_mode=True)
    assert result["verified"] is True and result["changed"] is False


# -- the Kubernetes user, email vs other username claims, with and without prefixes ---------

MAPPINGS = [
    # (mapping options, username (SUB = the user's sub), groups)
    ({}, "{issuer}#{sub}", []),
    ({"username_claim": "email"}, "{email}", []),
    ({"username_claim": "email", "username_prefix": "oidc:"}, "oidc:{email}", []),
    ({"username_claim": "sub", "username_prefix": "-"}, "{sub}", []),
    ({"username_claim": "sub", "username_prefix": "oidc:"}, "oidc:{sub}", []),
    ({"username_claim": "cognito:username"}, "{issuer}#{sub}", []),
    ({"groups_claim": "cognito:groups"}, "{issuer}#{sub}", ["secret-reader"]),
    ({"username_claim": "email", "groups_claim": "cognito:groups", "groups_prefix": "gid:"}, "{email}", ["gid:secret-reader"]),
]


@pytest.mark.parametrize("mapping, username, groups", MAPPINGS)
def test_kubernetes_user(sandbox, cognito, login, tmp_path, mapping, username, groups):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], **mapping)
    expected = username.format(issuer=cognito["issuer_url"], sub=cognito["sub"], email=cognito["username"])
    assert result["kubernetes_user"] == {"username": expected, "groups": groups + ["system:authenticated"]}


def test_kubernetes_user_from_an_identity_provider_config(sandbox, cognito, login, tmp_path):
    config = {"issuer_url": cognito["issuer_url"], "client_id": cognito["client_id"], "username_claim": "email",
              "groups_claim": "cognito:groups", "groups_prefix": "gid:", "required_claims": {}}
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], identity_provider_config=config,
                        issuer_url=None, client_id=None)
    assert result["verified"] is True
    assert result["audience"] == cognito["client_id"]
    assert result["claim_mapping"] == {"username_claim": "email", "username_prefix": "", "groups_claim": "cognito:groups",
                                       "groups_prefix": "gid:"}
    assert result["kubernetes_user"] == {"username": cognito["username"], "groups": ["gid:secret-reader", "system:authenticated"]}


def test_required_claim_mismatch(sandbox, cognito, login, tmp_path):
    config = {"issuer_url": cognito["issuer_url"], "client_id": cognito["client_id"], "required_claims": {"token_use": "access"}}
    refused(run_module(sandbox, cognito, tmp_path, token=login["id_token"], identity_provider_config=config),
            "required claim 'token_use' must be 'access', the token has 'id'")


# -- https only, and error text without secrets (issue 10) -----------------------------------

class Trap(object):
    """A plain TCP listener on 127.0.0.1 that counts the connections it gets (and closes them)."""

    def __init__(self):
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection = self.listener.accept()[0]
            except OSError:  # closed
                return
            self.connections += 1
            connection.close()

    def close(self):
        self.listener.close()


@pytest.fixture
def trap():
    listener = Trap()
    yield listener
    listener.close()


class EchoingIssuer(object):
    """An https issuer on 127.0.0.1 with its own CA; discovery may name other jwks_uri and token_endpoint URLs.

    Its token endpoint refuses every grant and echoes the request (form-encoded, as received) and the last
    ID token it issued in ``error_description``, as an identity provider that echoes its input does.
    """

    LAST_ID_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImF1ZCI6Imt1YmVjdGwifQ.c2lnbmF0dXJl"

    def __init__(self, directory, jwks_uri=None, token_endpoint=None):
        self.ca_file, ca_key = pki.ensure_ca(str(directory))
        cert, key = str(directory / "idp.crt"), str(directory / "idp.key")
        pki.issue(self.ca_file, ca_key, cert, key, "127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
        self.requests = []
        issuer = self

        class Handler(QuietJSONHandler):
            def do_GET(self):  # noqa: N802
                issuer.requests.append(("GET", self.path))
                if self.path == "/.well-known/openid-configuration":
                    self.reply(200, {"issuer": issuer.url, "jwks_uri": jwks_uri or issuer.url + "/jwks",
                                     "token_endpoint": token_endpoint or issuer.url + "/token",
                                     "id_token_signing_alg_values_supported": ["RS256"]})
                else:
                    self.reply(200, {"keys": []})

            def do_POST(self):  # noqa: N802
                issuer.requests.append(("POST", self.path))
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                self.reply(400, {"error": "invalid_request",
                                 "error_description": "cannot parse %s; the last ID token was %s" % (body, issuer.LAST_ID_TOKEN)})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def echoing_issuer(tmp_path_factory):
    issuers = []

    def start(**urls):
        issuers.append(EchoingIssuer(tmp_path_factory.mktemp("idp"), **urls))
        return issuers[-1]
    yield start
    for issuer in issuers:
        issuer.close()


def run_against(issuer, sandbox, cognito, tmp_path, **args):
    """oidc_token_info with ``issuer`` as the issuer (not Cognito: its token endpoint gets the grants)."""
    return run_module(sandbox, cognito, tmp_path, issuer_url=issuer.url, discovery_url=None, ca_file=issuer.ca_file,
                      client_id="kubectl", **args)


def unsigned_claims_token(issuer_url):
    now = int(time.time())
    claims = {"iss": issuer_url, "aud": "kubectl", "sub": "alice", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256", headers={"kid": "k1"})


def not_https(result, what, trap):
    """Refused with a message that names the URL and says why, and nothing was sent to it."""
    refused(result, what)
    assert re.search(r" %s\S* is not https: over plain http .* travel in clear .*\(loopback is no exception\)" % re.escape(trap.url), result["msg"])
    assert trap.connections == 0, "the module connected to %s" % trap.url


def test_http_discovery_url_is_refused_before_any_request(sandbox, cognito, login, trap, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, token=login["id_token"], discovery_url=trap.url + "/.well-known/openid-configuration")
    not_https(result, "discovery_url", trap)


def test_http_issuer_is_refused_before_any_request(sandbox, cognito, trap, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, issuer_url=trap.url, discovery_url=None, refresh_token="refresh-" + "r" * 40)
    not_https(result, "issuer_url", trap)


def test_http_jwks_uri_in_an_https_discovery_document_is_never_fetched(sandbox, cognito, echoing_issuer, trap, tmp_path):
    issuer = echoing_issuer(jwks_uri=trap.url + "/jwks")
    result = run_against(issuer, sandbox, cognito, tmp_path, token=unsigned_claims_token(issuer.url))
    not_https(result, "jwks_uri", trap)
    assert issuer.requests == [("GET", "/.well-known/openid-configuration")]
    assert result["verified"] is False


def test_http_token_endpoint_in_an_https_discovery_document_gets_no_grant(sandbox, cognito, echoing_issuer, trap, tmp_path):
    issuer = echoing_issuer(token_endpoint=trap.url + "/token")
    result = run_against(issuer, sandbox, cognito, tmp_path, username="alice", password="Pa55word-local")
    not_https(result, "token_endpoint", trap)


def test_http_cognito_endpoint_gets_no_password(sandbox, cognito, trap, tmp_path):
    result = run_module(sandbox, cognito, tmp_path, endpoint_url=trap.url, username=cognito["username"], password=cognito["password"])
    not_https(result, "the Cognito API endpoint (endpoint_url)", trap)


def test_error_text_of_the_identity_provider_is_scrubbed(sandbox, cognito, echoing_issuer, tmp_path):
    issuer = echoing_issuer()
    refresh_token = "rt/" + "s" * 40 + "+/=="  # form encoding changes it: Ansible's own masking misses the echo
    result = run_against(issuer, sandbox, cognito, tmp_path, refresh_token=refresh_token)
    refused(result, "the token endpoint %s/token refused the refresh_token grant: HTTP 400, invalid_request: cannot parse " % issuer.url)
    assert ("POST", "/token") in issuer.requests
    everything = json.dumps(result)
    for secret in (refresh_token, urllib.parse.quote_plus(refresh_token), "s" * 40, EchoingIssuer.LAST_ID_TOKEN, "eyJ"):
        assert secret not in everything, secret
    assert "refresh_token=[hidden]" in result["msg"] and "the last ID token was [hidden]" in result["msg"]
