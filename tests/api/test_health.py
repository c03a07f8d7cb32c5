"""``/healthz`` and the API on Socket Mode's listener (``BEHOLDER_HTTP_PORT``).

`serve` (what ``beholder serve`` runs) against the fake Slack and the simulator,
on its own thread and loop; its listener on 127.0.0.1 port 0. The fake drops
the Socket Mode connection and refuses new ones until told otherwise, so the
test sees the connection down, then back.
"""

from __future__ import annotations

import asyncio
import queue
import socket
import time

import pytest
from aiohttp import web

from bot.api.health import INVENTORY_TTL_S, Health, LoopWatch
from bot.errors import ConfigError
from bot.inventory.store import Inventory
from bot.serve.listener import listening
from bot.serve.socket_mode import serve
from tests.api.test_api import TOKEN, Answer, call, conforms
from tests.conftest import LoopThread, slack_settings

#: Socket Mode pings this often here, so a dropped connection is retried at once.
PING_S = 0.2


def wait_for(url: str, status: int, timeout: float = 10.0) -> Answer:
    """Ask `url` until it answers `status` (the connection's state changes on
    slack_sdk's own schedule); the last answer if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        answer = call(url, token=None)
        if answer.status == status or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


@pytest.fixture
def served(fake, sim_world, tmp_path):
    """`serve` with its listener on; yields the listener's base URL."""
    settings = slack_settings(
        fake, db_path=tmp_path / "beholder.db", http_port=0, api_tokens=(TOKEN,)
    )
    ready: queue.Queue[str] = queue.Queue()
    coro = serve(settings, sim_world.client(), ping_interval=PING_S, on_listening=ready.put)
    thread = LoopThread(coro).start()
    try:
        base = ready.get(timeout=10)
        fake.wait_for_connection(timeout=10)
        yield base
    finally:
        fake.refuse_connections(False)
        thread.stop()


def test_healthz_flips_to_503_when_slack_drops_and_back_when_it_reconnects(fake, served):
    healthy = wait_for(f"{served}/healthz", 200)
    assert healthy.status == 200
    assert conforms(healthy, "/healthz")["checks"]["slack"] == {"ok": True}

    fake.refuse_connections()
    assert fake.drop_connections() == 1
    down = wait_for(f"{served}/healthz", 503)
    assert down.status == 503
    body = conforms(down, "/healthz")
    assert (body["status"], body["failing"]) == ("fail", ["slack"])
    assert body["checks"]["inventory"]["ok"] is True

    fake.refuse_connections(False)
    fake.wait_for_connection(timeout=10, total=2)
    back = wait_for(f"{served}/healthz", 200)
    assert back.status == 200
    assert conforms(back, "/healthz")["failing"] == []


def test_socket_mode_listener_serves_live_with_its_readings(served, sim_world):
    answer = call(f"{served}/live/juan.perez")
    assert answer.status == 200
    assert conforms(answer)["download_mbps"] == 45.2
    assert sum(sim_world.network.counters(n).total_connections for n in sim_world.nodes) == 1


def test_healthz_names_an_empty_inventory(sim_world, tmp_path):
    """An inventory without secrets cannot find anyone: not healthy, and said so."""
    with Inventory(tmp_path / "empty.db") as empty:

        async def check() -> tuple[bool, dict]:
            return await Health(empty, LoopWatch()).check()

        ok, body = asyncio.run(check())
    assert not ok
    assert body["failing"] == ["inventory"]
    assert body["checks"]["inventory"]["detail"] == "empty"


def test_loop_watch_reports_a_held_loop(sim_world):
    """The watch measures how late the loop woke it: with a clock that jumps 3.5 s
    during one 0.5 s beat (a loop held 3 s), the lag is 3 s and /healthz names the
    event loop."""
    times = [100.0, 103.5]
    watch = LoopWatch(clock=lambda: times.pop(0) if len(times) > 1 else times[0])

    async def one_beat() -> tuple[bool, dict]:
        async with watch.running():
            while watch.beats == 0:
                await asyncio.sleep(0.01)
            return await Health(sim_world.inventory, watch).check()

    ok, body = asyncio.run(one_beat())
    assert watch.lag_s == pytest.approx(3.0)
    assert not ok
    assert body["failing"] == ["event_loop"]
    assert body["checks"]["event_loop"]["lag_ms"] == 3000


def test_a_flood_of_health_checks_queries_the_inventory_once_per_ttl(sim_world):
    """/healthz needs no token: 50 checks at once and 50 more within the TTL make one
    query; after the TTL (an injected clock), the next check looks again."""
    now = [1000.0]
    health = Health(sim_world.inventory, LoopWatch(), clock=lambda: now[0])

    async def flood() -> list[bool]:
        first = await asyncio.gather(*(health.check() for _ in range(50)))
        now[0] += INVENTORY_TTL_S - 0.1
        second = [await health.check() for _ in range(50)]
        return [ok for ok, _ in (*first, *second)]

    assert all(asyncio.run(flood()))
    assert health.inventory_queries == 1
    now[0] += 0.2
    assert asyncio.run(health.check())[0]
    assert health.inventory_queries == 2


def test_a_port_already_taken_is_one_clear_config_error():
    async def listen_on(port: int) -> None:
        async with listening(web.Application(), "127.0.0.1", port):
            pass

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            ConfigError, match=rf"cannot listen on 127.0.0.1:{port}.*another process"
        ):
            asyncio.run(listen_on(port))
