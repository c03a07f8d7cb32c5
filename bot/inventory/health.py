"""Whether the inventory file is sound, looked at without changing it.

For ``beholder doctor``. Opening an `Inventory` would create a missing file and
upgrade an old schema; this opens the file read-only instead, so what is
reported is the file as it is: SQLite's ``PRAGMA quick_check`` (every page and
index readable and consistent, in time linear in the file) and the schema
version it was written with.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.errors import InventoryUnavailable
from bot.inventory.schema import SCHEMA_VERSION
from bot.inventory.store import inventory_fault

#: Most problems `quick_check` lists (a badly damaged file has one per page).
MAX_PROBLEMS = 5


@dataclass(frozen=True)
class InventoryHealth:
    """What `inspect` found."""

    #: SQLite's findings; empty when the file is sound.
    problems: tuple[str, ...]
    #: ``PRAGMA user_version``: how many migrations the file has.
    schema_version: int

    @property
    def sound(self) -> bool:
        return not self.problems

    @property
    def current(self) -> bool:
        """Written by this Beholder's schema (older files are upgraded on next open)."""
        return self.schema_version == SCHEMA_VERSION


def inspect(path: Path) -> InventoryHealth:
    """Check the file at `path` read-only; `InventoryUnavailable` when it cannot be
    opened or is not a database (``corrupt``), and when it is missing (``cannot_open``)."""
    if not path.is_file():
        raise InventoryUnavailable(path, "cannot_open", "no such file")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise inventory_fault(path, exc) from exc
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        rows = db.execute(f"PRAGMA quick_check({MAX_PROBLEMS})").fetchall()
    except sqlite3.Error as exc:
        raise inventory_fault(path, exc) from exc
    finally:
        db.close()
    problems = tuple(" ".join(str(r[0]).split()) for r in rows if r[0] != "ok")
    return InventoryHealth(problems, version)
