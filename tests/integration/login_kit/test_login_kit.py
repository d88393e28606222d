"""End to end, as a developer without AWS access gets kubectl: the administrator writes the kit with
playbooks/login_kit.yml; the developer, with a fresh HOME, no AWS variables or files, Python 3 and kubectl
only, runs `kubeauth-login install` and `login`, signs in once in a real browser (headless Chromium), and
every cluster of the fleet lists secrets and refuses nodes, as in the post's Step 5. Then status, logout,
the keyboard flow of headless machines, and uninstall, which leaves the kubeconfig byte for byte as it was.

The developer's environment has HTTPS_PROXY/NO_PROXY as a corporate developer's would: the sandbox's
issuer host, cognito-idp.REGION.amazonaws.com, is reached through the sandbox's HTTPS proxy. The timings
of a run are printed (pytest -s) and quoted in docs/onboarding.md.
"""

import os
import re
import shutil
import stat
import subprocess
import time

import sandbox as sandbox_launcher  # tests/sandbox/sandbox.py, on the path through tests/integration/conftest.py

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "login_kit.yml")
RECAP_CHANGED = re.compile(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)", re.M)
# Public CAs only (Debian's ca-certificates): not the sandbox CA that signs the issuer's certificate.
DEBIAN_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.")
# The developer's own kubeconfig before the kit: hand-written, with a comment; uninstall must give it back as is.
DEVELOPER_KUBECONFIG = b"""# clusters I had before the kit
apiVersion: v1
kind: Config
clusters:
- name: laptop
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: me
  user: {username: me}
contexts:
- {name: laptop, context: {cluster: laptop, user: me}}
current-context: laptop
"""


def changed(result):
    return sum(int(count) for count in RECAP_CHANGED.findall(result.stdout))


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


class Developer(object):
    """A developer's shell: a fresh HOME, PATH with python3 and kubectl, no AWS anything, the corporate proxy."""

    def __init__(self, sandbox, home, kit):
        self.home = home
        self.kit = kit
        self.url_file = os.path.join(os.path.dirname(home), "browser-url")
        browser_hook = os.path.join(os.path.dirname(home), "open-browser")
        with open(browser_hook, "w") as handle:  # what `webbrowser` runs: hands the URL to the test's Chromium
            handle.write('#!/bin/sh\nprintf "%%s" "$1" > %s\n' % self.url_file)
        os.chmod(browser_hook, 0o755)
        path = os.pathsep.join(dict.fromkeys([os.path.dirname(shutil.which("kubectl")), "/usr/local/bin", "/usr/bin", "/bin"]))
        self.env = {"HOME": home, "PATH": path, "LANG": "C.UTF-8", "BROWSER": browser_hook}
        self.env.update((name, value) for name, value in sandbox_launcher.environment(sandbox).items() if "PROXY" in name.upper())
        self.python = shutil.which("python3", path=path)
        assert self.python and ".venv" not in self.python, "the developer's python3 must be the system's, not the venv's"

    def kubeauth_login(self, *args, **kwargs):
        return subprocess.run([self.python, self.kit] + list(args), env=self.env, capture_output=True, text=True,
                              timeout=120, check=False, **kwargs)

    def start_login(self, *args):
        return subprocess.Popen([self.python, self.kit, "login"] + list(args), env=self.env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def opened_url(self, login, timeout=60):
        """The URL `login` opened in the browser (through $BROWSER, as on a desktop)."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.url_file):
            assert login.poll() is None, "login ended before opening a browser: %s" % (login.communicate(),)
            assert time.monotonic() < deadline, "login opened no browser within %d s" % timeout
            time.sleep(0.05)
        with open(self.url_file) as handle:
            url = handle.read()
        os.unlink(self.url_file)
        return url

    def kubectl(self, context, *args):
        return subprocess.run(["kubectl", "--context", context] + list(args), env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)


def assert_no_secret_in(directory, secrets):
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), errors="replace") as handle:
            text = handle.read()
        for label, value in secrets.items():
            assert value not in text, "the kit's %s holds the %s" % (name, label)
        assert not JWT.search(text), "the kit's %s holds a token" % name


def test_a_developer_without_aws_goes_from_the_kit_to_kubectl(sandbox, team, browser, tmp_path):
    # -- the administrator: the kit, beside the playbook run (./login-kit), then published to S3
    admin = team["admin"]
    workdir = str(tmp_path / "admin")
    os.mkdir(workdir)
    admin.run(PLAYBOOK, cwd=workdir)
    kit_dir = os.path.join(workdir, "login-kit")
    kit = os.path.join(kit_dir, "kubeauth-login")
    assert sorted(os.listdir(kit_dir)) == ["README.md", "kubeauth-login"]
    assert changed(admin.run(PLAYBOOK, cwd=workdir)) == 0
    assert changed(admin.run(PLAYBOOK, "--check", cwd=workdir)) == 0
    import boto3

    s3 = boto3.client("s3", **sandbox_launcher.boto3_kwargs(sandbox))
    bucket = "kit-e2e-%s" % team["names"]["eks_oidc_user_pool_name"][-8:]
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": sandbox["region"]})
    try:
        admin.run(PLAYBOOK, "-e", "eks_oidc_login_kit_s3_bucket=%s" % bucket, cwd=workdir)
        with open(kit, "rb") as handle:
            assert s3.get_object(Bucket=bucket, Key="login-kit/kubeauth-login")["Body"].read() == handle.read()
    finally:
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)
    assert_no_secret_in(kit_dir, {
        "test user's password": team["password"],
        "AWS secret key": sandbox["aws_secret_access_key"],
        "AWS access key id": sandbox["aws_access_key_id"],
    })

    # -- the developer: a fresh HOME with a kubeconfig of their own, no AWS
    home = str(tmp_path / "home")
    os.makedirs(os.path.join(home, ".kube"), mode=0o700)
    kubeconfig = os.path.join(home, ".kube", "config")
    with open(os.open(kubeconfig, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
        handle.write(DEVELOPER_KUBECONFIG)
    developer = Developer(sandbox, home, kit)
    assert not [name for name in developer.env if name.startswith("AWS")] and not os.path.exists(os.path.join(home, ".aws"))

    started = time.monotonic()
    install = developer.kubeauth_login("install")
    installed = time.monotonic()
    assert install.returncode == 0, install.stderr
    plugin_dir = os.path.join(home, ".kube", "kubeauth-login")
    assert mode(plugin_dir) == 0o700 and mode(kubeconfig) == 0o600
    assert all(mode(os.path.join(plugin_dir, name)) == 0o600 for name in os.listdir(plugin_dir))
    with open(kubeconfig + ".kubeauth-login.bak", "rb") as handle:
        assert handle.read() == DEVELOPER_KUBECONFIG
    user = developer.kubectl("oidc-%s" % team["clusters"][0], "config", "view", "--minify", "-o",
                             "jsonpath={.users[0].user.exec.command} {.users[0].user.exec.args[0]} {.users[0].user.exec.args[1]}")
    assert user.stdout == "%s -I -S" % os.path.realpath(developer.python), user.stdout + user.stderr

    login = developer.start_login()
    landed = browser.sign_in(developer.opened_url(login), team["username"], team["password"])
    assert landed.startswith("http://localhost:%d/?code=" % team["callback_port"])
    assert "Login finished" in browser.page_text()
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    logged_in = time.monotonic()
    assert "signed in to https://cognito-idp.%s.amazonaws.com/" % sandbox["region"] in out

    first = None
    for cluster in team["clusters"]:
        secrets = developer.kubectl("oidc-%s" % cluster, "get", "secrets", "-n", "default")
        assert secrets.returncode == 0, secrets.stderr
        first = first or time.monotonic()
        nodes = developer.kubectl("oidc-%s" % cluster, "get", "nodes")
        assert nodes.returncode != 0 and 'Forbidden' in nodes.stderr and 'User "%s"' % team["username"] in nodes.stderr, nodes.stderr
    cached = time.monotonic()
    developer.kubectl("oidc-%s" % team["clusters"][0], "get", "secrets", "-n", "default")
    print("\nfrom nothing to kubectl: install %.2f s, login with the browser %.2f s (a person types for longer), "
          "first kubectl get secrets %.2f s; total %.2f s; a cached kubectl %.2f s"
          % (installed - started, logged_in - installed, first - logged_in, first - started, time.monotonic() - cached))

    status = developer.kubeauth_login("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "signed in as %s, groups gid:secret-reader" % team["username"] in status.stdout
    assert "ID token valid until" in status.stdout

    # -- logout: the tokens are gone, kubectl asks for a login again
    assert developer.kubeauth_login("logout").returncode == 0
    assert not os.listdir(os.path.join(plugin_dir, "cache")) or all(n.endswith(".lock") for n in os.listdir(os.path.join(plugin_dir, "cache")))
    refused = developer.kubectl("oidc-%s" % team["clusters"][0], "get", "secrets")
    assert refused.returncode != 0 and "log in again" in refused.stderr
    assert developer.kubeauth_login("status").returncode == 3

    # -- TLS to the issuer is verified with the CA bundle the kit carries: another bundle is refused
    ca_file = os.path.join(plugin_dir, "ca.pem")
    with open(ca_file) as handle:
        assert handle.read() == open(sandbox["aws_ca_bundle"]).read()  # the admin's eks_oidc_aws_connection.aws_ca_bundle
    shutil.copyfile(DEBIAN_CA_BUNDLE, ca_file)
    untrusted = developer.kubeauth_login("login", "--headless", stdin=subprocess.DEVNULL)
    assert untrusted.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr, untrusted.stderr
    assert developer.kubeauth_login("install").returncode == 0  # puts the kit's CA back
    with open(ca_file) as handle:
        assert handle.read() == open(sandbox["aws_ca_bundle"]).read()

    # -- a machine without a browser: open the address elsewhere, paste back where the browser ended up
    login = developer.start_login("--headless")
    url = None
    for line in login.stdout:
        if line.strip().startswith("https://"):
            url = line.strip()
            break
    assert url, "the keyboard flow printed no address"
    landed = browser.sign_in(url, team["username"], team["password"])  # nothing listens there: an error page
    out, err = login.communicate(landed + "\n", timeout=60)
    assert login.returncode == 0, out + err
    assert developer.kubectl("oidc-%s" % team["clusters"][-1], "get", "secrets", "-n", "default").returncode == 0

    # -- uninstall: the kubeconfig as it was, nothing of the kit left
    uninstall = developer.kubeauth_login("uninstall")
    assert uninstall.returncode == 0, uninstall.stderr
    with open(kubeconfig, "rb") as handle:
        assert handle.read() == DEVELOPER_KUBECONFIG
    assert not os.path.exists(plugin_dir) and not os.path.exists(kubeconfig + ".kubeauth-login.bak")
    assert set(os.listdir(os.path.join(home, ".kube"))) <= {"config", "cache"}  # cache/: kubectl's discovery cache
