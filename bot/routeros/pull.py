"""The sync pull: a router's whole ``/ppp/secret`` and ``/ppp/active`` tables.

A pull is the one read that is big (up to `BEHOLDER_SYNC_MAX_ROWS` rows per
table, 200,000 by default) and it shares the event loop with operators'
questions. So each table is cut at a ceiling of rows, bytes, words and word
length (`pull_limit`): a hostile or broken router cannot make Beholder hold more
than that. Rows are read as plain tuples of strings, sharing one string per
repeated value, and converted to `Secret` and `ActiveSession` a slice at a time
once the session is closed (`read_tables`, then `node_tables`), so the two forms
of a table are never held whole at once and no step holds the loop for long.

`bot.routeros.client.RouterClient.pull` gives it the session and the deadlines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from bot.model import ActiveSession, NodeTables
from bot.routeros.connection import RawApi, drop
from bot.routeros.parse import secret_from_values, secret_values
from bot.routeros.sentences import ReplyLimit

T = TypeVar("T")
U = TypeVar("U")

#: Properties asked of ``/ppp/secret``, by a pull and by a question about one user:
#: everything we keep, never ``password``.
SECRET_PROPLIST = ",".join(
    (
        "name",
        "profile",
        "service",
        "disabled",
        "comment",
        "remote-address",
        "last-logged-out",
        "last-caller-id",
        "last-disconnect-reason",
    )
)
#: Rows `node_tables` converts between two yields to the event loop.
_CONVERT_SLICE = 250
#: Distinct values a sync pull shares one string object for, in the columns
#: that repeat (profile, service, disabled, disconnect reason): saves memory on
#: big tables; past it (a hostile router's unique values) they are kept as sent.
_SHARED_VALUES = 4096
#: What a pull keeps of each ``/ppp/active`` row (see `ActiveSession`).
PULL_ACTIVE_PROPLIST = "name,caller-id,address,uptime"
#: Bytes a sync pull allows per ``/ppp/secret`` row on average (non-ASCII words
#: counted as Python holds them, `bot.routeros.sentences.SentenceParser`). A row with
#: `SECRET_PROPLIST` is about 250 bytes on the wire (the keys alone are 100;
#: name, profile, a MAC, a date, a 40-character comment), 500 with a long
#: comment: 384 lets a table have half its rows that long. What the bot holds
#: for a table is a few times its bytes (a string object per value, a tuple,
#: then a `Secret`), so this is what keeps a pull of 200,000 rows in memory
#: well under 250 MB.
PULL_SECRET_BYTES_PER_ROW = 384
#: The same for ``/ppp/active`` with `PULL_ACTIVE_PROPLIST`: name, a MAC, an
#: address and an uptime make about 100 bytes; twice that for long names.
PULL_ACTIVE_BYTES_PER_ROW = 192
#: Longest word of a sync pull (key and value): RouterOS names, profiles,
#: addresses and dates are tens of bytes, and comments an operator types a
#: few hundred at most; a word of 4 KiB is no subscriber's. Without this one
#: row could hold its 4 MiB sentence ceiling, and a table its whole byte
#: budget, in a handful of rows.
PULL_FIELD_BYTES = 4096
#: Most words in one row of a sync pull: the reply word, a `.id` and the
#: properties asked (9 of `SECRET_PROPLIST`). A router sending rows of a
#: thousand tiny words would otherwise spend minutes of our CPU within the
#: byte ceiling.
PULL_ROW_WORDS = 32


def pull_limit(max_rows: int, bytes_per_row: int = PULL_SECRET_BYTES_PER_ROW) -> ReplyLimit:
    """Ceiling of one table of a sync pull: `max_rows` rows (BEHOLDER_SYNC_MAX_ROWS),
    `bytes_per_row` bytes per row on average, `PULL_FIELD_BYTES` per word and
    `PULL_ROW_WORDS` words per row."""
    return ReplyLimit(
        rows=max_rows,
        bytes=max_rows * bytes_per_row,
        field=PULL_FIELD_BYTES,
        words=PULL_ROW_WORDS,
    )


async def read_tables(
    api: RawApi, max_rows: int
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The ``/ppp/secret`` rows (without passwords) and the ``/ppp/active`` rows
    of one session, as tuples (see `_secret_values`), each table cut at
    `pull_limit` for `max_rows`. Convert them with `node_tables`."""
    secrets = await _response(
        api,
        pull_limit(max_rows, PULL_SECRET_BYTES_PER_ROW),
        _secret_values(),
        "/ppp/secret/print",
        f"=.proplist={SECRET_PROPLIST}",
    )
    try:
        active = await _response(
            api,
            pull_limit(max_rows, PULL_ACTIVE_BYTES_PER_ROW),
            _session_values,
            "/ppp/active/print",
            f"=.proplist={PULL_ACTIVE_PROPLIST}",
        )
    except BaseException:
        await drop(secrets)  # see `RawApi.readTable`: not kept by the traceback
        raise
    return secrets, active


async def node_tables(
    secrets: list[tuple[str, ...]], active: list[tuple[str, ...]], node: str
) -> NodeTables:
    """What `read_tables` read on `node`, as `NodeTables`; both lists end empty."""
    try:
        return NodeTables(
            secrets=await _converted(secrets, lambda v: secret_from_values(v, node)),
            sessions=await _converted(active, lambda v: ActiveSession(*v)),
        )
    finally:  # cancelled midway: what is left goes too, not kept by the traceback
        await drop(secrets)
        await drop(active)


async def _response(
    api: RawApi,
    limit: ReplyLimit,
    convert: Callable[[dict[str, str]], T | None],
    command: str,
    *words: str,
) -> list[T]:
    """One command's rows, its reply cut at `limit`, each row converted as it
    arrives (`RawApi.readTable`), without an async generator step per row."""
    api.protocol.limit = limit
    await api.protocol.writeSentence(command, *words)
    return await api.readTable(convert)


def _secret_values() -> Callable[[dict[str, str]], tuple[str, ...] | None]:
    """A sync pull's ``/ppp/secret`` row as a tuple (`secret_values`).

    Plain tuples of strings, not `Secret` objects, while the table is read:
    Python's garbage collector stops tracking such tuples, so its full
    collections do not walk 200,000 rows in the middle of a pull (over 100 ms
    of event loop each). Nameless rows are dropped; the columns that repeat
    share one string object per distinct value (up to `_SHARED_VALUES`).
    """
    shared: dict[str, str] = {}

    def share(value: str) -> str:
        kept = shared.get(value)
        if kept is None:
            if len(shared) >= _SHARED_VALUES:
                return value
            shared[value] = kept = value
        return kept

    def convert(row: dict[str, str]) -> tuple[str, ...] | None:
        return secret_values(row, share) if row.get("name") else None

    return convert


def _session_values(row: dict[str, str]) -> tuple[str, ...] | None:
    """A sync pull's ``/ppp/active`` row as a tuple of `ActiveSession`'s fields."""
    if not row.get("name"):
        return None
    return row["name"], row.get("address", ""), row.get("caller-id", ""), row.get("uptime", "")


async def _converted(rows: list[T], convert: Callable[[T], U]) -> list[U]:
    """`rows` converted a slice at a time, in order, letting the event loop (an
    operator's question) run in between; each slice leaves `rows` as it is
    converted, so a table is not held twice. `rows` ends empty.

    Freeing as it goes also spares the event loop: each tuple freed takes one
    off the allocation count that starts a collection, so the new objects are
    walked by the collector in one young-generation pass (about 40 ms for
    200,000 `Secret`s) instead of full collections repeated as they pile up
    (10, 25, 45, 75, 97 ms when the tuples were kept until the end)."""
    rows.reverse()  # slices leave from the end: no list shifted per slice
    done: list[U] = []
    while rows:
        piece = rows[-_CONVERT_SLICE:]
        del rows[-_CONVERT_SLICE:]
        piece.reverse()
        done.extend(map(convert, piece))
        del piece
        if rows:
            await asyncio.sleep(0)
    return done
