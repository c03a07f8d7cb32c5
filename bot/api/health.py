"""What ``GET /healthz`` checks: the event loop, the inventory and (Socket Mode) Slack.

Each check answers whether Beholder can take a question right now; the answer
names what is not fine, so whoever is paged knows where to look.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bot.errors import InventoryUnavailable
from bot.inventory.store import Inventory

#: How often the loop watch wakes up, seconds.
BEAT_S = 0.5
#: A wake-up later than this means the loop is held by something: not fine.
MAX_LAG_S = 1.0
#: How long one look at the inventory answers every /healthz: the endpoint needs no
#: token, so a flood of checks must not become a flood of queries (which would take
#: the worker threads readings use).
INVENTORY_TTL_S = 2.0


class LoopWatch:
    """Measures how late the event loop wakes a sleeping task: a loop held by a
    blocking call (a CPU-bound parse, a synchronous query) wakes it late."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lag_s = 0.0
        self.beats = 0

    async def run(self) -> None:
        while True:
            asked = self.clock()
            await asyncio.sleep(BEAT_S)
            self.lag_s = max(0.0, self.clock() - asked - BEAT_S)
            self.beats += 1

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LoopWatch]:
        task = asyncio.ensure_future(self.run())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Health:
    """The checks behind ``/healthz``. `slack_connected`: whether the Socket Mode
    connection is up (None over HTTP, where Slack calls us and there is nothing to
    check)."""

    def __init__(
        self,
        inventory: Inventory,
        loop: LoopWatch,
        slack_connected: Callable[[], Awaitable[bool]] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inventory = inventory
        self.loop = loop
        self.slack_connected = slack_connected
        self.clock = clock
        self._looked: tuple[float, dict[str, Any]] | None = None
        self._looking = asyncio.Lock()
        #: Queries made, one per `INVENTORY_TTL_S` at most, however many checks.
        self.inventory_queries = 0

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(all fine, the JSON ``/healthz`` answers)."""
        checks: dict[str, dict[str, Any]] = {
            "event_loop": {
                "ok": self.loop.lag_s <= MAX_LAG_S,
                "lag_ms": round(self.loop.lag_s * 1000),
            },
            "inventory": await self._inventory(),
        }
        if self.slack_connected is not None:
            checks["slack"] = {"ok": await self.slack_connected()}
        failing = [name for name, check in checks.items() if not check["ok"]]
        body = {"status": "fail" if failing else "ok", "failing": failing, "checks": checks}
        return not failing, body

    async def _inventory(self) -> dict[str, Any]:
        """Readable, and holding secrets to find users in: looked at once per
        `INVENTORY_TTL_S`, by one check while the others wait for its answer."""
        async with self._looking:
            if self._looked is None or self.clock() - self._looked[0] >= INVENTORY_TTL_S:
                self.inventory_queries += 1
                self._looked = (self.clock(), await self._look())
            return self._looked[1]

    async def _look(self) -> dict[str, Any]:
        try:
            nodes, secrets = await asyncio.to_thread(
                lambda: (len(self.inventory.nodes()), self.inventory.count_secrets())
            )
        except InventoryUnavailable as exc:
            return {"ok": False, "detail": exc.reason}
        if not secrets:
            return {"ok": False, "detail": "empty", "nodes": nodes, "secrets": 0}
        return {"ok": True, "nodes": nodes, "secrets": secrets}
