"""How EKS authenticates and authorizes AWS IAM callers, as the twin's kube-apiserver webhooks.

EKS runs aws-iam-authenticator as kube-apiserver's token webhook. A caller
sends ``k8s-aws-v1.`` + a presigned STS GetCallerIdentity URL (what
``aws eks get-token`` and eks_token.py print) in base64url. The
authenticator checks the URL's form (``parse_token``, after
pkg/token/token.go's Verify: an STS host, path ``/``, only the known query
parameters, Action=GetCallerIdentity, ``x-k8s-aws-id`` among the signed
headers, X-Amz-Expires at most 900, X-Amz-Date less than 15 minutes old),
then calls the URL itself with ``x-k8s-aws-id`` set to its own cluster's
name (``ask_sts``): STS checks the signature, so a token signed for another
cluster, or altered, fails there, and STS answers with the caller's ARN.

MiniStack's STS does not check signatures (never for root keys, and for no
key while AUTH is off, as in the sandbox), so the twin checks the signature
itself first (``signature_matches``) with the secret MiniStack holds for the
access key.

The caller's ARN is then mapped as EKS maps access entries
(``kubernetes_user``), and EKS's access policies become an authorization
webhook (``policies_allow``), as EKS's own authorizer after Node and RBAC.
``WebhookServer`` serves both over HTTPS on one loopback port. Nothing here
knows MiniStack: ministack_hook.py supplies the secrets and access entries.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import fnmatch
import hashlib
import hmac
import http.client
import http.server
import json
import logging
import re
import secrets
import ssl
import threading
import urllib.parse
from dataclasses import dataclass
from xml.etree import ElementTree

from json_reply import send_json

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
MAX_TOKEN_BYTES = 4096
# STS accepts a presigned GetCallerIdentity for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says.
TOKEN_VALIDITY = datetime.timedelta(minutes=15)
# A token dated later than this ahead of the twin's clock is refused (a clock skew, not a token from the future).
CLOCK_SKEW = datetime.timedelta(minutes=5)
# aws-iam-authenticator's parameterWhitelist: any other query parameter is refused.
_PARAMETERS = frozenset({
    "action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
    "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders",
})
# The only headers whose value the verifier knows: the URL's host and its own cluster name.
_VERIFIABLE_HEADERS = frozenset({"host", CLUSTER_ID_HEADER})
# AWS's own STS names (global and regional); tokens signed for them are answered by the sandbox's STS.
_AWS_STS_HOST = re.compile(r"sts(\.[a-z]{2}(-[a-z]+)+-\d+)?\.amazonaws\.com(:443)?")
_EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()
_STS_NAMESPACE = "{https://sts.amazonaws.com/doc/2011-06-15/}"

log = logging.getLogger("sandbox.iam")


class TokenRejected(ValueError):
    """The token does not authenticate; the message says why and never contains the token."""


@dataclass(frozen=True)
class SignedCall:
    """The STS GetCallerIdentity request inside a token."""

    host: str  # the URL's host[:port], as signed
    path_and_query: str  # what to send to STS
    params: tuple  # the query's (name, value) pairs, as sent
    access_key_id: str
    region: str
    amz_date: str
    signed_headers: tuple
    signature: str
    session_token: str


@dataclass(frozen=True)
class CallerIdentity:
    """STS's GetCallerIdentity answer."""

    arn: str
    user_id: str
    account: str


# -- the token -------------------------------------------------------------------------------


def is_sts_host(host: str, sandbox_sts_hosts: frozenset) -> bool:
    """The sandbox's STS (MiniStack's gateway, ``host:port``) or one of AWS's STS host names."""
    return host in sandbox_sts_hosts or bool(_AWS_STS_HOST.fullmatch(host))


def parse_token(token: str, *, sandbox_sts_hosts: frozenset, now: datetime.datetime) -> SignedCall:
    """The signed call in ``token`` when its form, STS host and age are what EKS accepts; else TokenRejected."""
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected("token is too large")
    if not token.startswith(TOKEN_PREFIX):
        raise TokenRejected(f"not an EKS IAM token (no {TOKEN_PREFIX} prefix)")
    body = token[len(TOKEN_PREFIX):]
    try:
        url = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise TokenRejected("token is not base64url of a URL") from None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https":
        raise TokenRejected(f"unexpected scheme {parts.scheme!r} in the presigned URL")
    if not is_sts_host(parts.netloc, sandbox_sts_hosts):
        raise TokenRejected(f"unexpected host {parts.netloc!r} in the presigned URL: not an STS endpoint")
    if parts.path != "/" or parts.fragment:
        raise TokenRejected("unexpected path in the presigned URL")
    try:
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise TokenRejected("malformed query in the presigned URL") from None
    params = {}
    for name, value in pairs:
        key = name.lower()
        if key not in _PARAMETERS:
            raise TokenRejected(f"query parameter {name!r} is not allowed in the presigned URL")
        if key in params:
            raise TokenRejected(f"duplicate query parameter {name!r} in the presigned URL")
        params[key] = value
    if params.get("action") != "GetCallerIdentity":
        raise TokenRejected("the presigned URL is not an STS GetCallerIdentity call")
    if params.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        raise TokenRejected("the presigned URL is not signed with AWS4-HMAC-SHA256")
    signed_headers = tuple(params.get("x-amz-signedheaders", "").split(";"))
    if CLUSTER_ID_HEADER not in signed_headers:
        raise TokenRejected(f"the {CLUSTER_ID_HEADER} header is not signed")
    if "host" not in signed_headers or not set(signed_headers) <= _VERIFIABLE_HEADERS:
        raise TokenRejected(f"signed headers must be host and {CLUSTER_ID_HEADER}, not {';'.join(signed_headers)}")
    expires = params.get("x-amz-expires", "")
    if not expires.isdigit() or int(expires) > 900:
        raise TokenRejected(f"invalid X-Amz-Expires {expires!r} (0 to 900 seconds)")
    amz_date = params.get("x-amz-date", "")
    try:
        signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise TokenRejected(f"invalid X-Amz-Date {amz_date!r}") from None
    if now > signed_at + TOKEN_VALIDITY:
        raise TokenRejected(f"token expired: signed at {amz_date}, valid for 15 minutes")
    if signed_at > now + CLOCK_SKEW:
        raise TokenRejected(f"token signed in the future ({amz_date})")
    scope = params.get("x-amz-credential", "").split("/")
    if len(scope) != 5 or scope[3] != "sts" or scope[4] != "aws4_request" or scope[1] != amz_date[:8] or not scope[0]:
        raise TokenRejected("invalid X-Amz-Credential scope in the presigned URL")
    signature = params.get("x-amz-signature", "")
    if not re.fullmatch(r"[0-9a-f]{64}", signature):
        raise TokenRejected("invalid X-Amz-Signature in the presigned URL")
    return SignedCall(
        host=parts.netloc, path_and_query=f"{parts.path}?{parts.query}", params=tuple(pairs),
        access_key_id=scope[0], region=scope[2], amz_date=amz_date, signed_headers=signed_headers,
        signature=signature, session_token=params.get("x-amz-security-token", ""),
    )


def _uri_encode(value: str) -> str:
    """SigV4's URI encoding: everything but RFC 3986's unreserved characters."""
    return urllib.parse.quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signature_matches(call: SignedCall, cluster_name: str, secret_access_key: str) -> bool:
    """Whether the call is signed with this secret for ``cluster_name`` (SigV4, query signing).

    The cluster name is not in the URL: it is the value of the signed
    ``x-k8s-aws-id`` header, so a token made for another cluster (or with
    anything in the URL altered) does not match.
    """
    query = "&".join(f"{name}={value}" for name, value in sorted(
        (_uri_encode(name), _uri_encode(value)) for name, value in call.params if name.lower() != "x-amz-signature"))
    values = {"host": call.host, CLUSTER_ID_HEADER: cluster_name}
    headers = "".join(f"{name}:{values[name]}\n" for name in call.signed_headers)
    canonical_request = "\n".join(["GET", "/", query, headers, ";".join(call.signed_headers),
                                   _EMPTY_PAYLOAD_SHA256])
    date = call.amz_date[:8]
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", call.amz_date, f"{date}/{call.region}/sts/aws4_request",
                                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
    key = ("AWS4" + secret_access_key).encode("utf-8")
    for part in (date, call.region, "sts", "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, call.signature)


def ask_sts(call: SignedCall, cluster_name: str, gateway: str, context: ssl.SSLContext) -> CallerIdentity:
    """Send the signed call to the sandbox's STS with ``x-k8s-aws-id: cluster_name``, as EKS does.

    The call goes to MiniStack's ``gateway`` whatever STS host it names
    (AWS's names do not resolve here); the Host header stays the signed one.
    """
    address = urllib.parse.urlsplit(gateway)
    connection = http.client.HTTPSConnection(address.hostname, address.port, context=context, timeout=10)
    try:
        connection.request("GET", call.path_and_query, headers={"Host": call.host, CLUSTER_ID_HEADER: cluster_name})
        response = connection.getresponse()
        body = response.read()
    except OSError as e:
        raise TokenRejected(f"STS at {gateway} not reachable: {e}") from None
    finally:
        connection.close()
    if response.status != 200:
        raise TokenRejected(f"STS refused the presigned call: HTTP {response.status}")
    return caller_identity(body)


def caller_identity(body: bytes) -> CallerIdentity:
    """The Arn, UserId and Account of an STS GetCallerIdentityResponse (XML, STS's default)."""
    try:
        result = ElementTree.fromstring(body).find(f"{_STS_NAMESPACE}GetCallerIdentityResult")
    except ElementTree.ParseError:
        result = None
    fields = {} if result is None else {child.tag.replace(_STS_NAMESPACE, ""): child.text or "" for child in result}
    if not all(fields.get(name) for name in ("Arn", "UserId", "Account")):
        raise TokenRejected("STS answered without a caller identity")
    return CallerIdentity(arn=fields["Arn"], user_id=fields["UserId"], account=fields["Account"])


# -- the Kubernetes user ---------------------------------------------------------------------


def principal_kind(arn: str) -> str:
    """``user``, ``role``, ``root``, ``assumed-role`` or ``federated-user``; ValueError for other ARNs."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    service, resource = parts[2], parts[5].split("/")
    if service == "iam" and resource[0] in ("user", "role", "root"):
        return resource[0]
    if service == "sts" and resource[0] == "federated-user":
        return "federated-user"
    if service == "sts" and resource[0] == "assumed-role" and len(resource) >= 3:
        return "assumed-role"
    raise ValueError(f"not an IAM principal ARN: {arn!r}")


def default_username(arn: str) -> str:
    """EKS's username for an access entry without one: the ARN; a role's session ARN with its session name."""
    if principal_kind(arn) == "assumed-role":
        return arn.rsplit("/", 1)[0] + "/{{SessionName}}"
    return arn


def render_username(template: str, identity: CallerIdentity, session_name: str, access_key_id: str) -> str:
    """An access entry's username template, with the placeholders EKS fills in."""
    return (template.replace("{{AccountID}}", identity.account)
            .replace("{{SessionName}}", session_name.replace("@", "-"))
            .replace("{{SessionNameRaw}}", session_name)
            .replace("{{AccessKeyID}}", access_key_id))


def kubernetes_user(identity: CallerIdentity, access_key_id: str, entry: dict) -> dict:
    """The TokenReview user EKS returns for a caller with this access entry.

    Username from the entry (default: the caller's ARN), the entry's
    kubernetesGroups (kube-apiserver adds system:authenticated), and
    aws-iam-authenticator's uid and extra fields.
    """
    user_id, session_name, canonical_arn = identity.user_id, "", identity.arn
    if principal_kind(identity.arn) == "assumed-role":
        # A role session's UserId is ROLEID:SESSION (ValueError otherwise: a malformed answer), and its
        # canonical ARN is the role's: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION -> ...:iam::ACCOUNT:role/ROLE.
        user_id, session_name = identity.user_id.split(":", 1)
        prefix, role = identity.arn.split(":assumed-role/", 1)
        canonical_arn = prefix.replace(":sts:", ":iam:") + ":role/" + role.rsplit("/", 1)[0]
    template = entry.get("username") or default_username(identity.arn)
    return {
        "username": render_username(template, identity, session_name, access_key_id),
        "uid": f"aws-iam-authenticator:{identity.account}:{user_id}",
        "groups": list(dict.fromkeys(entry.get("kubernetesGroups") or [])),
        "extra": {
            "arn": [identity.arn],
            "canonicalArn": [canonical_arn],
            "sessionName": [session_name],
            "accessKeyId": [access_key_id],
            "principalId": [user_id],
            "sigs.k8s.io/aws-iam-authenticator/principalId": [user_id],
        },
    }


def token_review(request: dict, user: dict | None) -> dict:
    """The TokenReview answer: the user, or ``authenticated: false`` (kube-apiserver answers 401)."""
    status = {"authenticated": True, "user": user} if user else {"authenticated": False}
    return {"apiVersion": request.get("apiVersion") or "authentication.k8s.io/v1", "kind": "TokenReview",
            "status": status}


# -- access policies ---------------------------------------------------------------------------


def _rule_allows(rule: dict, resource: dict | None, non_resource: dict | None) -> bool:
    """Kubernetes RBAC's rule matching (pkg/apis/rbac/helpers.go) for one request."""
    verbs = rule.get("verbs") or []
    if resource is not None:
        verb = resource.get("verb", "")
        group, name = resource.get("group", ""), resource.get("name", "")
        combined = resource.get("resource", "")
        subresource = resource.get("subresource", "")
        if subresource:
            combined += "/" + subresource
        resources = rule.get("resources") or []
        names = rule.get("resourceNames") or []
        return (("*" in verbs or verb in verbs)
                and any(g in ("*", group) for g in rule.get("apiGroups") or [])
                and ("*" in resources or combined in resources
                     or (bool(subresource) and "*/" + subresource in resources))
                and (not names or name in names))
    verb, path = non_resource.get("verb", ""), non_resource.get("path", "")
    return ("*" in verbs or verb in verbs) and any(
        url == path or (url.endswith("*") and path.startswith(url[:-1])) for url in rule.get("nonResourceURLs") or [])


def policies_allow(grants: list, review_spec: dict) -> bool:
    """Whether any associated access policy allows the SubjectAccessReview's request.

    ``grants``: (rules of the policy, the association's accessScope) pairs. A
    cluster scope applies everywhere; a namespace scope only to namespaced
    requests in a namespace its patterns (``dev-*``) match.
    """
    resource = review_spec.get("resourceAttributes")
    non_resource = None if resource is not None else review_spec.get("nonResourceAttributes") or {}
    for rules, scope in grants:
        if scope.get("type") != "cluster":
            namespace = (resource or {}).get("namespace", "")
            if not namespace or not any(fnmatch.fnmatchcase(namespace, p) for p in scope.get("namespaces") or []):
                continue
        if any(_rule_allows(rule, resource, non_resource) for rule in rules):
            return True
    return False


def subject_access_review(request: dict, allowed: bool) -> dict:
    """The SubjectAccessReview answer: allowed, or no opinion (RBAC has already said no)."""
    status = {"allowed": allowed}
    if allowed:
        status["reason"] = "allowed by an EKS access policy"
    return {"apiVersion": request.get("apiVersion") or "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "status": status}


def iam_principal_arn(review_spec: dict) -> str | None:
    """The caller's ARN in a SubjectAccessReview, when the user came from this authenticator."""
    if not str(review_spec.get("uid", "")).startswith("aws-iam-authenticator:"):
        return None
    values = (review_spec.get("extra") or {}).get("arn") or []
    return values[0] if len(values) == 1 else None


# -- the webhook server ------------------------------------------------------------------------


def webhook_kubeconfig(url: str, ca_pem: str) -> str:
    """kube-apiserver's --authentication-token-webhook-config-file / --authorization-webhook-config-file.

    A kubeconfig naming the webhook and the CA it is served with; the
    apiserver presents no client certificate. JSON is valid YAML.
    """
    return json.dumps({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "webhook", "cluster": {
            "server": url, "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode()}}],
        "users": [{"name": "kube-apiserver", "user": {}}],
        "contexts": [{"name": "webhook", "context": {"cluster": "webhook", "user": "kube-apiserver"}}],
        "current-context": "webhook",
    }, indent=2) + "\n"


class WebhookServer:
    """Every twin cluster's token and authorization webhooks, on one loopback HTTPS port.

    ``authenticate(region, cluster, token) -> user dict or None`` and
    ``authorize(region, cluster, review_spec) -> bool`` answer the reviews. A
    random path segment keeps other local users from asking it about tokens
    (the webhook kubeconfigs that carry it are 0600). Each connection is
    served in its own thread, so calling MiniStack from a handler never
    blocks MiniStack's event loop.
    """

    def __init__(self, cert: str, key: str, authenticate, authorize) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.secret = secrets.token_urlsafe(24)
        self._server = _TLSServer(context, self.secret, {"authenticate": authenticate, "authorize": authorize})
        self.port = self._server.server_address[1]

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True, name="iam-webhooks").start()

    def url(self, kind: str, region: str, cluster: str) -> str:
        """``kind``: authenticate or authorize."""
        return f"https://127.0.0.1:{self.port}/{self.secret}/{kind}/{region}/{cluster}"


class _TLSServer(http.server.ThreadingHTTPServer):
    """On a free loopback port; ``decide`` maps the path's kind to its answering function."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, secret: str, decide: dict) -> None:
        self.context, self.secret, self.decide = context, secret, decide
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request, client_address) -> None:
        # The TLS handshake happens here, in the connection's thread, not in the accept loop.
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        super().finish_request(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kube-apiserver keeps connections open
    # Headers and body go out as two writes: without TCP_NODELAY the second waits for the
    # client's delayed ACK, about 40 ms per answer.
    disable_nagle_algorithm = True
    timeout = 120  # an idle kept-alive connection frees its thread after this
    _MAX_BODY = 1 << 20

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > self._MAX_BODY:
            self.close_connection = True  # the unread body ends this connection
            send_json(self, 413, {})
            return
        body = self.rfile.read(int(length))  # read before any answer, so the connection stays usable
        parts = urllib.parse.urlsplit(self.path).path.split("/")  # kube-apiserver adds ?timeout=30s
        if (len(parts) != 5 or not hmac.compare_digest(parts[1].encode(), self.server.secret.encode())
                or parts[2] not in self.server.decide):
            send_json(self, 404, {})
            return
        try:
            review = json.loads(body or b"{}")
            spec = review["spec"]
        except (ValueError, KeyError, TypeError):
            spec = None
        if not isinstance(spec, dict):
            send_json(self, 400, {"error": "expected a TokenReview or SubjectAccessReview"})
            return
        kind, region, cluster = parts[2:]
        if kind == "authenticate":
            user = self._answer(self.server.decide[kind], region, cluster, str(spec.get("token", "")))
            send_json(self, 200, token_review(review, user))
        else:
            allowed = bool(self._answer(self.server.decide[kind], region, cluster, spec))
            send_json(self, 200, subject_access_review(review, allowed))

    @staticmethod
    def _answer(decide, region: str, cluster: str, subject):
        # A failure is a refusal: kube-apiserver would turn a webhook error
        # into 401 for a token, and into 500 for a request RBAC does not allow.
        try:
            return decide(region, cluster, subject)
        except TokenRejected as e:
            log.info("cluster %s/%s: IAM token refused: %s", region, cluster, e)
            return None
        except Exception:
            log.exception("cluster %s/%s: IAM webhook failed", region, cluster)
            return None

    def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
        log.debug("webhook %s", format % args)
