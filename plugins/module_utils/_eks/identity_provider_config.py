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
and then does it with the busy-cluster retry and the wait loop of common.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from urllib.parse import urlsplit

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.claim_mapping import OIDC_FIELDS
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.claim_mapping import mapping_result
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.claim_mapping import oidc_settings
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import ACTIVE
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import CREATING
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import DELETING
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import GONE
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import UPDATE_IN_PROGRESS
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import Backoff
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import ClusterUpdate
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import WaitLog
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import call_when_cluster_idle
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import cluster_update_in_progress
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import config_ref
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import describe_cluster
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import describe_config
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import list_config_names
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import read_configs
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import require_cluster
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import wait_for
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.aws_module import warn
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import describe_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import diff_from_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import merge_desired
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes

# EKS's limits (OidcIdentityProviderConfig in the EKS API reference).
REQUIRED_CLAIM_KEY_MAX = 63
REQUIRED_CLAIM_VALUE_MAX = 253
# Clusters on Kubernetes 1.32 or later take up to ten OIDC configs, each with
# its own issuer; earlier versions take one.
MULTI_PROVIDER_VERSION = (1, 32)
MAX_CONFIGS_MULTI = 10

# Between polls while waiting for a status: quick first (the sandbox needs
# seconds), then every half minute (EKS needs 15 to 25 minutes).
POLL = Backoff(2.0, 1.5, 30.0)


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
            raise AnsibleAWSError(
                "%s %s required with state: present: the identity provider's issuer URL and the id of its app client "
                "(the 'aud' of its ID tokens)" % (" and ".join(missing), "is" if len(missing) == 1 else "are")
            )
    url = params.get("issuer_url")
    if url:
        problem = issuer_url_problem(url)
        if problem:
            raise AnsibleAWSError("issuer_url '%s' is not valid for EKS: %s" % (url, problem))
    for option in ("username_prefix", "groups_prefix"):
        value = params.get(option)
        if value and "system:" in value:
            raise AnsibleAWSError(
                "%s '%s' contains 'system:', which EKS refuses: Kubernetes reserves system: names for its own users "
                "and groups; choose a prefix such as 'oidc:'" % (option, value)
            )
    for key, value in sorted((params.get("required_claims") or {}).items()):
        if not 1 <= len(key) <= REQUIRED_CLAIM_KEY_MAX:
            raise AnsibleAWSError("required_claims key '%s' must be 1 to %d characters long" % (key, REQUIRED_CLAIM_KEY_MAX))
        if not isinstance(value, str):
            raise AnsibleAWSError(
                "required_claims value of '%s' must be a string, got %r; quote it (%s: \"%s\")"
                % (key, value, key, str(value).lower() if isinstance(value, bool) else value)
            )
        if not 1 <= len(value) <= REQUIRED_CLAIM_VALUE_MAX:
            raise AnsibleAWSError(
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
        raise AnsibleAWSError(
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
    desired.update(oidc_settings(params))
    return desired


def current_settings(config):
    """A described config (API dict) as comparable settings: option names, EKS's defaults explicit."""
    settings = {"name": config.get("identityProviderConfigName")}
    settings.update(oidc_settings(config))
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
    return AnsibleAWSError(
        "%s: %s. EKS identity provider configs are immutable (there is no update call). Set force: true to replace "
        "it: disassociate '%s', wait until it is gone, then associate '%s' (on EKS about 30 to 50 minutes in all, "
        "during which OIDC users cannot log in); or %s." % (intro, describe_changes(changes, show=repr), old, name, keep),
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
            raise AnsibleAWSError(
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
        settings = scrub_none_parameters(dict(desired, username_claim=desired["username_claim"] or "sub"))
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


def config_result(config):
    """A described config (API dict with ``tags``) as the modules return it."""
    if not config:
        return {}
    result = camel_dict_to_snake_dict(config, ignore_list=["tags", "requiredClaims"])
    result.setdefault("required_claims", {})
    result.setdefault("tags", {})
    return result


# ---------------------------------------------------------------------------
# Changing EKS: the calls, each when the cluster is idle, and the wait
# ---------------------------------------------------------------------------

def wait_for_config(client, cluster_name, name, target, deadline, clock, log, update_id=None):
    """Poll until config ``name`` is ``target`` (ACTIVE, or GONE); return it described (None when gone).

    Polls DescribeIdentityProviderConfig and, for the update an associate or
    disassociate call returned, DescribeUpdate. Every change of status goes to
    ``log``; at ``deadline`` it fails with the last status seen.
    """
    update = ClusterUpdate(client, cluster_name, update_id, "identity provider config '%s' on cluster '%s'" % (name, cluster_name))

    def poll():
        config = describe_config(client, cluster_name, name, with_tags=False)
        status = config.get("status") if config else GONE
        update.refresh()
        log.record(name, status=status, **update.observed())
        if status == target:
            return True, config
        update.raise_if_failed(log)
        if target == ACTIVE and status == GONE and update.status != UPDATE_IN_PROGRESS:
            raise AnsibleAWSError(
                "identity provider config '%s' of cluster '%s' disappeared while waiting for it to become ACTIVE; "
                "EKS may have rejected the issuer (it must be reachable over the internet with a publicly trusted "
                "certificate). Check the cluster's updates (aws eks list-updates --name %s)" % (name, cluster_name, cluster_name),
                **log.result()
            )
        return False, None

    def timed_out():
        return AnsibleAWSError(
            "timed out after %d seconds waiting for identity provider config '%s' of cluster '%s' to be %s; "
            "last status: %s%s. EKS takes 15 to 25 minutes and carries on after this timeout: run the task again "
            "to pick up the wait, or raise wait_timeout"
            % (log.elapsed(), name, cluster_name, target, log.last(name).get("status"), update.describe()),
            **log.result()
        )

    return wait_for(poll, deadline, clock, POLL, timed_out)


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
                    clusterName=self.cluster_name, identityProviderConfig=config_ref(name), aws_retry=True
                )
            except is_boto3_error_code("ResourceNotFoundException"):
                return {}

        response = self._when_idle(call, "disassociate '%s'" % name)
        return (response.get("update") or {}).get("id")

    def wait(self, name, target, update_id=None):
        return wait_for_config(self.client, self.cluster_name, name, target, self.deadline, self.clock, self.log, update_id)


# ---------------------------------------------------------------------------
# The module flows: each returns the module's result
# ---------------------------------------------------------------------------

def _result(changed, config, actions, log, **extra):
    result = dict(changed=changed, identity_provider_config=config_result(config), actions=actions)
    result.update(mapping_result(config))
    result.update(log.result())
    result.update(extra)
    return result


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
        return _result(plan.changed, planned, actions, log, diff=diff, changes=plan.changes)

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
            raise AnsibleAWSError(
                "associating '%s' failed after '%s' was disassociated, so cluster '%s' has no such OIDC config now; "
                "fix the cause and run the task again" % (name, "', '".join(c["identityProviderConfigName"] for c in plan.replace), cluster_name),
                exception=e,
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
    return _result(plan.changed, config, actions, log, diff=diff, changes=plan.changes, update_id=update_id)


def ensure_absent(module, client, cluster, calls, log):
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    if cluster is None:
        warn(module, "EKS cluster '%s' does not exist in region %s, so it has no identity provider config" % (cluster_name, module.region))
        return _result(False, None, [], log)
    current = describe_config(client, cluster_name, name)
    if current is None:
        others = [n for n in list_config_names(client, cluster_name) if n != name]
        if others:
            warn(
                module,
                "cluster '%s' has no identity provider config '%s' but has %s; nothing was disassociated. To remove it, "
                "use name: %s" % (cluster_name, name, ", ".join("'%s'" % n for n in others), others[0])
            )
        return _result(False, None, [], log, other_identity_provider_configs=others)
    changed = current.get("status") != DELETING
    actions = (["disassociate '%s' from cluster '%s'" % (name, cluster_name)] if changed else []) + (
        ["wait until '%s' is gone" % name] if params["wait"] else []
    )
    diff = {"before": _with_tags(current_settings(current), current.get("tags") or {}), "after": {}}
    if module.check_mode:
        return _result(changed, None, actions, log, diff=diff)
    update_id = calls.disassociate(name) if changed else None
    if params["wait"]:
        calls.wait(name, GONE, update_id)
    return _result(changed, None, actions, log, diff=diff, update_id=update_id)


def converge(module, client, clock):
    """The flow of eks_identity_provider_config."""
    params = module.params
    for warning in validate_params(params):
        warn(module, warning)
    log = WaitLog(clock)
    deadline = clock.now() + params["wait_timeout"]
    calls = IdentityProviderConfigs(client, params["cluster_name"], deadline, clock, log)
    if params["state"] == "absent":
        return ensure_absent(module, client, describe_cluster(client, params["cluster_name"]), calls, log)
    cluster = require_cluster(client, params["cluster_name"], module.region)
    return ensure_present(module, client, cluster, calls, log)


# What the info module's wait_for waits for, as the wait loop's target status.
WAIT_TARGETS = {"active": ACTIVE, "absent": GONE}


def wait_until(module, client, clock):
    """wait_for of the info module: poll config ``name`` until it is ACTIVE or gone; the WaitLog's result.

    The second half of an association started with ``wait: false``: a play
    starts every cluster's association first and then waits for each, so a
    fleet takes about one association's time whatever ``forks`` is.
    """
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    if not name:
        raise AnsibleAWSError("wait_for needs name: the identity provider config to wait for")
    log = WaitLog(clock)
    target = WAIT_TARGETS[params["wait_for"]]
    if target == ACTIVE and describe_config(client, cluster_name, name, with_tags=False) is None:
        raise AnsibleAWSError(
            "cluster '%s' has no identity provider config '%s' to wait for; associate it first "
            "(kubeauth.eks_oidc.eks_identity_provider_config)" % (cluster_name, name)
        )
    wait_for_config(client, cluster_name, name, target, clock.now() + params["wait_timeout"], clock, log)
    return log.result()


def read_info(module, client, clock):
    """The flow of eks_identity_provider_config_info."""
    params = module.params
    cluster_name, name = params["cluster_name"], params["name"]
    if params.get("wait_for") == "absent" and describe_cluster(client, cluster_name) is None:
        return dict(changed=False, identity_provider_configs=[])  # no cluster, no config: gone
    require_cluster(client, cluster_name, module.region)
    waited = wait_until(module, client, clock) if params.get("wait_for") else {}
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
    return dict(changed=False, identity_provider_configs=results, **waited)
