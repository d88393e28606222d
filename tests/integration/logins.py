"""What the login tests share: a person's browser, a small identity provider, the credential plugin's cache.

Importable from every test file under tests/integration (pytest puts this directory, the one of the
top conftest.py, on sys.path).
"""

import html.parser
import http.cookiejar
import json
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler

from json_reply import send_json  # tests/sandbox/json_reply.py, on sys.path through conftest.py


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (for a callback URL, say)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietJSONHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with JSON documents (``reply``)."""

    def log_message(self, *args):
        pass

    def reply(self, status, document):
        send_json(self, status, document)


class _SignInForm(html.parser.HTMLParser):
    """The input fields of a sign-in page, and the action of its form ``form_id`` when one is named."""

    def __init__(self, form_id):
        html.parser.HTMLParser.__init__(self)
        self.form_id = form_id
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.form_id and attrs.get("id") == self.form_id:
            self.action = attrs["action"]
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(url, ca_file, username, password, form_id=None, login_path=None, timeout=60):
    """Open the sign-in page at ``url`` and fill in its form as a person does; where the identity provider
    then sends the browser (the Location of its redirect, not followed).

    The form is posted to the action of the form ``form_id`` (Keycloak's kc-form-login), or to
    ``login_path`` on the page's host (Cognito's hosted UI posts to /login)."""
    context = ssl.create_default_context(cafile=ca_file)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect(),
                                         urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(url, timeout=timeout) as page:
        form = _SignInForm(form_id)
        form.feed(page.read().decode())
    action = form.action if form_id else urllib.parse.urljoin(url, login_path)
    assert action, "no sign-in form %s in the page of %s" % (form_id, url)
    form.fields.update(username=username, password=password)
    try:
        opener.open(action, data=urllib.parse.urlencode(form.fields).encode(), timeout=timeout)
    except urllib.error.HTTPError as exc:
        assert exc.code in (301, 302, 303), exc.code
        return exc.headers["Location"]
    raise AssertionError("the identity provider did not redirect after signing in at %s" % url)


def plugin_login_url(process):
    """What the credential plugin, run with --login, asks the person to open: (URL, its query, the stderr line)."""
    line = process.stderr.readline()
    match = re.match(r"^kubeauth-eks-oidc: log in with your browser: (\S+)\n$", line)
    assert match, line
    url = match.group(1)
    return url, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)), line


def open_on_localhost(url):
    """The page at ``url`` on localhost (the plugin's callback), not through any proxy of the environment."""
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=30) as page:
        return page.read().decode()


def expire_cached_tokens(cache_dir):
    """Make every ID token the credential plugin cached in ``cache_dir`` look expired; the refresh tokens."""
    refresh_tokens = []
    for name in sorted(os.listdir(cache_dir)):
        if name.endswith(".json"):
            path = os.path.join(cache_dir, name)
            with open(path) as handle:
                entry = json.load(handle)
            entry["expires_at"] = int(time.time()) - 1
            with open(path, "w") as handle:
                json.dump(entry, handle)
            refresh_tokens.append(entry["refresh_token"])
    return refresh_tokens
