# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan and apply the state of one Cognito app client (module cognito_user_pool_client)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import urlsplit

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import describe_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import find_user_pool_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import require_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import to_snake
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import merge_desired
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import update_result

# What UpdateUserPoolClient accepts besides the ids. It resets every one of
# these that it is not given, so an update sends all of them (current + changes).
UPDATABLE_SETTINGS = (
    "ClientName", "RefreshTokenValidity", "AccessTokenValidity", "IdTokenValidity", "TokenValidityUnits",
    "ReadAttributes", "WriteAttributes", "ExplicitAuthFlows", "SupportedIdentityProviders", "CallbackURLs",
    "LogoutURLs", "DefaultRedirectURI", "AllowedOAuthFlows", "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient", "AnalyticsConfiguration", "PreventUserExistenceErrors",
    "EnableTokenRevocation", "EnablePropagateAdditionalUserContextData", "AuthSessionValidity",
    "RefreshTokenRotation",
)

# Option name -> API field of the settings whose order AWS does not keep (compared as sets).
LIST_SETTINGS = (
    ("explicit_auth_flows", "ExplicitAuthFlows"),
    ("allowed_oauth_flows", "AllowedOAuthFlows"),
    ("allowed_oauth_scopes", "AllowedOAuthScopes"),
    ("callback_urls", "CallbackURLs"),
    ("logout_urls", "LogoutURLs"),
    ("supported_identity_providers", "SupportedIdentityProviders"),
    ("read_attributes", "ReadAttributes"),
    ("write_attributes", "WriteAttributes"),
)

UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}

# token (option prefix and token_validity_units key), validity field, TokenValidityUnits key,
# AWS's default unit, AWS's default validity, and the range AWS allows, all in seconds.
TOKENS = (
    ("access_token", "AccessTokenValidity", "AccessToken", "hours", 3600, 5 * 60, 86400),
    ("id_token", "IdTokenValidity", "IdToken", "hours", 3600, 5 * 60, 86400),
    ("refresh_token", "RefreshTokenValidity", "RefreshToken", "days", 30 * 86400, 60 * 60, 3650 * 86400),
)

# Standard scopes that AWS only grants together with openid.
SCOPES_NEEDING_OPENID = ("email", "phone", "profile")

# Result keys camel_dict_to_snake_dict spells oddly, renamed to match the options.
RESULT_KEYS = {
    "allowed_o_auth_flows": "allowed_oauth_flows",
    "allowed_o_auth_scopes": "allowed_oauth_scopes",
    "allowed_o_auth_flows_user_pool_client": "allowed_oauth_flows_user_pool_client",
}


def describe_duration(seconds):
    """A duration as people say it: '1 day', '90 minutes'."""
    for unit in ("days", "hours", "minutes"):
        if seconds % UNIT_SECONDS[unit] == 0 and seconds >= UNIT_SECONDS[unit]:
            count = seconds // UNIT_SECONDS[unit]
            return "%d %s" % (count, unit if count != 1 else unit[:-1])
    return "%d seconds" % seconds


def validate_redirect_urls(option, urls):
    """AWS's rules for callback and sign-out URLs: absolute, no fragment, HTTPS except http://localhost."""
    for url in urls or []:
        parts = urlsplit(url)
        if not parts.scheme or "://" not in url:
            raise AnsibleAWSError("%s: '%s' is not an absolute URL such as https://example.com/callback" % (option, url))
        if parts.fragment or url.endswith("#"):
            raise AnsibleAWSError("%s: '%s' has a fragment (#...); AWS does not allow one in a redirect URL" % (option, url))
        if parts.scheme == "http" and parts.hostname != "localhost":
            raise AnsibleAWSError(
                "%s: '%s' uses http; AWS requires https except for http://localhost" % (option, url)
            )


def validate_client_params(params):
    """Refuse, before any API call, the settings AWS would refuse."""
    if not params["name"] and not params["client_id"]:
        raise AnsibleAWSError("one of name or client_id is required")
    units = params.get("token_validity_units") or {}
    for token, field, unit_key, default_unit, default, low, high in TOKENS:
        value = params.get(token + "_validity")
        if value is None:
            if units.get(token):
                raise AnsibleAWSError(
                    "token_validity_units.%s needs %s_validity: a unit alone would change what the client's "
                    "current number means" % (token, token)
                )
            continue
        unit = units.get(token) or default_unit
        seconds = value * UNIT_SECONDS[unit]
        if not low <= seconds <= high:
            raise AnsibleAWSError(
                "%s_validity %d %s is outside what AWS allows for %s tokens: %s to %s%s" % (
                    token, value, unit, token.split("_", 1)[0], describe_duration(low), describe_duration(high),
                    "" if units.get(token) else " (the unit defaults to %s; set token_validity_units.%s)" % (unit, token),
                )
            )
    flows = params.get("allowed_oauth_flows") or []
    if "client_credentials" in flows and len(flows) > 1:
        raise AnsibleAWSError(
            "allowed_oauth_flows: client_credentials cannot be combined with code or implicit; use one client per kind"
        )
    scopes = params.get("allowed_oauth_scopes") or []
    standard = [scope for scope in scopes if "/" not in scope]
    if "client_credentials" in flows and standard:
        raise AnsibleAWSError(
            "allowed_oauth_flows client_credentials grants only a resource server's custom scopes "
            "(IDENTIFIER/NAME), not %s" % ", ".join(standard)
        )
    lacking = [scope for scope in SCOPES_NEEDING_OPENID if scope in scopes]
    if lacking and "openid" not in scopes:
        raise AnsibleAWSError("allowed_oauth_scopes: %s need openid as well; add openid" % ", ".join(lacking))
    validate_redirect_urls("callback_urls", params.get("callback_urls"))
    validate_redirect_urls("logout_urls", params.get("logout_urls"))


def validate_client_state(client, has_secret):
    """Refuse a client, as it would be after the change, that AWS would refuse (before any change is made)."""
    flows = client.get("AllowedOAuthFlows") or []
    if client.get("AllowedOAuthFlowsUserPoolClient"):
        if not flows:
            raise AnsibleAWSError("allowed_oauth_flows_user_pool_client is true but the client would have no allowed_oauth_flows")
        if not client.get("AllowedOAuthScopes"):
            raise AnsibleAWSError("allowed_oauth_flows %s need allowed_oauth_scopes, such as [openid]" % ", ".join(flows))
    browser_flows = [flow for flow in flows if flow in ("code", "implicit")]
    if browser_flows and not client.get("CallbackURLs"):
        raise AnsibleAWSError(
            "allowed_oauth_flows %s need callback_urls: the hosted UI sends the user back to one of them"
            % ", ".join(browser_flows)
        )
    if "client_credentials" in flows and not has_secret:
        raise AnsibleAWSError("allowed_oauth_flows client_credentials needs a client secret (generate_secret: true)")
    if "client_credentials" in flows and browser_flows:
        raise AnsibleAWSError("allowed_oauth_flows: client_credentials cannot be combined with %s" % ", ".join(browser_flows))
    default_redirect = client.get("DefaultRedirectURI")
    if default_redirect and default_redirect not in (client.get("CallbackURLs") or []):
        raise AnsibleAWSError("default_redirect_uri '%s' must be one of the client's callback_urls" % default_redirect)
    refresh = validity_seconds(client, "refresh_token")
    for token in ("access_token", "id_token"):
        if validity_seconds(client, token) > refresh:
            raise AnsibleAWSError(
                "%s validity (%s) cannot be longer than the refresh token validity (%s)"
                % (token.replace("_", " "), describe_duration(validity_seconds(client, token)), describe_duration(refresh))
            )


def validity_seconds(client, token):
    """How long a token of ``client`` is valid, in seconds; AWS's defaults where the client reports nothing."""
    for name, field, unit_key, default_unit, default, low, high in TOKENS:
        if name == token:
            value = client.get(field)
            if value is None:
                return default
            unit = (client.get("TokenValidityUnits") or {}).get(unit_key) or default_unit
            return value * UNIT_SECONDS[unit]
    raise ValueError(token)


def desired_user_pool_client(params, current=None):
    """The user's settings in the shape DescribeUserPoolClient returns; None where the user said nothing.

    Defaults that depend on other settings: allowed_oauth_flows_user_pool_client follows
    allowed_oauth_flows, and an OAuth client with no identity provider gets COGNITO.
    """
    current = current or {}
    desired = {"ClientName": params["name"]}
    for option, field in LIST_SETTINGS:
        value = params.get(option)
        desired[field] = None if value is None else sorted(set(value))
    flows = desired["AllowedOAuthFlows"]
    flag = params.get("allowed_oauth_flows_user_pool_client")
    if flag is None and flows is not None:
        flag = bool(flows)
    desired["AllowedOAuthFlowsUserPoolClient"] = flag
    flows_after = flows if flows is not None else (current.get("AllowedOAuthFlows") or [])
    if desired["SupportedIdentityProviders"] is None and flows_after and not current.get("SupportedIdentityProviders"):
        desired["SupportedIdentityProviders"] = ["COGNITO"]
    units = params.get("token_validity_units") or {}
    desired["TokenValidityUnits"] = {}
    for token, field, unit_key, default_unit, default, low, high in TOKENS:
        value = params.get(token + "_validity")
        if value is not None:
            desired[field] = value
            desired["TokenValidityUnits"][unit_key] = units.get(token) or default_unit
    prevent = params.get("prevent_user_existence_errors")
    desired["PreventUserExistenceErrors"] = None if prevent is None else ("ENABLED" if prevent else "LEGACY")
    desired["EnableTokenRevocation"] = params.get("enable_token_revocation")
    desired["DefaultRedirectURI"] = params.get("default_redirect_uri")
    return dict((key, value) for key, value in scrub_none_parameters(desired).items() if value != {})


def comparable_user_pool_client(client):
    """The described client with lists sorted and the defaults AWS (or MiniStack) leaves out made explicit."""
    client = dict(client)
    client.pop("ClientSecret", None)
    for option, field in LIST_SETTINGS:
        client[field] = sorted(client.get(field) or [])
    client.setdefault("AllowedOAuthFlowsUserPoolClient", False)
    client.setdefault("PreventUserExistenceErrors", "LEGACY")
    client.setdefault("EnableTokenRevocation", True)
    units = dict(client.get("TokenValidityUnits") or {})
    for token, field, unit_key, default_unit, default, low, high in TOKENS:
        if client.get(field) is None:
            client[field], units[unit_key] = default // UNIT_SECONDS[default_unit], default_unit
        units.setdefault(unit_key, default_unit)
    client["TokenValidityUnits"] = units
    return client


def drop_equivalent_validities(current, desired):
    """``desired`` without the token validities that equal the current ones (60 minutes == 1 hour)."""
    desired = dict(desired)
    units = dict(desired.get("TokenValidityUnits") or {})
    for token, field, unit_key, default_unit, default, low, high in TOKENS:
        if field in desired and validity_seconds(desired, token) == validity_seconds(current, token):
            del desired[field]
            units.pop(unit_key, None)
    desired.pop("TokenValidityUnits", None)
    if units:
        desired["TokenValidityUnits"] = units
    return desired


def refuse_secret_change(current, generate_secret):
    has_secret = bool(current.get("ClientSecret"))
    if generate_secret is not None and generate_secret != has_secret:
        raise AnsibleAWSError(
            "app client '%s' (%s) has %s client secret, and a secret is fixed at creation: AWS cannot add "
            "or remove one. Set generate_secret: %s, or delete the client (state: absent) and create it again "
            "(it gets a new client_id)" % (
                current.get("ClientName"), current["ClientId"], "a" if has_secret else "no",
                "true" if has_secret else "false",
            )
        )


def update_request(current, desired):
    """UpdateUserPoolClient arguments: every updatable setting, the current values overlaid with ``desired``."""
    merged = merge_desired(dict((k, v) for k, v in current.items() if k != "ClientSecret"), desired)
    request = {}
    for key in UPDATABLE_SETTINGS:
        value = merged.get(key)
        # Blank values are how MiniStack reports unset settings; AWS rejects some of them as input.
        if value is None or (value in ("", {}, []) and key not in desired):
            continue
        request[key] = value
    request["UserPoolId"] = current["UserPoolId"]
    request["ClientId"] = current["ClientId"]
    return request


def create_request(pool_id, desired, generate_secret):
    request = dict(desired)
    request["UserPoolId"] = pool_id
    request["GenerateSecret"] = bool(generate_secret)
    return request


def user_pool_client_result(client):
    """The client as the module returns it: snake_case, without its secret."""
    secret = client.get("ClientSecret")
    result = to_snake(dict((key, value) for key, value in client.items() if key != "ClientSecret"))
    for odd, plain in RESULT_KEYS.items():
        if odd in result:
            result[plain] = result.pop(odd)
    result["generate_secret"] = bool(secret)
    return result


def ensure_absent(module, client, pool_id):
    params = module.params
    current = None
    if describe_user_pool(client, pool_id) is not None:
        current = find_user_pool_client(client, pool_id, params["name"], params["client_id"])
    if current is None:
        return dict(changed=False, client={})
    if not module.check_mode:
        client.delete_user_pool_client(UserPoolId=pool_id, ClientId=current["ClientId"], aws_retry=True)
    return dict(changed=True, client={}, diff={"before": user_pool_client_result(current), "after": {}})


def ensure_created(module, client, pool_id, desired):
    params = module.params
    if not params["name"]:
        raise AnsibleAWSError("name is required to create an app client")
    validate_client_state(merge_desired(comparable_user_pool_client({}), desired), bool(params["generate_secret"]))
    if module.check_mode:
        created = user_pool_client_result(dict(desired, UserPoolId=pool_id))
        created["generate_secret"] = bool(params["generate_secret"])
    else:
        response = client.create_user_pool_client(aws_retry=True, **create_request(pool_id, desired, params["generate_secret"]))
        created = user_pool_client_result(response["UserPoolClient"])
    return dict(changed=True, client=created, diff={"before": {}, "after": created})


def ensure_updated(module, client, current, desired):
    refuse_secret_change(current, module.params["generate_secret"])
    comparable = comparable_user_pool_client(current)
    desired = drop_equivalent_validities(comparable, desired)
    changes = plan_changes(comparable, desired)
    if changes:
        validate_client_state(merge_desired(comparable, desired), bool(current.get("ClientSecret")))
    if changes and not module.check_mode:
        current = client.update_user_pool_client(aws_retry=True, **update_request(current, desired))["UserPoolClient"]
    return update_result(changes, client=user_pool_client_result(current))


def converge(module, client):
    """The flow of cognito_user_pool_client."""
    params = module.params
    validate_client_params(params)
    pool_id = params["user_pool_id"]
    if params["state"] == "absent":
        return ensure_absent(module, client, pool_id)
    require_user_pool(client, pool_id)
    current = find_user_pool_client(client, pool_id, params["name"], params["client_id"])
    if params["client_id"] and current is None:
        raise AnsibleAWSError(
            "user pool '%s' has no app client with id '%s'; check the id, or omit client_id to find "
            "(or create) the client by name" % (pool_id, params["client_id"])
        )
    desired = desired_user_pool_client(params, current)
    if current is None:
        return ensure_created(module, client, pool_id, desired)
    return ensure_updated(module, client, current, desired)
