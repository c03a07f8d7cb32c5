"""Search keys: how names, MACs and addresses are normalised before comparing.

Pure functions, used both when the inventory stores a row and when a query is
read, so the two sides can never disagree.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

# Every pattern here is one character class repeated, or a fixed-length shape:
# linear in the text, whatever it holds.
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_MAC_HEX = re.compile(r"[0-9a-f]{12}")
_CANONICAL_MAC = re.compile(r"[0-9A-F]{2}(?::[0-9A-F]{2}){5}")
#: The Combining Diacritical Marks block (U+0300-U+036F), where the accents of
#: Latin text land after NFKD; U+034F (a grapheme joiner) is not a combining mark.
_COMMON_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form ("Pérez" → "perez"); spacing collapsed.

    A sync folds hundreds of thousands of names and comments, so the text ISPs
    write (ASCII, or Latin with accents) takes a fast path; the result is the
    same as removing every combining mark of the NFKD form (tests/domain/test_sync.py
    checks it against that definition).
    """
    if text.isascii():  # NFKD changes nothing, casefold is lower, no combining marks
        return " ".join(text.lower().split())
    stripped = _COMMON_MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))
    # No combining mark is below U+0300: only rarer scripts need the slow way.
    if not stripped.isascii() and max(stripped) >= "\u0300":
        stripped = "".join(c for c in stripped if not unicodedata.combining(c))
    return " ".join(stripped.split())


def name_key(text: str) -> str:
    """Folded and without punctuation: "Juan.Pérez", "juanperez", "juan_perez" agree."""
    return key_of_folded(fold(text))


def key_of_folded(folded: str) -> str:
    """`name_key` of a text already folded (saves folding twice in bulk)."""
    return _NOT_ALNUM.sub("", folded)


def mac(text: str) -> str | None:
    """``aa-bb-cc-dd-ee-ff``, ``aabb.ccdd.eeff``, ``AABBCCDDEEFF`` → ``AA:BB:CC:DD:EE:FF``."""
    if _CANONICAL_MAC.fullmatch(text):  # RouterOS prints this form: the common case
        return text
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
