"""Logging: one line per event, and no secret ever written.

Redaction happens in the formatter, on the final text (message, arguments and
traceback alike), so a token inside an exception message is caught too.
librouteros logs every API word at DEBUG, ``/login =password=…`` included: the
``=password=`` pattern covers that even if someone turns DEBUG on.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

_PATTERNS = (
    re.compile(r"xox[a-z]-[A-Za-z0-9-]+"),  # Slack bot/user tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),  # Slack app-level tokens
    re.compile(r"(=password=|=response=)[^'\"\s]*"),  # RouterOS login words
)
MASK = "[redacted]"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Plain text, one line per event (a traceback, if any, follows it)."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class JsonFormatter(RedactingFormatter):
    """One JSON object per line, traceback included as a field: for log shippers."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(message)s", secrets)

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            event["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(event, ensure_ascii=False), self.secrets)


def configure(level: str = "INFO", secrets: Iterable[str] = (), fmt: str = "text") -> None:
    """Route every logger to stderr through a redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(secrets)
        if fmt == "json"
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter stays out of the way unless DEBUG was asked for.
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in ("librouteros", "slack_sdk", "slack_bolt", "aiohttp", "asyncio"):
        logging.getLogger(name).setLevel(quiet)
