# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the modules that write files on the managed host share around their flow.

``kubectl_credential_plugin`` and ``login_kit`` each have a ``run(params,
check_mode)`` that returns the module's result, ``diff`` included, and raises
one error class for anything it refuses. ``run_file_flow`` calls it and turns
that error into the module's failure; the module exits once, in its ``main()``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def run_file_flow(module, run, error):
    """The result of ``run(module.params, module.check_mode)``; an ``error`` it raises fails the module.

    The result keeps its ``diff`` in diff mode only: the diff lists the files
    and their content, which a registered result need not carry unless asked.
    """
    try:
        result = run(module.params, module.check_mode)
    except error as e:
        module.fail_json(msg=str(e))
    if not module._diff:
        result.pop("diff")
    return result
