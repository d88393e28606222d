# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The names other code imports from module_utils/eks.py (module_utils/oidc.py: ``effective_claim_mapping``).

The EKS code lives in the package ``_eks``, one file per subject:
``common.py`` (the client, reading EKS, the busy-cluster retry and the one
wait loop), ``claim_mapping.py`` (what kube-apiserver makes of a config),
``identity_provider_config.py``, ``cluster_logging.py``, ``audit_events.py``
and ``cluster.py`` (the flows of the modules of those names). New code
imports from there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils._eks.claim_mapping import effective_claim_mapping

__all__ = ["effective_claim_mapping"]
