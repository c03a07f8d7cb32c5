"""From what an operator typed in Slack to a PPPoE user name (pure functions).

Slack rewrites text before we see it: ``juan.perez.com`` arrives as
``<http://juan.perez.com|juan.perez.com>``, an e-mail as ``<mailto:…|…>``, a
mention as ``<@U123>``. We unwrap links to what the operator saw, drop
mentions, and leave validation to `bot.readings.clean_query`.
"""

from __future__ import annotations

import re

_MENTION = re.compile(r"<[@#!][^>]*>")
_LINK = re.compile(r"<([^>|]*)(?:\|([^>]*))?>")
_KEYWORD = "consumo"


def unwrap(text: str) -> str:
    """Slack markup → the text the operator typed; entities decoded."""
    text = _MENTION.sub(" ", text)
    text = _LINK.sub(lambda m: m.group(2) or _strip_scheme(m.group(1)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def command_text(text: str) -> str:
    """The argument of ``/consumo …``."""
    return unwrap(text).strip()


def mention_text(text: str) -> str:
    """The argument of ``@Beholder consumo …`` or ``@Beholder …``."""
    words = unwrap(text).split(maxsplit=1)
    if words and words[0].casefold() == _KEYWORD:
        words = words[1:]
    return " ".join(words).strip()


_DURATION = re.compile(r"(?P<query>.+?)\s+(?P<seconds>\d{1,4})\s*s(?:eg|egundos)?", re.IGNORECASE)


def split_duration(text: str) -> tuple[str, int | None]:
    """``juan.perez 30s`` → (``juan.perez``, 30): a live view of 30 seconds.

    The ``s`` is required, so ``perez san martin 1234`` stays an address.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return text, None
    return match["query"], int(match["seconds"])


def _strip_scheme(target: str) -> str:
    for scheme in ("mailto:", "http://", "https://"):
        if target.startswith(scheme):
            return target[len(scheme) :]
    return target
