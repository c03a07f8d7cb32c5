"""The routers Beholder knows (table ``nodes``): how to reach them and whom to trust.

Operators never give a router address: Beholder finds it here. What is guarded
is the TLS trust: a re-import never drops a pinned certificate nor turns
API-SSL off unasked, since either would send a router's password to whoever
answers. How each node's last sync went is written by `bot.inventory.synced`.

Functions of the `Inventory` (which delegates to them): reads go through its
`Inventory._read`, writes through one `Inventory._transaction` each.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable

from bot.errors import ConfigError, InventoryError
from bot.inventory.db import Database
from bot.inventory.search import mark_search_dirty
from bot.model import Node, NodeStatus, TlsMode, parse_fingerprint

log = logging.getLogger(__name__)

#: The columns `_node` reads (a ``SELECT`` of them, or the whole row).
NODE_COLUMNS = "name, host, port, tls, tls_fingerprint"


def upsert_nodes(inventory: Database, given: Iterable[Node], allow_downgrade: bool) -> int:
    """Insert or update nodes by name, all or nothing. Returns how many.

    A node given without a pinned fingerprint keeps the one it has: re-importing
    the nodes CSV must not silently drop what ``nodes trust`` pinned (a stale
    pin fails closed, naming both fingerprints). Likewise a node given without
    a TLS mode (`Node.tls_said`) keeps its own; turning API-SSL off (``yes`` or
    ``insecure`` to ``no``), which sends the router's password in clear, is
    refused with `ConfigError` naming the nodes unless `allow_downgrade`, and
    then logged as a WARNING naming each node.
    """
    given = list(given)
    with inventory._transaction() as db:
        current = {
            name: TlsMode(tls) for name, tls in db.execute("SELECT name, tls FROM nodes").fetchall()
        }
        modes = {
            n.name: n.tls if n.tls_said or n.name not in current else current[n.name] for n in given
        }
        downgraded = sorted(
            name
            for name, mode in modes.items()
            if not mode and current.get(name, TlsMode.NO) is not TlsMode.NO
        )
        if downgraded and not allow_downgrade:
            raise ConfigError(
                f"{', '.join(downgraded)} use(s) API-SSL: tls=no would send the router "
                "password in clear; leave tls blank to keep the mode, or pass "
                "--allow-downgrade to turn API-SSL off on purpose"
            )
        rows = [(n.name, n.host, n.port, modes[n.name].value, n.tls_fingerprint) for n in given]
        db.executemany(
            "INSERT INTO nodes (name, host, port, tls, tls_fingerprint) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET "
            "host = excluded.host, port = excluded.port, tls = excluded.tls, "
            "tls_fingerprint = coalesce(excluded.tls_fingerprint, nodes.tls_fingerprint)",
            rows,
        )
    for name in downgraded:
        log.warning("node %s: API-SSL turned off (tls=no): its password travels in clear", name)
    return len(rows)


def pin_certificate(inventory: Database, name: str, fingerprint: str) -> Node:
    """Pin a node's certificate (``nodes trust``) and set it to ``tls=yes``:
    from now on the router must present exactly that certificate."""
    fingerprint = parse_fingerprint(fingerprint)
    with inventory._transaction() as db:
        changed = db.execute(
            "UPDATE nodes SET tls = ?, tls_fingerprint = ? WHERE name = ?",
            (TlsMode.YES.value, fingerprint, name),
        ).rowcount
        if not changed:
            raise InventoryError(f"there is no node named {name!r}")
    return node(inventory, name)


def node(inventory: Database, name: str) -> Node:
    """One node by name; InventoryError if there is none."""
    rows = inventory._read(f"SELECT {NODE_COLUMNS} FROM nodes WHERE name = ?", (name,))
    if not rows:
        raise InventoryError(f"there is no node named {name!r}")
    return _node(rows[0])


def remove_node(inventory: Database, name: str) -> int:
    """Forget a node and everything synced from it. Returns its secrets' count."""
    with inventory._transaction() as db:
        if db.execute("DELETE FROM nodes WHERE name = ?", (name,)).rowcount == 0:
            raise InventoryError(f"there is no node named {name!r}")
        removed = db.execute("DELETE FROM ppp_secrets WHERE node = ?", (name,)).rowcount
        db.execute("DELETE FROM ppp_sessions WHERE node = ?", (name,))
        mark_search_dirty(db)
    return removed


def nodes(inventory: Database) -> list[Node]:
    rows = inventory._read(f"SELECT {NODE_COLUMNS} FROM nodes ORDER BY name")
    return [_node(r) for r in rows]


def node_status(inventory: Database) -> list[NodeStatus]:
    rows = inventory._read(
        "SELECT n.*, (SELECT count(*) FROM ppp_secrets AS s WHERE s.node = n.name) AS secrets "
        "FROM nodes AS n ORDER BY n.name"
    )
    return [
        NodeStatus(
            _node(r),
            r["secrets"],
            r["synced_at"],
            r["sync_error"],
            r["sync_failed_at"],
        )
        for r in rows
    ]


def last_syncs(inventory: Database) -> dict[str, str | None]:
    """The nodes table alone (no count of secrets): read at every metrics scrape."""
    rows = inventory._read("SELECT name, synced_at FROM nodes ORDER BY name")
    return {r["name"]: r["synced_at"] for r in rows}


def _node(row: sqlite3.Row) -> Node:
    return Node(row["name"], row["host"], row["port"], row["tls"], row["tls_fingerprint"])
