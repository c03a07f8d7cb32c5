"""serve's background jobs: the periodic re-sync does not slow commands down."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.config import Settings
from bot.domain.background import resync_forever
from bot.domain.readings import ReadingService
from bot.errors import ConfigError
from bot.sim.model import Subscriber


def test_background_sync_picks_up_changes_while_commands_keep_answering(sim_world):
    def add(sim):
        sim.config.subscribers.append(Subscriber("alta.nocturna", "pw", comment="Nueva, Alta"))

    sim_world.network.call("bras-sur", add)
    for node in sim_world.nodes:
        sim_world.network.set_latency(node, 0.02)
    client = sim_world.client()
    service = ReadingService(sim_world.inventory, client)

    async def scenario():
        sync = asyncio.create_task(resync_forever(sim_world.inventory, client, 3600, first_s=0))
        latencies = []
        try:
            deadline = time.monotonic() + 10
            while not sim_world.inventory.locate("alta.nocturna") and time.monotonic() < deadline:
                started = time.monotonic()
                reading = await service.read_user("juan.perez")
                latencies.append(time.monotonic() - started)
                assert reading.online
        finally:
            sync.cancel()
            await asyncio.gather(sync, return_exceptions=True)
        return latencies

    latencies = asyncio.run(scenario())
    assert sim_world.inventory.locate("alta.nocturna")  # the sync ran and stored it
    assert latencies  # commands were answered during it (how fast: bench/sync_bench.py)
    assert max(sim_world.network.counters(n).peak_sessions for n in sim_world.nodes) <= 4


@pytest.mark.parametrize(
    ("raw", "seconds"), [("", 900.0), ("600", 600.0), ("15m", 900.0), ("1h", 3600.0)]
)
def test_sync_interval(raw, seconds):
    assert Settings.from_env({"BEHOLDER_SYNC_INTERVAL": raw}).sync_interval == seconds


@pytest.mark.parametrize("raw", ["soon", "10s", "-5m"])
def test_bad_sync_interval(raw):
    with pytest.raises(ConfigError, match="BEHOLDER_SYNC_INTERVAL"):
        Settings.from_env({"BEHOLDER_SYNC_INTERVAL": raw})
