"""Names of the ways a simulated router can misbehave, and what each one does.

Faults exist so the bot's timeouts, retries and error messages can be tested
against every failure a real BRAS shows under load or misconfiguration. A
fault can be changed at any moment (`sim.fault = "stall_login"`); it applies to
what happens next, also on connections that are already open.
"""

from __future__ import annotations

# The port accepts TCP handshakes into a tiny backlog but nothing ever reads
# or answers: a router that is down behind a live NAT, or a filtering firewall.
# Connections already open go silent too.
BLACKHOLE = "blackhole"
# Connections are accepted and read, but nothing is ever sent back (open
# connections go silent too).
STALL_CONNECT = "stall_connect"
# Login succeeds; after that, nothing is ever answered.
STALL_LOGIN = "stall_login"
# The first reply after login is cut in the middle of a sentence; then that
# connection stays silent for good.
STALL_MID_REPLY = "stall_mid_reply"
# The first command after login gets `!fatal` and the connection is closed.
FATAL = "fatal"
# The first reply after login stops in the middle of a word and the socket closes.
CLOSE_MID_SENTENCE = "close_mid_sentence"
# The first reply after login starts with a reserved length byte (0xF8); then
# the socket closes.
MALFORMED = "malformed"
# Every reply after login is a sentence whose reply word lacks the "!" (a
# desync), then `!done`; the connection stays open.
MALFORMED_REPLY = "malformed_reply"
# A print reply longer than the router's `fault_after_rows` rows stops after
# that many rows and the socket closes (a router rebooting or a link dropping
# in the middle of a big table).
CLOSE_MID_STREAM = "close_mid_stream"
# Like CLOSE_MID_STREAM, but the connection stays open and silent.
STALL_MID_STREAM = "stall_mid_stream"
# Hostile routers: they never stop talking. Every reply after login is an
# endless stream of well-formed `!re` rows (a /ppp/secret row each), never `!done`.
FLOOD_ROWS = "flood_rows"
# The first reply after login is a `!re` whose second word announces 16 MiB
# and sends them (until the client hangs up).
HUGE_WORD = "huge_word"
# The first reply after login is a `!re` followed by short words forever: a
# sentence that is never ended.
ENDLESS_SENTENCE = "endless_sentence"
# The first reply after login is zero bytes forever: a flood of empty
# sentences (RouterOS never sends one in a reply).
EMPTY_FLOOD = "empty_flood"
# Slow routers: every reply after login is correct but sent `trickle_bytes` at
# a time, `trickle_interval` seconds apart (see `RouterConfig`).
TRICKLE = "trickle"
# Every reply after login is a `!trap` without a message, with an attribute
# no client expects (`=cause=`), then `!done`.
ODD_TRAP = "odd_trap"
# Every login is rejected as bad credentials.
BAD_CREDENTIALS = "bad_credentials"
# TLS routers only (no effect on plain API): plain text instead of a TLS
# handshake, then close.
TLS_FAIL = "tls_fail"

FAULTS: frozenset[str] = frozenset(
    {
        BLACKHOLE,
        STALL_CONNECT,
        STALL_LOGIN,
        STALL_MID_REPLY,
        FATAL,
        CLOSE_MID_SENTENCE,
        CLOSE_MID_STREAM,
        STALL_MID_STREAM,
        MALFORMED,
        MALFORMED_REPLY,
        BAD_CREDENTIALS,
        TLS_FAIL,
        FLOOD_ROWS,
        HUGE_WORD,
        ENDLESS_SENTENCE,
        EMPTY_FLOOD,
        TRICKLE,
        ODD_TRAP,
    }
)

# Message of the `!fatal` sent by the FATAL fault (a real router sends `!fatal`
# for /quit, for too many commands before login, and when it is shutting down).
FATAL_MESSAGE = "simulated fatal error"

# Length HUGE_WORD announces for its word.
HUGE_WORD_BYTES = 16 * 1024 * 1024


def check_fault(fault: str | None) -> str | None:
    """Return `fault` unchanged if it is a known fault name (or None)."""
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; known: {sorted(FAULTS)}")
    return fault
