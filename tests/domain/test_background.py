"""serve's background jobs: the periodic re-sync, and its interval setting.

How much a re-sync slows `/consumo` down is a timing goal, measured by
bench/sync_bench.py (p95 during a re-sync against idle); here, only what is
deterministic: the sync takes one API session of a router at a time, and
readings are answered while it is under way.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.config import Settings
from bot.domain.background import resync_forever
from bot.domain.readings import ReadingService
from bot.errors import ConfigError
from bot.sim.model import Subscriber


def test_background_sync_holds_one_session_per_router_while_readings_are_answered(sim_world):
    """`juan.perez` (bras-norte) is read in a loop while the background re-sync runs,
    until the sync has stored a subscriber just added on bras-sur. Every reading is
    answered, some of them after the sync's first pull reached a router and before it
    stored that subscriber; bras-sur (no readings) never had more than one API
    session open, and bras-norte never more than two (the sync's and a reading's)."""

    def add(sim):
        sim.config.subscribers.append(Subscriber("alta.nocturna", "pw", comment="Nueva, Alta"))

    sim_world.network.call("bras-sur", add)
    sim_world.network.set_latency("bras-norte", 0.02)
    sim_world.network.set_latency("bras-sur", 0.2)  # its pull spans several readings
    client = sim_world.client()  # 4 sessions per router: the sync could take 3
    service = ReadingService(sim_world.inventory, client)

    def pulled() -> bool:
        """A sync pull (``/ppp/secret/print`` of the whole table) reached a router."""
        return any(
            words[0] == "/ppp/secret/print"
            for node in sim_world.nodes
            for words in sim_world.network.counters(node).commands
        )

    def stored() -> bool:
        return bool(sim_world.inventory.locate("alta.nocturna"))

    async def scenario() -> list[bool]:
        sync = asyncio.create_task(resync_forever(sim_world.inventory, client, 3600, first_s=0))
        during: list[bool] = []  # per reading: answered while the sync was under way
        try:
            deadline = time.monotonic() + 10
            while not stored() and time.monotonic() < deadline:
                reading = await service.read_user("juan.perez")
                assert reading.online
                during.append(pulled() and not stored())
        finally:
            sync.cancel()
            await asyncio.gather(sync, return_exceptions=True)
        return during

    during = asyncio.run(scenario())
    assert stored()  # the sync ran and stored it
    assert any(during), during
    counters = sim_world.network.counters
    assert counters("bras-sur").peak_sessions == 1  # the sync's pull
    assert counters("bras-norte").peak_sessions <= 2  # the sync's pull + one reading


@pytest.mark.parametrize(
    ("raw", "seconds"), [("", 900.0), ("600", 600.0), ("15m", 900.0), ("1h", 3600.0)]
)
def test_sync_interval(raw, seconds):
    assert Settings.from_env({"BEHOLDER_SYNC_INTERVAL": raw}).sync_interval == seconds


@pytest.mark.parametrize("raw", ["soon", "10s", "-5m"])
def test_bad_sync_interval(raw):
    with pytest.raises(ConfigError, match="BEHOLDER_SYNC_INTERVAL"):
        Settings.from_env({"BEHOLDER_SYNC_INTERVAL": raw})
