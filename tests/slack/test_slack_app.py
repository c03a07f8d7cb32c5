"""The real Bolt app over Socket Mode, against the fake Slack and the simulator.

Each test sends what Slack would send (a slash command, a mention, a button
click) through the websocket and checks what the operator would see: the ack,
and what was posted where.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.slack.app import build_app
from bot.slack.ids import ACTION_REFRESH
from tests.conftest import API_PASSWORD, audit_rows
from tests.support.bolt_runner import BoltRunner
from tests.support.fake_slack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


@pytest.fixture
def client_options():
    """Router client options; tests override this fixture's result via parametrize."""
    return {"timeout": 2.0, "max_sessions": 4}


@pytest.fixture
def bot(fake, sim_world, client_options) -> Iterator[BoltRunner]:
    settings = Settings(
        slack_bot_token=fake.bot_token, slack_app_token=fake.app_token, slack_api_url=fake.api_url
    )
    readings = ReadingService(sim_world.inventory, sim_world.client(**client_options))
    with BoltRunner(lambda: build_app(settings, readings), fake) as runner:
        yield runner


def everything_posted(fake) -> str:
    return repr([r.body for r in fake.responses()]) + repr([c.params for c in fake.calls()])


def test_consumo_acks_then_posts_reading_in_channel(fake, bot):
    eid = fake.send_slash_command("juan.perez")
    ack = fake.wait_for_ack(eid)
    assert ack.payload["text"] == "Consultando `juan.perez` en su router…"
    [post] = fake.wait_for_responses(key=eid)
    body = post.body
    assert body["response_type"] == "in_channel"
    assert body["text"].startswith("juan.perez en bras-norte: Bajada 45,2 Mbps · 90 % de 50 Mbps;")
    assert "Subida 2,10 Mbps · 21 % de 10 Mbps" in body["text"]
    shown = repr(body["blocks"])
    for expected in ("100.64.0.10", "AA:BB:CC:00:00:10", "Actualizar", "<@U0001>"):
        assert expected in shown


def test_empty_consumo_gets_usage_and_asks_no_router(fake, bot, sim_world):
    eid = fake.send_slash_command("   ")
    ack = fake.wait_for_ack(eid)
    assert "Uso: `/consumo usuario.pppoe`" in ack.payload["text"]
    assert fake.responses(key=eid) == []
    assert sim_world.network.counters("bras-norte").total_connections == 0


def test_unknown_user_gets_suggestions_only_for_the_asker(fake, bot):
    eid = fake.send_slash_command("juan.peres")
    fake.wait_for_ack(eid)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["response_type"] == "ephemeral"
    assert "`juan.peres`" in post.body["text"]
    assert "¿Quisiste decir: `juan.perez`" in post.body["text"]


def test_numeric_user(fake, bot):
    eid = fake.send_slash_command("20513")
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith("20513 en bras-norte: Bajada 12,0 Mbps")


def test_user_on_two_routers_is_flagged(fake, bot):
    eid = fake.send_slash_command("ana.martinez")
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith("ana.martinez en bras-sur:")
    assert "Usuario duplicado" in repr(post.body["blocks"])


def test_offline_user(fake, bot):
    eid = fake.send_slash_command("carlos.lopez")
    [post] = fake.wait_for_responses(key=eid)
    assert "sin sesión PPPoE activa (última desconexión 2026-11-27 22:10:05)" in post.body["text"]
    assert "hung-up" in repr(post.body["blocks"])


@pytest.mark.parametrize("client_options", [{"timeout": 0.5}])
def test_stalled_router_gets_a_reply_within_the_deadline(fake, bot, sim_world):
    sim_world.network.set_fault("bras-norte", "stall_login")
    eid = fake.send_slash_command("juan.perez")
    assert fake.wait_for_ack(eid).latency < 3
    [post] = fake.wait_for_responses(key=eid, timeout=3)
    assert post.body["response_type"] == "in_channel"
    assert (
        "*bras-norte* no respondió a tiempo (0,5 s) al consultar `juan.perez`" in post.body["text"]
    )


def test_bad_credentials_are_explained_without_secrets(fake, bot, sim_world):
    sim_world.network.set_fault("bras-norte", "bad_credentials")
    eid = fake.send_slash_command("juan.perez")
    [post] = fake.wait_for_responses(key=eid)
    assert "rechazó el usuario o la contraseña de Beholder" in post.body["text"]
    posted = everything_posted(fake)
    assert API_PASSWORD not in posted
    assert "Traceback" not in posted


def test_mention_in_thread_answers_in_that_thread(fake, bot):
    eid = fake.send_app_mention(
        "<@UBOT> consumo juan.perez", ts="1700000100.000200", thread_ts="1700000000.000100"
    )
    fake.wait_for_ack(eid)
    [call] = fake.wait_for_calls("chat.postMessage")
    assert call.params["channel"] == "C0001"
    assert call.params["thread_ts"] == "1700000000.000100"
    assert call.params["text"].startswith("juan.perez en bras-norte: Bajada 45,2 Mbps")


def test_top_level_mention_without_keyword_starts_a_thread(fake, bot):
    fake.send_app_mention("<@UBOT> 20513", ts="1700000200.000300")
    [call] = fake.wait_for_calls("chat.postMessage")
    assert call.params["thread_ts"] == "1700000200.000300"
    assert call.params["text"].startswith("20513 en bras-norte")


def test_empty_mention_gets_usage_in_thread_only_for_the_asker(fake, bot):
    fake.send_app_mention("<@UBOT>", ts="1700000300.000100", thread_ts="1700000000.000900")
    [call] = fake.wait_for_calls("chat.postEphemeral")
    assert (call.params["thread_ts"], call.params["user"]) == ("1700000000.000900", "U0001")
    assert "Uso:" in call.params["text"]
    assert fake.calls("chat.postMessage") == []


@pytest.mark.parametrize("asked", ["juan.peres", "cliente1"])
def test_typo_in_a_thread_mention_is_not_posted_in_the_thread(fake, bot, asked):
    """Regression: mentions ignored `Reply.public`, so a typo's "no existe" with its
    suggestions (or a list of candidates) was posted for the whole escalation
    thread. It goes to the asker alone, in that thread."""
    fake.send_app_mention(
        f"<@UBOT> consumo {asked}",
        user="U0AAA",
        ts="1700000400.000200",
        thread_ts="1700000000.000400",
    )
    [call] = fake.wait_for_calls("chat.postEphemeral")
    assert (call.params["channel"], call.params["thread_ts"]) == ("C0001", "1700000000.000400")
    assert call.params["user"] == "U0AAA"
    assert f"`{asked}`" in call.params["text"] or f"«{asked}»" in call.params["text"]
    assert fake.calls("chat.postMessage") == []


def test_refresh_button_replaces_the_message_with_a_new_snapshot(fake, bot, sim_world):
    def faster(sim):
        sim.config.subscriber("juan.perez").fixed_traffic = (4_000_000, 49_000_000)

    sim_world.network.call("bras-norte", faster)
    eid = fake.send_block_action(ACTION_REFRESH, "juan.perez")
    fake.wait_for_ack(eid)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["replace_original"] is True
    assert post.body["text"].startswith(
        "juan.perez en bras-norte: Bajada 49,0 Mbps · 98 % de 50 Mbps"
    )


def test_failed_refresh_keeps_the_reading_and_tells_the_clicker(fake, bot, sim_world):
    sim_world.network.set_fault("bras-norte", "bad_credentials")
    eid = fake.send_block_action(ACTION_REFRESH, "juan.perez")
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["replace_original"] is False
    assert post.body["response_type"] == "ephemeral"


@pytest.mark.parametrize("client_options", [{"timeout": 5.0, "max_sessions": 4}])
def test_twenty_operators_at_once_with_slow_routers(fake, bot, sim_world):
    """Bolt's sync App acks only 5 at a time; every command here is its own task."""
    for node in ("bras-norte", "bras-sur"):
        # Every reply 100 ms late: one snapshot (login + 3 reads) takes 0.4 s, and
        # with 4 sessions at most, 20 questions need 5 rounds: 2 s, under the deadline.
        sim_world.network.set_latency(node, 0.1)
    users = [f"cliente{i:02d}" for i in range(1, 21)]
    eids: list[str] = []
    senders = [
        threading.Thread(target=lambda u=u: eids.append(fake.send_slash_command(u))) for u in users
    ]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    acks = [fake.wait_for_ack(eid, timeout=5) for eid in eids]
    assert all(a.latency < 3 for a in acks), sorted(a.latency for a in acks)
    posts = [fake.wait_for_responses(key=eid, timeout=20)[0] for eid in eids]
    assert all(p.body["response_type"] == "in_channel" for p in posts)
    assert sorted(p.body["text"].split(" ", 1)[0] for p in posts) == users
    assert sim_world.network.counters("bras-norte").peak_sessions <= 4
    sim_world.quiet()


def test_ip_from_a_ticket_finds_the_subscriber(fake, bot):
    eid = fake.send_slash_command("100.64.0.10")
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith("juan.perez en bras-norte")
    assert "Encontrado por la IP 100.64.0.10" in repr(post.body["blocks"])


def test_several_matches_offer_buttons_that_post_the_chosen_one(fake, bot):
    eid = fake.send_slash_command("cliente1")
    [listing] = fake.wait_for_responses(key=eid)
    assert listing.body["response_type"] == "ephemeral"
    buttons = [b["accessory"] for b in listing.body["blocks"] if "accessory" in b]
    assert {b["value"] for b in buttons} >= {"cliente10", "cliente11"}
    assert all(b["action_id"] == "consumo_pick" for b in buttons)
    click = fake.send_block_action("consumo_pick", "cliente11")
    posts = fake.wait_for_responses(key=click, count=2)
    assert posts[0].body["response_type"] == "in_channel"
    assert posts[0].body["text"].startswith("cliente11 en bras-norte")
    assert posts[1].body["delete_original"] is True


def test_every_question_is_audited(fake, bot, sim_world):
    fake.wait_for_ack(fake.send_slash_command("juan.perez", user_id="U0AAA", channel_id="C0SOP"))
    fake.wait_for_responses(count=1)
    fake.send_app_mention(
        "<@UBOT> consumo nadie.existe", user="U0BBB", channel="C0ESC", ts="1700000500.000100"
    )
    fake.wait_for_calls("chat.postEphemeral")
    entries = {e.slack_user: e for e in audit_rows(sim_world.inventory, 2)}
    ok = entries["U0AAA"]
    assert (ok.channel, ok.source, ok.query, ok.pppoe_user, ok.node, ok.outcome) == (
        "C0SOP",
        "command",
        "juan.perez",
        "juan.perez",
        "bras-norte",
        "ok",
    )
    missing = entries["U0BBB"]
    assert (missing.channel, missing.source, missing.outcome) == ("C0ESC", "mention", "not_found")
