"""Housekeeping while `serve` runs: audit retention and a stale search index.

Kept apart from the sync so that it also runs when syncs are done elsewhere
(cron running ``beholder sync``) or were killed mid-way.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot.errors import BeholderError
from bot.inventory.store import Inventory

log = logging.getLogger(__name__)

#: How often the upkeep runs while serving.
EVERY_S = 24 * 3600.0


def upkeep(inventory: Inventory, audit_days: int, now: datetime | None = None) -> None:
    """One round: forget audit entries past retention; rebuild a dirty search index."""
    now = now or datetime.now(UTC)
    purged = inventory.purge_audit(now - timedelta(days=audit_days))
    if purged:
        log.info("audit: %d entries older than %d days deleted", purged, audit_days)
    if inventory.search_index_dirty:
        # A sync killed before its final step leaves new rows out of the index.
        inventory.rebuild_search_index()
        log.info("search index rebuilt (it was left stale)")


async def keep_up(inventory: Inventory, audit_days: int, every_s: float = EVERY_S) -> None:
    """Run `upkeep` now and then every `every_s` seconds, until cancelled."""
    while True:
        try:
            await asyncio.to_thread(upkeep, inventory, audit_days)
        except BeholderError as exc:  # the inventory's faults: one line, no traceback
            log.error("upkeep failed: %s; trying again later", exc)
        except Exception:
            log.exception("upkeep failed; trying again later")
        await asyncio.sleep(every_s)
