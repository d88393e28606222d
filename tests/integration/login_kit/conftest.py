"""Fixtures of the login kit's end-to-end test: the team's side (identity provider, association, RBAC on the
twin fleet) and a real browser (headless Chromium from Debian's packages, driven with Selenium).

``team`` runs the post's steps 1 and 3 with the collection's playbooks (setup.yml) and names of its own (so it never
meets another test's pool), an app client whose localhost callback is a free port, binds the group
gid:secret-reader to a ClusterRole that reads secrets on every cluster (step 4, through the twins' admin
kubeconfigs), and removes all of it afterwards. ``browser`` fails, never skips, when Chromium is missing:
`make test` installs it (`make browser`).
"""

import json
import os
import shutil
import subprocess
import uuid

import pytest
import yaml

from ansible_runs import PlaybookRunner
from logins import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
INVENTORY = os.path.join(REPO_ROOT, "playbooks", "inventory", "sandbox")
GROUP_VARS = os.path.join(INVENTORY, "group_vars", "all.yml")
USERNAME = "test@example.com"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def kubectl_admin(sandbox, cluster, *args, stdin=None):
    return subprocess.run(["kubectl", "--kubeconfig", sandbox["clusters"][cluster]["admin_kubeconfig"]] + list(args),
                          input=stdin, capture_output=True, text=True, timeout=120, check=True)


def secret_readers(name):
    """Step 4 of the post: a ClusterRole that reads secrets, bound to the group gid:secret-reader."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "watch", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
         "subjects": [{"kind": "Group", "name": "gid:secret-reader", "apiGroup": "rbac.authorization.k8s.io"}],
         "roleRef": {"kind": "ClusterRole", "name": name, "apiGroup": "rbac.authorization.k8s.io"}},
    ]})


@pytest.fixture(scope="module")
def team(fleet, tmp_path_factory):
    """The identity provider, its association with every twin cluster of the fleet and RBAC, under names of this
    test. Two clusters: the kit's one login must serve the contexts of both."""
    sandbox = fleet
    clusters = sorted(name for name, cluster in sandbox["clusters"].items() if cluster.get("endpoint"))
    assert len(clusters) == 2, "conftest.py's fleet runs two twin clusters, not %s" % (clusters,)
    assert shutil.which("kubectl"), "kubectl is not on PATH"
    suffix = uuid.uuid4().hex[:8]
    port = free_port()
    with open(GROUP_VARS) as handle:
        client = yaml.safe_load(handle)["eks_oidc_client"]
    # The sandbox's client, its localhost callback on a free port (8000 may be taken on a shared machine).
    client["callback_urls"] = [url for url in client["callback_urls"] if not url.startswith("http://localhost")] + [
        "http://localhost:%d" % port]
    names = {
        "eks_oidc_identity_provider": "cognito",
        "eks_oidc_user_pool_name": "kit-e2e-%s" % suffix,
        "eks_oidc_client_name": "kit-e2e-%s" % suffix,
        "eks_oidc_domain": "kit-e2e-%s" % suffix,
        "eks_oidc_identity_provider_config_name": "kit-e2e-%s" % suffix,
        "eks_oidc_client": client,
    }
    admin = PlaybookRunner(sandbox, str(tmp_path_factory.mktemp("admin")), names)
    rbac = "kit-e2e-read-secrets-%s" % suffix
    try:
        admin.run(os.path.join(HERE, "setup.yml"))
        for cluster in clusters:
            kubectl_admin(sandbox, cluster, "apply", "-f", "-", stdin=secret_readers(rbac))
        with open(os.path.join(sandbox["state_dir"], "test-user.password")) as handle:
            password = handle.read().strip()
        yield {"admin": admin, "clusters": clusters, "callback_port": port, "username": USERNAME, "password": password,
               "names": names}
    finally:
        for cluster in clusters:
            kubectl_admin(sandbox, cluster, "delete", "clusterrolebinding,clusterrole", rbac, "--ignore-not-found")
        admin.run(os.path.join(HERE, "teardown.yml"))


class Browser(object):
    """Headless Chromium as the developer's browser: through the sandbox's HTTPS proxy, as a corporate browser
    reaches the identity provider."""

    def __init__(self, proxy, profile):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",  # Chromium's sandbox refuses to run as root, which CI is
            "--disable-dev-shm-usage",
            "--proxy-server=%s" % proxy,  # loopback (the localhost callback) bypasses it, as in Chromium by default
            # Only the browser: the sandbox's issuer certificate comes from the sandbox CA, which a developer's
            # browser would not know, but a real Cognito certificate it would. What this test proves about TLS is
            # the kit's side: kubeauth-login and the plugin verify the issuer with the CA bundle the kit carries.
            "--ignore-certificate-errors",
            "--user-data-dir=%s" % profile,
        ):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(60)

    def sign_in(self, url, username, password):
        """The identity provider's hosted sign-in page, as a person fills it in; the URL the browser ends on."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.get(url)
        self.driver.find_element(By.ID, "username").send_keys(username)
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(self.driver, 60).until(lambda driver: driver.current_url.startswith("http://localhost"))
        return self.driver.current_url

    def page_text(self):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.TAG_NAME, "body").text

    def close(self):
        self.driver.quit()


@pytest.fixture
def browser(sandbox, tmp_path):
    """A fresh headless Chromium; the test fails, loudly, when Chromium or its driver is missing."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail("%s missing: this test signs in with a real browser; install it with `make browser` "
                    "(apt-get install chromium chromium-driver)" % " and ".join(missing))
    started = Browser(sandbox["https_proxy"], str(tmp_path / "chromium-profile"))
    try:
        yield started
    finally:
        started.close()
