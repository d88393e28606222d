# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read one EKS cluster for a kubeconfig (module eks_cluster_info).

What `aws eks update-kubeconfig` reads before it writes a cluster entry: the
API server endpoint, the cluster CA and the ARN, which names the entry.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils import eks_token
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.common import describe_cluster


def cluster_result(cluster):
    """The described cluster in snake_case (tags as given), or {} when there is none."""
    if not cluster:
        return {}
    result = camel_dict_to_snake_dict(cluster, ignore_list=["tags"])
    result.setdefault("tags", {})
    return result


def kubeconfig_cluster(cluster):
    """The cluster entry's settings: ``{name, server, certificate_authority_data}``, named by ARN as the AWS CLI does.

    Empty while the cluster has no endpoint yet (still CREATING).
    """
    if not cluster or not cluster.get("endpoint"):
        return {}
    return {
        "name": cluster["arn"],
        "server": cluster["endpoint"],
        "certificate_authority_data": (cluster.get("certificateAuthority") or {}).get("data"),
    }


def token_kubeconfig(entry, token):
    """A kubeconfig document for one cluster entry whose user is a bearer ``token``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": entry["name"], "cluster": {
            "server": entry["server"], "certificate-authority-data": entry["certificate_authority_data"]}}],
        "users": [{"name": "eks-token", "user": {"token": token}}],
        "contexts": [{"name": "eks-token", "context": {"cluster": entry["name"], "user": "eks-token"}}],
        "current-context": "eks-token",
    }


def read_cluster(module, client):
    """The flow of eks_cluster_info; with get_token, the EKS IAM token of the module's AWS identity too."""
    params = module.params
    if params["get_token"] and not module.no_log:
        raise AnsibleAWSError(
            message="get_token returns a bearer token for the cluster in the task's result; set no_log: true on the task "
                    "(the registered variable still holds it)")
    cluster = describe_cluster(client, params["name"])
    result = dict(
        changed=False,
        exists=cluster is not None,
        cluster=cluster_result(cluster),
        kubeconfig_cluster=kubeconfig_cluster(cluster),
    )
    if params["get_token"] and result["kubeconfig_cluster"]:
        # What `aws eks get-token` prints, signed with this module's AWS connection (eks_token.py).
        sts = eks_token.register_cluster_id_header(module.client("sts"))
        token = eks_token.token_from_url(eks_token.presigned_url(sts, params["name"]))
        result.update(token=token, token_expiration=eks_token.expiration_timestamp(),
                      kubeconfig=token_kubeconfig(result["kubeconfig_cluster"], token))
    return result
