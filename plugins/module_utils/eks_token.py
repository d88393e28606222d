# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The EKS IAM authenticator token, made with botocore alone (no AWS CLI).

EKS authenticates IAM principals with a bearer token that is a presigned
STS ``GetCallerIdentity`` URL: the cluster name is sent in the signed header
``x-k8s-aws-id`` (so a token for one cluster is worthless on another), the URL
is valid for 60 seconds, and the token is ``k8s-aws-v1.`` followed by the URL
in unpadded base64url. The API server calls the URL and maps the ARN STS
answers with to a Kubernetes user. This is what ``aws eks get-token``
prints, without starting the AWS CLI (about 1.2 s per kubectl call).

Run as a kubectl credential plugin (the kubeconfig role's admin entry)::

    python -I eks_token.py get-token --cluster-name oidc-test --region us-west-2 [--role-arn ARN]

It prints an ExecCredential in the apiVersion kubectl asks for in
KUBERNETES_EXEC_INFO. Credentials come from botocore's usual chain
(environment, AWS_PROFILE, SSO, instance role). The file imports nothing from
Ansible, so it runs as a plain script; botocore is its one dependency.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import base64
import datetime
import json
import os
import sys

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# How long the presigned URL is valid: the API server must call STS within it.
URL_EXPIRES_SECONDS = 60
# kubectl asks for a new token when this passes; 14 minutes as `aws eks get-token`
# (STS accepts the signature for 15 minutes, whatever X-Amz-Expires says).
TOKEN_LIFETIME_MINUTES = 14
# The same tuple as credential_plugin.py's: each script runs alone under kubectl, without the
# collection, so neither can import the other (a unit test keeps the two equal).
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
DEFAULT_EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
ROLE_SESSION_NAME = "EKSGetTokenAuth"


class EksTokenError(Exception):
    """No token could be made; the message says why."""


def _move_cluster_id_to_context(params, context, **kwargs):
    """provide-client-params: keep the cluster name out of the API parameters (STS knows no such parameter)."""
    if CLUSTER_ID_HEADER in params:
        context[CLUSTER_ID_HEADER] = params.pop(CLUSTER_ID_HEADER)


def _add_cluster_id_header(request, **kwargs):
    """before-sign: the cluster name becomes a header, so the signature covers it."""
    if CLUSTER_ID_HEADER in request.context:
        request.headers[CLUSTER_ID_HEADER] = request.context[CLUSTER_ID_HEADER]


def register_cluster_id_header(sts_client):
    """Teach an STS client to sign GetCallerIdentity with the ``x-k8s-aws-id`` header."""
    sts_client.meta.events.register("provide-client-params.sts.GetCallerIdentity", _move_cluster_id_to_context)
    sts_client.meta.events.register("before-sign.sts.GetCallerIdentity", _add_cluster_id_header)
    return sts_client


def sts_client(region=None, role_arn=None, session=None):
    """An STS client of ``session`` (a botocore session), with the role's credentials when ``role_arn`` is given."""
    if session is None:
        import botocore.session  # pylint: disable=import-outside-toplevel
        session = botocore.session.get_session()
    kwargs = {"region_name": region}
    if role_arn:
        credentials = session.create_client("sts", region_name=region).assume_role(
            RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        kwargs.update(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                      aws_session_token=credentials["SessionToken"])
    return register_cluster_id_header(session.create_client("sts", **kwargs))


def presigned_url(client, cluster_name):
    """The presigned GetCallerIdentity URL for ``cluster_name`` (``client`` from ``sts_client``)."""
    return client.generate_presigned_url(
        "get_caller_identity",
        Params={CLUSTER_ID_HEADER: cluster_name},
        ExpiresIn=URL_EXPIRES_SECONDS,
        HttpMethod="GET",
    )


def token_from_url(url):
    """``k8s-aws-v1.`` + the URL in base64url without padding."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def url_from_token(token):
    """The presigned URL inside a token (the inverse of ``token_from_url``)."""
    if not token.startswith(TOKEN_PREFIX):
        raise EksTokenError("not an EKS token: it does not start with %s" % TOKEN_PREFIX)
    encoded = token[len(TOKEN_PREFIX):]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")


def get_token(cluster_name, region=None, role_arn=None, session=None):
    """The token for ``cluster_name``, signed with the credentials botocore finds."""
    if not cluster_name:
        raise EksTokenError("a cluster name is required (--cluster-name)")
    return token_from_url(presigned_url(sts_client(region, role_arn, session), cluster_name))


def expiration_timestamp(now=None):
    """When kubectl should ask again, RFC 3339 in UTC."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (now + datetime.timedelta(minutes=TOKEN_LIFETIME_MINUTES)).strftime("%Y-%m-%dT%H:%M:%SZ")


def exec_api_version(environ=None):
    """The ExecCredential apiVersion kubectl asked for in KUBERNETES_EXEC_INFO (v1beta1 when it did not say)."""
    raw = (environ if environ is not None else os.environ).get("KUBERNETES_EXEC_INFO", "")
    try:
        asked = json.loads(raw).get("apiVersion") if raw else None
    except (ValueError, AttributeError):
        asked = None
    return asked if asked in EXEC_API_VERSIONS else DEFAULT_EXEC_API_VERSION


def exec_credential(token, api_version=DEFAULT_EXEC_API_VERSION, now=None):
    """The ExecCredential kubectl reads from a credential plugin's stdout."""
    return {
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": {},
        "status": {"expirationTimestamp": expiration_timestamp(now), "token": token},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="eks_token.py", description="Print an EKS IAM authenticator token as a kubectl ExecCredential.")
    commands = parser.add_subparsers(dest="command")
    get = commands.add_parser("get-token", help="the token for one cluster")
    get.add_argument("--cluster-name", required=True, help="the EKS cluster's name")
    get.add_argument("--region", help="the cluster's region (default: AWS_REGION / the profile's region)")
    get.add_argument("--role-arn", help="assume this IAM role to sign the token")
    args = parser.parse_args(argv)
    if args.command != "get-token":
        parser.print_usage(sys.stderr)
        return 2
    try:
        import botocore.exceptions  # pylint: disable=import-outside-toplevel
    except ImportError:
        sys.stderr.write("eks_token.py needs botocore; run it with a Python that has boto3 or botocore\n")
        return 1
    try:
        token = get_token(args.cluster_name, args.region, args.role_arn)
    except (EksTokenError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        sys.stderr.write("could not make an EKS token for cluster %s: %s\n" % (args.cluster_name, e))
        return 1
    json.dump(exec_credential(token, exec_api_version()), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
