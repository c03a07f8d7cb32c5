"""Fair use of routers: targeted pulls for unknown names, through the real Slack app.

A name missing from the inventory is asked of every router (a targeted pull).
These tests send what operators send (``/consumo`` over the fake Slack's Socket
Mode) against the simulator, and check what they are told and what the routers
saw: the per-operator allowance, one session per router for pulls, and that a
router that could not be asked is named and never remembered as "no existe".
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.domain.readings import ReadingService
from bot.sim.model import Subscriber
from bot.slack.app import build_app
from tests.conftest import audit_rows, slack_settings
from tests.support.bolt_runner import BoltRunner
from tests.support.clock import Clock

GENUINE = "juan.perez en bras-norte: Bajada 45,2 Mbps · 90 % de 50 Mbps"


@pytest.fixture
def start(fake, sim_world) -> Iterator[Callable[..., BoltRunner]]:
    """``start(client_options={...}, pulls_per_user=…, clock=…)``: the real app with
    a `ReadingService` built with those options; stopped at teardown."""
    runners: list[BoltRunner] = []

    def run(*, client_options: dict[str, Any] | None = None, **service: Any) -> BoltRunner:
        settings = slack_settings(fake)
        readings = ReadingService(
            sim_world.inventory, sim_world.client(**(client_options or {})), **service
        )
        runner = BoltRunner(lambda: build_app(settings, readings), fake).start()
        runners.append(runner)
        return runner

    yield run
    for runner in reversed(runners):
        runner.stop()


def ask(fake, text: str, user: str = "U0001", timeout: float = 10.0) -> dict[str, Any]:
    eid = fake.send_slash_command(text, user_id=user)
    [post] = fake.wait_for_responses(key=eid, timeout=timeout)
    return post.body


def pulls_of(sim_world, node: str, prefix: str = "?name=nadie") -> int:
    """Targeted pulls `node` received for the test's unknown names (a snapshot
    reads the secret too, but tagged, among its other reads: not counted)."""
    return sum(
        1
        for words in sim_world.network.counters(node).commands
        if words[0] == "/ppp/secret/print"
        and any(w.startswith(prefix) for w in words)
        and not any(w.startswith(".tag=") for w in words)
    )


def test_burst_of_unknown_names_is_held_to_the_allowance_and_a_reading_is_answered(
    fake, start, sim_world
):
    """Regression: 40 different unknown names from one operator at once opened 22
    API logins per router, and a genuine `/consumo juan.perez` sent at the same
    moment failed with RouterBusy. Now 5 names (the allowance for a minute) are
    asked of each router, the other 35 are told to wait, and the genuine reading
    comes back with its figures."""
    start()
    names = [f"nadie{i:02d}" for i in range(40)]
    eids = [fake.send_slash_command(n) for n in names[:20]]
    genuine = fake.send_slash_command("juan.perez")
    eids += [fake.send_slash_command(n) for n in names[20:]]
    [reading] = fake.wait_for_responses(key=genuine, timeout=10)
    assert reading.body["response_type"] == "in_channel"
    assert reading.body["text"].startswith(GENUINE)
    replies = [fake.wait_for_responses(key=eid, timeout=10)[0].body for eid in eids]
    assert all(r["response_type"] == "ephemeral" for r in replies)
    told_to_wait = [r for r in replies if "Esperá" in r["text"]]
    not_found = [r for r in replies if "en ningún router" in r["text"]]
    assert (len(told_to_wait), len(not_found)) == (35, 5)
    assert "ya buscaste 5 usuarios que no están en el inventario" in told_to_wait[0]["text"]
    for node in ("bras-norte", "bras-sur"):
        assert pulls_of(sim_world, node) == 5
    # Logins: one per pull, plus the reading's own on bras-norte.
    assert sim_world.network.counters("bras-sur").total_connections == 5
    assert sim_world.network.counters("bras-norte").total_connections == 6
    sim_world.quiet()


def test_unknown_names_never_take_the_session_a_reading_needs(fake, start, sim_world):
    """Regression: the same burst, with the allowance and the global cap lifted so
    only the per-router rule is at work (40 names pulled at once) on slow routers:
    pulls used to fill every session and the genuine reading sent among them
    failed with RouterBusy. Pulls now hold one of a router's sessions at a time,
    and the reading is answered with its figures."""
    for node in ("bras-norte", "bras-sur"):
        sim_world.network.set_latency(node, 0.05)  # a pull ~0.1 s, a reading ~0.25 s
    start(client_options={"timeout": 1.5, "max_sessions": 2}, pulls_per_user=100, max_pulls=40)
    eids = [fake.send_slash_command(f"nadie{i:02d}") for i in range(30)]
    genuine = fake.send_slash_command("juan.perez")  # behind 30 pulls per router
    eids += [fake.send_slash_command(f"nadie{i:02d}") for i in range(30, 40)]
    [reading] = fake.wait_for_responses(key=genuine, timeout=10)
    assert reading.body["text"].startswith(GENUINE), reading.body["text"]
    replies = [fake.wait_for_responses(key=eid, timeout=15)[0].body["text"] for eid in eids]
    # A name is answered, or its pull waited too long for its router's turn: the
    # reply says so, and that the router was busy with Beholder, not failing.
    for text in replies:
        assert "en ningún router" in text or "(ocupado con otras consultas" in text, text
    counters = sim_world.network.counters("bras-norte")
    assert counters.peak_sessions == 2  # one pull + the reading
    assert counters.rejected_connections == 0
    # Waiting behind other pulls is not the router failing: its circuit stays closed.
    assert ask(fake, "juan.perez")["text"].startswith(GENUINE)
    sim_world.quiet()


def test_operator_over_the_pull_allowance_is_told_how_long_to_wait(fake, start, sim_world):
    """Past 5 unknown names in a minute an operator is told, in Spanish, how many
    seconds to wait, and the routers are not asked; another operator is not held
    back; once the minute has passed, the name is pulled (an injected clock)."""
    clock = Clock()
    start(clock=clock)
    for i in range(5):
        assert "en ningún router" in ask(fake, f"nadie{i:02d}")["text"]
    over = ask(fake, "nadie05")
    assert over["response_type"] == "ephemeral"
    assert "`nadie05` no está en el inventario y no les pregunté a los routers" in over["text"]
    assert "Esperá 60 s y probá de nuevo." in over["text"]
    assert pulls_of(sim_world, "bras-norte", "?name=nadie05") == 0
    assert "en ningún router" in ask(fake, "nadie06", user="U0BBB")["text"]
    clock.now += 45
    assert "Esperá 15 s" in ask(fake, "nadie07")["text"]
    assert pulls_of(sim_world, "bras-norte", "?name=nadie07") == 0
    clock.now += 15
    assert "`nadie07` en ningún router" in ask(fake, "nadie07")["text"]
    assert pulls_of(sim_world, "bras-norte", "?name=nadie07") == 1
    outcomes = [
        e.outcome for e in audit_rows(sim_world.inventory, 1, lambda e: e.query == "nadie05")
    ]
    assert outcomes == ["not_pulled:rate"]


def test_router_that_fails_a_targeted_pull_is_named_and_the_miss_not_remembered(
    fake, start, sim_world
):
    """Regression: a pull that failed (a stalled router) was remembered as "missing"
    for 5 minutes, so the bot said "no existe" about a subscriber it could not
    check. The reply names the router that could not be asked; once it
    recovers, asking again pulls again and finds the new subscriber."""

    def add(sim):
        sim.config.subscribers.append(
            Subscriber(
                "alta.nueva",
                "pw",
                online=True,
                plan=(2_000_000, 10_000_000),
                fixed_traffic=(100_000, 3_000_000),
            )
        )

    sim_world.network.call("bras-sur", add)  # created after the last sync
    start(client_options={"timeout": 0.5})
    sim_world.network.set_fault("bras-sur", "stall_login")
    first = ask(fake, "alta.nueva")
    assert first["response_type"] == "ephemeral"
    assert "No pude preguntarle a *bras-sur* (no respondió a tiempo)" in first["text"]
    assert "en ningún router" not in first["text"]
    sim_world.network.set_fault("bras-sur", None)
    second = ask(fake, "alta.nueva")
    assert second["response_type"] == "in_channel"
    assert second["text"].startswith("alta.nueva en bras-sur: Bajada 3,00 Mbps")
    assert pulls_of(sim_world, "bras-sur", "?name=alta.nueva") == 2
    outcomes = [
        e.outcome for e in audit_rows(sim_world.inventory, 2, lambda e: e.query == "alta.nueva")
    ]
    assert sorted(outcomes) == ["not_confirmed", "ok"]


def test_a_subscriber_found_by_a_pull_is_answered_while_the_inventory_is_locked(
    fake, start, sim_world
):
    """Regression: storing a secret found by a targeted pull ran on the reply path, so
    with another process holding the inventory's write lock the reply waited 10 s and
    then said the inventory was locked, although the router had the subscriber. Now the
    reading arrives while the lock is held, and the secret is stored once it is released."""
    sim_world.network.call(
        "bras-sur",
        lambda sim: sim.config.subscribers.append(
            Subscriber("alta.nueva", "pw", online=True, plan=(2_000_000, 10_000_000))
        ),
    )
    start()
    holder = sqlite3.connect(sim_world.inventory.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        reply = ask(fake, "alta.nueva", timeout=8)
        assert holder.in_transaction  # answered while the lock was still held
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert reply["text"].startswith("alta.nueva en bras-sur: Bajada")
    deadline = time.monotonic() + 15
    while not sim_world.inventory.locate("alta.nueva") and time.monotonic() < deadline:
        time.sleep(0.05)
    [stored] = sim_world.inventory.locate("alta.nueva")
    assert stored.secret.node == "bras-sur"
