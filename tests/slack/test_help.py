"""``/consumo ayuda`` and ``@Beholder ayuda``: every way to ask, shown to the asker
alone, in the active language, without asking any router; audited; access control
applies as to any ``/consumo``. Through the real Bolt app and the fake Slack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.present import lang
from bot.slack import parsing
from tests.conftest import audit_rows


@pytest.fixture
def english() -> Iterator[None]:
    lang.use("en")
    yield
    lang.use("es")


def no_router_asked(sim_world) -> bool:
    return all(sim_world.network.counters(n).total_connections == 0 for n in sim_world.nodes)


@pytest.mark.parametrize("asked", ["ayuda", "help", "  AYUDA "])
def test_consumo_ayuda_shows_every_way_to_ask_to_the_asker_alone(fake, start_bot, sim_world, asked):
    start_bot(live_max=90)
    eid = fake.send_slash_command(asked)
    ack = fake.wait_for_ack(eid)
    text = ack.payload["text"]
    assert text.startswith("*Cómo consultar a Beholder*")
    for way in (
        "`/consumo juan.perez`",
        "`/consumo 100.64.0.10`",
        "`/consumo juan.perez 30s`",
        "(de 3 a 90)",  # BEHOLDER_LIVE_MAX
        "`@Beholder consumo juan.perez`",
        "*Ver consumo*",
        "*Actualizar*",
        "*En vivo 30 s*",
        "`/consumo juan.perez diag`",
        "*Diagnosticar*",
    ):
        assert way in text, way
    assert ack.payload.get("response_type") != "in_channel"  # an ack is ephemeral
    assert fake.responses(key=eid) == []  # nothing posted in the channel
    [row] = audit_rows(sim_world.inventory, 1)
    assert (row.outcome, row.source, row.query, row.slack_user) == (
        "help",
        "command",
        asked.strip(),
        "U0001",
    )
    assert no_router_asked(sim_world)


def test_help_in_english(fake, start_bot, sim_world, english):
    start_bot()
    ack = fake.wait_for_ack(fake.send_slash_command("help"))
    assert ack.payload["text"].startswith("*How to ask Beholder*")
    assert "*Refresh* takes a new sample, *Live 30 s* watches it live" in ack.payload["text"]
    assert "*Diagnose* diagnoses it" in ack.payload["text"]


def test_mention_ayuda_in_a_thread_is_for_the_asker_alone(fake, start_bot, sim_world):
    start_bot()
    fake.send_app_mention(
        "<@UBOT> ayuda", ts="1700000300.000100", thread_ts="1700000000.000900", user="U0002"
    )
    [call] = fake.wait_for_calls("chat.postEphemeral")
    assert (call.params["thread_ts"], call.params["user"]) == ("1700000000.000900", "U0002")
    assert call.params["text"].startswith("*Cómo consultar a Beholder*")
    assert fake.calls("chat.postMessage") == []
    [row] = audit_rows(sim_world.inventory, 1)
    assert (row.outcome, row.source) == ("help", "mention")
    assert no_router_asked(sim_world)


def test_help_is_refused_like_any_question_to_who_may_not_ask(fake, start_bot, sim_world):
    start_bot(allowed_users=frozenset({"U0AAA1"}))
    ack = fake.wait_for_ack(fake.send_slash_command("ayuda", user_id="U0BBB2"))
    assert "Cómo consultar" not in ack.payload["text"]
    assert "permiso" in ack.payload["text"]
    [row] = audit_rows(sim_world.inventory, 1)
    assert (row.outcome, row.query) == ("denied", "ayuda")


def test_the_usage_after_an_empty_question_points_to_the_help(fake, start_bot):
    start_bot()
    ack = fake.wait_for_ack(fake.send_slash_command(" "))
    assert "`/consumo ayuda`" in ack.payload["text"]


@pytest.mark.parametrize(
    ("text", "seconds", "help_asked"),
    [
        ("ayuda", None, True),
        ("Help", None, True),
        (" AYUDA\n", None, True),
        ("ayuda", 30, False),  # a live view of a user named so
        ("ayuda.perez", None, False),
        ("ayuda help", None, False),
        ("", None, False),
    ],
)
def test_asks_help(text, seconds, help_asked):
    assert parsing.asks_help(text, seconds) is help_asked
