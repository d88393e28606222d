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


def read_cluster(module, client):
    """The flow of eks_cluster_info."""
    cluster = describe_cluster(client, module.params["name"])
    return dict(
        changed=False,
        exists=cluster is not None,
        cluster=cluster_result(cluster),
        kubeconfig_cluster=kubeconfig_cluster(cluster),
    )
