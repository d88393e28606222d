"""Which Keycloak users the keycloak_idp role hands to community.general.keycloak_user (module_utils/keycloak.py)."""

from ansible_collections.kubeauth.eks_oidc.plugins.filter.keycloak_user_plan import FilterModule
from ansible_collections.kubeauth.eks_oidc.plugins.module_utils.keycloak import keycloak_user, plan_users

POST_USER = {  # the shape cognito_idp takes, as the sandbox inventory gives it
    "username": "test@example.com",
    "attributes": {"email": "test@example.com"},
    "password": "generated-Password-1",
    "groups": ["secret-reader"],
}
STORED = {  # as GET /admin/realms/REALM/users lists it once created
    "id": "0d6c3c1e", "username": "test@example.com", "email": "test@example.com",
    "enabled": True, "emailVerified": True, "createdTimestamp": 1,
}


def test_the_cognito_shape_becomes_a_keycloak_user():
    assert keycloak_user(POST_USER) == {
        "username": "test@example.com", "email": "test@example.com", "enabled": True, "email_verified": True,
        "groups": ["secret-reader"],
    }


def test_keycloak_names_win_and_case_is_keycloaks():
    user = keycloak_user({"username": "Alice", "email": "Alice@Example.COM", "first_name": "Alice",
                          "attributes": {"given_name": "Al", "family_name": "Liddell"}, "email_verified": False,
                          "enabled": False, "groups": ["b", "a", "b"]})
    assert user == {"username": "alice", "email": "alice@example.com", "first_name": "Alice", "last_name": "Liddell",
                    "enabled": False, "email_verified": False, "groups": ["a", "b"]}


def test_without_email_it_is_not_verified():
    assert keycloak_user({"username": "bob"})["email_verified"] is False


def test_a_missing_user_is_created_with_its_password():
    [planned] = plan_users([POST_USER], [], {})
    assert planned["create"] is True and planned["reasons"] == ["missing"]
    assert planned["credentials"] == [{"type": "password", "value": "generated-Password-1", "temporary": False}]


def test_a_temporary_password_must_be_changed_at_first_login():
    [planned] = plan_users([{"username": "carol", "temporary_password": "Change-me-0123"}], [], {})
    assert planned["credentials"] == [{"type": "password", "value": "Change-me-0123", "temporary": True}]


def test_nothing_to_do_when_the_realm_holds_the_user_as_wanted():
    assert plan_users([POST_USER], [STORED], {"secret-reader": ["test@example.com"]}) == []


def test_a_missing_membership_is_a_change_and_the_password_is_left_alone():
    [planned] = plan_users([POST_USER], [STORED], {"secret-reader": []})
    assert planned["create"] is False
    assert planned["reasons"] == ["groups +secret-reader"]
    assert "credentials" not in planned


def test_each_differing_field_is_named():
    stored = dict(STORED, email="old@example.com", enabled=False)
    del stored["emailVerified"]  # Keycloak leaves out what is false
    [planned] = plan_users([POST_USER], [stored], {"secret-reader": ["Test@Example.com"]})
    assert planned["reasons"] == ["email", "enabled", "email_verified"]


def test_names_are_compared_only_when_given():
    stored = dict(STORED, firstName="Test", lastName="User")
    assert plan_users([POST_USER], [stored], {"secret-reader": ["test@example.com"]}) == []
    [planned] = plan_users([dict(POST_USER, first_name="Tess")], [stored], {"secret-reader": ["test@example.com"]})
    assert planned["reasons"] == ["first_name"]


def test_extra_memberships_are_kept():
    assert plan_users([dict(POST_USER, groups=[])], [STORED], {"admins": ["test@example.com"]}) == []


def test_the_filter_is_registered():
    plan = FilterModule().filters()["keycloak_user_plan"]
    assert plan([POST_USER], [STORED]) == plan_users([POST_USER], [STORED], {"secret-reader": []})
