"""From what an operator typed in Slack to a PPPoE user name (pure functions).

Slack rewrites text before we see it: ``juan.perez.com`` arrives as
``<http://juan.perez.com|juan.perez.com>``, an e-mail as ``<mailto:…|…>``, a
mention as ``<@U123>``. We unwrap links to what the operator saw, drop
mentions, and leave validation to `bot.domain.readings.clean_query`.

Everything here runs before the ack (the access middleware reads the query
too), on text anyone in the workspace can send, up to Slack's 40,000
characters. So the text is cut to a fixed bound before any parsing
(`MAX_TEXT`, `MAX_MESSAGE`), and every step is linear in its input: no regex
here may backtrack over what an earlier attempt already scanned (see the
comment on each).
"""

from __future__ import annotations

import re
from typing import Any

from bot.errors import InputError

#: Longest ``/consumo`` or mention text read. A question is a name, an IP or a
#: MAC (`bot.domain.readings.MAX_QUERY_LENGTH`, 100) plus markup and a duration; a
#: longer text is answered "too long" and never parsed past this.
MAX_TEXT = 1_000
#: Longest part of a message the "Ver consumo" shortcut searches: a pasted
#: ticket names the subscriber near its top; the rest is not read.
MAX_MESSAGE = 4_000
#: Longest part of a message's text kept as the audited query of a shortcut.
AUDITED_MESSAGE_MAX = 200

# Linear by construction: a match starts at "<" and its class stops at the
# next "<" or ">", so an unclosed "<" costs the distance to the next "<" and
# no character is scanned by two attempts (Slack escapes literal "<" as &lt;).
_MENTION = re.compile(r"<[@#!][^<>]*>")
# Same bound: both groups stop at "<" or ">"; the optional "|…" part can only
# be entered at the one "|" that ended the first group.
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_KEYWORD = "consumo"
#: ``/consumo ayuda`` (or ``help``, in either language) asks how to ask. A PPPoE user
#: named so is still found by its IP, its MAC or a button.
HELP_WORDS = frozenset({"ayuda", "help"})


def cut(text: str, limit: int = MAX_TEXT) -> str:
    """The first `limit` characters of `text`: all that is ever parsed of it."""
    return text[:limit]


def unwrap(text: str) -> str:
    """Slack markup → the text the operator typed; entities decoded."""
    text = _MENTION.sub(" ", text)
    text = _LINK.sub(lambda m: m.group(2) or _strip_scheme(m.group(1)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def command_text(text: str) -> str:
    """The argument of ``/consumo …`` (of its first `MAX_TEXT` characters)."""
    return unwrap(cut(text)).strip()


def mention_text(text: str) -> str:
    """The argument of ``@Beholder consumo …`` or ``@Beholder …`` (first `MAX_TEXT`)."""
    words = unwrap(cut(text)).split(maxsplit=1)
    if words and words[0].casefold() == _KEYWORD:
        words = words[1:]
    return " ".join(words).strip()


def command_question(text: str) -> tuple[str, int | None]:
    """``/consumo`` text → (query, live seconds or None); `InputError` when too long."""
    _refuse_long(text)
    return split_duration(command_text(text))


def mention_question(text: str) -> tuple[str, int | None]:
    """Mention text → (query, live seconds or None); `InputError` when too long."""
    _refuse_long(text)
    return split_duration(mention_text(text))


def asks_help(query: str, seconds: int | None) -> bool:
    """Whether a question (`command_question`, `mention_question`) asks how to ask."""
    return seconds is None and query.strip().casefold() in HELP_WORDS


#: ``/consumo juan.perez diag``: a diagnosis instead of a reading.
DIAG_WORD = "diag"


def split_diag(text: str) -> tuple[str, bool]:
    """``juan.perez diag`` → (``juan.perez``, True): a diagnosis of juan.perez.

    The word must follow a query, after whitespace, so a PPPoE user named
    ``diag`` is still asked for by name. One split from the end: linear.
    """
    words = text.rsplit(maxsplit=1)
    if len(words) == 2 and words[1].casefold() == DIAG_WORD:
        return words[0], True
    return text, False


def button_value(body: dict[str, Any]) -> str:
    """The value of the clicked button (a PPPoE name, a live view's key), cut to
    `MAX_TEXT`: it is logged and echoed back, and a payload not drawn by Slack may
    carry any length."""
    actions = body.get("actions") or [{}]
    return cut(str(actions[0].get("value", "")))


def message_text(text: str) -> str:
    """What the shortcut searches of a message: its first `MAX_MESSAGE` characters."""
    return cut(text, MAX_MESSAGE)


def _refuse_long(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise InputError(cut(text), "too_long")


#: ``s``, ``seg`` or ``segundos``, any case (matched against the text's last
#: 1, 3 or 8 characters only: constant work).
_SECONDS_UNIT = re.compile(r"s(?:eg|egundos)?", re.IGNORECASE)
_UNIT_LENGTHS = (8, 3, 1)
_MAX_DIGITS = 4


def split_duration(text: str) -> tuple[str, int | None]:
    """``juan.perez 30s`` → (``juan.perez``, 30): a live view of 30 seconds.

    The ``s`` is required, so ``perez san martin 1234`` stays an address. The
    query is one line; the seconds (1 to 4 digits) are separated from it by
    whitespace. Read from the end, one pass: a regex such as
    ``(.+?)\\s+(\\d{1,4})\\s*s`` would retry the whitespace run at every start
    and take quadratic time on ``x`` followed by thousands of spaces.
    """
    stripped = text.strip()
    for length in _UNIT_LENGTHS:
        if len(stripped) <= length or not _SECONDS_UNIT.fullmatch(stripped[-length:]):
            continue
        number = stripped[:-length].rstrip()
        digits = _decimal_tail(number)
        if not 1 <= digits <= _MAX_DIGITS:
            continue
        head = number[:-digits]
        query = head.rstrip()
        if query == head or not query or "\n" in query:
            continue  # no whitespace before the number, no query, or several lines
        return query, int(number[-digits:])
    return text, None


def _decimal_tail(text: str) -> int:
    """How many decimal digits `text` ends with (counting at most one past the limit)."""
    count = 0
    for char in reversed(text):
        if not char.isdecimal() or count > _MAX_DIGITS:
            break
        count += 1
    return count


def _strip_scheme(target: str) -> str:
    for scheme in ("mailto:", "http://", "https://"):
        if target.startswith(scheme):
            return target[len(scheme) :]
    return target
