"""``/metrics``' text (`bot.metrics.exposition`), through the real wiring.

The app is the one `serve` runs (`bot.serve.socket_mode.bot_for`), over Socket Mode
against the fake Slack and the simulator. The registry is the process's own, so
counters are compared before and after each question; the state gauges are read
at scrape time from what `bot_for` tracked.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from bot import errors, metrics
from bot.domain.live_registry import LiveRegistry
from bot.inventory.audit import AuditTrail
from bot.inventory.store import Inventory
from bot.model import AuditEntry, Node
from bot.routeros.breaker import CircuitBreaker
from bot.serve.socket_mode import bot_for
from tests.conftest import audit_rows, slack_settings, world
from tests.support.bolt_runner import BoltRunner
from tests.support.clock import Clock

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
#: The series read at scrape time from what `bot_for` tracked (this test's app).
GAUGES = {
    "beholder_router_sessions_in_use",
    "beholder_router_breaker_state",
    "beholder_live_views_running",
    "beholder_node_sync_age_seconds",
}


def scrape() -> Samples:
    """Every sample of ``GET /metrics``' body, parsed as Prometheus parses it."""
    body, _ = metrics.exposition()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples that carry `labels` (and any others)."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


class Served:
    """What `bot_for` returned, once the runner built it on the bot's loop."""

    def __init__(self) -> None:
        self.readings = None
        self.live_views: LiveRegistry | None = None


@pytest.fixture
def serve(fake, sim_world) -> Iterator[Callable[..., tuple[BoltRunner, Served]]]:
    """Start the app as `serve` wires it: ``serve(client_options, **settings)``."""
    runners: list[BoltRunner] = []

    def start(
        client_options: dict[str, object] | None = None, **overrides: object
    ) -> tuple[BoltRunner, Served]:
        served = Served()

        def build():
            bot = bot_for(
                slack_settings(fake, **overrides),
                sim_world.inventory,
                sim_world.client(**(client_options or {})),
            )
            served.readings, served.live_views = bot.readings, bot.live_views
            return bot.app

        runner = BoltRunner(build, fake).start()
        runners.append(runner)
        return runner, served

    yield start
    for runner in reversed(runners):
        runner.stop()


def ask(fake, text: str, user_id: str = "U0001") -> None:
    """`/consumo text`, until its reply is posted (the audit has it by then)."""
    key = fake.send_slash_command(text, user_id=user_id)
    fake.wait_for_responses(key=key)


def test_the_exposition_parses_and_every_metric_is_named_beholder(serve, fake):
    """Rendered as the route does, off the bot's loop (`exposition_in_thread`)."""
    runner, _ = serve()
    ask(fake, "juan.perez")
    body, content_type = runner.run(metrics.exposition_in_thread())
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f.type for f in text_string_to_metric_families(body.decode())}
    assert families == {
        "beholder_questions": "counter",
        "beholder_reply_latency_seconds": "histogram",
        "beholder_router_errors": "counter",
        "beholder_audit_write_failures": "counter",
        "beholder_audit_rows_lost": "counter",
        "beholder_router_sessions_in_use": "gauge",
        "beholder_router_breaker_state": "gauge",
        "beholder_live_views_running": "gauge",
        "beholder_node_sync_age_seconds": "gauge",
    }


def test_questions_asked_in_slack_move_the_counters_by_outcome(serve, fake, sim_world):
    """Each question counts once by source and outcome; each answered one is timed,
    a refused one (denied) is not."""
    serve(allowed_users=frozenset({"U0001"}))
    before = scrape()
    ask(fake, "juan.perez")  # online
    ask(fake, "carlos.lopez")  # offline
    ask(fake, "juan.peres")  # a typo: suggestions
    fake.wait_for_ack(fake.send_slash_command("juan.perez", user_id="U0STRANGER"))  # denied
    audit_rows(sim_world.inventory, 1, lambda e: e.slack_user == "U0STRANGER")
    after = scrape()
    for outcome in ("ok", "offline", "not_found", "denied"):
        assert (
            moved(before, after, "beholder_questions_total", source="command", outcome=outcome) == 1
        )
    assert moved(before, after, "beholder_reply_latency_seconds_count", source="command") == 3
    # Every reply came from the simulator on loopback: within the last bucket.
    assert (
        moved(before, after, "beholder_reply_latency_seconds_bucket", source="command", le="15.0")
        == 3
    )


def test_a_router_error_counts_against_its_node_and_kind(serve, fake, sim_world):
    serve()
    sim_world.network.set_fault("bras-norte", "bad_credentials")
    before = scrape()
    ask(fake, "juan.perez")
    after = scrape()
    assert (
        moved(
            before,
            after,
            "beholder_router_errors_total",
            node="bras-norte",
            kind="RouterAuthFailed",
        )
        == 1
    )
    assert moved(before, after, "beholder_questions_total", source="command", outcome="failed") == 1
    assert total(after, "beholder_router_errors_total", node="bras-sur") == total(
        before, "beholder_router_errors_total", node="bras-sur"
    )


def test_no_label_names_a_subscriber_their_ip_or_mac(serve, fake, sim_world):
    """Asked by name, IP, MAC and a typo: every series these questions moved, and
    every gauge, is labelled with a node, a source, an outcome, an error kind or a
    bucket bound, never with what identifies a subscriber. (The registry is the
    process's: series other tests left, with their own nodes, are not this test's.)"""
    serve()
    sim_world.network.set_fault("bras-sur", "fatal")  # an error with a node label too
    before = scrape()
    for text in ("juan.perez", "100.64.0.10", "AA:BB:CC:00:00:10", "juan.peres", "ana.martinez"):
        ask(fake, text)
    after = scrape()
    identifying = set()
    for router in world():
        for sub in router.subscribers:
            identifying |= {sub.name, sub.address, sub.caller_id} - {None, ""}
    error_kinds = {name for name in dir(errors) if name.startswith("Router")}
    allowed = set(sim_world.nodes) | metrics.SOURCES | metrics.OUTCOMES | error_kinds
    allowed.add(metrics.OTHER)
    ours = [
        (name, labels)
        for (name, labels), found in after.items()
        if found != before.get((name, labels)) or name in GAUGES
    ]
    assert any(name == "beholder_router_errors_total" for name, _ in ours)
    assert any(name == "beholder_router_sessions_in_use" for name, _ in ours)
    for name, labels in ours:
        for key, label in labels:
            assert label not in identifying, (name, key, label)
            if key == "le":
                assert label == "+Inf" or float(label) in metrics.LATENCY_BUCKETS
            else:
                assert label in allowed, (name, key, label)
    for name, labels in after:  # whatever other tests asked, no subscriber either
        assert not {label for _, label in labels} & identifying, (name, labels)


@settings(max_examples=30, deadline=None)
@given(source=st.text(max_size=30), outcome=st.text(max_size=30))
def test_any_source_or_outcome_becomes_a_bounded_label(source, outcome):
    """Whatever the audit is handed, the label set stays the fixed one ("other")."""
    metrics.question(source, outcome, 0.1)
    for (name, labels), _ in scrape().items():
        if name == "beholder_questions_total":
            found = dict(labels)
            assert found["source"] in metrics.SOURCES | {metrics.OTHER}
            assert found["outcome"] in metrics.OUTCOMES | {metrics.OTHER}


def test_state_gauges_are_read_at_scrape_time_from_what_serve_runs(serve, fake, sim_world):
    """Sessions held, breaker states, live views and sync ages come from the router
    client, the live registry and the inventory `bot_for` wired, when scraped."""
    clock = Clock()
    runner, served = serve({"breaker": CircuitBreaker(threshold=1, cooldown=30.0, clock=clock)})
    node = sim_world.nodes["bras-norte"]

    async def scraped_holding_a_session() -> Samples:
        async with served.readings.router.session(node):
            return scrape()

    held = runner.run(scraped_holding_a_session())
    assert value(held, "beholder_router_sessions_in_use", node="bras-norte") == 1
    assert value(held, "beholder_router_sessions_in_use", node="bras-sur") == 0
    assert value(scrape(), "beholder_router_sessions_in_use", node="bras-norte") == 0

    sim_world.network.set_fault("bras-norte", "fatal")
    ask(fake, "juan.perez")  # one failure opens bras-norte's circuit (threshold 1)
    opened = scrape()
    assert value(opened, "beholder_router_breaker_state", node="bras-norte") == 1
    assert value(opened, "beholder_router_breaker_state", node="bras-sur") == 0
    clock.now += 30.0
    assert value(scrape(), "beholder_router_breaker_state", node="bras-norte") == 0.5

    assert value(scrape(), "beholder_live_views_running") == 0
    runner.run(_claim(served.live_views, "sofia.acuna", "bras-sur"))
    assert value(scrape(), "beholder_live_views_running") == 1

    synced = sim_world.inventory.last_syncs()
    started = datetime.now(UTC)
    ages = scrape()
    ended = datetime.now(UTC)
    for name in sim_world.nodes:
        at = datetime.fromisoformat(synced[name])
        age = value(ages, "beholder_node_sync_age_seconds", node=name)
        assert (started - at).total_seconds() - 1e-3 <= age <= (ended - at).total_seconds() + 1e-3
    sim_world.inventory.upsert_nodes([Node("bras-nuevo", "127.0.0.1", 9)])
    assert value(scrape(), "beholder_node_sync_age_seconds", node="bras-nuevo") == math.inf


async def _claim(registry: LiveRegistry, user: str, node: str) -> None:
    registry.claim(user, node, 10)


def test_a_second_app_in_one_process_takes_over_the_gauges(serve, fake):
    """Regression guard for tests (and restarts) that build many apps in one process:
    a second `bot_for` neither fails on registration nor leaves the first reported."""
    first, first_served = serve()
    first.run(_claim(first_served.live_views, "juan.perez", "bras-norte"))
    assert value(scrape(), "beholder_live_views_running") == 1
    first.stop()
    serve()
    assert value(scrape(), "beholder_live_views_running") == 0


def test_refused_audit_writes_and_lost_rows_are_counted(tmp_path):
    """The inventory locked by another process: each refused write counts, and a row
    still refused when the trail closes counts as lost (it went to the log)."""
    path = tmp_path / "b.db"
    with Inventory(path) as inventory:
        before = scrape()
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        try:
            trail = AuditTrail(partial(inventory.record_audits, busy_timeout_s=0.05))
            trail.add(AuditEntry(datetime.now(UTC), "juan.perez", "ok", source="cli"))
            deadline = time.monotonic() + 30
            while not moved(before, scrape(), "beholder_audit_write_failures_total"):
                assert time.monotonic() < deadline, "the refused write was never counted"
                trail.flush(timeout_s=0.05)
            trail.close(timeout_s=0.1)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert moved(before, scrape(), "beholder_audit_rows_lost_total") == 1


@pytest.mark.parametrize("outcome", ["diag", "help", "live_not_posted:channel_not_found"])
def test_diagnoses_help_and_unposted_views_count_under_their_own_outcome(outcome):
    """Regression: a diagnosis (``diag``), a help request and a live view Slack
    would not post were counted as outcome "other"; each now has its label."""
    before = scrape()
    metrics.question("command", outcome, 0.1)
    after = scrape()
    label = outcome.split(":")[0]
    assert moved(before, after, "beholder_questions_total", source="command", outcome=label) == 1
