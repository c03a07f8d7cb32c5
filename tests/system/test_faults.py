"""Every router fault gets a clear Spanish reply within the deadline, through the
real Slack app, and leaves nothing behind: no API session, no task, no thread;
the next command to a healthy router answers normally."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.inventory.store import Inventory
from bot.model import Node, Secret
from bot.routeros.client import RouterClient
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from bot.slack.app import build_app
from tests.conftest import API_PASSWORD, API_USER
from tests.support.bolt_runner import BoltRunner
from tests.support.fake_slack import FakeSlack

DEADLINE = 1.0

#: fault → what the operator must be told (a fragment of the Spanish reply).
FAULTS = {
    "refused": "rechazó la conexión a la API",
    "blackhole": "no respondió a tiempo (1 s)",
    "stall_connect": "no respondió a tiempo (1 s)",
    "stall_login": "no respondió a tiempo (1 s)",
    "stall_mid_reply": "no respondió a tiempo (1 s)",
    "bad_credentials": "rechazó el usuario o la contraseña",
    "session_limit": "cortó la sesión o respondió algo inesperado",
    "fatal": "cortó la sesión o respondió algo inesperado",
    "close_mid_sentence": "cortó la sesión o respondió algo inesperado",
    "malformed": "cortó la sesión o respondió algo inesperado",
    "malformed_reply": "cortó la sesión o respondió algo inesperado",
    "tls_fail": "Falló la conexión cifrada (API-SSL)",
    # Hostile routers: the reply is cut at its ceiling, the connection closed.
    "flood_rows": "mandó una respuesta más grande que lo que Beholder acepta (más de 16 filas)",
    "huge_word": "mandó una respuesta más grande que lo que Beholder acepta (más de 1 MiB)",
    "endless_sentence": "mandó una respuesta más grande que lo que Beholder acepta (una fila",
    "trickle": "no respondió a tiempo (1 s)",
    # Bug: librouteros raised TypeError on a !trap word it did not expect.
    "odd_trap": "cortó la sesión o respondió algo inesperado",
}


def subscriber(name: str) -> Subscriber:
    return Subscriber(
        name, "pw", online=True, plan=(10_000_000, 50_000_000), fixed_traffic=(1_000_000, 9_000_000)
    )


@pytest.fixture
def routers() -> Iterator[SimNetwork]:
    configs = [
        RouterConfig(
            "bras-mal",
            username=API_USER,
            password=API_PASSWORD,
            subscribers=[subscriber("enfermo")],
        ),
        RouterConfig(
            "bras-tls",
            username=API_USER,
            password=API_PASSWORD,
            tls=True,
            subscribers=[subscriber("cifrado")],
        ),
        RouterConfig(
            "bras-bien", username=API_USER, password=API_PASSWORD, subscribers=[subscriber("sano")]
        ),
    ]
    with SimNetwork(configs) as network:
        yield network


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_gets_a_clear_reply_and_leaves_nothing_behind(fault, routers, fake, tmp_path):

    broken = "bras-tls" if fault == "tls_fail" else "bras-mal"
    user = "cifrado" if fault == "tls_fail" else "enfermo"
    ports = routers.ports
    if fault == "refused":
        with socket.socket() as probe:  # a port where nothing listens
            probe.bind(("127.0.0.1", 0))
            ports = {**ports, broken: probe.getsockname()[1]}
    elif fault == "session_limit":
        routers.call(broken, lambda sim: setattr(sim.config, "max_sessions", 0))
    else:
        routers.set_fault(broken, fault)
    nodes = [Node(n, "127.0.0.1", p, tls=(n == "bras-tls")) for n, p in ports.items()]
    threads_before = threading.active_count()
    with Inventory(tmp_path / "f.db") as inventory:
        inventory.upsert_nodes(nodes)
        now = datetime.now(UTC)
        for name, who in (("bras-mal", "enfermo"), ("bras-tls", "cifrado"), ("bras-bien", "sano")):
            inventory.replace_node(name, [Secret(who, name)], [], now)
        settings = Settings(
            slack_bot_token=fake.bot_token,
            slack_app_token=fake.app_token,
            slack_api_url=fake.api_url,
        )
        client = RouterClient(username=API_USER, password=API_PASSWORD, timeout=DEADLINE)
        readings = ReadingService(inventory, client)
        with BoltRunner(lambda: build_app(settings, readings), fake) as bot:
            started = time.monotonic()
            eid = fake.send_slash_command(user)
            [post] = fake.wait_for_responses(key=eid, timeout=5)
            assert time.monotonic() - started < DEADLINE + 1.5  # within the deadline
            text = post.body["text"]
            assert FAULTS[fault] in text, text
            assert f"`{user}`" in text
            assert "Traceback" not in text
            assert API_PASSWORD not in text
            # The next command, to a healthy router, answers normally.
            ok = fake.send_slash_command("sano")
            [reading] = fake.wait_for_responses(key=ok, timeout=5)
            assert reading.body["text"].startswith("sano en bras-bien: Bajada 9,00 Mbps")

            async def leftovers():
                await asyncio.sleep(0.05)
                me = asyncio.current_task()
                return [
                    t for t in asyncio.all_tasks() if t is not me and "snapshot" in t.get_name()
                ]

            assert bot.run(leftovers()) == []
        for name in ("bras-mal", "bras-tls", "bras-bien"):
            for _ in range(50):
                if routers.counters(name).active_sessions == 0:
                    break
                time.sleep(0.02)
            assert routers.counters(name).active_sessions == 0, name
    routers.set_fault(broken, None)
    assert threading.active_count() <= threads_before


@pytest.mark.parametrize("rate", [-5, 10**13 + 1])
def test_a_rate_out_of_range_is_a_router_fault_naming_the_router(fake, start_bot, sim_world, rate):
    """Regression: a router reporting a rate beyond any link (400 nines overflowed
    while rendering) or a negative one ("-5" was taken as is) got a traceback or a
    nonsense reading. Now it is a protocol fault: the reply names the router."""

    def hostile(sim) -> None:
        sim.config.subscriber("juan.perez").fixed_traffic = (2_100_000, rate)

    sim_world.network.call("bras-norte", hostile)
    bot = start_bot()
    eid = fake.send_slash_command("juan.perez")
    [post] = fake.wait_for_responses(key=eid, timeout=10)
    assert "cortó la sesión o respondió algo inesperado" in post.body["text"]
    assert "bras-norte" in post.body["text"]
    assert post.body["response_type"] == "in_channel"
    assert bot.errors == []
