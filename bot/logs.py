"""Logging: one line per event, and no secret ever written.

Redaction works on values, before anything is serialised: each record's
message (with its arguments already substituted, dicts and bytes included),
its traceback and its stack are cleaned one by one, and only then rendered as a
text line or dumped as JSON. Cleaning the rendered line instead would miss a
password with a quote or a backslash, which `json.dumps` or `repr()` have
escaped by then.

What is cleaned, at every level and for every logger (Bolt, slack_sdk,
aiohttp, librouteros included):

* each configured secret (router passwords, Slack tokens, the signing secret)
  and the forms `repr()`, JSON, unicode-escape, bytes, URL and HTML encoding give
  it, alone or inside a longer string (whose `repr()` may escape ``'``), and
  those forms escaped once more (a repr inside a repr);
* Slack tokens and RouterOS ``=password=`` / ``=response=`` words by shape, even
  when not configured (librouteros logs every API word at DEBUG, ``/login``'s too);
* ``response_url``s: Slack's ``https://hooks.slack.com/…``, any value logged
  under a ``response_url`` key, and afterwards any URL under the same base
  (`note_response_url` learns one explicitly);
* Socket Mode tickets (``ticket=…`` in the websocket URL);
* all of the above inside a percent-encoded form body (Bolt logs a request
  whose signature fails with its body, ``payload=%7B%22response_url%22%3A+…``):
  a word holding ``%XX`` escapes is also read decoded, and written decoded and
  masked when that view held a secret.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from html import escape as html_escape
from types import TracebackType
from typing import TextIO
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MASK = "[redacted]"
#: Shorter secrets are not masked: they would blank ordinary words.
MIN_SECRET = 4

_PATTERNS = (
    re.compile(r"xox[a-z]-[A-Za-z0-9-]+"),  # Slack bot/user tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),  # Slack app-level tokens
    # RouterOS login words; a repr may escape quotes inside the word (\' or \").
    re.compile(r"(=password=|=response=)(?:\\.|[^'\"\s\\])*"),
    re.compile(r"(ticket=)[^&\s'\"\\]+"),  # Socket Mode websocket URLs
    # Slack's response_url hosts, plain, JSON-escaped (\/) or URL-encoded.
    re.compile(r"(https?:(?:\\?/|%2F){2}hooks\.slack\.com(?:\\?/|%2F))(?:\\/|[^\s'\"\\&,}<>])+"),
)
#: A value logged under a ``response_url`` key: a dict's repr, JSON, a form body.
_RESPONSE_URL_KEY = re.compile(
    r"(response_url\\?['\"]?\s*[:=]\s*\\?['\"]?)((?:\\/|[^\s'\"\\&,}<>])+)", re.IGNORECASE
)
#: The value's characters after a learned base (see `note_response_url`).
_URL_REST = r"(?:\\/|[^\s'\"\\&,}<>])+"
#: How many response_url bases are remembered (Slack has one; tests a few).
_MAX_BASES = 16

_bases: dict[str, None] = {}  # insertion-ordered set, oldest first
_bases_lock = threading.Lock()
_bases_version = 0


def note_response_url(url: str) -> None:
    """Remember `url`'s base (all but its last path segment): from now on any URL
    under it is masked, even where no ``response_url`` key names it (an HTTP
    client's error, a webhook library's debug line)."""
    global _bases_version
    url = unquote(url.replace("\\/", "/"))
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in {"http", "https"} or "/" not in rest:
        return
    base = url.rsplit("/", 1)[0] + "/"
    with _bases_lock:
        if base in _bases:
            return
        _bases[base] = None
        while len(_bases) > _MAX_BASES:
            del _bases[next(iter(_bases))]
        _bases_version += 1


def secret_forms(secret: str) -> set[str]:
    """`secret` as it may show up in a log line: raw, and as `repr()`, JSON (also
    with Slack's ``\\/``), unicode-escape, a bytes repr and URL encoding give it;
    each of those escaped once more too (a repr of a repr, JSON of a repr)."""
    forms = {secret}
    for _ in range(2):
        forms |= {escape(form) for form in forms for escape in _ESCAPES}
    return {form for form in forms if len(form) >= MIN_SECRET}


_ESCAPES: tuple[Callable[[str], str], ...] = (
    lambda s: repr(s)[1:-1],
    # Inside a longer string holding both quote kinds, repr() escapes ' as \'.
    lambda s: repr(s + "'\"")[1:-4],
    lambda s: repr(s.encode("utf-8", "surrogatepass"))[2:-1],
    lambda s: repr((s + "'\"").encode("utf-8", "surrogatepass"))[2:-4],
    lambda s: json.dumps(s)[1:-1],
    lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),
    lambda s: s.encode("unicode_escape").decode("ascii"),
    lambda s: quote(s, safe=""),
    lambda s: quote(s),  # the default keeps "/"
    lambda s: quote_plus(s, safe=""),
    lambda s: quote_plus(s, safe="/"),
    html_escape,
    lambda s: html_escape(s, quote=False),
)
#: A ``%XX`` escape: the word holding it may be a form body (see `Redactor`).
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_WORDS = re.compile(r"(\s+)")
#: Form bodies inside form bodies: how many times a word is decoded at most.
_MAX_DECODES = 2


class Redactor:
    """Masks every form of the configured secrets, and secrets known by shape."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = tuple(s for s in secrets if s and len(s) >= MIN_SECRET)
        forms = set().union(*(secret_forms(s) for s in self.secrets))
        # Longest first: a form that contains another is masked whole.
        self._forms = (
            re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
            if forms
            else None
        )
        self._bases_seen = -1
        self._bases_pattern: re.Pattern[str] | None = None

    def __call__(self, text: str, _decodes: int = 0) -> str:
        for match in _RESPONSE_URL_KEY.finditer(text):
            note_response_url(match.group(2))
        if self._forms is not None:
            text = self._forms.sub(MASK, text)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
        text = _RESPONSE_URL_KEY.sub(lambda m: m.group(1) + MASK, text)
        bases = self._learned_bases()
        if bases is not None:
            text = bases.sub(lambda m: m.group(1) + MASK, text)
        if _decodes < _MAX_DECODES and _PERCENT.search(text):
            text = "".join(self._decoded(word, _decodes) for word in _WORDS.split(text))
        return text

    def _decoded(self, word: str, decodes: int) -> str:
        """`word` unchanged, or, when its percent-decoded form held something to
        mask, that form masked and re-encoded (no decoded line break reaches the log).

        Patterns for each encoded notation would miss one (``%5C%2F``, ``+``, a
        lowercase escape…): reading the decoded text reuses every rule above.
        """
        if not _PERCENT.search(word):
            return word
        decoded = unquote_plus(word)
        masked = self(decoded, decodes + 1)
        if masked == decoded:
            return word
        return quote_plus(masked, safe="[]/:=&,{}()\"'")

    def _learned_bases(self) -> re.Pattern[str] | None:
        if self._bases_seen != _bases_version:
            with _bases_lock:
                self._bases_seen = _bases_version
                forms = {
                    form
                    for base in _bases
                    for form in (base, base.replace("/", "\\/"), quote(base, safe=""))
                }
            self._bases_pattern = (
                re.compile(
                    "("
                    + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
                    + ")"
                    + _URL_REST
                )
                if forms
                else None
            )
        return self._bases_pattern


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret masked (see `Redactor`; build one to reuse it)."""
    return Redactor(secrets)(text)


class RedactingFormatter(logging.Formatter):
    """Plain text, one line per event (a traceback, if any, follows it)."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.redact = Redactor(secrets)

    def clean(self, record: logging.LogRecord) -> logging.LogRecord:
        """A copy of `record` whose message, traceback and stack are masked values
        (the arguments are substituted first, so a dict or bytes argument is
        masked in the form it is written in)."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not leak its arguments
            message = f"{record.msg} (unformattable log arguments)"
        clean = logging.makeLogRecord(record.__dict__)
        clean.msg, clean.args = self.redact(str(message)), None
        if record.exc_info:
            clean.exc_text = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            clean.exc_text = self.redact(record.exc_text)
        clean.exc_info = None
        if record.stack_info:
            clean.stack_info = self.redact(record.stack_info)
        return clean

    def format(self, record: logging.LogRecord) -> str:
        # The line is masked once more: a secret split between the message and
        # the format's other fields would otherwise slip through.
        return self.redact(super().format(self.clean(record)))


class JsonFormatter(RedactingFormatter):
    """One JSON object per line, traceback included as a field: for log shippers."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(message)s", secrets)

    def format(self, record: logging.LogRecord) -> str:
        clean = self.clean(record)
        event = {
            "ts": datetime.fromtimestamp(clean.created, UTC).isoformat(timespec="milliseconds"),
            "level": clean.levelname,
            "logger": clean.name,
            "msg": clean.msg,
        }
        if clean.exc_text:
            event["exc"] = clean.exc_text
        if clean.stack_info:
            event["stack"] = clean.stack_info
        return json.dumps(event, ensure_ascii=False)


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    logging.getLogger("beholder").critical("uncaught %s", kind.__name__, exc_info=(kind, exc, tb))


def configure(
    level: str = "INFO",
    secrets: Iterable[str] = (),
    fmt: str = "text",
    stream: TextIO | None = None,
) -> None:
    """Route every logger to `stream` (stderr) through a redacting formatter."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(
        JsonFormatter(secrets)
        if fmt == "json"
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # A failing handler would print the raw message and arguments to stderr, and
    # Python prints an uncaught exception's traceback there itself: both would
    # bypass the formatter, so both go through it.
    logging.raiseExceptions = False
    sys.excepthook = _log_uncaught
    threading.excepthook = lambda args: _log_uncaught(
        args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback
    )
    # Third-party chatter stays out of the way unless DEBUG was asked for.
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in ("librouteros", "slack_sdk", "slack_bolt", "aiohttp", "asyncio"):
        logging.getLogger(name).setLevel(quiet)
