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


def _latin1_fold() -> tuple[bytes, re.Pattern[bytes]]:
    """What `fold` makes of each Latin-1 character of a casefolded text: a byte
    table for the characters that fold to one Latin-1 character ("é" → "e",
    "\xa0" → " ", "æ" stays), and a pattern finding the few that do not
    ("¼" → "1⁄4"). Derived from the definition itself, once: NFKD decomposes
    character by character, and the canonical reordering it adds moves only
    combining marks, which the fold removes anyway."""
    table = bytearray(range(256))
    others = []
    for byte in range(0x80, 0x100):
        decomposed = unicodedata.normalize("NFKD", chr(byte))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        if len(folded) == 1 and folded <= "\xff":
            table[byte] = ord(folded)
        else:
            others.append(byte)
    return bytes(table), re.compile(b"[" + bytes(others) + b"]")


_LATIN1_TABLE, _LATIN1_OTHERS = _latin1_fold()


def fold(text: str) -> str:
    """Case- and accent-insensitive form ("Pérez" → "perez"); spacing collapsed.

    A sync folds hundreds of thousands of names and comments, so the text ISPs
    write takes a fast path: ASCII, or Latin-1 once casefolded (Spanish accents,
    "ñ", "ü"), one byte table; the result is the same as removing every
    combining mark of the NFKD form (tests/domain/test_sync.py checks it
    against that definition).
    """
    if text.isascii():  # NFKD changes nothing, casefold is lower, no combining marks
        return " ".join(text.lower().split())
    casefolded = text.casefold()
    try:
        latin1 = casefolded.encode("latin-1")
    except UnicodeEncodeError:
        pass
    else:
        if not _LATIN1_OTHERS.search(latin1):
            return " ".join(latin1.translate(_LATIN1_TABLE).decode("latin-1").split())
    stripped = _COMMON_MARKS.sub("", unicodedata.normalize("NFKD", casefolded))
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
