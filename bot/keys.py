"""Search keys: how names, MACs and addresses are normalised before comparing.

Pure functions, used both when the inventory stores a row and when a query is
read, so the two sides can never disagree.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_MAC_HEX = re.compile(r"[0-9a-f]{12}")


def fold(text: str) -> str:
    """Case- and accent-insensitive form ("Pérez" → "perez"); spacing collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def name_key(text: str) -> str:
    """Folded and without punctuation: "Juan.Pérez", "juanperez", "juan_perez" agree."""
    return _NOT_ALNUM.sub("", fold(text))


def mac(text: str) -> str | None:
    """``aa-bb-cc-dd-ee-ff``, ``aabb.ccdd.eeff``, ``AABBCCDDEEFF`` → ``AA:BB:CC:DD:EE:FF``."""
    digits = re.sub(r"[\s:.\-]", "", text.strip().lower())
    if not _MAC_HEX.fullmatch(digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()


def ip(text: str) -> str | None:
    """A single IPv4/IPv6 address in canonical form, or None."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def trigrams(text: str) -> set[str]:
    """The 3-character pieces of `text` (what the search index is made of)."""
    return {text[i : i + 3] for i in range(len(text) - 2)}
