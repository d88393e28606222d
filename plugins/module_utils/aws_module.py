# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every AWS module of the collection shares around its flow.

A flow (``converge``, ``read_*``) returns the module's result; the module
exits once, with that result, in its ``main()``. A problem the user can fix
is raised as amazon.aws's ``AnsibleAWSError``: its message says what to do
next, its ``kwargs`` go into the failure result (a plan's ``diff``, a wait's
``wait_log``) and its ``exception``, when set, is the AWS error behind it.
``run_flow(module, converge, cognito_client(module), what="user pool")``
returns the flow's result for the module to exit with, and turns those
errors, and any AWS error a flow lets through, into the module's failure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError


def run_flow(module, flow, *args, what):
    """The result of ``flow(module, *args)``; an ``AnsibleAWSError`` or an AWS error it raises fails the module.

    ``what`` names the API in the message of an AWS error no flow explained:
    "user pool request failed: ...".
    """
    try:
        return flow(module, *args)
    except AnsibleAWSError as e:
        if e.exception is not None:
            module.fail_json_aws(e.exception, msg=e.message, **e.kwargs)
        module.fail_json(msg=e.message, **e.kwargs)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="%s request failed" % what)


def paginate(client, operation, **params):
    """Every page of a list call, retried as the client retries its other calls (throttling included).

    ``client`` is a client of ``module.client(..., retry_decorator=...)``;
    amazon.aws's own default decorator would not know the service's extra
    throttling codes.
    """
    return paginated_query_with_retries(client, operation, retry_decorator=client.retry, **params)


def warn(module, message):
    """module.warn without AnsibleAWSModule's copy of the warnings into the result.

    amazon.aws 10 adds them to the module's result as ``warnings`` on
    ansible-core 2.19, which core reports as deprecated; core shows warnings
    by itself.
    """
    getattr(module, "_module", module).warn(message)
