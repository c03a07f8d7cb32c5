"""The management system's export (ISPCube in ADR-005): customer and plan per PPPoE user.

Not how a subscriber is found (that is what the routers have configured,
`bot.inventory.synced`, so users never linked there are found too): only what a
reading adds when the user is linked, the customer and the plan sold (compared
with what the router's queue enforces). Each import replaces the whole previous
one, so a user removed from the management system does not linger.

Functions of the `Inventory` (which delegates to them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.inventory.db import Database
from bot.inventory.schema import stamp
from bot.model import Connection


def replace_connections(
    inventory: Database, connections: Iterable[Connection], at: datetime
) -> int:
    """Load a full export of the management system (replaces the previous one)."""
    imported_at = stamp(at)
    with inventory._transaction() as db:
        db.execute("DELETE FROM connections")
        return db.executemany(
            "INSERT OR REPLACE INTO connections (pppoe_user, customer_id, customer_name, "
            "plan_download_bps, plan_upload_bps, status, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    c.pppoe_user,
                    c.customer_id,
                    c.customer_name,
                    c.plan_download_bps,
                    c.plan_upload_bps,
                    c.status,
                    imported_at,
                )
                for c in connections
            ),
        ).rowcount


def connection(inventory: Database, user: str) -> Connection | None:
    rows = inventory._read("SELECT * FROM connections WHERE pppoe_user = ?", (user,))
    if not rows:
        return None
    r = rows[0]
    return Connection(
        r["pppoe_user"],
        r["customer_id"],
        r["customer_name"],
        r["plan_download_bps"],
        r["plan_upload_bps"],
        r["status"],
    )


def count_connections(inventory: Database) -> int:
    return inventory._read("SELECT count(*) FROM connections")[0][0]
