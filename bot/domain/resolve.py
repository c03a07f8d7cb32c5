"""Finding the subscriber from whatever the operator has.

A PPPoE name (exact, or with other case, accents or missing dots), a customer
name or address fragment from the secret's comment, an IP address or a MAC.
Exact PPPoE name first; then the most specific reading of the text. Pure
decisions over inventory lookups; `bot.domain.readings` decides what to do next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.inventory import keys
from bot.inventory.store import Inventory
from bot.model import Hit, Match

#: Most candidates offered when the text matches several subscribers.
MAX_CANDIDATES = 8


@dataclass(frozen=True)
class Resolution:
    """The outcome of a search: one match, several candidates, or neither."""

    query: str
    match: Match | None = None
    candidates: tuple[Hit, ...] = ()
    #: When nothing matched, names a typo away (for "¿Quisiste decir…?").
    suggestions: tuple[str, ...] = ()


#: What PPPoE names are made of in practice: letters, digits and a few marks
#: (one bounded run, matched whole: linear).
_PLAUSIBLE_NAME = re.compile(r"[\w.@+\-]{1,64}")


def looks_like_user(query: str) -> bool:
    """Could this be a PPPoE user name, worth asking every router about?

    Only plausible names are pulled (``juan.perez``, ``20513``, ``ana@isp``):
    not IPs or MACs, and not operator text such as ``=name=x`` or ``<!channel>``,
    which would cost a session on every router for nothing.
    """
    return (
        _PLAUSIBLE_NAME.fullmatch(query) is not None
        and keys.ip(query) is None
        and keys.mac(query) is None
    )


def resolve(inventory: Inventory, query: str) -> Resolution:
    """What the operator meant by `query` (runs lookups; call it off the event loop)."""
    query = " ".join(query.split())
    if inventory.locate(query):
        return Resolution(query, Match(query, "exact", query=query))
    if (address := keys.ip(query)) is not None:
        return _decide(query, inventory.by_address(address))
    if (mac := keys.mac(query)) is not None:
        return _decide(query, inventory.by_mac(mac))
    same = inventory.names_by_key(keys.name_key(query))
    if same:
        return _decide(query, [Hit(name, "key") for name in same])
    hits = inventory.by_fragments(query.split(), limit=MAX_CANDIDATES + 1)
    if hits:
        return _decide(query, hits)
    return Resolution(query, suggestions=tuple(inventory.similar_names(query)))


def _decide(query: str, hits: list[Hit]) -> Resolution:
    names = {h.name: h for h in hits}
    if len(names) == 1:
        hit = next(iter(names.values()))
        return Resolution(query, Match(hit.name, hit.how, hit.detail, query))
    if not names:
        return Resolution(query)
    return Resolution(query, candidates=tuple(names.values())[:MAX_CANDIDATES])


# Linear by construction (they scan a whole message, up to
# `bot.slack.parsing.MAX_MESSAGE`): an IPv4 or MAC match is at most 15 or 17
# characters long, so each start costs a bounded amount; a word is one run of
# one character class, and findall resumes after it.
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_MAC = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[:\-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])")
_WORD = re.compile(r"[\w.@+\-]+")


def find_in_text(inventory: Inventory, text: str) -> Match | None:
    """The subscriber a free text talks about (a ticket, a customer's message).

    In order of certainty: a word that is exactly a configured PPPoE name, then
    an IP or a MAC that resolves to one subscriber, then a word matching a name
    once case, accents and punctuation are ignored. None if nothing is certain.
    """
    words = [w.strip(".-") for w in _WORD.findall(text)]
    for word in words:
        if word and looks_like_user(word) and inventory.locate(word):
            return Match(word, "exact", query=word)
    for found, lookup, how in (
        (_IPV4.findall(text), inventory.by_address, "ip"),
        (_MAC.findall(text), inventory.by_mac, "mac"),
    ):
        for item in found:
            normalised = keys.ip(item) if how == "ip" else keys.mac(item)
            if normalised is None:
                continue
            names = {h.name for h in lookup(normalised)}
            if len(names) == 1:
                return Match(names.pop(), how, normalised, item)
    for word in words:
        key = keys.name_key(word)
        if len(key) >= 4:
            names = inventory.names_by_key(key)
            if len(names) == 1:
                return Match(names[0], "key", query=word)
    return None
