# -*- coding: utf-8 -*-
# Copyright: kubeauth.eks_oidc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""amazon.aws connection options as what botocore reads outside Ansible: environment variables
(settings only, never keys: a task's environment is printed at -vvv) and a shared credentials file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Option names as amazon.aws accepts them (the first of each is the documented name).
KEY_OPTIONS = {
    "aws_access_key_id": ("access_key", "aws_access_key_id", "aws_access_key", "ec2_access_key"),
    "aws_secret_access_key": ("secret_key", "aws_secret_access_key", "aws_secret_key", "ec2_secret_key"),
    "aws_session_token": ("session_token", "aws_session_token", "security_token", "aws_security_token"),
}
SETTING_VARIABLES = (
    (("profile", "aws_profile"), "AWS_PROFILE"),
    (("aws_ca_bundle",), "AWS_CA_BUNDLE"),
    (("endpoint_url", "aws_endpoint_url", "ec2_url"), "AWS_ENDPOINT_URL_STS"),
)


def _option(connection, names):
    return next((connection[name] for name in names if (connection or {}).get(name)), None)


def aws_environment(connection, credentials_file=""):
    environment = {}
    for names, variable in SETTING_VARIABLES:
        value = _option(connection, names)
        if value:
            environment[variable] = str(value)
    if credentials_file:
        environment.update(AWS_SHARED_CREDENTIALS_FILE=credentials_file, AWS_PROFILE="default")
    return environment


def aws_shared_credentials(connection):
    """The connection's keys as a shared credentials file (profile default); empty without keys."""
    keys = [(name, _option(connection, names)) for name, names in KEY_OPTIONS.items()]
    if not all(value for name, value in keys if name != "aws_session_token"):
        return ""
    return "[default]\n" + "".join("%s = %s\n" % (name, value) for name, value in keys if value)
