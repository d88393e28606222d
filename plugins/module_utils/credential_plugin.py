# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""kubectl exec credential plugin for an OpenID Connect identity provider; Python standard library only.

kubectl runs it before every request that needs a credential::

    /abs/path/python3 -I -S credential_plugin.py get-token --config CONFIG.json [--login]

and reads an ExecCredential (client.authentication.k8s.io/v1) from stdout:
``status.token`` is the ID token, ``status.expirationTimestamp`` (RFC 3339)
the moment kubectl must ask again. ``--login`` ignores the cache and logs in.

Config (JSON; holds no secret, so its mode does not matter)::

    {
      "issuer_url":    "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA",  # required, the token's iss
      "client_id":     "702vqsrjicklgb7c5b7b50i1gc",     # required, the token's aud (a public client)
      "discovery_url": "https://127.0.0.1:4566/us-west-2_re1u6bpRA/.well-known/openid-configuration",
                                                         # optional, default issuer_url + /.well-known/openid-configuration
      "ca_file":       "/path/ca.pem",                   # optional CA bundle for every HTTPS call
      "cognito": {                                       # optional: talk to Cognito's API (InitiateAuth)
        "region": "us-west-2",                           #   default: the prefix of user_pool_id
        "user_pool_id": "us-west-2_re1u6bpRA",
        "endpoint_url": "https://127.0.0.1:4566"         #   optional, default https://cognito-idp.REGION.amazonaws.com
      },
      "login": "browser",                                # "browser" (default) or "password"
      "username": "test@example.com",                    # login "password": the user
      "password_file": "~/.kube/kubeauth-password",      # login "password": a file of mode 0600 holding the password
      "scopes": ["openid", "email"],                     # optional, browser and OIDC password logins
      "redirect_uri": "http://localhost:8000",           # optional, browser login: a localhost URL the client allows
      "open_browser": true,                              # optional, browser login: also try to open a browser
      "login_timeout": 300,                              # optional, seconds to wait for the browser login
      "cache_dir": "~/.kube/cache/kubeauth-eks-oidc"     # optional
    }

How a token is found, in order:

1. the cached ID token while it is valid for more than EXPIRY_SKEW seconds
   (this path imports nothing beyond json, os, sys and time: it is what every
   kubectl command pays);
2. a refresh with the cached refresh token: Cognito InitiateAuth
   REFRESH_TOKEN_AUTH when the token came from Cognito's API, else the
   issuer's token endpoint (refresh_token grant, found through discovery);
3. a login: ``browser`` (authorization code with PKCE, the callback served on
   localhost, the URL printed on stderr) or ``password`` (Cognito
   USER_PASSWORD_AUTH when ``cognito`` is set, else the OIDC password grant),
   the non-interactive choice for CI.

Steps 2 and 3 hold a lock (flock) on CACHE.lock and look at the cache again
once they have it, so kubectl commands run in parallel refresh once. The cache
directory is 0700, the cache files 0600, written atomically. Errors are one
line on stderr, exit status 1; no token, refresh token or password is ever
written to stderr.

The module_utils of kubeauth.eks_oidc import this file for what the module
oidc_token_info shares with the plugin: decoding a JWT without verifying it,
discovery, and the token endpoint grants.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import time

DEFAULT_CACHE_DIR = "~/.kube/cache/kubeauth-eks-oidc"
# A cached token is used while it stays valid this many seconds more, and
# kubectl is told it expires this much earlier, so no request leaves with a
# token that expires on its way.
EXPIRY_SKEW = 60
DEFAULT_SCOPES = ("openid", "email")
DEFAULT_REDIRECT_URI = "http://localhost:8000"
DEFAULT_LOGIN_TIMEOUT = 300
HTTP_TIMEOUT = 30
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
COGNITO_TARGET = "AWSCognitoIdentityProviderService."
USAGE = "usage: credential_plugin.py get-token --config CONFIG.json [--login]"
PROG = "kubeauth-eks-oidc"


class PluginError(Exception):
    """A failure the user can act on; the message (one line, no secret) says how."""


class TokenRejected(PluginError):
    """The identity provider refused a grant (expired or revoked refresh token, wrong password)."""


# ---------------------------------------------------------------------------
# JWT without verification (shared with module_utils/oidc.py)
# ---------------------------------------------------------------------------

def b64url_decode(segment):
    """Bytes of a base64url segment, with or without its '=' padding (JWTs drop it)."""
    import base64
    import binascii

    if isinstance(segment, bytes):
        segment = segment.decode("ascii")
    segment = segment.strip()
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as e:
        raise PluginError("not base64url: %s" % e)


def jwt_part(token, index):
    """The JSON object in part ``index`` (0 header, 1 payload) of a JWT, NOT verified."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise PluginError("not a JWT: expected 3 dot-separated parts, got %d" % len(parts))
    try:
        value = json.loads(b64url_decode(parts[index]).decode("utf-8"))
    except (PluginError, UnicodeDecodeError, ValueError):
        raise PluginError("not a JWT: its %s is not base64url-encoded JSON" % ("header", "payload")[index])
    if not isinstance(value, dict):
        raise PluginError("not a JWT: its %s is not a JSON object" % ("header", "payload")[index])
    return value


def jwt_header(token):
    """The header of a JWT, NOT verified."""
    return jwt_part(token, 0)


def jwt_claims(token):
    """The payload (claims) of a JWT, NOT verified: for display and for reading ``exp``."""
    return jwt_part(token, 1)


def token_expiry(token):
    """The ``exp`` of a JWT as epoch seconds (NOT verified)."""
    exp = jwt_claims(token).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise PluginError("the ID token has no numeric exp claim")
    return int(exp)


def rfc3339(epoch):
    """Epoch seconds as RFC 3339 UTC, as Kubernetes writes timestamps."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


# ---------------------------------------------------------------------------
# HTTPS, discovery, token endpoint, Cognito (shared with module_utils/oidc.py)
# ---------------------------------------------------------------------------

def _url_for_message(url):
    """``url`` without query or fragment: codes and states stay out of messages."""
    return url.split("?", 1)[0].split("#", 1)[0]


def http_json(url, data=None, headers=None, ca_file=None, timeout=HTTP_TIMEOUT):
    """(status, JSON document) of a GET, or a POST when ``data`` (bytes) is given.

    HTTP error statuses are returned, not raised: their JSON bodies (None when
    not JSON) say why. Unreachable hosts, TLS failures and a 200 that is not
    JSON raise PluginError.
    """
    import ssl
    import urllib.error
    import urllib.request

    try:
        context = ssl.create_default_context(cafile=os.path.expanduser(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as e:
        raise PluginError("cannot use ca_file %s: %s" % (ca_file, e))
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}), method="GET" if data is None else "POST")
    request.add_header("Accept", "application/json")
    try:
        with opener.open(request, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        hint = "; set ca_file to the CA bundle that signed its certificate" if isinstance(reason, ssl.SSLCertVerificationError) else ""
        raise PluginError("cannot reach %s: %s%s" % (_url_for_message(url), reason, hint))
    try:
        document = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        if status == 200:
            raise PluginError("%s answered with a body that is not JSON" % _url_for_message(url))
        document = None  # an error page: the caller says what the status means
    return status, document


def discovery_url_of(issuer_url, discovery_url=None):
    """Where the issuer's OpenID configuration is: ``discovery_url`` or the well-known URL under the issuer."""
    return discovery_url or issuer_url.rstrip("/") + "/.well-known/openid-configuration"


def discover(issuer_url, discovery_url=None, ca_file=None):
    """The issuer's OpenID configuration, checked to name ``issuer_url`` as its issuer (OIDC Discovery 1.0, 4.3)."""
    url = discovery_url_of(issuer_url, discovery_url)
    status, document = http_json(url, ca_file=ca_file)
    if status != 200 or not isinstance(document, dict):
        raise PluginError("OIDC discovery at %s answered HTTP %d; check issuer_url or discovery_url" % (url, status))
    if document.get("issuer") != issuer_url:
        raise PluginError(
            "the discovery document at %s names the issuer %r, not issuer_url %r; use the issuer exactly as the "
            "tokens' iss claim and the cluster's identity provider config spell it" % (url, document.get("issuer"), issuer_url)
        )
    return document


def _endpoint(discovery, name):
    url = discovery.get(name)
    if not url:
        raise PluginError("the issuer's discovery document has no %s" % name)
    return url


def _oauth_error(document):
    if isinstance(document, dict) and document.get("error"):
        description = document.get("error_description")
        return "%s%s" % (document["error"], ": %s" % description if description else "")
    return "no error given"


def token_grant(token_endpoint, form, ca_file=None):
    """POST an OAuth 2.0 grant (a dict of form fields) to a token endpoint; its JSON answer.

    An ``invalid_grant`` (expired or revoked refresh token, wrong password,
    used code) raises TokenRejected; other failures PluginError.
    """
    import urllib.parse

    data = urllib.parse.urlencode(form).encode("ascii")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, document = http_json(token_endpoint, data=data, headers=headers, ca_file=ca_file)
    if status == 200 and isinstance(document, dict) and document.get("id_token"):
        return document
    grant = form.get("grant_type")
    if status == 200:
        raise PluginError(
            "the token endpoint answered the %s grant without an id_token; request the 'openid' scope" % grant
        )
    error = _oauth_error(document)
    if isinstance(document, dict) and document.get("error") == "invalid_grant":
        raise TokenRejected("the identity provider refused the %s grant (%s)" % (grant, error))
    raise PluginError("the token endpoint %s refused the %s grant: HTTP %d, %s" % (_url_for_message(token_endpoint), grant, status, error))


def refresh_grant(token_endpoint, client_id, refresh_token, ca_file=None):
    """A new token set for a refresh token, from the issuer's token endpoint."""
    return token_grant(token_endpoint, {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}, ca_file)


def password_grant(token_endpoint, client_id, username, password, scopes=DEFAULT_SCOPES, ca_file=None):
    """A token set from the OAuth 2.0 password grant (issuers other than Cognito)."""
    form = {"grant_type": "password", "client_id": client_id, "username": username, "password": password, "scope": " ".join(scopes)}
    return token_grant(token_endpoint, form, ca_file)


def cognito_endpoint(region, endpoint_url=None):
    """The Cognito user pools API endpoint of ``region`` (or ``endpoint_url``, such as the sandbox)."""
    if endpoint_url:
        return endpoint_url.rstrip("/") + "/"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return "https://cognito-idp.%s.%s/" % (region, suffix)


def cognito_initiate_auth(region, client_id, auth_flow, auth_parameters, endpoint_url=None, ca_file=None):
    """Cognito InitiateAuth (no AWS credentials needed): its AuthenticationResult.

    A challenge (NEW_PASSWORD_REQUIRED, MFA, ...) raises PluginError saying
    what the user must do; NotAuthorizedException raises TokenRejected.
    """
    url = cognito_endpoint(region, endpoint_url)
    body = json.dumps({"AuthFlow": auth_flow, "ClientId": client_id, "AuthParameters": auth_parameters}).encode("utf-8")
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": COGNITO_TARGET + "InitiateAuth"}
    status, document = http_json(url, data=body, headers=headers, ca_file=ca_file)
    document = document if isinstance(document, dict) else {}
    if status == 200 and document.get("AuthenticationResult", {}).get("IdToken"):
        return document["AuthenticationResult"]
    if status == 200 and document.get("ChallengeName"):
        raise PluginError(
            "Cognito answered %s with the challenge %s, which this plugin cannot answer; finish the user's setup first "
            "(for NEW_PASSWORD_REQUIRED: give the user a permanent password, e.g. kubeauth.eks_oidc.cognito_user "
            "with password)" % (auth_flow, document["ChallengeName"])
        )
    error = str(document.get("__type", "HTTP %d" % status)).rsplit("#", 1)[-1]
    message = document.get("message") or document.get("Message") or ""
    text = "Cognito refused %s: %s%s" % (auth_flow, error, " (%s)" % message if message else "")
    if error == "NotAuthorizedException":
        raise TokenRejected(text)
    raise PluginError(text)


# ---------------------------------------------------------------------------
# Config and cache
# ---------------------------------------------------------------------------

def load_config(path):
    """The plugin config at ``path``, checked; PluginError names what is wrong."""
    try:
        with open(os.path.expanduser(path)) as handle:
            config = json.load(handle)
    except (OSError, ValueError) as e:
        raise PluginError("cannot read config %s: %s" % (path, e))
    problem = config_problem(config)
    if problem:
        raise PluginError("config %s: %s" % (path, problem))
    return config


def config_problem(config):
    """What is wrong with a config dict, or None."""
    if not isinstance(config, dict):
        return "must be a JSON object"
    for key in ("issuer_url", "client_id"):
        if not isinstance(config.get(key), str) or not config[key]:
            return "%s is required (a string)" % key
    login = config.get("login", "browser")
    if login not in ("browser", "password"):
        return "login must be 'browser' or 'password', got %r" % (login,)
    if login == "password" and not (config.get("username") and config.get("password_file")):
        return "login 'password' needs username and password_file (a file of mode 0600 holding the password)"
    for secret in ("password", "refresh_token", "id_token", "client_secret"):
        if secret in config:
            return "%s must not be in the config; login 'password' reads the password from password_file" % secret
    cognito = config.get("cognito")
    if cognito is not None:
        if not isinstance(cognito, dict):
            return "cognito must be an object {region, user_pool_id, endpoint_url}"
        if not (cognito.get("region") or cognito.get("user_pool_id")):
            return "cognito needs region or user_pool_id"
    scopes = config.get("scopes", DEFAULT_SCOPES)
    if not isinstance(scopes, (list, tuple)) or "openid" not in scopes:
        return "scopes must be a list that includes 'openid'"
    return None


def cache_file_of(config):
    """The cache file of a config: one per issuer, client and (for password logins) user."""
    directory = os.path.expanduser(config.get("cache_dir") or DEFAULT_CACHE_DIR)
    key = "%s_%s_%s" % (config["issuer_url"].split("://", 1)[-1], config["client_id"], config.get("username") or "")
    name = "".join(c if c.isalnum() or c in ".@-" else "_" for c in key.rstrip("_"))
    if len(name) > 180:
        import zlib

        name = "%s_%08x" % (name[:170], zlib.crc32(key.encode("utf-8")))
    return os.path.join(directory, name + ".json")


def read_cache(path):
    """The cached token set at ``path``, or None. A file others may read is made private again."""
    try:
        with open(path) as handle:
            if os.fstat(handle.fileno()).st_mode & 0o077:
                os.fchmod(handle.fileno(), 0o600)
            cached = json.load(handle)
    except (OSError, ValueError):
        return None
    return cached if isinstance(cached, dict) else None


def cache_is_fresh(cached, config, now, skew=EXPIRY_SKEW):
    """Whether ``cached`` belongs to ``config`` and its ID token stays valid for more than ``skew`` seconds."""
    if not cached or not isinstance(cached.get("id_token"), str):
        return False
    if not _same_client(cached, config):
        return False
    expires_at = cached.get("expires_at")
    if isinstance(expires_at, bool) or not isinstance(expires_at, (int, float)):
        return False
    return expires_at - skew > now


def exec_credential(token, expires_at, api_version=EXEC_API_VERSIONS[0], skew=EXPIRY_SKEW):
    """The ExecCredential kubectl reads; it expires ``skew`` seconds before the token does."""
    return {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "status": {"token": token, "expirationTimestamp": rfc3339(expires_at - skew)},
    }


def ensure_private_dir(path):
    """Create ``path`` (mode 0700), or take group and other access away from it."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o700)


def write_private_json(path, document):
    """Write ``document`` to ``path`` atomically, mode 0600: readers see the old or the new file, whole."""
    import tempfile

    directory, name = os.path.split(path)
    ensure_private_dir(directory)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix="." + name + ".", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class CacheLock(object):
    """An exclusive flock on ``path`` (created 0600), waited for up to ``timeout`` seconds."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        import fcntl

        ensure_private_dir(os.path.dirname(self.path))
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (BlockingIOError, InterruptedError):
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise PluginError(
                        "another kubectl command has been logging in for %d s (lock %s); finish that login, "
                        "or stop it and try again" % (self.timeout, self.path)
                    )
                time.sleep(0.02)

    def __exit__(self, *exc):
        os.close(self.fd)  # releases the lock
        return False


def read_password(path):
    """The password in ``path``, refused unless the file is private (0600 or stricter)."""
    path = os.path.expanduser(path)
    try:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            raise PluginError("password_file %s may be read by other users (mode %04o); run: chmod 600 %s" % (path, mode & 0o7777, path))
        with open(path) as handle:
            password = handle.read().rstrip("\r\n")
    except OSError as e:
        raise PluginError("cannot read password_file %s: %s" % (path, e.strerror or e))
    if not password:
        raise PluginError("password_file %s is empty" % path)
    return password


# ---------------------------------------------------------------------------
# Refresh and login
# ---------------------------------------------------------------------------

def _cognito_settings(config):
    cognito = config["cognito"]
    region = cognito.get("region") or cognito["user_pool_id"].split("_", 1)[0]
    return region, cognito.get("endpoint_url")


def _discovery(config):
    return discover(config["issuer_url"], config.get("discovery_url"), config.get("ca_file"))


def cache_entry(config, source, id_token, refresh_token, now):
    """What the cache keeps of a token set, after checking that the token suits the config."""
    claims = jwt_claims(id_token)
    if claims.get("iss") != config["issuer_url"]:
        raise PluginError(
            "the identity provider issued a token for the issuer %r, not issuer_url %r; the cluster would refuse it"
            % (claims.get("iss"), config["issuer_url"])
        )
    audience = claims.get("aud")
    if config["client_id"] not in (audience if isinstance(audience, list) else [audience]):
        raise PluginError("the ID token's audience %r does not include client_id %r" % (audience, config["client_id"]))
    return {
        "issuer_url": config["issuer_url"],
        "client_id": config["client_id"],
        "username": config.get("username"),
        "source": source,
        "id_token": id_token,
        "refresh_token": refresh_token,
        "expires_at": token_expiry(id_token),
        "obtained_at": int(now),
    }


def refresh(config, cached, now):
    """A new cache entry from the cached refresh token; TokenRejected when the provider refuses it."""
    refresh_token = cached["refresh_token"]
    if cached.get("source") == "cognito" and config.get("cognito"):
        region, endpoint_url = _cognito_settings(config)
        result = cognito_initiate_auth(
            region, config["client_id"], "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, endpoint_url, config.get("ca_file")
        )
        # Cognito keeps the refresh token unless rotation is on, when it sends a new one.
        return cache_entry(config, "cognito", result["IdToken"], result.get("RefreshToken") or refresh_token, now)
    tokens = refresh_grant(_endpoint(_discovery(config), "token_endpoint"), config["client_id"], refresh_token, config.get("ca_file"))
    return cache_entry(config, "oidc", tokens["id_token"], tokens.get("refresh_token") or refresh_token, now)


def password_login(config, now):
    """Log in with username and password_file: Cognito USER_PASSWORD_AUTH, else the OIDC password grant."""
    password = read_password(config["password_file"])
    if config.get("cognito"):
        region, endpoint_url = _cognito_settings(config)
        parameters = {"USERNAME": config["username"], "PASSWORD": password}
        result = cognito_initiate_auth(region, config["client_id"], "USER_PASSWORD_AUTH", parameters, endpoint_url, config.get("ca_file"))
        return cache_entry(config, "cognito", result["IdToken"], result.get("RefreshToken"), now)
    token_endpoint = _endpoint(_discovery(config), "token_endpoint")
    scopes = config.get("scopes", DEFAULT_SCOPES)
    tokens = password_grant(token_endpoint, config["client_id"], config["username"], password, scopes, config.get("ca_file"))
    return cache_entry(config, "oidc", tokens["id_token"], tokens.get("refresh_token"), now)


def _localhost_redirect(redirect_uri):
    """(host, port, path) to listen on for ``redirect_uri``, which must be http on localhost with a port."""
    import urllib.parse

    parts = urllib.parse.urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1") or not parts.port:
        raise PluginError("redirect_uri must be http://localhost:PORT[/path] or http://127.0.0.1:PORT[/path], got %r" % redirect_uri)
    return "127.0.0.1", parts.port, parts.path or "/"


def pkce_pair():
    """(code_verifier, code_challenge) for PKCE S256 (RFC 7636)."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")
    return verifier, challenge


def browser_login(config, now):
    """Authorization code flow with PKCE: the user logs in in a browser, the code comes back to localhost."""
    import http.server
    import secrets
    import urllib.parse

    discovery = _discovery(config)
    authorization_endpoint = _endpoint(discovery, "authorization_endpoint")
    token_endpoint = _endpoint(discovery, "token_endpoint")
    redirect_uri = config.get("redirect_uri") or DEFAULT_REDIRECT_URI
    host, port, path = _localhost_redirect(redirect_uri)
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    received = {}

    class Callback(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            parts = urllib.parse.urlsplit(self.path)
            if parts.path != path:
                self.send_error(404)
                return
            received.update((k, v[0]) for k, v in urllib.parse.parse_qs(parts.query).items())
            done = "code" in received or "error" in received
            self.send_response(200 if done else 400)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            text = "Login finished; you can close this tab and return to kubectl." if done else "No authorization code in this request."
            self.wfile.write(("<!doctype html><title>kubeauth</title><p>%s</p>" % text).encode("utf-8"))

        def log_message(self, *args):  # the request line holds the code: keep it off stderr
            pass

    try:
        server = http.server.HTTPServer((host, port), Callback)
    except OSError as e:
        raise PluginError(
            "cannot listen on %s:%d for the login callback (%s); set redirect_uri in the config to a free localhost "
            "port that the app client allows as a callback URL" % (host, port, e.strerror or e)
        )
    query = urllib.parse.urlencode({
        "response_type": "code",
        "client_id": config["client_id"],
        "redirect_uri": redirect_uri,
        "scope": " ".join(config.get("scopes", DEFAULT_SCOPES)),
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    url = authorization_endpoint + ("&" if "?" in authorization_endpoint else "?") + query
    sys.stderr.write("%s: log in with your browser: %s\n" % (PROG, url))
    sys.stderr.flush()
    if config.get("open_browser", True):
        try:
            import webbrowser

            webbrowser.open(url)
        except Exception:  # no browser here: the URL on stderr is enough
            pass
    timeout = config.get("login_timeout", DEFAULT_LOGIN_TIMEOUT)
    deadline = time.monotonic() + timeout
    try:
        while "code" not in received and "error" not in received:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PluginError("no login within %d s; run the command again to get a new login URL" % timeout)
            server.timeout = remaining
            server.handle_request()
    finally:
        server.server_close()
    if received.get("state") != state:
        raise PluginError("the login callback carried a wrong state; start the login again")
    if "error" in received:
        raise PluginError("the identity provider refused the login: %s" % _oauth_error(received))
    form = {
        "grant_type": "authorization_code",
        "client_id": config["client_id"],
        "code": received["code"],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    tokens = token_grant(token_endpoint, form, config.get("ca_file"))
    if jwt_claims(tokens["id_token"]).get("nonce") not in (None, nonce):
        raise PluginError("the ID token carries a nonce other than the login's; start the login again")
    return cache_entry(config, "oidc", tokens["id_token"], tokens.get("refresh_token"), now)


def login_command(config_path, cache_file):
    return "run `%s -I -S %s get-token --config %s --login` in a terminal, or delete %s" % (
        sys.executable or "python3", os.path.abspath(__file__), config_path, cache_file)


def _same_client(cached, config):
    return cached.get("issuer_url") == config["issuer_url"] and cached.get("client_id") == config["client_id"]


def obtain(config, config_path, cache_file, force_login, interactive):
    """A fresh cache entry: the cache again under the lock, else a refresh, else a login."""
    timeout = config.get("login_timeout", DEFAULT_LOGIN_TIMEOUT) + 60
    with CacheLock(cache_file + ".lock", timeout):
        now = time.time()
        cached = read_cache(cache_file)
        if not force_login and cache_is_fresh(cached, config, now):
            return cached  # another kubectl refreshed while this one waited for the lock
        entry, why = None, None
        if not force_login and cached and cached.get("refresh_token") and _same_client(cached, config):
            try:
                entry = refresh(config, cached, now)
            except TokenRejected as e:
                why = e
        if entry is None:
            if config.get("login", "browser") == "password":
                entry = password_login(config, now)
            elif interactive or force_login:
                entry = browser_login(config, now)
            else:
                reason = "%s; " % why if why else "no cached login; "
                raise PluginError("%slog in again: %s" % (reason, login_command(config_path, cache_file)))
        write_private_json(cache_file, entry)
        return entry


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def parse_args(argv):
    """(config path, force login) from ``get-token --config PATH [--login]``."""
    if argv[:1] != ["get-token"]:
        raise PluginError(USAGE)
    config_path, force_login, rest = None, False, list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg == "--config" and rest:
            config_path = rest.pop(0)
        elif arg.startswith("--config="):
            config_path = arg.split("=", 1)[1]
        elif arg == "--login":
            force_login = True
        else:
            raise PluginError("unexpected argument %r; %s" % (arg, USAGE))
    if not config_path:
        raise PluginError(USAGE)
    return config_path, force_login


def exec_info():
    """What kubectl says about this call (KUBERNETES_EXEC_INFO): apiVersion, spec.interactive."""
    try:
        info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
    except ValueError:
        info = {}
    return info if isinstance(info, dict) else {}


def main(argv=None):
    """Print an ExecCredential and return 0, or print one line on stderr and return 1."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        sys.stdout.write(__doc__)
        return 0
    try:
        config_path, force_login = parse_args(argv)
        config = load_config(config_path)
        cache_file = cache_file_of(config)
        info = exec_info()
        api_version = info.get("apiVersion") if info.get("apiVersion") in EXEC_API_VERSIONS else EXEC_API_VERSIONS[0]
        cached = None if force_login else read_cache(cache_file)
        if not cache_is_fresh(cached, config, time.time()):
            spec = info.get("spec") if isinstance(info.get("spec"), dict) else {}
            interactive = spec.get("interactive", sys.stderr.isatty()) is True
            cached = obtain(config, config_path, cache_file, force_login, interactive)
        if force_login and sys.stdout.isatty():
            sys.stderr.write("%s: logged in; token cached in %s until %s\n" % (PROG, cache_file, rfc3339(cached["expires_at"])))
            return 0
        sys.stdout.write(json.dumps(exec_credential(cached["id_token"], cached["expires_at"], api_version)) + "\n")
        return 0
    except PluginError as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % PROG)
    except Exception as e:  # one line, never a traceback with local values
        sys.stderr.write("%s: unexpected %s: %s\n" % (PROG, type(e).__name__, e))
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
