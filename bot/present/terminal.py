"""Text from outside made safe to print on an operator's terminal.

The command line (`bot.cli`) and the terminal view of a reading
(`bot.present.reading.reading_lines`) print router identities, CSV fields and
certificate subjects: each passes through `terminal` first.
"""

from __future__ import annotations

import unicodedata

#: The longest a value from outside (a router, a CSV, a certificate) is printed on a
#: terminal; a whole line built around such values gets `TERMINAL_LINE_LIMIT`.
TERMINAL_LIMIT = 200
TERMINAL_LINE_LIMIT = 1000
#: Besides every control and format character (Unicode categories Cc, Cf: C0, DEL,
#: C1, ESC, bidi overrides and isolates, zero-width characters), the line and
#: paragraph separators move the cursor too, and lone surrogates (undecodable bytes
#: kept by ``surrogateescape``) cannot be written at all.
_TERMINAL_UNSAFE = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


def terminal(value: object, limit: int = TERMINAL_LIMIT) -> str:
    """`value` (a router's identity, a CSV field, a certificate's subject…) made safe
    to print on an operator's terminal.

    A terminal obeys what it is sent: ESC sequences move the cursor, erase or hide
    lines, ``\\r`` rewrites the line, a bidi override reverses what follows. Text from
    outside could so draw a forged fingerprint over the real one. Every such
    character is shown as a visible escape instead (``\\x1b``, ``\\u202e``), and the
    result is cut to `limit` characters (``…`` marks the cut).
    """
    text = "".join(
        _escaped(c) if unicodedata.category(c) in _TERMINAL_UNSAFE else c for c in str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
