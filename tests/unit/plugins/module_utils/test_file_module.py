"""module_utils/file_module.py: the one failure path and diff handling of the modules that write local files."""

import pytest

from fakes import Failed, FakeModule

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.file_module import run_file_flow


class Refused(Exception):
    pass


def module_in(diff_mode, check_mode=False):
    module = FakeModule({"dest": "/tmp/kit"}, check_mode=check_mode)
    module._diff = diff_mode
    return module


def writing(params, check_mode):
    return {"changed": not check_mode, "dest": params["dest"], "diff": {"before": {}, "after": {"dest": params["dest"]}}}


def test_the_result_keeps_its_diff_in_diff_mode():
    result = run_file_flow(module_in(diff_mode=True, check_mode=True), writing, Refused)
    assert result == {"changed": False, "dest": "/tmp/kit", "diff": {"before": {}, "after": {"dest": "/tmp/kit"}}}


def test_the_result_drops_its_diff_outside_diff_mode():
    assert run_file_flow(module_in(diff_mode=False), writing, Refused) == {"changed": True, "dest": "/tmp/kit"}


def test_the_flow_error_fails_the_module_with_its_message():
    def refusing(params, check_mode):
        raise Refused("dest /tmp/kit is a file; give a directory")

    with pytest.raises(Failed) as failed:
        run_file_flow(module_in(diff_mode=True), refusing, Refused)
    assert failed.value.result == {"msg": "dest /tmp/kit is a file; give a directory"}


def test_any_other_error_is_not_turned_into_a_failure():
    def broken(params, check_mode):
        raise KeyError("dest")

    with pytest.raises(KeyError):
        run_file_flow(module_in(diff_mode=True), broken, Refused)
