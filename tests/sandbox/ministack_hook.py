"""Run MiniStack with the sandbox playing the EKS control plane.

Started by sandbox.py (``python ministack_hook.py STATE_DIR``), never by hand.

Why MiniStack is patched, and why only here: MiniStack (pinned at 1.5.33 in
tests/requirements.txt) backs each EKS cluster with a k3s Docker container
and restarts it with --oidc-* flags on identity provider changes. This
machine has no Docker, so MiniStack would report every cluster ACTIVE with a
placeholder endpoint and empty CA, and leave every identity provider config
CREATING forever. The sandbox instead runs a real etcd + kube-apiserver per
cluster (controlplane.py). This module wraps six functions of
``ministack.services.eks`` so the ordinary EKS API reports that control
plane, and keeps MiniStack off port 443. The wrapped functions are looked
up by name through the module at request time, so replacing the module
attributes is enough. Re-check these names when bumping MiniStack.

Audit logging (docs/audit.md): MiniStack has no UpdateClusterConfig,
DescribeUpdate or ListUpdates. The hook answers them for the ``logging``
setting (`Twin.update_logging`), and ships each cluster's kube-apiserver
audit events to CloudWatch Logs while its ``audit`` log type is enabled
(auditlog.py). It also teaches MiniStack's Logs Insights to filter on JSON
fields (insights.py), and gives MiniStack's IAM evaluator (AUTH=true) the
condition keys eks:issuerUrl and eks:clientId of AssociateIdentityProviderConfig.
For the IAM guard-rails (docs/guardrails.md) it adds SetDefaultPolicyVersion,
which amazon.aws.iam_managed_policy needs to change a policy's document.
For cognito_group it adds Cognito's UpdateGroup, which MiniStack lacks.

EKS's timing and the request quotas (docs/sandbox.md, "Timing and throttling";
knobs.py): with SANDBOX_EKS_ASSOCIATION_DELAY an association or a
disassociation takes at least that many seconds, with SANDBOX_THROTTLE that
fraction of Cognito and EKS API calls is answered as throttled, and every
Cognito and EKS API call is counted, served at GET /_sandbox/api-calls.

AWS IAM callers (docs/sandbox.md, "AWS IAM authentication"): the hook makes
the sandbox's credentials MiniStack's root and serves every cluster's token
and authorization webhooks (iam_authn.py) from MiniStack's records: access
keys and their secrets, STS, access entries and access policies.

Environment (besides MiniStack's own): SANDBOX_K8S_BINARIES, the directory
holding etcd and kube-apiserver, or empty to run the AWS side alone; the
knobs SANDBOX_EKS_ASSOCIATION_DELAY, SANDBOX_THROTTLE, SANDBOX_THROTTLE_SEED.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import datetime
import functools
import json
import logging
import os
import re
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

import auditlog
import authn
import controlplane
import iam_authn
import insights
import knobs
import pki
import procs
import sandbox

from ministack import app
from ministack.core import iam_actions
from ministack.core import iam_evaluator
from ministack.core import responses
from ministack.core import tls
from ministack.services import cloudwatch_logs
from ministack.services import cognito
from ministack.services import eks
from ministack.services import iam

log = logging.getLogger("sandbox")

# EKS keeps a logging update InProgress for minutes, so a second UpdateClusterConfig meanwhile is
# refused as busy. The twin applies one in milliseconds: it holds the update InProgress this long
# first, so that answer does not depend on the machine's speed. Below eks_cluster_logging's first
# poll (2 s), so the module waits no longer for it.
LOGGING_UPDATE_SECONDS = 1.5


class _Cluster:
    """The sandbox's side of one EKS cluster: its control plane and a job queue.

    One worker thread per cluster runs start, (dis)associations and stop in
    the order the API calls arrived.
    """

    def __init__(self, plane: controlplane.ControlPlane, name: str) -> None:
        self.plane = plane
        self.status = "CREATING"
        self.logging_update: dict | None = None  # the UpdateClusterConfig in progress
        self.jobs = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"twin-{name}")

    def submit(self, what: str, job) -> concurrent.futures.Future:
        def run():
            try:
                job()
            except Exception:
                log.exception("%s failed", what)
                raise
        return self.jobs.submit(run)


def _sleep_until(deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


def _at(deadline: float, action) -> None:
    """Run ``action`` at ``deadline`` (time.monotonic()) on a timer thread; at once when it has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        action()
        return
    timer = threading.Timer(remaining, action)
    timer.daemon = True
    timer.start()


class Twin:
    """Maps MiniStack's EKS records to live control planes (by cluster ARN)."""

    def __init__(self, state_dir: str, binaries: str | None, gateway: str,
                 webhooks: iam_authn.WebhookServer | None, association_delay: float = 0.0) -> None:
        self.state_dir = state_dir
        # SANDBOX_EKS_ASSOCIATION_DELAY: the least time an association or disassociation takes.
        self.association_delay = association_delay
        self.binaries = binaries
        self.gateway = gateway
        self.webhooks = webhooks
        self.ca_cert = os.path.join(state_dir, pki.CA_CERT)
        self.ca_key = os.path.join(state_dir, pki.CA_KEY)
        with open(self.ca_cert, encoding="utf-8") as handle:
            self.ca_pem = handle.read()
        self.clusters: dict[str, _Cluster] = {}
        self.updates: dict[str, dict[str, dict]] = {}  # cluster ARN -> update id -> update
        self.shipper = auditlog.Shipper(functools.partial(_logs_client, gateway, self.ca_cert))

    def add(self, cluster: dict) -> None:
        if not self.binaries:
            return
        # arn:aws:eks:REGION:ACCOUNT:cluster/NAME
        region = cluster["arn"].split(":")[3]
        name = cluster["name"]
        plane = controlplane.ControlPlane(
            os.path.join(self.state_dir, "clusters", region, name),
            logs_dir=os.path.join(self.state_dir, "logs"),
            log_prefix=f"{region}-{name}",
            binaries=self.binaries,
            ca_cert=self.ca_cert,
            ca_key=self.ca_key,
            service_cidr=cluster["kubernetesNetworkConfig"]["serviceIpv4Cidr"],
            service_account_issuer=cluster["identity"]["oidc"]["issuer"],
            authentication_webhook=self.webhooks.url("authenticate", region, name),
            authorization_webhook=self.webhooks.url("authorize", region, name),
        )
        entry = self.clusters[cluster["arn"]] = _Cluster(plane, name)
        self.shipper.watch(cluster["arn"], plane.audit_log, region, name)

        def start():
            try:
                plane.start()
            except Exception:
                entry.status = "FAILED"
                raise
            if "audit" in auditlog.enabled_types(cluster.get("logging")):  # CreateCluster's logging
                self.shipper.set_enabled(cluster["arn"], True)
            entry.status = "ACTIVE"
            log.info("cluster %s: kube-apiserver ready at %s", name, plane.endpoint)

        entry.submit(f"starting the control plane of {name}", start)

    def remove(self, arn: str) -> None:
        self.updates.pop(arn, None)
        self.shipper.forget(arn)  # the log group stays, as on EKS
        entry = self.clusters.pop(arn, None)
        if entry:
            entry.submit("stopping a control plane", entry.plane.stop).exception()
            entry.jobs.shutdown()

    def overlay(self, cluster: dict) -> None:
        """Report the control plane's state in a DescribeCluster/CreateCluster record."""
        # EKS reports the logging config as two entries, enabled and disabled types.
        cluster["logging"] = auditlog.logging_config(auditlog.enabled_types(cluster.get("logging")))
        entry = self.clusters.get(cluster["arn"])
        if entry is None:
            return
        cluster["status"] = entry.status
        if entry.status == "ACTIVE":
            cluster["endpoint"] = entry.plane.endpoint
            cluster["certificateAuthority"] = {"data": entry.plane.certificate_authority_data}
        else:  # as EKS: no endpoint or CA before the cluster is ACTIVE
            cluster.pop("endpoint", None)
            cluster["certificateAuthority"] = {}

    def associate(self, arn: str, oidc: dict, record: dict) -> None:
        done_by = time.monotonic() + self.association_delay

        def activate():
            if record["status"] == "CREATING":  # not disassociated meanwhile
                record["status"] = "ACTIVE"

        entry = self.clusters.get(arn)
        if entry is None:  # no Kubernetes side: nothing to wait for but the delay
            _at(done_by, activate)
            return

        def job():
            jwt = authn.jwt_authenticator(oidc, cognito_base=self.gateway, ca_pem=self.ca_pem)
            reachable = controlplane.issuer_reachable(jwt)
            if not reachable:
                log.warning("issuer %s: discovery document not reachable from here; restarting "
                            "kube-apiserver, which accepts its tokens once it can reach it",
                            oidc["issuerUrl"])
            entry.plane.apply([jwt], restart=not reachable)
            _sleep_until(done_by)
            activate()

        entry.submit(f"associating {oidc['identityProviderConfigName']}", job)

    def disassociate(self, arn: str, key: str, record: dict) -> None:
        """Keep the config visible as DELETING until kube-apiserver refuses its tokens (and the delay is over)."""
        done_by = time.monotonic() + self.association_delay
        entry = self.clusters.get(arn)
        if entry is None and not self.association_delay:
            return  # no Kubernetes side and no delay: MiniStack's immediate removal is right
        record["status"] = "DELETING"
        eks._idp_configs[key] = record
        scope = contextvars.copy_context()  # the store is scoped by the request's account/region

        def forget():
            scope.run(eks._idp_configs.pop, key, None)

        if entry is None:
            _at(done_by, forget)
            return

        def job():
            entry.plane.apply([])
            _sleep_until(max(done_by, time.monotonic() + controlplane.TOKEN_CACHE_TTL))
            forget()

        entry.submit(f"disassociating {record['oidc']['identityProviderConfigName']}", job)

    def update_logging(self, cluster: dict, body: dict) -> tuple:
        """UpdateClusterConfig for ``logging``: an update InProgress, applied by the cluster's job queue.

        As EKS: ResourceInUseException while the cluster is busy, and
        InvalidParameterException when nothing would change. When audit is
        turned on, its log group and stream exist before the update reports
        Successful.
        """
        name, arn = cluster["name"], cluster["arn"]
        entry = self.clusters.get(arn)
        current = auditlog.enabled_types(cluster.get("logging"))
        try:
            wanted = auditlog.apply_update(current, body.get("logging"))
        except ValueError as e:
            return eks._error(400, "InvalidParameterException", str(e))
        status = entry.status if entry else cluster.get("status")
        configs = [c for k, c in eks._idp_configs.items() if k.startswith(name + "\x00")]
        if (status != "ACTIVE" or (entry and entry.logging_update)
                or any(c.get("status") in ("CREATING", "DELETING") for c in configs)):
            return eks._error(409, "ResourceInUseException",
                              f"Cluster {name} has an update in progress or is not ACTIVE ({status})")
        if wanted == current:
            return eks._error(400, "InvalidParameterException", "No changes needed for the logging config provided")
        update = {
            "id": str(uuid.uuid4()), "status": "InProgress", "type": "LoggingUpdate",
            "params": [{"type": "ClusterLogging", "value": json.dumps(body["logging"]["clusterLogging"])}],
            "createdAt": eks._now(), "errors": [],
        }
        self.updates.setdefault(arn, {})[update["id"]] = update
        done_by = time.monotonic() + LOGGING_UPDATE_SECONDS

        def job():
            _sleep_until(done_by)
            try:
                self.shipper.set_enabled(arn, "audit" in wanted)
            except Exception as e:
                update.update(status="Failed", errors=[{"errorCode": "Unknown", "errorMessage": str(e)}])
                raise
            finally:
                if entry:
                    entry.logging_update, entry.status = None, "ACTIVE"
            cluster["logging"] = auditlog.logging_config(wanted)
            update["status"] = "Successful"

        if entry is None:  # no Kubernetes side: nothing to ship, applied at once
            cluster["logging"] = auditlog.logging_config(wanted)
            update["status"] = "Successful"
        else:
            entry.logging_update, entry.status = update, "UPDATING"
            entry.submit(f"updating the logging of {name}", job)
        return eks._json_resp(200, {"update": dict(update)})

    def describe_update(self, cluster: dict, update_id: str) -> dict | None:
        return self.updates.get(cluster["arn"], {}).get(update_id)

    def list_updates(self, cluster: dict) -> list[str]:
        return list(self.updates.get(cluster["arn"], {}))


class IamIdentities:
    """EKS's IAM authenticator and access-policy authorizer, answered from MiniStack's records.

    The checks and the mapping are iam_authn.py's; this side supplies what
    MiniStack knows: the secret of an access key (its root key, IAM users'
    keys, STS sessions), its STS (called over HTTPS like any client, from the
    webhook server's threads), the clusters and their access entries
    (including the creator's, which MiniStack bootstraps at CreateCluster)
    and associated access policies with their rules.
    """

    def __init__(self, gateway: str, ca_cert: str) -> None:
        self.gateway = gateway
        port = urllib.parse.urlsplit(gateway).port
        # The names a client can sign for when AWS_ENDPOINT_URL_STS points at MiniStack.
        self.sts_hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
        self.sts_context = ssl.create_default_context(cafile=ca_cert)

    @staticmethod
    def _account(region: str, name: str) -> str | None:
        """The account of the EKS cluster ``name`` in ``region`` (None once it is deleted)."""
        found = eks._cluster_for_auth(name, None, region)
        return found[0] if found else None

    @staticmethod
    def _secret_access_key(access_key_id: str, session_token: str) -> str:
        """The secret MiniStack holds for a key (as its own EKS token check finds it), or TokenRejected."""
        try:
            account = iam_evaluator.find_iam_access_key_account(access_key_id)
        except iam_evaluator.AmbiguousAccessKeyError:
            account = None
        account = (account or responses._account_from_sts_session(access_key_id)
                   or (access_key_id if re.fullmatch(r"\d{12}", access_key_id) else responses.get_account_id()))
        credential = iam_evaluator.resolve_credential(access_key_id, account, session_token or None)
        if isinstance(credential, iam_evaluator.CredentialResolutionError):
            raise iam_authn.TokenRejected(f"access key {access_key_id}: {credential.message}")
        return credential.secret_access_key

    def authenticate(self, region: str, cluster_name: str, token: str) -> dict:
        """The Kubernetes user for an IAM token, or TokenRejected (kube-apiserver answers 401)."""
        account = self._account(region, cluster_name)
        if account is None:
            raise iam_authn.TokenRejected(f"no EKS cluster {cluster_name} in {region}")
        call = iam_authn.parse_token(token, sandbox_sts_hosts=self.sts_hosts,
                                     now=datetime.datetime.now(datetime.timezone.utc))
        secret = self._secret_access_key(call.access_key_id, call.session_token)
        if not iam_authn.signature_matches(call, cluster_name, secret):
            raise iam_authn.TokenRejected(
                f"signature of access key {call.access_key_id} does not match: the token was made for "
                "another cluster, altered, or signed with another secret")
        identity = iam_authn.ask_sts(call, cluster_name, self.gateway, self.sts_context)
        entry = eks._access_entry_for_principal(cluster_name, account, region, identity.arn)
        if entry is None:
            raise iam_authn.TokenRejected(f"{identity.arn} has no access entry on {cluster_name}")
        user = iam_authn.kubernetes_user(identity, call.access_key_id, entry)
        log.info("cluster %s/%s: %s authenticated as %s, groups %s",
                 region, cluster_name, identity.arn, user["username"], user["groups"])
        return user

    def authorize(self, region: str, cluster_name: str, review_spec: dict) -> bool:
        """Whether the caller's access entry has an access policy that allows the request."""
        arn = iam_authn.iam_principal_arn(review_spec)
        account = self._account(region, cluster_name)
        if arn is None or account is None:
            return False
        entry = eks._access_entry_for_principal(cluster_name, account, region, arn)
        if entry is None:
            return False
        grants = [
            (eks._ACCESS_POLICY_RULES[eks._access_policy_name(policy_arn)], association["accessScope"])
            for principal_arn, policy_arn, association in eks._access_policy_associations(cluster_name, account, region)
            if principal_arn == entry["principalArn"]
        ]
        return iam_authn.policies_allow(grants, review_spec)


def _start_iam_webhooks(state_dir: str, gateway: str) -> iam_authn.WebhookServer:
    """The webhook server every cluster's kube-apiserver calls, with a certificate from the sandbox CA.

    Its port is recorded in a pidfile of its own (MiniStack's pid), so that
    `status` lists it; `down` stops MiniStack first, which closes it.
    """
    directory = os.path.join(state_dir, "ministack")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    cert, key = os.path.join(directory, "iam-webhooks.crt"), os.path.join(directory, "iam-webhooks.key")
    ca_cert = os.path.join(state_dir, pki.CA_CERT)
    pki.issue(ca_cert, os.path.join(state_dir, pki.CA_KEY), cert, key, "iam-webhooks",
              ip_addresses=("127.0.0.1",), server=True)
    identities = IamIdentities(gateway, ca_cert)
    server = iam_authn.WebhookServer(cert, key, identities.authenticate, identities.authorize)
    server.start()
    with open(os.path.join(directory, "iam-webhooks" + procs.PIDFILE_SUFFIX), "w", encoding="utf-8") as handle:
        json.dump({"name": "iam-webhooks (in MiniStack)", "pid": os.getpid(), "ports": [server.port]}, handle)
    return server


@functools.lru_cache(maxsize=None)
def _logs_client(gateway: str, ca_cert: str, region: str):
    """A CloudWatch Logs client for MiniStack itself, with the root credentials (allowed under AUTH=true)."""
    import boto3  # only when a cluster's audit log is shipped

    return boto3.client(
        "logs", endpoint_url=gateway, region_name=region, verify=ca_cert,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )


# -- UpdateClusterConfig, DescribeUpdate, ListUpdates (routes MiniStack lacks) ------------

_UPDATE_ROUTES = (
    ("POST", re.compile(r"/clusters/([A-Za-z0-9_-]+)/update-config")),
    ("GET", re.compile(r"/clusters/([A-Za-z0-9_-]+)/updates/([A-Za-z0-9_-]+)")),
    ("GET", re.compile(r"/clusters/([A-Za-z0-9_-]+)/updates")),
)


def _cluster_updates(twin: Twin, method: str, path: str, body_bytes: bytes) -> tuple | None:
    """UpdateClusterConfig, DescribeUpdate and ListUpdates for logging updates; None for other requests."""
    for route_method, pattern in _UPDATE_ROUTES:
        match = pattern.fullmatch(path)
        if method != route_method or not match:
            continue
        cluster = eks._clusters.get(match.group(1))
        if cluster is None:
            return eks._error(404, "ResourceNotFoundException", f"No cluster found for name: {match.group(1)}.")
        if path.endswith("/update-config"):
            try:
                body = json.loads(body_bytes or b"{}")
            except ValueError:
                body = {}
            unsupported = sorted(set(body) - {"logging", "clientRequestToken"})
            if unsupported:
                return eks._error(400, "InvalidParameterException",
                                  f"the sandbox's UpdateClusterConfig changes logging only, not {unsupported}")
            return twin.update_logging(cluster, body)
        if match.re.groups == 2:
            update = twin.describe_update(cluster, match.group(2))
            # Other ids (identity provider associations): MiniStack's answer, as before.
            return eks._json_resp(200, {"update": update}) if update else None
        return eks._json_resp(200, {"updateIds": twin.list_updates(cluster)})
    return None


def _rewrite_cluster(response: tuple, twin: Twin) -> tuple:
    status, headers, body = response
    if status != 200:
        return response
    data = json.loads(body)
    twin.overlay(data["cluster"])
    return status, headers, json.dumps(data).encode()


def install(twin: Twin) -> None:
    create, describe, delete = eks._create_cluster, eks._describe_cluster, eks._delete_cluster
    associate, disassociate = (eks._associate_identity_provider_config,
                               eks._disassociate_identity_provider_config)

    def create_cluster(body, creator_arn=None):
        response = create(body, creator_arn)
        if response[0] == 200:
            twin.add(json.loads(response[2])["cluster"])
        return _rewrite_cluster(response, twin)

    def describe_cluster(name):
        return _rewrite_cluster(describe(name), twin)

    def delete_cluster(name):
        cluster = eks._clusters.get(name)
        response = delete(name)
        if response[0] == 200:
            twin.remove(cluster["arn"])
        return response

    def associate_identity_provider_config(cluster_name, body):
        response = associate(cluster_name, body)
        if response[0] == 200:
            oidc = body["oidc"]
            key = f"{cluster_name}\x00{oidc['identityProviderConfigName']}"
            twin.associate(eks._clusters[cluster_name]["arn"], oidc, eks._idp_configs[key])
        return response

    def disassociate_identity_provider_config(cluster_name, body):
        key = f"{cluster_name}\x00{(body.get('identityProviderConfig') or {}).get('name')}"
        record = eks._idp_configs.get(key)
        response = disassociate(cluster_name, body)  # removes the record at once
        if response[0] == 200 and record is not None:
            twin.disassociate(eks._clusters[cluster_name]["arn"], key, record)
        return response

    handle = eks._handle_request_sync

    def handle_request_sync(method, path, headers, body_bytes, query_params):
        return _cluster_updates(twin, method, path, body_bytes) or handle(
            method, path, headers, body_bytes, query_params)

    eks._handle_request_sync = handle_request_sync
    eks._create_cluster = create_cluster
    eks._describe_cluster = describe_cluster
    eks._delete_cluster = delete_cluster
    eks._associate_identity_provider_config = associate_identity_provider_config
    eks._disassociate_identity_provider_config = disassociate_identity_provider_config
    # Never start k3s, even where Docker exists: the sandbox is the control plane.
    eks._get_docker = lambda: None
    # With TLS on, MiniStack also binds :443 so that Cognito `iss` URLs work
    # through /etc/hosts. The sandbox hands kube-apiserver a discoveryURL
    # instead, and must not hold a privileged port that parallel sandboxes share.
    app._port_is_bindable = lambda host, port: False
    _install_insights()
    _install_eks_condition_keys()
    _install_set_default_policy_version()
    _install_cognito_update_group()
    _serve_sandbox_path(knobs.AUDIT_SHIPPER_PATH, lambda: {"passes": twin.shipper.passes})


def _serve_sandbox_path(path: str, snapshot) -> None:
    """Answer GET ``path`` with ``snapshot()`` as JSON: the sandbox's own state for tests and benchmarks."""
    pre_body = app._handle_pre_body_request

    async def handle_pre_body_request(method, request_path, headers, query_params, request_id):
        if method == "GET" and request_path == path:
            return 200, {"Content-Type": "application/json"}, json.dumps(snapshot()).encode()
        return await pre_body(method, request_path, headers, query_params, request_id)

    app._handle_pre_body_request = handle_pre_body_request


# -- Request quotas: throttling and the call count (knobs.py) ------------------------------


def _throttled_response(service: str) -> tuple:
    """A throttled call's answer, as the service gives it: HTTP 400 and the error code botocore retries."""
    if service == knobs.COGNITO:
        return responses.error_response_json("TooManyRequestsException", "Rate exceeded", 400,
                                             content_type="application/x-amz-json-1.1")
    return eks._error(400, "ThrottlingException", "Rate exceeded")


def install_quotas(throttle: knobs.Throttle, counter: knobs.CallCounter) -> None:
    """Count every Cognito user pool and EKS API call, throttle the share SANDBOX_THROTTLE asks for,
    and serve the count at GET /_sandbox/api-calls.

    The service handlers are looked up in ``app.SERVICE_HANDLERS`` at request
    time, after routing (and IAM, when enforced): a throttled call never
    reaches the service, so nothing it asked for happens, as on AWS.
    """
    for service in (knobs.COGNITO, knobs.EKS):
        handler = app.SERVICE_HANDLERS[service]

        async def counted(method, path, headers, body, query_params, service=service, handler=handler):
            name = knobs.operation(service, method, path, headers)
            if name is None:
                return await handler(method, path, headers, body, query_params)
            throttled = throttle.hit()
            counter.add(service, name, throttled)
            if throttled:
                return _throttled_response(service)
            return await handler(method, path, headers, body, query_params)

        app.SERVICE_HANDLERS[service] = counted

    _serve_sandbox_path(knobs.API_CALLS_PATH, counter.snapshot)


# -- CloudWatch Logs Insights and IAM ------------------------------------------------------


def _install_insights() -> None:
    """Logs Insights on JSON fields (insights.py); a clear MalformedQueryException for what it cannot run."""
    own_filter, start_query = cloudwatch_logs._compile_insights_filter, cloudwatch_logs._start_query

    def compile_filter(stage):
        predicate = own_filter(stage)  # MiniStack's forms first: @field = '..', like, toMillis
        if predicate is not None:
            return predicate
        ours = insights.compile_filter(stage)
        return lambda record: ours(functools.partial(insights.field_value, cloudwatch_logs._public_log_record(record)))

    def start(data):
        try:
            for stage in cloudwatch_logs._split_insights_pipes(data.get("queryString", "")):
                if insights.command(stage) not in insights.SUPPORTED_COMMANDS:
                    raise insights.UnsupportedQuery(
                        f"the sandbox runs only {', '.join(insights.SUPPORTED_COMMANDS)} commands, not {stage!r}")
            return start_query(data)
        except insights.UnsupportedQuery as e:
            return cloudwatch_logs.error_response_json("MalformedQueryException", f"{e} (sandbox Logs Insights)", 400)

    def row_from_record(record, fields):
        public = cloudwatch_logs._public_log_record(record)
        return [{"field": f, "value": insights.display(insights.field_value(public, f))} for f in fields]

    cloudwatch_logs._compile_insights_filter = compile_filter
    cloudwatch_logs._start_query = start
    cloudwatch_logs._row_from_record = row_from_record


def _install_eks_condition_keys() -> None:
    """eks:issuerUrl and eks:clientId for AssociateIdentityProviderConfig, as IAM gets them on AWS.

    MiniStack's evaluator (AUTH=true) resolves request condition keys from
    the context ``request_tag_context`` returns; it has none for EKS.
    """
    request_context = iam_actions.request_tag_context

    def with_eks_keys(service, iam_action, body, params):
        context = request_context(service, iam_action, body, params)
        if iam_action == "eks:AssociateIdentityProviderConfig":
            try:
                oidc = json.loads(body or b"{}").get("oidc") or {}
            except ValueError:
                oidc = {}
            for key, field in (("eks:issuerurl", "issuerUrl"), ("eks:clientid", "clientId")):
                if isinstance(oidc.get(field), str):
                    context[key] = oidc[field]  # the evaluator looks keys up in lower case
        return context

    iam_actions.request_tag_context = with_eks_keys


def _install_set_default_policy_version() -> None:
    """IAM SetDefaultPolicyVersion, on MiniStack's own policy records (Versions by id, DefaultVersionId)."""

    def set_default_policy_version(params):
        arn, version_id = iam._p(params, "PolicyArn"), iam._p(params, "VersionId")
        policy = iam._policies.get(arn)
        if policy is None or version_id not in policy["Versions"]:
            return iam._error(404, "NoSuchEntity", f"Policy {arn} version {version_id} does not exist.")
        for version in policy["Versions"].values():
            version["IsDefaultVersion"] = version["VersionId"] == version_id
        policy["DefaultVersionId"], policy["UpdateDate"] = version_id, iam._now()
        return iam._xml(200, "SetDefaultPolicyVersionResponse", "")

    iam._IAM_HANDLERS.setdefault("SetDefaultPolicyVersion", set_default_policy_version)


def _install_cognito_update_group() -> None:
    """Cognito UpdateGroup on MiniStack's own group records, with AWS's semantics.

    As on AWS, a setting the request leaves out is reset to its default (the
    module sends every setting). MiniStack's dispatcher builds its handler
    table per request, so the dispatcher itself is wrapped.
    """
    dispatch = cognito._dispatch_idp

    def update_group(data):
        pool, error = cognito._resolve_pool(data.get("UserPoolId"))
        if error:
            return error
        group = pool["_groups"].get(data.get("GroupName"))
        if group is None:
            return cognito.error_response_json("ResourceNotFoundException", f"Group {data.get('GroupName')} not found.", 400)
        group.update(Description=data.get("Description", ""), RoleArn=data.get("RoleArn", ""),
                     Precedence=data.get("Precedence", 0), LastModifiedDate=cognito._now_epoch())
        return cognito.json_response({"Group": cognito._group_out(group)})

    async def dispatch_with_update_group(action, data):
        if action == "UpdateGroup":
            return update_group(data)
        return await dispatch(action, data)

    cognito._dispatch_idp = dispatch_with_update_group


def _serve_tls(state_dir: str) -> None:
    """Give MiniStack a certificate from the sandbox CA, for the names its own would carry."""
    directory = os.path.join(state_dir, "ministack")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
    pki.issue(
        os.path.join(state_dir, pki.CA_CERT), os.path.join(state_dir, pki.CA_KEY), cert, key,
        "ministack", dns_names=("localhost", *tls.cognito_idp_hosts()),
        ip_addresses=("127.0.0.1", "::1"), server=True,
    )
    os.environ.update(USE_SSL="1", MINISTACK_SSL_CERT=cert, MINISTACK_SSL_KEY=key)


def _root_credentials() -> None:
    """Make the sandbox's credentials MiniStack's root, whatever the caller's environment holds.

    MiniStack treats its configured key (AWS_ACCESS_KEY_ID) as the account
    root, with AWS_SECRET_ACCESS_KEY as its secret: so CreateCluster records
    the sandbox's caller as the cluster creator (and bootstraps its admin
    access entry), and the IAM webhook knows the root key's secret. A session
    token of the caller's environment would otherwise be required with it.
    """
    os.environ.update(AWS_ACCESS_KEY_ID=sandbox.ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=sandbox.SECRET_ACCESS_KEY)
    os.environ.pop("AWS_SESSION_TOKEN", None)


def main() -> None:
    state_dir = os.path.realpath(sys.argv[1])
    _serve_tls(state_dir)
    _root_credentials()
    gateway = f"https://127.0.0.1:{os.environ['GATEWAY_PORT']}"
    binaries = os.environ.get("SANDBOX_K8S_BINARIES") or None
    try:
        delay, throttle = knobs.association_delay(), knobs.Throttle(knobs.throttle_fraction(), knobs.throttle_seed())
    except knobs.KnobError as e:
        sys.exit(f"sandbox: {e}")
    webhooks = _start_iam_webhooks(state_dir, gateway) if binaries else None
    install(Twin(state_dir, binaries, gateway, webhooks, association_delay=delay))
    install_quotas(throttle, knobs.CallCounter())
    log.info("knobs: association delay %gs, throttle %g (seed %d)", delay, throttle.fraction, knobs.throttle_seed())
    sys.argv = sys.argv[:1]  # MiniStack parses its own (empty) command line
    app.main()


if __name__ == "__main__":
    main()
