"""What `serve` does besides answering: periodic re-sync and upkeep.

The re-sync runs every `BEHOLDER_SYNC_INTERVAL` at low concurrency, with its
writes in a worker thread: commands are slowed little (bench/sync_bench.py
holds their p95 during a re-sync to twice the p95 without one), and a router still
never sees more than `MIKROTIK_MAX_SESSIONS` sessions from this process (the
sync takes its sessions from the same per-router limit as the commands).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.domain.sync import sync_nodes
from bot.domain.upkeep import keep_up
from bot.errors import BeholderError
from bot.inventory.store import Inventory
from bot.routeros.client import RouterClient

log = logging.getLogger(__name__)

#: Nodes pulled at once by the background sync: light, it is not in a hurry.
BACKGROUND_CONCURRENCY = 2


async def resync_forever(
    inventory: Inventory, router: RouterClient, interval_s: float, *, first_s: float | None = None
) -> None:
    """Sync every node every `interval_s` seconds (the first after `first_s`)."""
    await asyncio.sleep(interval_s if first_s is None else first_s)
    while True:
        started = time.monotonic()
        try:
            nodes = await asyncio.to_thread(inventory.nodes)
            results = await sync_nodes(inventory, router, nodes, BACKGROUND_CONCURRENCY)
        except BeholderError as exc:  # the inventory's faults: one line, no traceback
            log.error("background sync failed: %s; trying again in %gs", exc, interval_s)
        except Exception:
            log.exception("background sync failed; trying again in %gs", interval_s)
        else:
            stale = [r.node for r in results if not r.ok]
            log.info(
                "background sync: %d nodes, %d secrets, %d stale%s, %.1fs",
                len(results),
                sum(r.rows for r in results if r.ok),
                len(stale),
                f" ({', '.join(stale)})" if stale else "",
                time.monotonic() - started,
            )
        await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started)))


@asynccontextmanager
async def running(
    settings: Settings, inventory: Inventory, router: RouterClient
) -> AsyncIterator[None]:
    """Run the background jobs for the duration of the block."""
    empty = inventory.count_secrets() == 0
    tasks = [
        asyncio.create_task(
            resync_forever(
                inventory, router, settings.sync_interval, first_s=0.0 if empty else None
            ),
            name="background sync",
        ),
        asyncio.create_task(keep_up(inventory, settings.audit_days), name="upkeep"),
    ]
    log.info("background sync every %gs", settings.sync_interval)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
