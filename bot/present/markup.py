"""Values from outside, as Slack must show them, and Slack's markup for terminals.

Every value from outside (router, CSV, operator, node names) goes into a sentence
through `literal`, the one place Slack text is escaped. Sentences are Slack
mrkdwn (``*bold*``, ```code```); `plain` strips that markup for terminals.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

#: Characters mrkdwn turns into formatting (*bold*, _italic_, ~strike~, `code`).
_MARKERS = frozenset("*_~`")
#: What a backtick inside a code span is shown as: a code span cannot hold one.
BACKTICK_SHOWN = "\u02cb"  # ˋ MODIFIER LETTER GRAVE ACCENT
#: How `literal` marks a value: "text" for places Slack does not format (a header,
#: a file title, alt text), "plain" inside a sentence, "code" and "bold" for
#: values the sentence sets apart (a PPPoE name, a node).
Style = Literal["text", "plain", "code", "bold"]


def literal(value: object, style: Style = "plain") -> str:
    """`value` (a PPPoE name, node, comment, IP, operator text…) shown as-is in Slack.

    ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;`` and ``&gt;``, as Slack asks:
    no ``<!channel>``, ``<@U…>`` or ``<https://…|…>`` can come out of a value. In
    mrkdwn a value holding ``*``, ``_``, ``~`` or a backtick is put in a code span,
    where Slack formats nothing; its characters are copied exactly as the router
    has them (no zero-width or look-alike characters), except a backtick, which no
    code span can hold and is shown as ``ˋ``. Other values keep the sentence's
    look: as they are ("plain"), in a code span ("code") or in bold ("bold").
    Templates therefore never put markup around a placeholder.
    """
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if style == "text":
        return text
    if style == "code" or not _MARKERS.isdisjoint(text):
        return f"`{text.replace('`', BACKTICK_SHOWN)}`"
    return f"*{text}*" if style == "bold" else text


_CODE_SPAN = re.compile(r"(`[^`\n]*`)")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def plain(text: str) -> str:
    """Slack mrkdwn → terminal text: drops the bold markers (not inside code spans)
    and turns `literal`'s entities back into the characters they stand for."""
    parts = _CODE_SPAN.split(text)
    text = "".join(p if i % 2 else p.replace("*", "") for i, p in enumerate(parts))
    return _ENTITY.sub(lambda m: _ENTITIES[m[1]], text)


def shown(text: str, limit: int = 60) -> str:
    """Operator text as it may be echoed: control characters made visible, cut short."""
    visible = "".join("�" if unicodedata.category(c)[0] == "C" else c for c in text)
    return visible if len(visible) <= limit else visible[: limit - 1] + "…"
