"""What the routers have configured: each node's ``/ppp/secret`` rows and live sessions.

Written by ``beholder sync`` (`replace_node`, `mark_sync_failed`) and by a
targeted pull of one name (`upsert_secret`); read to find which router holds a
user (`locate`: ``ppp_secrets LEFT JOIN nodes``, so a secret whose node is
missing from ``nodes`` is reported as such instead of vanishing). Never a
password: the pull does not ask for it.

At ISP scale a re-sync must not rewrite hundreds of thousands of unchanged
rows, so only what changed is written, compared column by column
(`_COMPARED_COLUMNS`). MACs are stored canonical (`bot.inventory.keys.mac`) and
each secret keeps folded copies of its name and comment for `bot.inventory.search`.

Functions of the `Inventory` (which delegates to them): each write is one
`Inventory._transaction`, reads go through `Inventory._read`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from bot.inventory.db import Database
from bot.inventory.keys import fold, key_of_folded, mac
from bot.inventory.schema import stamp
from bot.inventory.search import mark_search_dirty
from bot.model import ActiveSession, Location, Node, Secret

_ROW_COLUMNS = (
    "name, node, profile, service, disabled, comment, remote_address, last_logged_out, "
    "last_caller_id, last_disconnect_reason, synced_at, name_key, name_folded, comment_folded"
)
#: The columns of a secret that come from the router (name and node aside), in
#: the order `_compared_values` gives them.
_COMPARED_COLUMNS = (
    "profile, service, disabled, comment, remote_address, last_logged_out, "
    "last_caller_id, last_disconnect_reason"
)


def replace_node(
    inventory: Database,
    node: str,
    secrets: Iterable[Secret],
    sessions: Iterable[ActiveSession],
    synced_at: datetime,
) -> int:
    """Make one node's secrets and sessions what its pull found, in a single transaction.

    Called only after the node's pull completed, so a failed pull never
    touches the rows a node already had; a sync killed here leaves the old
    rows (SQLite rolls the open transaction back). Returns the secret count.

    Only what changed is written: rows gone from the router are deleted,
    changed rows updated in place, new ones inserted. A re-sync of a router
    where little changed is then mostly reads, instead of rewriting every
    row and index entry (at ISP scale, hundreds of megabytes of WAL every
    time). So a secret's own ``synced_at`` is when its row last changed; the
    node's ``synced_at`` is when all of its rows were last confirmed.
    """
    moment = stamp(synced_at)
    wanted = {s.name: s for s in secrets}  # a repeated name: the last one wins
    with inventory._transaction() as db:
        cursor = db.cursor()
        cursor.row_factory = None  # plain tuples: thousands of rows, compared once
        old = {
            row[1]: row
            for row in cursor.execute(
                f"SELECT id, name, {_COMPARED_COLUMNS} FROM ppp_secrets WHERE node = ?",
                (node,),
            )
        }
        inserts: list[tuple[object, ...]] = []
        updates: list[tuple[object, ...]] = []
        for name, secret in wanted.items():
            row = old.pop(name, None)
            if row is None:
                inserts.append(_secret_row(secret, node, moment))
            elif _changed(row, secret):
                updates.append((*_compared_values(secret), fold(secret.comment), moment, row[0]))
        db.executemany("DELETE FROM ppp_secrets WHERE id = ?", ((r[0],) for r in old.values()))
        db.executemany(
            "UPDATE ppp_secrets SET "
            + ", ".join(f"{c} = ?" for c in _COMPARED_COLUMNS.split(", "))
            + ", comment_folded = ?, synced_at = ? WHERE id = ?",
            updates,
        )
        db.executemany(
            f"INSERT INTO ppp_secrets ({_ROW_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        _replace_sessions(db, node, sessions, moment)
        db.execute(
            "UPDATE nodes SET synced_at = ?, sync_error = NULL, sync_failed_at = NULL "
            "WHERE name = ?",
            (moment, node),
        )
        if old or updates or inserts:
            mark_search_dirty(db)
    return len(wanted)


def _replace_sessions(
    db: sqlite3.Connection, node: str, sessions: Iterable[ActiveSession], moment: str
) -> None:
    """The node's ``ppp_sessions`` rows become `sessions`, touching only what changed.

    A session that is still up keeps its row (only ``uptime`` and
    ``synced_at`` move), so its three index entries are not rewritten.
    """
    old: dict[tuple[str, str, str], list[int]] = {}
    cursor = db.cursor()
    cursor.row_factory = None
    for rowid, name, address, caller_id in cursor.execute(
        "SELECT rowid, name, address, caller_id FROM ppp_sessions WHERE node = ?", (node,)
    ):
        old.setdefault((name, address, caller_id), []).append(rowid)
    inserts: list[tuple[str, ...]] = []
    updates: list[tuple[object, ...]] = []
    for s in sessions:
        key = (s.name, s.address, _mac_or_text(s.caller_id))
        rowids = old.get(key)
        if rowids:
            updates.append((s.uptime, moment, rowids.pop()))
        else:
            inserts.append((node, *key, s.uptime, moment))
    db.executemany(
        "DELETE FROM ppp_sessions WHERE rowid = ?",
        ((rowid,) for rowids in old.values() for rowid in rowids),
    )
    db.executemany("UPDATE ppp_sessions SET uptime = ?, synced_at = ? WHERE rowid = ?", updates)
    db.executemany(
        "INSERT INTO ppp_sessions (node, name, address, caller_id, uptime, synced_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        inserts,
    )


def mark_sync_failed(inventory: Database, node: str, error: str, at: datetime) -> None:
    """Remember that a node's rows are stale, and why (its rows stay as they were)."""
    with inventory._transaction() as db:
        db.execute(
            "UPDATE nodes SET sync_error = ?, sync_failed_at = ? WHERE name = ?",
            (error, stamp(at), node),
        )


def upsert_secret(inventory: Database, secret: Secret, synced_at: datetime) -> None:
    """Add one secret found by a targeted pull, keeping the search index current."""
    row = _secret_row(secret, secret.node, stamp(synced_at))
    with inventory._transaction() as db:
        old = db.execute(
            "SELECT id FROM ppp_secrets WHERE name = ? AND node = ?",
            (secret.name, secret.node),
        ).fetchone()
        if old is not None:
            db.execute("DELETE FROM secret_search WHERE rowid = ?", (old["id"],))
            db.execute("DELETE FROM ppp_secrets WHERE id = ?", (old["id"],))
        cursor = db.execute(
            f"INSERT INTO ppp_secrets ({_ROW_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        db.execute(
            "INSERT INTO secret_search (rowid, text) VALUES (?, ?)",
            (cursor.lastrowid, f"{row[-2]} {row[-1]}"),
        )


def locate(inventory: Database, user: str) -> list[Location]:
    """Every router that has exactly `user` configured (two during migrations)."""
    rows = inventory._read(
        "SELECT s.*, n.host, n.port, n.tls, n.tls_fingerprint FROM ppp_secrets AS s "
        "LEFT JOIN nodes AS n ON n.name = s.node WHERE s.name = ? ORDER BY s.node",
        (user,),
    )
    return [_location(r) for r in rows]


def count_secrets(inventory: Database, node: str | None) -> int:
    if node is None:
        return inventory._read("SELECT count(*) FROM ppp_secrets")[0][0]
    return inventory._read("SELECT count(*) FROM ppp_secrets WHERE node = ?", (node,))[0][0]


def _compared_values(s: Secret) -> tuple[object, ...]:
    """What `_secret_row` stores in `_COMPARED_COLUMNS` for this secret."""
    return (
        s.profile,
        s.service,
        int(s.disabled),
        s.comment,
        s.remote_address,
        s.last_logged_out,
        _mac_or_text(s.last_caller_id),
        s.last_disconnect_reason,
    )


def _changed(row: tuple[object, ...], s: Secret) -> bool:
    """Whether a stored row (id, name, then `_COMPARED_COLUMNS`) differs from `s`.

    Cheap on the common case, an unchanged row: the MAC is normalised only when
    the text differs (RouterOS already prints the stored, canonical form).
    """
    stored_mac = row[8]
    return (
        row[2] != s.profile
        or row[3] != s.service
        or row[4] != int(s.disabled)
        or row[5] != s.comment
        or row[6] != s.remote_address
        or row[7] != s.last_logged_out
        or (s.last_caller_id != stored_mac and _mac_or_text(s.last_caller_id) != stored_mac)
        or row[9] != s.last_disconnect_reason
    )


def _secret_row(s: Secret, node: str, moment: str) -> tuple[object, ...]:
    folded = fold(s.name)
    return (
        s.name,
        node,
        *_compared_values(s),
        moment,
        key_of_folded(folded),
        folded,
        fold(s.comment),
    )


def _mac_or_text(text: str) -> str:
    """Stored MACs are canonical; anything else RouterOS printed is kept as is."""
    return mac(text) or text


def _location(row: sqlite3.Row) -> Location:
    secret = Secret(
        name=row["name"],
        node=row["node"],
        profile=row["profile"],
        service=row["service"],
        disabled=bool(row["disabled"]),
        comment=row["comment"],
        remote_address=row["remote_address"],
        last_logged_out=row["last_logged_out"],
        last_caller_id=row["last_caller_id"],
        last_disconnect_reason=row["last_disconnect_reason"],
    )
    node = None
    if row["host"] is not None:
        node = Node(row["node"], row["host"], row["port"], row["tls"], row["tls_fingerprint"])
    return Location(secret, node)
