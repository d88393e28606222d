# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The OIDC identity provider config of an EKS cluster (modules eks_identity_provider_config and _info).

EKS has no update call for an identity provider config: every setting is
fixed at association, an association or disassociation is a cluster update
that takes 15 to 25 minutes, a cluster busy with another update refuses new
ones (ResourceInUseException), and a cluster takes one OIDC config (ten from
Kubernetes 1.32, each with its own issuer). This file turns that into one
plan per run: what the task asks for, what the cluster has, what differs,
what to do about it (nothing, tags only, refuse, or replace with ``force``),
and then does it with one wait loop and one busy-cluster retry loop.

It also holds ``effective_claim_mapping``: the username and groups prefixes
kube-apiserver applies for a config, which the RBAC and token modules reuse.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from urllib.parse import urlsplit

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import diff_from_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import merge_desired
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import without_none

# Module option -> field of the API's OidcIdentityProviderConfig. All of them
# are fixed when the config is associated.
OIDC_FIELDS = (
    ("issuer_url", "issuerUrl"),
    ("client_id", "clientId"),
    ("username_claim", "usernameClaim"),
    ("username_prefix", "usernamePrefix"),
    ("groups_claim", "groupsClaim"),
    ("groups_prefix", "groupsPrefix"),
    ("required_claims", "requiredClaims"),
)

ACTIVE, CREATING, DELETING = "ACTIVE", "CREATING", "DELETING"
# What a config's status reads as once DescribeIdentityProviderConfig no longer finds it.
GONE = "GONE"
UPDATE_FAILED = ("Failed", "Cancelled")

# EKS's limits (OidcIdentityProviderConfig in the EKS API reference).
REQUIRED_CLAIM_KEY_MAX = 63
REQUIRED_CLAIM_VALUE_MAX = 253
# Clusters on Kubernetes 1.32 or later take up to ten OIDC configs, each with
# its own issuer; earlier versions take one.
MULTI_PROVIDER_VERSION = (1, 32)
MAX_CONFIGS_MULTI = 10

# Seconds between polls while waiting for a status: quick first (the sandbox
# needs seconds), then every half minute (EKS needs 15 to 25 minutes).
POLL_FIRST, POLL_FACTOR, POLL_MAX = 2.0, 1.5, 30.0
# Seconds between attempts while the cluster is busy with another update.
BUSY_FIRST, BUSY_FACTOR, BUSY_MAX = 5.0, 2.0, 60.0
# Throttling and transient errors: retried by the client (aws_retry=True).
CLIENT_RETRY_CODES = ["ThrottlingException", "TooManyRequestsException"]


class EksError(Exception):
    """A problem the user can fix; the message says how. ``result`` goes into fail_json."""

    def __init__(self, msg, **result):
        super(EksError, self).__init__(msg)
        self.result = result


class Clock(object):
    """Time as the wait and retry loops see it; a test hands them one that does not sleep."""

    def now(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)


def backoff_delays(first, factor, maximum):
    """first, first*factor, ... capped at maximum, forever."""
    delay = first
    while True:
        yield min(delay, maximum)
        delay *= factor


class WaitLog(object):
    """What the module saw while it waited, for the result: each change of a status, with the time."""

    def __init__(self, clock):
        self.clock = clock
        self.started = clock.now()
        self.entries = []
        self._last = {}

    def elapsed(self):
        return int(round(self.clock.now() - self.started))

    def record(self, subject, **observed):
        """Add an entry unless ``subject`` was last seen exactly so."""
        if self._last.get(subject) == observed:
            return
        self._last[subject] = observed
        entry = {"elapsed_seconds": self.elapsed(), "subject": subject}
        entry.update(observed)
        self.entries.append(entry)

    def result(self):
        return {"wait_log": list(self.entries), "elapsed_seconds": self.elapsed()}


# ---------------------------------------------------------------------------
# Claim mapping: what kube-apiserver makes of a config (pure)
# ---------------------------------------------------------------------------

def _field(config, option):
    """A config setting from a snake_case dict (module results) or an API dict (camelCase)."""
    api = dict(OIDC_FIELDS)[option]
    value = config.get(option)
    return config.get(api) if value is None else value


def effective_claim_mapping(config):
    """The claims and prefixes kube-apiserver applies for an EKS OIDC identity provider config.

    ``config`` is a config as this module returns it (snake_case) or as the EKS API
    describes it (camelCase). EKS's documented semantics:

    * the username claim defaults to ``sub``;
    * an unset username prefix means ``<issuer_url>#``, except with the claim
      ``email``, which gets no prefix; the prefix ``-`` turns prefixing off;
    * groups come from the groups claim (none when unset), with the groups
      prefix (none when unset).

    Returns ``{username_claim, username_prefix, groups_claim, groups_prefix}``
    with the prefixes as the literal strings put in front (``""`` for none) and
    ``groups_claim`` None when the config maps no groups. A Kubernetes username
    is ``username_prefix + token[username_claim]``, a group
    ``groups_prefix + group``: what RBAC subjects must name.
    """
    username_claim = _field(config, "username_claim") or "sub"
    username_prefix = _field(config, "username_prefix")
    if not username_prefix:
        username_prefix = "" if username_claim == "email" else "%s#" % (_field(config, "issuer_url") or "")
    elif username_prefix == "-":
        username_prefix = ""
    groups_claim = _field(config, "groups_claim") or None
    return {
        "username_claim": username_claim,
        "username_prefix": username_prefix,
        "groups_claim": groups_claim,
        "groups_prefix": (_field(config, "groups_prefix") or "") if groups_claim else "",
    }


def _claim_expression(claim):
    """``claims.email``, or ``claims["cognito:groups"]`` when the name is not an identifier."""
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", claim):
        return "claims.%s" % claim
    return 'claims["%s"]' % claim


def kubernetes_username_rule(mapping):
    """The username rule of an ``effective_claim_mapping`` as kube-apiserver's CEL would state it.

    ``claims.email`` (no prefix) or ``'https://issuer#' + claims.sub``.
    """
    claim = _claim_expression(mapping["username_claim"])
    if not mapping["username_prefix"]:
        return claim
    return "'%s' + %s" % (mapping["username_prefix"], claim)


# ---------------------------------------------------------------------------
# Validation before any API call (pure), and against the cluster
# ---------------------------------------------------------------------------

def issuer_url_problem(url):
    """Why EKS would refuse ``url`` as an issuer URL, or None."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "it must start with https:// (EKS fetches the provider's keys over TLS)"
    if not parts.hostname:
        return "it has no host name"
    if "?" in url:
        return "it has a query (?...), which an OIDC issuer URL must not have"
    if "#" in url:
        return "it has a fragment (#...), which an OIDC issuer URL must not have"
    return None


def validate_params(params):
    """Refuse, before any API call, what EKS would refuse. Returns warnings for what it would accept but not use."""
    present = params["state"] == "present"
    if present:
        missing = [option for option in ("issuer_url", "client_id") if not params.get(option)]
        if missing:
            raise EksError(
                "%s %s required with state: present: the identity provider's issuer URL and the id of its app client "
                "(the 'aud' of its ID tokens)" % (" and ".join(missing), "is" if len(missing) == 1 else "are")
            )
    url = params.get("issuer_url")
    if url:
        problem = issuer_url_problem(url)
        if problem:
            raise EksError("issuer_url '%s' is not valid for EKS: %s" % (url, problem))
    for option in ("username_prefix", "groups_prefix"):
        value = params.get(option)
        if value and "system:" in value:
            raise EksError(
                "%s '%s' contains 'system:', which EKS refuses: Kubernetes reserves system: names for its own users "
                "and groups; choose a prefix such as 'oidc:'" % (option, value)
            )
    for key, value in sorted((params.get("required_claims") or {}).items()):
        if not 1 <= len(key) <= REQUIRED_CLAIM_KEY_MAX:
            raise EksError("required_claims key '%s' must be 1 to %d characters long" % (key, REQUIRED_CLAIM_KEY_MAX))
        if not isinstance(value, str):
            raise EksError(
                "required_claims value of '%s' must be a string, got %r; quote it (%s: \"%s\")"
                % (key, value, key, str(value).lower() if isinstance(value, bool) else value)
            )
        if not 1 <= len(value) <= REQUIRED_CLAIM_VALUE_MAX:
            raise EksError(
                "required_claims value of '%s' must be 1 to %d characters long, got %d"
                % (key, REQUIRED_CLAIM_VALUE_MAX, len(value))
            )
    warnings = []
    if present and params.get("groups_prefix") and not params.get("groups_claim"):
        warnings.append("groups_prefix has no effect without groups_claim: kube-apiserver maps no groups")
    return warnings


def _same_issuer(a, b):
    """Whether two issuer URLs name the same provider (host and path; scheme and trailing slash aside)."""
    if not a or not b:
        return False
    a, b = urlsplit(a), urlsplit(b)
    return (a.netloc.lower(), a.path.rstrip("/")) == (b.netloc.lower(), b.path.rstrip("/"))


def validate_against_cluster(params, cluster):
    """Refuse the cluster's own service-account issuer (IAM roles for service accounts), which EKS rejects."""
    own_issuer = ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer")
    if _same_issuer(params.get("issuer_url"), own_issuer):
        raise EksError(
            "issuer_url '%s' is cluster '%s''s own OpenID Connect provider URL, the issuer of its service account "
            "tokens (IAM roles for service accounts); EKS refuses it. Give the issuer of your identity provider, "
            "such as the Cognito user pool's https://cognito-idp.REGION.amazonaws.com/POOL_ID"
            % (params["issuer_url"], cluster.get("name"))
        )


def max_oidc_configs(kubernetes_version):
    """How many OIDC configs EKS lets a cluster of this Kubernetes version have."""
    match = re.match(r"^(\d+)\.(\d+)", kubernetes_version or "")
    if match and (int(match.group(1)), int(match.group(2))) >= MULTI_PROVIDER_VERSION:
        return MAX_CONFIGS_MULTI
    return 1


# ---------------------------------------------------------------------------
# Desired and current settings, and the plan (pure)
# ---------------------------------------------------------------------------

def desired_settings(params):
    """The task's config: option name -> value, None where the task says nothing.

    ``""`` for a prefix or a claim and ``{}`` for required_claims mean "unset" and
    are compared as such, so a task can ask for a setting to be absent.
    """
    desired = {"name": params["name"]}
    for option, _api in OIDC_FIELDS:
        desired[option] = params.get(option)
    return desired


def current_settings(config):
    """A described config (API dict) as comparable settings: option names, EKS's defaults explicit."""
    settings = {"name": config.get("identityProviderConfigName")}
    for option, api in OIDC_FIELDS:
        settings[option] = config.get(api)
    settings["username_claim"] = settings["username_claim"] or "sub"
    for option in ("username_prefix", "groups_claim", "groups_prefix"):
        settings[option] = settings[option] or ""
    settings["required_claims"] = settings["required_claims"] or {}
    return settings


def settings_changes(current, desired):
    """``plan_changes`` of two settings dicts; required_claims compared as a whole, not key by key."""
    claims = desired.get("required_claims")
    changes = plan_changes(current, dict(desired, required_claims=None))
    if claims is not None and claims != current.get("required_claims"):
        changes["required_claims"] = {"before": current.get("required_claims"), "after": claims}
    return changes


def tags_after(current_tags, tags, purge_tags):
    """The tags a config has after applying ``tags``/``purge_tags``, and the calls that get there."""
    current_tags = current_tags or {}
    if tags is None:
        return dict(current_tags), {}, []
    to_set, to_unset = compare_aws_tags(current_tags, tags, purge_tags)
    after = dict((k, v) for k, v in current_tags.items() if k not in to_unset)
    after.update(to_set)
    return after, to_set, to_unset


def describe_changes(changes):
    return "; ".join("%s: %r -> %r" % (path, c["before"], c["after"]) for path, c in sorted(changes.items()))


class Plan(object):
    """What a run does, decided before any change: each field empty means "nothing of that"."""

    def __init__(self):
        self.current = None  # the described config called ``name``, kept as is
        self.replace = []  # described configs to disassociate first (force)
        self.await_gone = []  # names of configs already being deleted, to wait for first
        self.associate = None  # settings of the config to associate
        self.associate_tags = {}
        self.tags_to_set, self.tags_to_unset = {}, []
        self.before, self.after = {}, {}
        self.changes = {}

    @property
    def changed(self):
        return bool(self.replace or self.associate or self.tags_to_set or self.tags_to_unset)

    def actions(self, cluster_name):
        actions = ["disassociate '%s' from cluster '%s'" % (c["identityProviderConfigName"], cluster_name) for c in self.replace]
        gone = [c["identityProviderConfigName"] for c in self.replace] + self.await_gone
        actions += ["wait until '%s' is gone" % name for name in gone]
        if self.associate:
            actions.append("associate '%s' with cluster '%s'" % (self.associate["name"], cluster_name))
        if self.tags_to_set:
            actions.append("tag '%s': %s" % (self.current["identityProviderConfigName"], ", ".join(sorted(self.tags_to_set))))
        if self.tags_to_unset:
            actions.append("untag '%s': %s" % (self.current["identityProviderConfigName"], ", ".join(sorted(self.tags_to_unset))))
        return actions


def _with_tags(settings, tags):
    return dict(settings, tags=tags)


def _refusal(cluster_name, config, changes, name, max_configs):
    old = config["identityProviderConfigName"]
    if old == name:
        intro = "identity provider config '%s' of cluster '%s' differs from the task" % (name, cluster_name)
        keep = "keep its current values"
    else:
        intro = (
            "cluster '%s' already has OIDC identity provider config '%s' (%s), and it differs from the task"
            % (cluster_name, old, "EKS allows one OIDC config per cluster before Kubernetes 1.32"
               if max_configs == 1 else "with the same issuer_url, which EKS allows once per cluster")
        )
        keep = "use name: %s with its values to keep it" % old
    return EksError(
        "%s: %s. EKS identity provider configs are immutable (there is no update call). Set force: true to replace "
        "it: disassociate '%s', wait until it is gone, then associate '%s' (on EKS about 30 to 50 minutes in all, "
        "during which OIDC users cannot log in); or %s." % (intro, describe_changes(changes), old, name, keep),
        changes=changes,
        diff=diff_from_changes(changes),
        identity_provider_config=config_result(config),
    )


def plan_present(cluster_name, configs, params, max_configs):
    """The Plan for state present, from the described configs of the cluster (each with its ``tags``)."""
    plan = Plan()
    desired = desired_settings(params)
    name = desired["name"]
    live = []
    for config in configs:
        if config.get("status") == DELETING:
            plan.await_gone.append(config["identityProviderConfigName"])
        else:
            live.append(config)
    mine = [c for c in live if c["identityProviderConfigName"] == name]
    others = [c for c in live if c["identityProviderConfigName"] != name]

    if mine:
        current = mine[0]
        changes = settings_changes(current_settings(current), desired)
        if not changes:
            plan.current = current
            after_tags, plan.tags_to_set, plan.tags_to_unset = tags_after(current.get("tags"), params["tags"], params["purge_tags"])
            plan.before = _with_tags(current_settings(current), current.get("tags") or {})
            plan.after = _with_tags(current_settings(current), after_tags)
            if plan.tags_to_set or plan.tags_to_unset:
                plan.changes = {"tags": {"before": plan.before["tags"], "after": after_tags}}
            return plan
        conflicts = [current]
    elif max_configs == 1:
        conflicts = others
    else:
        conflicts = [c for c in others if _same_issuer(c.get("issuerUrl"), desired["issuer_url"])]
        if len(others) - len(conflicts) >= max_configs:
            raise EksError(
                "cluster '%s' already has %d OIDC identity provider configs (%s), EKS's limit; disassociate one first"
                % (cluster_name, len(others), ", ".join(sorted(c["identityProviderConfigName"] for c in others)))
            )

    if conflicts:
        replaced = conflicts[0]
        before = _with_tags(current_settings(replaced), replaced.get("tags") or {})
        changes = settings_changes(current_settings(replaced), desired)
        if not params["force"]:
            raise _refusal(cluster_name, replaced, changes, name, max_configs)
        plan.replace = conflicts
        settings = merge_desired(current_settings(replaced), desired)
        tags = tags_after(replaced.get("tags"), params["tags"], params["purge_tags"])[0]
        plan.changes = changes
    else:
        before = {}
        settings = without_none(dict(desired, username_claim=desired["username_claim"] or "sub"))
        tags = params["tags"] or {}
    plan.associate = settings
    plan.associate_tags = tags
    plan.before = before
    plan.after = _with_tags(current_settings(association_request(settings)["oidc"]), tags)
    return plan


def association_request(settings, tags=None):
    """AssociateIdentityProviderConfig arguments (without clusterName) for a settings dict."""
    oidc = {"identityProviderConfigName": settings["name"]}
    for option, api in OIDC_FIELDS:
        value = settings.get(option)
        if value not in (None, "", {}):
            oidc[api] = value
    request = {"oidc": oidc}
    if tags:
        request["tags"] = tags
    return request


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

def config_result(config):
    """A described config (API dict with ``tags``) as the modules return it, with its claim mapping."""
    if not config:
        return {}
    result = camel_dict_to_snake_dict(config, ignore_list=["tags", "requiredClaims"])
    result.setdefault("required_claims", {})
    result.setdefault("tags", {})
    return result


def mapping_result(config):
    """``claim_mapping`` and ``kubernetes_username_rule`` of a config, for the module results."""
    if not config:
        return {}
    mapping = effective_claim_mapping(config)
    return {"claim_mapping": mapping, "kubernetes_username_rule": kubernetes_username_rule(mapping)}


# ---------------------------------------------------------------------------
# Reading EKS
# ---------------------------------------------------------------------------

def eks_client(module):
    """The EKS client of every EKS module: throttling and transient errors retried with jittered backoff."""
    return module.client("eks", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=CLIENT_RETRY_CODES))


def describe_cluster(client, cluster_name):
    """The described cluster, or None when there is none by that name."""
    try:
        return client.describe_cluster(name=cluster_name, aws_retry=True)["cluster"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def _config_ref(name):
    return {"type": "oidc", "name": name}


def describe_config(client, cluster_name, name, with_tags=True):
    """The described OIDC config (API dict, ``tags`` read from the tag API), or None when it does not exist.

    The tags come from ListTagsForResource: it is what TagResource changes, while
    the emulator's DescribeIdentityProviderConfig keeps the tags of the association.
    """
    try:
        config = client.describe_identity_provider_config(
            clusterName=cluster_name, identityProviderConfig=_config_ref(name), aws_retry=True
        )["identityProviderConfig"]["oidc"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    if with_tags and config.get("identityProviderConfigArn"):
        try:
            config["tags"] = client.list_tags_for_resource(resourceArn=config["identityProviderConfigArn"], aws_retry=True)["tags"]
        except is_boto3_error_code("ResourceNotFoundException"):
            pass
    return config


def list_config_names(client, cluster_name):
    """Names of the cluster's OIDC configs."""
    found = paginated_query_with_retries(client, "list_identity_provider_configs", clusterName=cluster_name)
    return sorted(ref["name"] for ref in found.get("identityProviderConfigs", []) if ref.get("type") == "oidc")


def read_configs(client, cluster_name, with_tags=True):
    """Every described OIDC config of the cluster."""
    names = list_config_names(client, cluster_name)
    described = (describe_config(client, cluster_name, name, with_tags) for name in names)
    return [config for config in described if config is not None]


def require_cluster(client, cluster_name, region):
    cluster = describe_cluster(client, cluster_name)
    if cluster is None:
        raise EksError(
            "EKS cluster '%s' does not exist in region %s; check cluster_name and region (or the endpoint_url)"
            % (cluster_name, region)
        )
    return cluster


# ---------------------------------------------------------------------------
# Changing EKS: the busy-cluster retry and the wait loop
# ---------------------------------------------------------------------------

def cluster_update_in_progress(client, cluster_name):
    """Whether the cluster is busy: updating, or one of its OIDC configs is being associated or disassociated."""
    cluster = describe_cluster(client, cluster_name)
    if cluster is None:
        return False
    if cluster.get("status") not in (None, "ACTIVE"):
        return True
    return any(c.get("status") in (CREATING, DELETING) for c in read_configs(client, cluster_name, with_tags=False))


def call_when_cluster_idle(call, what, is_busy, deadline, clock, log):
    """``call()``, retried with backoff while EKS answers ResourceInUseException because the cluster is busy.

    EKS takes one update at a time; a cluster upgrade or another association
    makes it refuse this one for up to half an hour. Retries stop at
    ``deadline``. When EKS refuses although ``is_busy()`` sees nothing going on
    (twice, to allow for an update that just finished), waiting would not help
    and the refusal is reported at once.
    """
    delays = backoff_delays(BUSY_FIRST, BUSY_FACTOR, BUSY_MAX)
    idle_refusals = 0
    while True:
        try:
            return call()
        except is_boto3_error_code("ResourceInUseException") as e:
            message = e.response["Error"].get("Message", "")
            busy = is_busy()
            log.record("cluster", waiting_to=what, refused=message, busy=busy)
            idle_refusals = 0 if busy else idle_refusals + 1
            if idle_refusals >= 2:
                raise EksError(
                    "EKS refused to %s: %s (the cluster has no update in progress, so waiting would not help)" % (what, message),
                    **log.result()
                )
            remaining = deadline - clock.now()
            if remaining <= 0:
                raise EksError(
                    "could not %s: the cluster is still busy with another update after %d seconds; EKS says: %s. "
                    "Run the task again later, or raise wait_timeout" % (what, log.elapsed(), message),
                    **log.result()
                )
            clock.sleep(min(next(delays), remaining))


def describe_update_status(client, cluster_name, update_id):
    """(status, errors) of an EKS update, or None when the endpoint cannot describe it (the emulator)."""
    try:
        update = client.describe_update(name=cluster_name, updateId=update_id, aws_retry=True)["update"]
    except is_boto3_error_code(["InvalidRequestException", "ResourceNotFoundException", "InvalidParameterException"]):
        return None
    return update.get("status"), update.get("errors") or []


def _errors_text(errors):
    return "; ".join("%s: %s" % (e.get("errorCode"), e.get("errorMessage")) for e in errors) or "no details given"


def wait_for_config(client, cluster_name, name, target, deadline, clock, log, update_id=None):
    """Poll until config ``name`` is ``target`` (ACTIVE, or GONE); return it described (None when gone).

    Polls DescribeIdentityProviderConfig and, for the update an associate or
    disassociate call returned, DescribeUpdate, which tells a failed update
    from a slow one. Every change of status goes to ``log``; at ``deadline``
    it fails with the last status seen.
    """
    delays = backoff_delays(POLL_FIRST, POLL_FACTOR, POLL_MAX)
    while True:
        config = describe_config(client, cluster_name, name, with_tags=False)
        status = config.get("status") if config else GONE
        update = describe_update_status(client, cluster_name, update_id) if update_id else None
        if update_id and update is None:
            update_id = None  # this endpoint has no DescribeUpdate; the config's status alone decides
        observed = {"status": status}
        if update:
            observed["update_status"] = update[0]
        log.record(name, **observed)
        if status == target:
            return config
        if update and update[0] in UPDATE_FAILED:
            raise EksError(
                "EKS update %s of identity provider config '%s' on cluster '%s' %s: %s"
                % (update_id, name, cluster_name, update[0].lower(), _errors_text(update[1])),
                **log.result()
            )
        if target == ACTIVE and status == GONE and not (update and update[0] == "InProgress"):
            raise EksError(
                "identity provider config '%s' of cluster '%s' disappeared while waiting for it to become ACTIVE; "
                "EKS may have rejected the issuer (it must be reachable over the internet with a publicly trusted "
                "certificate). Check the cluster's updates (aws eks list-updates --name %s)" % (name, cluster_name, cluster_name),
                **log.result()
            )
        remaining = deadline - clock.now()
        if remaining <= 0:
            last = status if not update else "%s (update %s %s)" % (status, update_id, update[0])
            raise EksError(
                "timed out after %d seconds waiting for identity provider config '%s' of cluster '%s' to be %s; "
                "last status: %s. EKS takes 15 to 25 minutes and carries on after this timeout: run the task again "
                "to pick up the wait, or raise wait_timeout" % (log.elapsed(), name, cluster_name, target, last),
                **log.result()
            )
        clock.sleep(min(next(delays), remaining))


class IdentityProviderConfigs(object):
    """The mutating calls for one cluster, each retried while the cluster is busy."""

    def __init__(self, client, cluster_name, deadline, clock, log):
        self.client = client
        self.cluster_name = cluster_name
        self.deadline = deadline
        self.clock = clock
        self.log = log

    def _when_idle(self, call, what):
        return call_when_cluster_idle(
            call, what, lambda: cluster_update_in_progress(self.client, self.cluster_name), self.deadline, self.clock, self.log
        )

    def associate(self, settings, tags):
        """Associate; returns the EKS update id."""
        request = association_request(settings, tags)

        def call():
            return self.client.associate_identity_provider_config(clusterName=self.cluster_name, aws_retry=True, **request)

        response = self._when_idle(call, "associate '%s'" % settings["name"])
        return (response.get("update") or {}).get("id")

    def disassociate(self, name):
        """Disassociate; returns the EKS update id, or None when the config was already gone."""

        def call():
            try:
                return self.client.disassociate_identity_provider_config(
                    clusterName=self.cluster_name, identityProviderConfig=_config_ref(name), aws_retry=True
                )
            except is_boto3_error_code("ResourceNotFoundException"):
                return {}

        response = self._when_idle(call, "disassociate '%s'" % name)
        return (response.get("update") or {}).get("id")

    def wait(self, name, target, update_id=None):
        return wait_for_config(self.client, self.cluster_name, name, target, self.deadline, self.clock, self.log, update_id)


# ---------------------------------------------------------------------------
# The module flows
# ---------------------------------------------------------------------------

def warn(module, message):
    """module.warn without AnsibleAWSModule's copy of the warnings into the result.

    amazon.aws 10 adds them to exit_json as ``warnings`` on ansible-core 2.19,
    which core reports as deprecated; core shows warnings by itself.
    """
    getattr(module, "_module", module).warn(message)


def _exit(module, changed, config, plan_actions, log, **extra):
    result = dict(changed=changed, identity_provider_config=config_result(config), actions=plan_actions)
    result.update(mapping_result(config))
    result.update(log.result())
    result.update(extra)
    module.exit_json(**result)


def ensure_present(module, client, cluster, calls, log):
    params = module.params
    cluster_name = params["cluster_name"]
    validate_against_cluster(params, cluster)
    plan = plan_present(cluster_name, read_configs(client, cluster_name), params, max_oidc_configs(cluster.get("version")))
    actions = plan.actions(cluster_name)
    diff = {"before": plan.before, "after": plan.after}
    if module.check_mode:
        planned = plan.current or dict(association_request(plan.associate)["oidc"], clusterName=cluster_name, status=CREATING)
        planned = dict(planned, tags=plan.after.get("tags", {}))
        _exit(module, plan.changed, planned, actions, log, diff=diff, changes=plan.changes)

    update_ids = []
    for config in plan.replace:
        update_ids.append(calls.disassociate(config["identityProviderConfigName"]))
    for config in plan.replace:
        calls.wait(config["identityProviderConfigName"], GONE, update_ids.pop(0))
    for name in plan.await_gone:
        calls.wait(name, GONE)
    name = params["name"]
    update_id = None
    if plan.associate:
        try:
            update_id = calls.associate(plan.associate, plan.associate_tags)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            if not plan.replace:
                raise
            module.fail_json_aws(
                e,
                msg="associating '%s' failed after '%s' was disassociated, so cluster '%s' has no such OIDC config now; "
                "fix the cause and run the task again" % (name, "', '".join(c["identityProviderConfigName"] for c in plan.replace), cluster_name),
                **log.result()
            )
    if plan.tags_to_set:
        client.tag_resource(resourceArn=plan.current["identityProviderConfigArn"], tags=plan.tags_to_set, aws_retry=True)
    if plan.tags_to_unset:
        client.untag_resource(resourceArn=plan.current["identityProviderConfigArn"], tagKeys=plan.tags_to_unset, aws_retry=True)
    status = plan.current.get("status") if plan.current else CREATING
    if params["wait"] and (plan.associate or status != ACTIVE):
        calls.wait(name, ACTIVE, update_id)
    config = describe_config(client, cluster_name, name)
    _exit(module, plan.changed, config, actions, log, diff=diff, changes=plan.changes, update_id=update_id)


def ensure_absent(module, client, cluster, calls, log):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    if cluster is None:
        warn(module, "EKS cluster '%s' does not exist in region %s, so it has no identity provider config" % (cluster_name, module.region))
        _exit(module, False, None, [], log)
    current = describe_config(client, cluster_name, name)
    if current is None:
        others = [n for n in list_config_names(client, cluster_name) if n != name]
        if others:
            warn(
                module,
                "cluster '%s' has no identity provider config '%s' but has %s; nothing was disassociated. To remove it, "
                "use name: %s" % (cluster_name, name, ", ".join("'%s'" % n for n in others), others[0])
            )
        _exit(module, False, None, [], log, other_identity_provider_configs=others)
    changed = current.get("status") != DELETING
    actions = (["disassociate '%s' from cluster '%s'" % (name, cluster_name)] if changed else []) + (
        ["wait until '%s' is gone" % name] if params["wait"] else []
    )
    diff = {"before": _with_tags(current_settings(current), current.get("tags") or {}), "after": {}}
    if module.check_mode:
        _exit(module, changed, None, actions, log, diff=diff)
    update_id = calls.disassociate(name) if changed else None
    if params["wait"]:
        calls.wait(name, GONE, update_id)
    _exit(module, changed, None, actions, log, diff=diff, update_id=update_id)


def converge(module, client, clock):
    params = module.params
    for warning in validate_params(params):
        warn(module, warning)
    log = WaitLog(clock)
    deadline = clock.now() + params["wait_timeout"]
    calls = IdentityProviderConfigs(client, params["cluster_name"], deadline, clock, log)
    if params["state"] == "absent":
        ensure_absent(module, client, describe_cluster(client, params["cluster_name"]), calls, log)
    cluster = require_cluster(client, params["cluster_name"], module.region)
    ensure_present(module, client, cluster, calls, log)


def read_info(module, client, clock):
    cluster_name, name = module.params["cluster_name"], module.params["name"]
    require_cluster(client, cluster_name, module.region)
    if name:
        config = describe_config(client, cluster_name, name)
        configs = [config] if config else []
    else:
        configs = read_configs(client, cluster_name)
    results = []
    for config in configs:
        result = config_result(config)
        result.update(mapping_result(config))
        results.append(result)
    module.exit_json(changed=False, identity_provider_configs=results)


def run_eks_module(module, flow, what, clock=None):
    """Run ``flow(module, client, clock)`` and turn its errors into clear module failures."""
    try:
        flow(module, eks_client(module), clock or Clock())
    except EksError as e:
        module.fail_json(msg=str(e), **e.result)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="%s request failed" % what)


def run(module):
    """Entry point of the eks_identity_provider_config module."""
    run_eks_module(module, converge, "EKS identity provider config")


def run_info(module):
    """Entry point of the eks_identity_provider_config_info module."""
    run_eks_module(module, read_info, "EKS identity provider config")
