# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The names other code imports from module_utils/cognito.py (module_utils/oidc.py: ``cognito_client``, ``issuer_url``).

The Cognito code lives in the package ``_cognito``: ``common.py`` (the
client, name lookup, issuer URL, password policy) and one file per module
(``user_pool.py``, ``user_pool_client.py``, ``user_pool_domain.py``,
``group.py``, ``user.py``). New code imports from there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import cognito_client
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._cognito.common import issuer_url

__all__ = ["cognito_client", "issuer_url"]
