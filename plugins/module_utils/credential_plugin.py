# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""kubectl exec credential plugin for an OpenID Connect identity provider; Python standard library only.

kubectl runs it before every request that needs a credential::

    /abs/path/python3 -I -S credential_plugin.py get-token --config CONFIG.json [--login]

and reads an ExecCredential (client.authentication.k8s.io/v1) from stdout:
``status.token`` is the ID token, ``status.expirationTimestamp`` (RFC 3339)
the moment kubectl must ask again. ``--login`` ignores the cache and logs in.

Config (JSON; holds no secret, but decides where tokens go, so it must be yours and writable by you only)::

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
      "login_timeout": 300,                              # optional, seconds (1 to 3600) to wait for the browser login
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
once they have it, so kubectl commands run in parallel refresh once. Errors
are one line on stderr, exit status 1; no token, refresh token or password is
ever written to stderr: server text is scrubbed of anything secret-shaped.

What the plugin trusts, and how it checks:

* https only: every URL a password, token or key set travels over (issuer_url,
  discovery_url, the discovery document's endpoints, Cognito's endpoint_url,
  redirects) must be https, loopback included; anything else is refused
  before a request is made. Only the browser login's own callback
  (redirect_uri) is plain http, on loopback, as RFC 8252 has it.
* Files, as ssh checks ~/.ssh: the plugin's directory and the config must
  belong to the user running the plugin and be writable by nobody else; the
  cache directory (0700), the cache, lock and password files (0600) must be
  the user's and private, and are opened without following symbolic links.
  Anything else is refused, naming the path and what is wrong; nothing is
  adopted or changed.
* Time: each HTTP exchange has one deadline (HTTP_TIMEOUT s) for all of it,
  the lock is waited for LOCK_TIMEOUT s (plus login_timeout for browser
  logins), and an ID token that has expired, or expires within EXPIRY_SKEW
  s, is neither cached nor handed to kubectl.

The module_utils of kubeauth.eks_oidc import this file for what the module
oidc_token_info shares with the plugin: decoding a JWT without verifying it,
discovery, the token endpoint grants, the https rule and the scrubbing of
error text.
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
MAX_LOGIN_TIMEOUT = 3600
# Seconds one HTTP exchange may take in all (name lookup, connection, TLS,
# request, the whole answer), and the most of an answer that is read.
HTTP_TIMEOUT = 30
MAX_ANSWER_BYTES = 1 << 20
# Seconds to wait for the lock another kubectl holds while it refreshes
# (browser logins add login_timeout: the other one may be waiting for a person).
LOCK_TIMEOUT = 30
# Seconds the login callback server gives one connection to send its request.
CALLBACK_CONNECTION_TIMEOUT = 10
# 9999-12-31T23:59:59Z: the last moment an RFC 3339 timestamp can name.
LATEST_EPOCH = 253402300799
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
    """The ``exp`` of a JWT as epoch seconds (NOT verified), refused unless a time between 1970 and 9999."""
    exp = jwt_claims(token).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise PluginError("the ID token has no numeric exp claim")
    if not 0 < exp <= LATEST_EPOCH:  # also false for NaN
        raise PluginError(
            "the ID token's exp claim %r is not a time between 1970 and the year 9999; the identity provider "
            "issues broken tokens: ask its administrator" % (exp,)
        )
    return int(exp)


def rfc3339(epoch):
    """Epoch seconds as RFC 3339 UTC, as Kubernetes writes timestamps."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


# ---------------------------------------------------------------------------
# HTTPS, discovery, token endpoint, Cognito (shared with module_utils/oidc.py)
# ---------------------------------------------------------------------------

HIDDEN = "[hidden]"
# Three to five base64url parts whose first one is a JSON object: a JWT (JWS or JWE).
JWT_SHAPE = r"\b(?:eyJ|eyAi|ewo|ew0K)[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){2,4}"
# A secret parameter in a form, a query or JSON (refresh_token=..., "PASSWORD": "...", RefreshToken: ...).
SECRET_PARAMETER = (
    r"(?i)(?P<name>(?:refresh_?token|access_?token|id_?token|password|client_?secret|code_?verifier|secret_?hash)[\"']?)"
    r"(?P<separator>\s*[=:]\s*)(?P<value>\"(?:[^\"\\]|\\.)*\"?|'[^']*'?|[^\s\"'&,;)}\]]+)"
)
BEARER = r"(?i)\b(?P<name>bearer\s+)[A-Za-z0-9._~+/=-]+"
# Form fields of a grant whose values must never show in an error.
SECRET_FORM_FIELDS = ("password", "refresh_token", "code", "code_verifier", "client_secret")


def scrub(text, secret_values=()):
    """``text`` with everything secret-shaped replaced by [hidden], before it can reach stderr or a result.

    Removes ``secret_values`` (the password, refresh token, code in play; as
    they are, form-encoded or JSON-escaped), JWT-shaped strings, the values of
    refresh_token=, access_token=, id_token=, password=, client_secret= (and
    their JSON and Cognito spellings) and bearer tokens: what an identity
    provider that echoes the request would put in its error_description.
    """
    import re
    import urllib.parse

    text = str(text)
    shapes = set()
    for value in secret_values:
        if isinstance(value, str) and value:
            shapes.update((value, urllib.parse.quote_plus(value), urllib.parse.quote(value, safe=""), json.dumps(value)[1:-1]))
    for shape in sorted(shapes, key=len, reverse=True):
        text = text.replace(shape, HIDDEN)
    text = re.sub(JWT_SHAPE, HIDDEN, text)
    text = re.sub(SECRET_PARAMETER, lambda m: m.group("name") + m.group("separator") + HIDDEN, text)
    return re.sub(BEARER, lambda m: m.group("name") + HIDDEN, text)


def _url_for_message(url):
    """``url`` without query or fragment: codes and states stay out of messages."""
    return url.split("?", 1)[0].split("#", 1)[0]


def https_problem(url, name):
    """Why ``url`` (what the config or a server calls ``name``) may not be used, or None when it is https."""
    if isinstance(url, str) and url[:8].lower() == "https://" and url[8:9] not in ("", "/"):
        return None
    shown = _url_for_message(url) if isinstance(url, str) else repr(url)
    return (
        "%s %s is not https: over plain http the passwords and tokens sent to it, and the tokens and keys it "
        "answers, travel in clear for anyone on the network path to read or change (loopback is no exception); "
        "use the identity provider's https:// URL" % (name, shown)
    )


def require_https(url, name):
    """Raise PluginError, before any request, unless ``url`` is https."""
    problem = https_problem(url, name)
    if problem:
        raise PluginError(problem)


def run_within(seconds, work, late):
    """``work()``'s result, or PluginError(``late``) once ``seconds`` have passed; its exceptions pass through.

    The work runs in a daemon thread: socket timeouts bound each read, not a
    whole answer (a server may send one byte a second), and name lookups have
    no timeout at all. A late worker is left to its socket timeout; the
    process does not wait for it.
    """
    import threading

    outcome = {}

    def run():
        try:
            outcome["result"] = work()
        except BaseException as e:  # handed to the caller's thread
            outcome["error"] = e

    worker = threading.Thread(target=run, name="kubeauth-eks-oidc-http", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise PluginError(late)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _https_opener(ca_file):
    """A urllib opener for https only: its redirects must be https too."""
    import ssl
    import urllib.request

    class HttpsRedirectsOnly(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            require_https(newurl, "the redirect from %s to" % _url_for_message(req.full_url))
            return urllib.request.HTTPRedirectHandler.redirect_request(self, req, fp, code, msg, headers, newurl)

    try:
        context = ssl.create_default_context(cafile=os.path.expanduser(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as e:
        raise PluginError("cannot use ca_file %s: %s" % (ca_file, e))
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), HttpsRedirectsOnly())


def _read_answer(response, url):
    body = response.read(MAX_ANSWER_BYTES + 1)
    if len(body) > MAX_ANSWER_BYTES:
        raise PluginError("%s answered with more than %d bytes; check the URL" % (_url_for_message(url), MAX_ANSWER_BYTES))
    return body


def _https_exchange(url, data, headers, ca_file, timeout):
    """(status, body) of one request; ``timeout`` bounds each socket operation."""
    import ssl
    import urllib.error
    import urllib.request

    opener = _https_opener(ca_file)
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}), method="GET" if data is None else "POST")
    request.add_header("Accept", "application/json")
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, _read_answer(response, url)
    except urllib.error.HTTPError as e:
        return e.code, _read_answer(e, url)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        hint = "; set ca_file to the CA bundle that signed its certificate" if isinstance(reason, ssl.SSLCertVerificationError) else ""
        raise PluginError("cannot reach %s: %s%s" % (_url_for_message(url), reason, hint))


def http_json(url, data=None, headers=None, ca_file=None, timeout=HTTP_TIMEOUT):
    """(status, JSON document) of a GET, or a POST when ``data`` (bytes) is given; https only.

    The whole exchange ends within ``timeout`` seconds, so a server that
    answers a byte at a time holds neither the plugin nor its lock. HTTP error
    statuses are returned, not raised: their JSON bodies (None when not JSON)
    say why. A plain http URL (refused before any request), a redirect to one,
    unreachable hosts, TLS failures, a late or oversized answer and a 200 that
    is not JSON raise PluginError.
    """
    require_https(url, "the URL")
    late = "%s did not answer within %d s; check the URL and the network, then try again" % (_url_for_message(url), timeout)
    status, body = run_within(timeout, lambda: _https_exchange(url, data, headers, ca_file, timeout), late)
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


# The endpoints of a discovery document that tokens, codes or keys travel over.
DISCOVERED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def discover(issuer_url, discovery_url=None, ca_file=None):
    """The issuer's OpenID configuration, checked to name ``issuer_url`` as its issuer (OIDC Discovery 1.0, 4.3)
    and to hand out https endpoints only."""
    require_https(issuer_url, "issuer_url")
    url = discovery_url_of(issuer_url, discovery_url)
    require_https(url, "discovery_url")
    status, document = http_json(url, ca_file=ca_file)
    if status != 200 or not isinstance(document, dict):
        raise PluginError("OIDC discovery at %s answered HTTP %d; check issuer_url or discovery_url" % (url, status))
    if document.get("issuer") != issuer_url:
        raise PluginError(
            "the discovery document at %s names the issuer %r, not issuer_url %r; use the issuer exactly as the "
            "tokens' iss claim and the cluster's identity provider config spell it" % (url, document.get("issuer"), issuer_url)
        )
    for name in DISCOVERED_ENDPOINTS:
        if document.get(name) is not None:
            require_https(document[name], "the %s that the discovery document at %s hands out," % (name, url))
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
    used code) raises TokenRejected; other failures PluginError. The
    provider's error text is scrubbed, of the grant's own secrets too.
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
    error = scrub(_oauth_error(document), [form.get(field) for field in SECRET_FORM_FIELDS])
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
    """The Cognito user pools API endpoint of ``region`` (or ``endpoint_url``, such as the sandbox): https only."""
    if endpoint_url:
        require_https(endpoint_url, "cognito endpoint_url")
        return endpoint_url.rstrip("/") + "/"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return "https://cognito-idp.%s.%s/" % (region, suffix)


def cognito_initiate_auth(region, client_id, auth_flow, auth_parameters, endpoint_url=None, ca_file=None):
    """Cognito InitiateAuth (no AWS credentials needed): its AuthenticationResult.

    A challenge (NEW_PASSWORD_REQUIRED, MFA, ...) raises PluginError saying
    what the user must do; NotAuthorizedException raises TokenRejected. Cognito's
    error text is scrubbed, of the request's password and refresh token too.
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
    secret_values = [value for name, value in auth_parameters.items() if name != "USERNAME"]
    text = scrub("Cognito refused %s: %s%s" % (auth_flow, error, " (%s)" % message if message else ""), secret_values)
    if error == "NotAuthorizedException":
        raise TokenRejected(text)
    raise PluginError(text)


# ---------------------------------------------------------------------------
# Files the plugin trusts (checked as ssh checks ~/.ssh)
# ---------------------------------------------------------------------------

def access_problem(status, private):
    """What makes a file or directory (its stat result) unsafe to trust, or None.

    It must belong to the user running the plugin and be writable by nobody
    else; a ``private`` one (token cache, lock, password, their directory) also
    readable by nobody else.
    """
    uid = os.geteuid()
    if status.st_uid != uid:
        return "owned by uid %d, not you (uid %d)" % (status.st_uid, uid)
    loose = status.st_mode & (0o077 if private else 0o022)
    access = {}  # "writable": ["group", "others"], ...
    for who, bits in (("group", loose >> 3 & 0o7), ("others", loose & 0o7)):
        if bits:
            access.setdefault("writable" if bits & 0o2 else "readable" if bits & 0o4 else "accessible", []).append(who)
    if not access:
        return None
    return "%s (mode %04o)" % (", ".join("%s by %s" % (how, " and ".join(who)) for how, who in access.items()), status.st_mode & 0o7777)


def check_trusted(path, what, status, private):
    """PluginError naming ``path`` and what is wrong with it, unless access_problem finds nothing; changes nothing."""
    problem = access_problem(status, private)
    if not problem:
        return
    if status.st_uid != os.geteuid():
        raise PluginError(
            "%s %s is %s; it is refused and nothing was changed: another user may have planted it, remove it (as root "
            "if need be) or use a path of your own" % (what, path, problem)
        )
    raise PluginError("%s %s is %s; run: chmod %o %s (until then it is refused; nothing was changed)"
                      % (what, path, problem, status.st_mode & 0o7777 & ~(0o077 if private else 0o022), path))


def check_trusted_dir(path, what, private):
    """check_trusted for a directory; a symbolic link to it is fine (~/.kube may be one): its target is what is checked."""
    check_trusted(path, what, os.stat(path), private)


def open_private_file(path, what, flags):
    """A file descriptor of ``path`` (created 0600 when ``flags`` has O_CREAT), never through a symbolic link,
    checked to be the user's own and private; OSError when it cannot be opened."""
    try:
        # O_NONBLOCK: a FIFO put in the file's place cannot make the open wait.
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o600)
    except OSError:
        if os.path.islink(path):
            raise PluginError("%s %s is a symbolic link, which is never followed; remove it (nothing was changed)" % (what, path))
        raise
    try:
        check_trusted(path, what, os.fstat(fd), private=True)
    except PluginError:
        os.close(fd)
        raise
    return fd


def check_plugin_dir():
    """The directory of this file must be the user's own and writable by nobody else: kubectl runs what is in it."""
    check_trusted_dir(os.path.dirname(os.path.abspath(__file__)), "the plugin's directory", private=False)


# ---------------------------------------------------------------------------
# Config and cache
# ---------------------------------------------------------------------------

def load_config(path):
    """The plugin config at ``path``, checked (its owner and mode too); PluginError names what is wrong."""
    try:
        with open(os.path.expanduser(path)) as handle:
            check_trusted(path, "config", os.fstat(handle.fileno()), private=False)
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
    for key in ("issuer_url", "discovery_url"):
        if config.get(key) and https_problem(config[key], key):
            return https_problem(config[key], key)
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
        if cognito.get("endpoint_url") and https_problem(cognito["endpoint_url"], "cognito endpoint_url"):
            return https_problem(cognito["endpoint_url"], "cognito endpoint_url")
    scopes = config.get("scopes", DEFAULT_SCOPES)
    if not isinstance(scopes, (list, tuple)) or "openid" not in scopes:
        return "scopes must be a list that includes 'openid'"
    login_timeout = config.get("login_timeout", DEFAULT_LOGIN_TIMEOUT)
    if isinstance(login_timeout, bool) or not isinstance(login_timeout, (int, float)) or not 0 < login_timeout <= MAX_LOGIN_TIMEOUT:
        return "login_timeout must be a number of seconds, more than 0 and at most %d, got %r" % (MAX_LOGIN_TIMEOUT, login_timeout)
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
    """The cached token set at ``path``, or None when there is none or it is not a JSON object.

    The cache directory and file must be the user's own and private, the file
    no symbolic link: PluginError otherwise, and nothing is changed.
    """
    try:
        check_trusted_dir(os.path.dirname(path), "cache directory", private=True)
        handle = os.fdopen(open_private_file(path, "cache file", os.O_RDONLY))
    except OSError:  # no cache directory or file yet
        return None
    with handle:
        try:
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
    return now < expires_at - skew and expires_at <= LATEST_EPOCH  # false for NaN too


def exec_credential(token, expires_at, api_version=EXEC_API_VERSIONS[0], skew=EXPIRY_SKEW):
    """The ExecCredential kubectl reads; it expires ``skew`` seconds before the token does."""
    return {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "status": {"token": token, "expirationTimestamp": rfc3339(expires_at - skew)},
    }


def ensure_private_dir(path):
    """Create the cache directory ``path`` (mode 0700) unless it exists; either way it must be the user's own and private.

    A directory someone else created, or one others may use, is refused: never adopted, never chmod-ed.
    """
    try:
        os.makedirs(path, mode=0o700)
    except FileExistsError:
        pass
    check_trusted_dir(path, "cache directory", private=True)


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
        os.replace(temporary, path)  # replaces a symbolic link itself, never its target
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class CacheLock(object):
    """An exclusive flock on ``path`` (beside the cache file, created 0600), waited for up to ``timeout`` seconds."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        import fcntl

        ensure_private_dir(os.path.dirname(self.path))
        self.fd = open_private_file(self.path, "lock file", os.O_RDWR | os.O_CREAT)
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
    """The password in ``path``, a private file of the user's own (0600 or stricter, no symbolic link)."""
    path = os.path.expanduser(path)
    try:
        with os.fdopen(open_private_file(path, "password_file", os.O_RDONLY)) as handle:
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


def cache_entry(config, source, id_token, refresh_token, now, skew=EXPIRY_SKEW):
    """What the cache keeps of a token set, after checking that the token suits the config and is not (nearly) expired."""
    claims = jwt_claims(id_token)
    if claims.get("iss") != config["issuer_url"]:
        raise PluginError(
            "the identity provider issued a token for the issuer %r, not issuer_url %r; the cluster would refuse it"
            % (claims.get("iss"), config["issuer_url"])
        )
    audience = claims.get("aud")
    if config["client_id"] not in (audience if isinstance(audience, list) else [audience]):
        raise PluginError("the ID token's audience %r does not include client_id %r" % (audience, config["client_id"]))
    expires_at = token_expiry(id_token)
    if expires_at - skew <= now:
        raise PluginError(
            "the identity provider issued an ID token that expires at %s, %s; it is neither cached nor given to kubectl: "
            "check this machine's clock, and that the app client's ID token validity is more than %d s"
            % (rfc3339(expires_at), "already past" if expires_at <= now else "less than %d s from now" % skew, skew)
        )
    return {
        "issuer_url": config["issuer_url"],
        "client_id": config["client_id"],
        "username": config.get("username"),
        "source": source,
        "id_token": id_token,
        "refresh_token": refresh_token,
        "expires_at": expires_at,
        "obtained_at": int(now),
    }


def refresh(config, cached):
    """A new cache entry from the cached refresh token; TokenRejected when the provider refuses it."""
    refresh_token = cached["refresh_token"]
    if cached.get("source") == "cognito" and config.get("cognito"):
        region, endpoint_url = _cognito_settings(config)
        result = cognito_initiate_auth(
            region, config["client_id"], "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, endpoint_url, config.get("ca_file")
        )
        # Cognito keeps the refresh token unless rotation is on, when it sends a new one.
        return cache_entry(config, "cognito", result["IdToken"], result.get("RefreshToken") or refresh_token, time.time())
    tokens = refresh_grant(_endpoint(_discovery(config), "token_endpoint"), config["client_id"], refresh_token, config.get("ca_file"))
    return cache_entry(config, "oidc", tokens["id_token"], tokens.get("refresh_token") or refresh_token, time.time())


def password_login(config):
    """Log in with username and password_file: Cognito USER_PASSWORD_AUTH, else the OIDC password grant."""
    password = read_password(config["password_file"])
    if config.get("cognito"):
        region, endpoint_url = _cognito_settings(config)
        parameters = {"USERNAME": config["username"], "PASSWORD": password}
        result = cognito_initiate_auth(region, config["client_id"], "USER_PASSWORD_AUTH", parameters, endpoint_url, config.get("ca_file"))
        return cache_entry(config, "cognito", result["IdToken"], result.get("RefreshToken"), time.time())
    token_endpoint = _endpoint(_discovery(config), "token_endpoint")
    scopes = config.get("scopes", DEFAULT_SCOPES)
    tokens = password_grant(token_endpoint, config["client_id"], config["username"], password, scopes, config.get("ca_file"))
    return cache_entry(config, "oidc", tokens["id_token"], tokens.get("refresh_token"), time.time())


def callback_address(redirect_uri):
    """(host, port, path) the login callback listens on for ``redirect_uri``: http on loopback with a port (RFC 8252)."""
    import urllib.parse

    fix = ("set redirect_uri in the config to http://localhost:PORT[/path] or http://127.0.0.1:PORT[/path], with a free "
           "port (1024-65535) that the app client allows as a callback URL")
    parts = urllib.parse.urlsplit(redirect_uri if isinstance(redirect_uri, str) else "")
    try:
        port = parts.port
    except ValueError:  # urllib's "Port out of range 0-65535" or "Port could not be cast to integer value"
        raise PluginError("redirect_uri %r has no valid port; %s" % (redirect_uri, fix))
    if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1"):
        raise PluginError("redirect_uri %r is not an http URL on this machine's loopback, where the login callback is served; %s"
                          % (redirect_uri, fix))
    if not port:
        raise PluginError("redirect_uri %r has no port; %s" % (redirect_uri, fix))
    if parts.query or parts.fragment or parts.username or parts.password:
        raise PluginError("redirect_uri %r must have no query, fragment or user; %s" % (redirect_uri, fix))
    return "127.0.0.1", port, parts.path or "/"


LOGIN_FINISHED = "Login finished; you can close this tab and return to kubectl."
LOGIN_FAILED = "Login failed; return to kubectl: the terminal says why."
NOT_THE_CALLBACK = "Not found: this server only takes the login callback of kubeauth-eks-oidc."


def callback_verdict(target, callback_path, state):
    """What one request (its path and query) to the login callback server means: (HTTP status, page, code, failure).

    ``code`` is the authorization code of a good callback: the expected path
    and this login's ``state``. ``failure`` says why the login failed: a
    wrong state, an ``error`` from the identity provider, no code, or a
    callback on another path. Both are None for a request that is no callback
    at all (a browser's /favicon.ico): answered 404 and ignored.
    """
    import secrets
    import urllib.parse

    parts = urllib.parse.urlsplit(target)
    fields = dict((name, values[0]) for name, values in urllib.parse.parse_qs(parts.query).items())
    if parts.path != callback_path:
        if not set(fields) & {"code", "state", "error"}:
            return 404, NOT_THE_CALLBACK, None, None
        return 404, LOGIN_FAILED, None, (
            "the login callback came to %s, not to %s, the path of redirect_uri; make the app client's callback URL and "
            "redirect_uri the same, then log in again" % (parts.path, callback_path)
        )
    if not secrets.compare_digest(fields.get("state", "").encode("utf-8"), state.encode("utf-8")):
        return 400, LOGIN_FAILED, None, (
            "the login callback carried %s, not the one this login sent: it comes from another login or another site, "
            "not from this one; log in again" % ("a wrong state" if fields.get("state") else "no state")
        )
    if "error" in fields:
        return 400, LOGIN_FAILED, None, "the identity provider refused the login: %s" % scrub(_oauth_error(fields))
    if not fields.get("code"):
        return 400, LOGIN_FAILED, None, "the login callback carried no authorization code; log in again"
    return 200, LOGIN_FINISHED, fields["code"], None


class LoginCallback(object):
    """The loopback HTTP server the browser brings the authorization code back to.

    Threaded, and each connection has CALLBACK_CONNECTION_TIMEOUT seconds to
    send its request, so a connection left idle (a browser's preconnect, a
    local port scan) cannot hold the login. The first callback decides.
    """

    def __init__(self, redirect_uri, state):
        import http.server
        import threading

        host, port, self.path = callback_address(redirect_uri)
        self.state = state
        self.code = self.failure = None
        self.decided = threading.Event()
        self.decision = threading.Lock()
        callback = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = CALLBACK_CONNECTION_TIMEOUT

            def do_GET(self):  # noqa: N802 (the name http.server calls)
                status, page, code, failure = callback_verdict(self.path, callback.path, callback.state)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.end_headers()
                    self.wfile.write(("<!doctype html><title>kubeauth</title><p>%s</p>" % page).encode("utf-8"))
                finally:
                    callback.decide(code, failure)  # after the page (the process may end once decided), even if it was lost

            def log_message(self, *args):  # the request line holds the code: keep it off stderr
                pass

        try:
            self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        except OSError as e:
            raise PluginError(
                "cannot listen on %s:%d for the login callback (%s); set redirect_uri in the config to a free localhost "
                "port that the app client allows as a callback URL" % (host, port, e.strerror or e)
            )
        # A short poll interval: close() waits for the serving loop to notice, and kubectl waits for close().
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="kubeauth-eks-oidc-callback",
                         daemon=True).start()

    def decide(self, code, failure):
        with self.decision:
            if (code or failure) and not self.decided.is_set():
                self.code, self.failure = code, failure
                self.decided.set()

    def wait(self, timeout):
        """The authorization code; PluginError when the login failed or no callback came within ``timeout`` seconds."""
        if not self.decided.wait(timeout):
            raise PluginError("no login within %d s; run the command again to get a new login URL" % timeout)
        if self.failure:
            raise PluginError(self.failure)
        return self.code

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def check_nonce(id_token, nonce):
    """The ID token must carry the ``nonce`` the login sent (OIDC Core 3.1.3.7): else it was not issued for this login."""
    import secrets

    found = jwt_claims(id_token).get("nonce")
    if found is None:
        raise PluginError("the ID token carries no nonce, but this login sent one: it was not issued for this login; log in again")
    if not isinstance(found, str) or not secrets.compare_digest(found.encode("utf-8"), nonce.encode("utf-8")):
        raise PluginError("the ID token carries a nonce other than the login's; log in again")


def pkce_pair():
    """(code_verifier, code_challenge) for PKCE S256 (RFC 7636)."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")
    return verifier, challenge


def authorization_url(authorization_endpoint, config, redirect_uri, state, nonce, challenge):
    """The URL the user opens to log in: the code flow with PKCE S256, a state and a nonce."""
    import urllib.parse

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
    return authorization_endpoint + ("&" if "?" in authorization_endpoint else "?") + query


def browser_login(config):
    """Authorization code flow with PKCE: the user logs in in a browser, the code comes back to localhost."""
    import secrets

    redirect_uri = config.get("redirect_uri") or DEFAULT_REDIRECT_URI
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    callback = LoginCallback(redirect_uri, state)  # checks redirect_uri and takes its port before any request
    try:
        discovery = _discovery(config)
        token_endpoint = _endpoint(discovery, "token_endpoint")
        verifier, challenge = pkce_pair()
        url = authorization_url(_endpoint(discovery, "authorization_endpoint"), config, redirect_uri, state, nonce, challenge)
        sys.stderr.write("%s: log in with your browser: %s\n" % (PROG, url))
        sys.stderr.flush()
        if config.get("open_browser", True):
            try:
                import webbrowser

                webbrowser.open(url)
            except Exception:  # no browser here: the URL on stderr is enough
                pass
        code = callback.wait(config.get("login_timeout", DEFAULT_LOGIN_TIMEOUT))
    finally:
        callback.close()
    form = {
        "grant_type": "authorization_code",
        "client_id": config["client_id"],
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    tokens = token_grant(token_endpoint, form, config.get("ca_file"))
    check_nonce(tokens["id_token"], nonce)
    return cache_entry(config, "oidc", tokens["id_token"], tokens.get("refresh_token"), time.time())


def login_command(config_path, cache_file):
    return "run `%s -I -S %s get-token --config %s --login` in a terminal, or delete %s" % (
        sys.executable or "python3", os.path.abspath(__file__), config_path, cache_file)


def _same_client(cached, config):
    return cached.get("issuer_url") == config["issuer_url"] and cached.get("client_id") == config["client_id"]


def lock_timeout(config):
    """How long to wait for another kubectl's refresh, or for its browser login (a person may be typing)."""
    if config.get("login", "browser") == "browser":
        return LOCK_TIMEOUT + config.get("login_timeout", DEFAULT_LOGIN_TIMEOUT)
    return LOCK_TIMEOUT


def obtain(config, config_path, cache_file, force_login, interactive):
    """A fresh cache entry: the cache again under the lock, else a refresh, else a login."""
    with CacheLock(cache_file + ".lock", lock_timeout(config)):
        cached = read_cache(cache_file)
        if not force_login and cache_is_fresh(cached, config, time.time()):
            return cached  # another kubectl refreshed while this one waited for the lock
        entry, why = None, None
        if not force_login and cached and cached.get("refresh_token") and _same_client(cached, config):
            try:
                entry = refresh(config, cached)
            except TokenRejected as e:
                why = e
        if entry is None:
            if config.get("login", "browser") == "password":
                entry = password_login(config)
            elif interactive or force_login:
                entry = browser_login(config)
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


def error_line(text):
    """What stderr gets for an error: one line, scrubbed of secrets; control characters (terminal escapes a server
    might send) become spaces."""
    return "".join(c if c.isprintable() else " " for c in scrub(text))


def main(argv=None):
    """Print an ExecCredential and return 0, or print one line on stderr and return 1."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        sys.stdout.write(__doc__)
        return 0
    try:
        config_path, force_login = parse_args(argv)
        check_plugin_dir()
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
        sys.stderr.write("%s: %s\n" % (PROG, error_line(e)))
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % PROG)
    except Exception as e:  # one line, never a traceback with local values
        sys.stderr.write("%s: %s\n" % (PROG, error_line("unexpected %s: %s" % (type(e).__name__, e))))
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
