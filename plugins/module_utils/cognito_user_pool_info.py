# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read user pools (module cognito_user_pool_info)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.cognito import describe_user_pool
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.cognito import list_user_pools
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.cognito import run_cognito_module
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.cognito_user_pool import user_pool_result


def read(module, client):
    pool_id = module.params["pool_id"]
    if pool_id:
        pool = describe_user_pool(client, pool_id)
        pools = [pool] if pool else []
    else:
        pools = list_user_pools(client, module.params["name"])
    module.exit_json(changed=False, user_pools=[user_pool_result(pool) for pool in pools])


def run(module):
    """Entry point of the cognito_user_pool_info module."""
    run_cognito_module(module, read, "user pool")
