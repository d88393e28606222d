"""The sandbox's stand-ins for EKS's timing and the request quotas (tests/sandbox/knobs.py)."""

import pytest

import knobs  # tests/sandbox, on the path via conftest


def test_knobs_default_to_today_and_are_read_from_the_environment():
    assert (knobs.association_delay({}), knobs.throttle_fraction({}), knobs.throttle_seed({})) == (0.0, 0.0, 0)
    environ = {"SANDBOX_EKS_ASSOCIATION_DELAY": "60", "SANDBOX_THROTTLE": "0.1", "SANDBOX_THROTTLE_SEED": "7"}
    assert (knobs.association_delay(environ), knobs.throttle_fraction(environ), knobs.throttle_seed(environ)) == (60.0, 0.1, 7)


@pytest.mark.parametrize("environ, named", [
    ({"SANDBOX_EKS_ASSOCIATION_DELAY": "-1"}, "SANDBOX_EKS_ASSOCIATION_DELAY must be 0 or more"),
    ({"SANDBOX_EKS_ASSOCIATION_DELAY": "soon"}, "SANDBOX_EKS_ASSOCIATION_DELAY='soon' is not a number"),
    ({"SANDBOX_THROTTLE": "1"}, "SANDBOX_THROTTLE must be a fraction"),
    ({"SANDBOX_THROTTLE": "10%"}, "SANDBOX_THROTTLE='10%' is not a number"),
    ({"SANDBOX_THROTTLE_SEED": "x"}, "SANDBOX_THROTTLE_SEED='x' is not an integer"),
])
def test_a_knob_the_sandbox_cannot_use_is_refused_by_name(environ, named):
    reader = {"SANDBOX_EKS_ASSOCIATION_DELAY": knobs.association_delay, "SANDBOX_THROTTLE": knobs.throttle_fraction,
              "SANDBOX_THROTTLE_SEED": knobs.throttle_seed}[next(iter(environ))]
    with pytest.raises(knobs.KnobError, match=named):
        reader(environ)


def test_throttle_hits_about_its_fraction_and_the_same_calls_for_the_same_seed():
    throttle = knobs.Throttle(0.1, seed=3)
    hits = [throttle.hit() for _call in range(5000)]
    again = knobs.Throttle(0.1, seed=3)
    assert [again.hit() for _call in range(5000)] == hits
    assert 400 < sum(hits) < 600  # 10% of 5000, give or take
    other = knobs.Throttle(0.1, seed=4)
    assert [other.hit() for _call in range(5000)] != hits


def test_no_throttle_never_hits():
    throttle = knobs.Throttle(0.0)
    assert not any(throttle.hit() for _call in range(1000))


@pytest.mark.parametrize("service, method, path, headers, name", [
    ("cognito-idp", "POST", "/", {"x-amz-target": "AWSCognitoIdentityProviderService.ListUsers"}, "ListUsers"),
    ("cognito-idp", "GET", "/us-west-2_abc/.well-known/openid-configuration", {}, None),  # OIDC, not the API
    ("cognito-idp", "POST", "/oauth2/token", {}, None),
    ("eks", "GET", "/clusters/oidc-test-7/identity-provider-configs/describe", {},
     "GET /clusters/{name}/identity-provider-configs/describe"),
    ("eks", "POST", "/clusters/a/identity-provider-configs/associate", {},
     "POST /clusters/{name}/identity-provider-configs/associate"),
    ("eks", "GET", "/clusters", {}, "GET /clusters"),
    ("sts", "POST", "/", {}, None),
])
def test_each_api_call_counts_under_its_operation(service, method, path, headers, name):
    assert knobs.operation(service, method, path, headers) == name


def test_the_call_count_reports_calls_and_throttled_calls_per_service_and_their_difference():
    counter = knobs.CallCounter()
    counter.add("cognito-idp", "ListUsers", throttled=False)
    before = counter.snapshot()
    counter.add("cognito-idp", "ListUsers", throttled=True)
    counter.add("cognito-idp", "AdminCreateUser", throttled=False)
    counter.add("eks", "GET /clusters", throttled=False)
    after = counter.snapshot()
    assert after == {
        "calls": {"cognito-idp": {"AdminCreateUser": 1, "ListUsers": 2}, "eks": {"GET /clusters": 1}},
        "throttled": {"cognito-idp": {"ListUsers": 1}},
    }
    delta = knobs.difference(after, before)
    assert delta == {"calls": {"cognito-idp": {"AdminCreateUser": 1, "ListUsers": 1}, "eks": {"GET /clusters": 1}},
                     "throttled": {"cognito-idp": {"ListUsers": 1}}}
    assert (knobs.total(delta), knobs.total(delta, service="cognito-idp"), knobs.total(delta, "throttled")) == (3, 2, 1)
