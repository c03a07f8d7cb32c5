"""What the inventory's concept modules use of the store: one read, one write.

`bot.inventory.nodes`, `synced`, `search`, `audit` and `management` hold the SQL
of their concept as functions that take the store; the `Inventory`
(`bot.inventory.store`) delegates to them. They are typed with this protocol,
not with `Inventory`, so that the arrow runs one way: the store imports them,
they import nothing of it.

Both methods keep their leading underscore: they are the package's own way into
the database; code outside `bot.inventory` asks the `Inventory`'s named methods.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol


class Database(Protocol):
    """The store, as the concept modules see it (`bot.inventory.store.Inventory`)."""

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[sqlite3.Row]:
        """Rows of one statement on the reading connection (WAL: never waits for a sync)."""
        ...

    def _transaction(
        self, busy_timeout_s: float | None = None
    ) -> AbstractContextManager[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT`` on the writing connection."""
        ...
