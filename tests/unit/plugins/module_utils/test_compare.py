"""Unit tests of the collection's one compare/plan helper (no network)."""

import copy

from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import describe_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import diff_from_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import merge_desired
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import plan_changes
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.compare import update_result

CURRENT = {
    "Name": "oidc-userpool",
    "MfaConfiguration": "OFF",
    "Policies": {"PasswordPolicy": {"MinimumLength": 8, "RequireSymbols": False}},
    "AutoVerifiedAttributes": ["email"],
}


def test_equal_settings_plan_nothing():
    assert plan_changes(CURRENT, {"Name": "oidc-userpool", "MfaConfiguration": "OFF"}) == {}


def test_none_means_not_specified():
    assert plan_changes(CURRENT, {"Name": None, "MfaConfiguration": None, "Policies": None}) == {}


def test_scalar_change_is_keyed_by_its_name():
    assert plan_changes(CURRENT, {"MfaConfiguration": "ON"}) == {"MfaConfiguration": {"before": "OFF", "after": "ON"}}


def test_nested_dicts_compare_only_the_keys_asked_for():
    changes = plan_changes(CURRENT, {"Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": None}}})
    assert changes == {"Policies.PasswordPolicy.MinimumLength": {"before": 8, "after": 12}}


def test_a_setting_the_api_does_not_report_changes_from_none():
    assert plan_changes(CURRENT, {"DeletionProtection": "ACTIVE"}) == {
        "DeletionProtection": {"before": None, "after": "ACTIVE"}
    }


def test_a_dict_where_the_api_reports_none_is_one_change():
    changes = plan_changes({"Policies": None}, {"Policies": {"PasswordPolicy": {"MinimumLength": 8}}})
    assert changes == {"Policies": {"before": None, "after": {"PasswordPolicy": {"MinimumLength": 8}}}}


def test_lists_compare_as_a_whole_in_order():
    assert plan_changes(CURRENT, {"AutoVerifiedAttributes": ["email"]}) == {}
    assert plan_changes(CURRENT, {"AutoVerifiedAttributes": []}) == {
        "AutoVerifiedAttributes": {"before": ["email"], "after": []}
    }
    assert plan_changes({"L": ["a", "b"]}, {"L": ["b", "a"]}) == {"L": {"before": ["a", "b"], "after": ["b", "a"]}}


def test_falsy_values_are_compared_not_skipped():
    assert plan_changes({"Enabled": True, "Precedence": 3}, {"Enabled": False, "Precedence": 0}) == {
        "Enabled": {"before": True, "after": False},
        "Precedence": {"before": 3, "after": 0},
    }


def test_no_current_resource_plans_every_desired_value():
    assert plan_changes(None, {"Name": "x", "Nested": {"A": 1}}) == {
        "Name": {"before": None, "after": "x"},
        "Nested": {"before": None, "after": {"A": 1}},
    }


def test_prefix_is_prepended_to_paths():
    assert plan_changes({"A": 1}, {"A": 2}, prefix="root.") == {"root.A": {"before": 1, "after": 2}}


def test_diff_from_changes_splits_before_and_after():
    changes = {"MfaConfiguration": {"before": "OFF", "after": "ON"}, "tags": {"before": {}, "after": {"a": "b"}}}
    assert diff_from_changes(changes) == {
        "before": {"MfaConfiguration": "OFF", "tags": {}},
        "after": {"MfaConfiguration": "ON", "tags": {"a": "b"}},
    }


def test_diff_of_no_changes_is_empty_on_both_sides():
    assert diff_from_changes({}) == {"before": {}, "after": {}}


def test_merge_desired_overlays_and_keeps_the_rest():
    merged = merge_desired(CURRENT, {"MfaConfiguration": "ON", "Policies": {"PasswordPolicy": {"MinimumLength": 12}}})
    assert merged["MfaConfiguration"] == "ON"
    assert merged["Policies"] == {"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": False}}
    assert merged["Name"] == "oidc-userpool"
    assert merged["AutoVerifiedAttributes"] == ["email"]


def test_merge_desired_skips_none_and_does_not_touch_its_inputs():
    current = copy.deepcopy(CURRENT)
    desired = {"Name": None, "Policies": {"PasswordPolicy": {"MinimumLength": 10, "RequireSymbols": None}}}
    merged = merge_desired(current, desired)
    assert merged["Name"] == "oidc-userpool"
    assert merged["Policies"]["PasswordPolicy"] == {"MinimumLength": 10, "RequireSymbols": False}
    assert current == CURRENT


def test_merge_desired_replaces_lists_and_non_dicts():
    merged = merge_desired({"L": ["a"], "D": "scalar"}, {"L": [], "D": {"k": 1}})
    assert merged == {"L": [], "D": {"k": 1}}


def test_merge_desired_onto_nothing():
    assert merge_desired(None, {"A": 1, "B": None}) == {"A": 1}


def test_describe_changes_reads_path_before_and_after_in_path_order():
    changes = {"b": {"before": None, "after": "x"}, "a.c": {"before": ["e"], "after": ["p"]}}
    assert describe_changes(changes) == "a.c: ['e'] -> ['p']; b: None -> x"


def test_describe_changes_with_repr_tells_an_empty_string_from_nothing():
    changes = {"groups_prefix": {"before": "gid:", "after": ""}}
    assert describe_changes(changes, show=repr) == "groups_prefix: 'gid:' -> ''"
    assert describe_changes({}) == ""


def test_update_result_is_changed_exactly_when_something_differs():
    assert update_result({}, group={"name": "g"}) == {"changed": False, "group": {"name": "g"}, "diff": {"before": {}, "after": {}}}
    changed = update_result({"Precedence": {"before": 1, "after": 2}}, group={})
    assert changed["changed"] is True and changed["diff"] == {"before": {"Precedence": 1}, "after": {"Precedence": 2}}
