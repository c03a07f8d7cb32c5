"""Diagnoses in Slack, through the real Bolt app against the fake Slack and the simulator:
``/consumo USER diag``, ``@Beholder consumo USER diag`` in a thread, and the
"Diagnosticar" button of a reading. Each posts the reading with its diagnosis (the
verdict first, then the last mile's figures and the top flows) where a reading would
go; the router never sees an unbounded ``/ping`` or ``/tool/torch``, and no API
session is left open.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator

import pytest

from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.slack import parsing
from bot.slack.app import build_app
from bot.slack.ids import ACTION_DIAG
from tests.conftest import API_PASSWORD, World, audit_rows
from tests.support.bolt_runner import BoltRunner
from tests.support.diag_world import NODE

RTMP = "203.0.113.9 tcp/1935 (RTMP)"


@pytest.fixture
def start(fake, diag_world) -> Iterator[Callable[..., BoltRunner]]:
    """``start(**settings)``: the real app on `diag_world`, with those `Settings` fields."""
    runners: list[BoltRunner] = []

    def run(**overrides: object) -> BoltRunner:
        settings = Settings(
            slack_bot_token=fake.bot_token,
            slack_app_token=fake.app_token,
            slack_api_url=fake.api_url,
            **overrides,  # type: ignore[arg-type]
        )
        readings = ReadingService(diag_world.inventory, diag_world.client())
        runner = BoltRunner(lambda: build_app(settings, readings), fake).start()
        runners.append(runner)
        return runner

    yield run
    for runner in reversed(runners):
        runner.stop()


def nothing_left_running(world: World) -> None:
    """No unbounded /ping or /tool/torch reached the router; no API session is open."""
    assert world.network.counters(NODE).unbounded_commands == 0
    world.quiet()


def sent_commands(world: World) -> list[str]:
    return [words[0] for words in world.network.counters(NODE).commands if words]


def test_slash_diag_of_a_lossy_last_mile_posts_the_verdict_with_its_figures(
    fake, start, diag_world
):
    """``/consumo lossy diag`` on a 30 % loss / 45 ms path: acked "Diagnosticando…";
    posted in the channel, the last-mile verdict leads (loss ~30 %, average ~45 ms),
    before the reading; audited as ``diag`` from the command."""
    start(ping_count=10)
    eid = fake.send_slash_command("lossy diag")
    assert fake.wait_for_ack(eid).payload["text"].startswith("Diagnosticando `lossy`")
    [post] = fake.wait_for_responses(key=eid, timeout=10)
    assert post.body["response_type"] == "in_channel"
    text = post.body["text"]
    found = re.match(r"Problema en la última milla \(pérdida (\d+) %, latencia ([\d,]+) ms\)", text)
    assert found, text
    assert int(found[1]) == pytest.approx(30, abs=3)
    assert float(found[2].replace(",", ".")) == pytest.approx(45, abs=5)
    assert "7/10 respuestas" in text
    assert "lossy en bras-diag" in text  # the reading follows
    blocks = post.body["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[1]["text"]["text"].startswith(":stethoscope: *Problema en la última milla")
    nothing_left_running(diag_world)
    [entry] = audit_rows(diag_world.inventory, 1)
    assert (entry.outcome, entry.source, entry.pppoe_user) == ("diag", "command", "lossy")


def test_mention_diag_in_a_thread_names_the_dominant_rtmp_flow(fake, start, diag_world):
    """``@Beholder consumo busy diag`` in a thread: a private "Diagnosticando…", then the
    diagnosis in that thread naming the RTMP flow that fills the link, with the top
    flows listed busiest first."""
    start(ping_count=1)
    fake.send_app_mention(
        "<@UBOT> consumo busy diag", ts="1700000100.000200", thread_ts="1700000000.000100"
    )
    [note] = fake.wait_for_calls("chat.postEphemeral")
    assert note.params["text"].startswith("Diagnosticando `busy`")
    [call] = fake.wait_for_calls("chat.postMessage", timeout=10)
    assert call.params["thread_ts"] == "1700000000.000100"
    assert call.params["text"].startswith(f"La mayor parte es {RTMP}")
    shown = repr(call.params["blocks"])
    assert shown.index(RTMP) < shown.index("151.101.1.1 tcp/443 (HTTPS)")
    assert shown.index("151.101.1.1") < shown.index("8.8.8.8 udp/53 (DNS)")
    nothing_left_running(diag_world)
    [entry] = audit_rows(diag_world.inventory, 1)
    assert (entry.outcome, entry.source) == ("diag", "mention")


def test_bare_diag_in_a_ticket_thread_diagnoses_the_tickets_subscriber(fake, start, diag_world):
    """``@Beholder diag`` in an escalation thread diagnoses the subscriber the ticket
    (the thread's first message) names, as a bare mention reads him; it used to look
    up a PPPoE user called "diag"."""
    start(ping_count=1)
    fake.seed_message("C0001", "1700002000.000100", "Reclamo de busy: se corta el streaming")
    fake.send_app_mention("<@UBOT> diag", ts="1700002050.000200", thread_ts="1700002000.000100")
    [call] = fake.wait_for_calls("chat.postMessage", timeout=10)
    assert call.params["thread_ts"] == "1700002000.000100"
    assert call.params["text"].startswith(f"La mayor parte es {RTMP}")
    [entry] = audit_rows(diag_world.inventory, 1)
    assert (entry.outcome, entry.pppoe_user) == ("diag", "busy")


def test_diagnosticar_button_on_an_online_reading_posts_the_diagnosis(fake, start, diag_world):
    """An online reading carries "Diagnosticar"; clicking it tells the clicker
    "Diagnosticando…" privately, then posts the diagnosis in the channel, leaving the
    reading in place. Audited as ``diag`` from a button."""
    start(ping_count=1)
    eid = fake.send_slash_command("busy")
    [reading] = fake.wait_for_responses(key=eid)
    [actions] = [b for b in reading.body["blocks"] if b["type"] == "actions"]
    [button] = [e for e in actions["elements"] if e["action_id"] == ACTION_DIAG]
    assert (button["text"]["text"], button["value"]) == ("Diagnosticar", "busy")
    diag_world.network.reset_counters()
    click = fake.send_block_action(ACTION_DIAG, "busy", message=reading.body)
    note, post = fake.wait_for_responses(key=click, count=2, timeout=10)
    assert (note.body["response_type"], note.body["replace_original"]) == ("ephemeral", False)
    assert note.body["text"].startswith("Diagnosticando `busy`")
    assert (post.body["response_type"], post.body["replace_original"]) == ("in_channel", False)
    assert post.body["text"].startswith(f"La mayor parte es {RTMP}")
    assert sent_commands(diag_world).count("/tool/torch") == 1
    nothing_left_running(diag_world)
    entries = audit_rows(diag_world.inventory, 2)
    assert sorted((e.outcome, e.source) for e in entries) == [("diag", "button"), ("ok", "command")]


def test_offline_subscriber_gets_the_reading_and_nothing_to_diagnose(fake, start, diag_world):
    """Offline: the reading is posted with "no está conectado: no hay nada que
    diagnosticar" and what to check, no Diagnosticar button, and nothing is pinged
    or torched."""
    start(ping_count=1)
    eid = fake.send_slash_command("gone diag")
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["response_type"] == "in_channel"
    shown = repr(post.body["blocks"])
    assert "`gone` no está conectado: no hay nada que diagnosticar. Revisar la CPE" in shown
    assert ACTION_DIAG not in shown
    assert "/ping" not in sent_commands(diag_world)
    assert "/tool/torch" not in sent_commands(diag_world)
    [entry] = audit_rows(diag_world.inventory, 1)
    assert entry.outcome == "offline"


def test_router_down_gets_the_spanish_fault_in_the_channel(fake, start, diag_world):
    """The router refuses Beholder's login: the same Spanish fault a reading gets,
    in the channel, and nothing pinged."""
    start(ping_count=1)
    diag_world.network.set_fault(NODE, "bad_credentials")
    eid = fake.send_slash_command("lossy diag")
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["response_type"] == "in_channel"
    assert "rechazó el usuario o la contraseña de Beholder" in post.body["text"]
    assert API_PASSWORD not in repr(post.body)
    [entry] = audit_rows(diag_world.inventory, 1)
    assert entry.outcome == "failed:RouterAuthFailed"


def test_a_huge_forged_button_value_is_read_up_to_the_bound(fake, start, diag_world, caplog):
    """Regression: a button's value was read whole, so a forged Diagnosticar click with
    100,000 characters was logged twice at full length and echoed back in the
    "Diagnosticando…" note and the reply. It is read up to `parsing.MAX_TEXT`: both
    replies and every log line of the bot stay short; no router is asked."""
    caplog.set_level(logging.INFO)
    start(ping_count=1)
    diag_world.network.reset_counters()
    click = fake.send_block_action(ACTION_DIAG, "x" * 100_000)
    note, reply = fake.wait_for_responses(key=click, count=2, timeout=10)
    assert note.body["text"].startswith("Diagnosticando `xxx")
    assert reply.body["text"].startswith("No encontré `xxx")
    assert len(note.body["text"]) < 2 * parsing.MAX_TEXT
    assert len(reply.body["text"]) < 2 * parsing.MAX_TEXT
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert ours
    assert max(len(line) for line in ours) < 2 * parsing.MAX_TEXT
    assert sent_commands(diag_world) == []
