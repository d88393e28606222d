"""CloudWatch Logs Insights filters on JSON fields, for MiniStack's query engine.

MiniStack 1.5.33 runs StartQuery on a subset of the Logs Insights language:
``fields``, ``sort @timestamp``, ``limit`` and ``filter`` on the ``@`` fields
only (``@f = '...'``, ``@f like /re/``, ``toMillis(@timestamp)``), and it
silently ignores any other filter, which for an audit query would return every
user's events. AWS discovers the fields of JSON log events (``user.username``,
``objectRef.resource``, arrays as ``user.groups.0``) and filters on them. This
module adds that: the hook tries MiniStack's own filter first, then
`compile_filter`, and answers MalformedQueryException for what neither knows.

Supported in ``filter``: comparisons ``= != < <= > >=`` with a string
(``"..."`` or ``'...'``) or number, ``[not] in [v, ...]``, ``[not] like
"substring"`` or ``/regex/[i]``, ``=~ /regex/``, ``ispresent(f)``, ``and``,
``or``, ``not`` and parentheses; field names plain (``user.username``, ``@message``)
or in backticks (```annotations.authorization.k8s.io/decision```).
Pure Python, no MiniStack import.
"""

from __future__ import annotations

import json
import re

# Commands the twin's query engine carries out (MiniStack's own subset).
SUPPORTED_COMMANDS = ("fields", "filter", "sort", "limit")


class UnsupportedQuery(ValueError):
    """A query (part) the twin cannot run; MiniStack answers MalformedQueryException."""


# -- JSON fields -----------------------------------------------------------------------


def flatten(value, prefix: str = "", into: dict | None = None) -> dict:
    """Logs Insights' names for the fields of a JSON event: ``a.b``, arrays ``a.0``, ``a.1``."""
    into = {} if into is None else into
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}{key}.", into)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}{index}.", into)
    elif prefix:
        into[prefix[:-1]] = value
    return into


def json_fields(message: str) -> dict:
    try:
        parsed = json.loads(message)
    except (TypeError, ValueError):
        return {}
    return flatten(parsed) if isinstance(parsed, dict) else {}


def field_value(record: dict, name: str):
    """A field of a log record: ``@`` fields from the record, others from its JSON message (None if absent)."""
    if name.startswith("@"):
        return record.get(name)
    return json_fields(record.get("@message", "")).get(name)


def display(value) -> str:
    """A field value as GetQueryResults returns it (strings; JSON booleans lower-case)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def command(stage: str) -> str:
    return (stage.strip().split(None, 1) or [""])[0].lower()


# -- filter expressions ------------------------------------------------------------------

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
    | (?P<regex>/(?:\\.|[^/\\])*/[a-z]*)
    | (?P<backtick>`[^`]*`)
    | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
    | (?P<op>!=|<=|>=|=~|=|<|>|\(|\)|\[|\]|,)
    | (?P<name>@?[A-Za-z_][\w.\-@/:]*)
    )""", re.X)

_KEYWORDS = ("and", "or", "not", "in", "like", "ispresent")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise UnsupportedQuery(f"cannot read the filter at {text[position:]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "name" and value.lower() in _KEYWORDS:
            kind, value = "keyword", value.lower()
        tokens.append((kind, value))
        position = match.end()
    return tokens


def _literal(kind: str, value: str):
    if kind == "string":
        body = value[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    if kind == "number":
        return float(value) if "." in value else int(value)
    raise UnsupportedQuery(f"expected a string or number, got {value!r}")


def _regex(value: str) -> re.Pattern:
    body, _slash, flags = value[1:].rpartition("/")
    try:
        return re.compile(body, re.IGNORECASE if "i" in flags else 0)
    except re.error as e:
        raise UnsupportedQuery(f"bad regular expression {value}: {e}") from None


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(actual, op: str, expected) -> bool:
    """Numbers compare as numbers (``responseStatus.code >= 400``), anything else as text."""
    if actual is None:
        return False
    left, right = display(actual), display(expected)
    if isinstance(expected, (int, float)) and _number(actual) is not None:
        left, right = _number(actual), expected
    return {"=": left == right, "!=": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right}[op]


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.position = 0

    def peek(self, kind=None, value=None):
        if self.position >= len(self.tokens):
            return None
        token = self.tokens[self.position]
        if (kind and token[0] != kind) or (value and token[1] != value):
            return None
        return token

    def take(self, kind=None, value=None):
        token = self.peek(kind, value)
        if token is None:
            found = self.tokens[self.position][1] if self.position < len(self.tokens) else "the end"
            raise UnsupportedQuery(f"expected {value or kind or 'a value'}, found {found!r}")
        self.position += 1
        return token

    def parse(self):
        predicate = self.or_expr()
        if self.position != len(self.tokens):
            raise UnsupportedQuery(f"unexpected {self.tokens[self.position][1]!r}")
        return predicate

    def or_expr(self):
        return self.joined("or", self.and_expr, any)

    def and_expr(self):
        return self.joined("and", self.not_expr, all)

    def joined(self, keyword, operand, combine):
        """``operand (keyword operand)*``: one predicate, true when ``combine`` (any, all) of the operands' are."""
        terms = [operand()]
        while self.peek("keyword", keyword):
            self.take()
            terms.append(operand())
        return terms[0] if len(terms) == 1 else (lambda get: combine(t(get) for t in terms))

    def not_expr(self):
        if self.peek("keyword", "not"):
            self.take()
            inner = self.not_expr()
            return lambda get: not inner(get)
        return self.primary()

    def field(self) -> str:
        kind, value = self.take()
        if kind == "backtick":
            return value[1:-1]
        if kind == "name":
            return value
        raise UnsupportedQuery(f"expected a field name, got {value!r}")

    def primary(self):
        if self.peek("op", "("):
            self.take()
            inner = self.or_expr()
            self.take("op", ")")
            return inner
        if self.peek("keyword", "ispresent"):
            self.take()
            self.take("op", "(")
            name = self.field()
            self.take("op", ")")
            return lambda get: get(name) is not None
        name = self.field()
        negate = bool(self.peek("keyword", "not"))
        if negate:
            self.take()
        if self.peek("keyword", "in"):
            self.take()
            values = self.list_literal()
            return lambda get: (any(_compare(get(name), "=", v) for v in values) and get(name) is not None) != negate
        if self.peek("keyword", "like") or (not negate and self.peek("op", "=~")):
            self.take()
            kind, value = self.take()
            if kind == "regex":
                pattern = _regex(value)
            else:  # a plain string: a substring match
                pattern = re.compile(re.escape(str(_literal(kind, value))))
            return lambda get: get(name) is not None and (pattern.search(display(get(name))) is not None) != negate
        if negate:
            raise UnsupportedQuery("'not' must be followed by 'in' or 'like' after a field")
        kind, op = self.take("op")
        if op not in ("=", "!=", "<", "<=", ">", ">="):
            raise UnsupportedQuery(f"unexpected {op!r} after {name}")
        expected = _literal(*self.take())
        return lambda get: _compare(get(name), op, expected)

    def list_literal(self) -> list:
        self.take("op", "[")
        values = []
        while not self.peek("op", "]"):
            values.append(_literal(*self.take()))
            if not self.peek("op", "]"):
                self.take("op", ",")
        self.take("op", "]")
        return values


def compile_filter(stage: str):
    """A ``filter ...`` stage as ``predicate(get)``, where ``get(field)`` returns a field's value or None."""
    body = re.sub(r"(?is)^\s*filter\s+", "", stage, count=1)
    if body == stage:
        raise UnsupportedQuery(f"not a filter: {stage!r}")
    return _Parser(_tokens(body)).parse()
