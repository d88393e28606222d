"""EKS identity provider config -> kube-apiserver AuthenticationConfiguration (tests/sandbox/authn.py)."""

import json

import authn  # tests/sandbox/authn.py, on the path via conftest

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_re1u6bpRA"
BASE = "https://127.0.0.1:4566"
CA = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"


def entry(**oidc):
    return authn.jwt_authenticator({"issuerUrl": ISSUER, "clientId": "client", **oidc},
                                   cognito_base=BASE, ca_pem=CA)


def test_post_values():
    assert entry(usernameClaim="email", groupsClaim="cognito:groups", groupsPrefix="gid:") == {
        "issuer": {
            "url": ISSUER,
            "audiences": ["client"],
            "discoveryURL": f"{BASE}/us-west-2_re1u6bpRA/.well-known/openid-configuration",
            "certificateAuthority": CA,
        },
        "claimMappings": {
            "username": {"claim": "email", "prefix": ""},
            "groups": {"claim": "cognito:groups", "prefix": "gid:"},
        },
    }


def test_username_defaults_to_sub_prefixed_with_the_issuer():
    assert entry()["claimMappings"] == {"username": {"claim": "sub", "prefix": ISSUER + "#"}}
    assert entry(usernameClaim="name")["claimMappings"]["username"] == {"claim": "name", "prefix": ISSUER + "#"}


def test_explicit_username_prefix_and_dash_disables_it():
    assert entry(usernamePrefix="oidc:")["claimMappings"]["username"] == {"claim": "sub", "prefix": "oidc:"}
    assert entry(usernamePrefix="-")["claimMappings"]["username"] == {"claim": "sub", "prefix": ""}
    assert entry(usernameClaim="email", usernamePrefix="u:")["claimMappings"]["username"]["prefix"] == "u:"


def test_groups_prefix_defaults_to_none():
    assert entry(groupsClaim="groups")["claimMappings"]["groups"] == {"claim": "groups", "prefix": ""}


def test_required_claims_become_validation_rules():
    rules = entry(requiredClaims={"token_use": "id", "hd": "example.com"})["claimValidationRules"]
    assert rules == [{"claim": "hd", "requiredValue": "example.com"},
                     {"claim": "token_use", "requiredValue": "id"}]


def test_other_issuers_use_their_own_discovery_and_the_host_roots():
    issuer = authn.jwt_authenticator({"issuerUrl": "https://accounts.example.com", "clientId": "c"},
                                     cognito_base=BASE, ca_pem=CA)["issuer"]
    assert issuer == {"url": "https://accounts.example.com", "audiences": ["c"]}
    local = authn.jwt_authenticator({"issuerUrl": "https://127.0.0.1:8443/dex", "clientId": "c"},
                                    cognito_base=BASE, ca_pem=CA)["issuer"]
    assert local["certificateAuthority"] == CA and "discoveryURL" not in local


def test_configuration_document():
    document = json.loads(authn.authentication_configuration([entry()]))
    assert document["apiVersion"] == "apiserver.config.k8s.io/v1"
    assert document["kind"] == "AuthenticationConfiguration"
    assert document["jwt"] == [entry()]
