"""Answering from any message: the "Ver consumo" shortcut, and finding a subscriber in text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.domain.resolve import find_in_text
from bot.slack.app import build_app
from bot.slack.ids import SHORTCUT_MESSAGE
from tests.support.bolt_runner import BoltRunner
from tests.support.fake_slack import FakeSlack


@pytest.mark.parametrize(
    ("text", "user", "how"),
    [
        ("Cliente juan.perez dice que anda lento desde ayer", "juan.perez", "exact"),
        ("Ticket #4411: IP 100.64.0.10, reclama cortes", "juan.perez", "ip"),
        ("CPE con MAC aa-bb-cc-00-00-10 en la etiqueta", "juan.perez", "mac"),
        ("Llamó JUAN.PEREZ otra vez.", "juan.perez", "key"),
        ("el usuario es 20513, zona norte", "20513", "exact"),
    ],
)
def test_find_in_text(sim_world, text, user, how):
    match = find_in_text(sim_world.inventory, text)
    assert (match.user, match.how) == (user, how)


@pytest.mark.parametrize("text", ["Hola, ¿me ayudan?", "IP 10.9.9.9 sin abonado", ""])
def test_nothing_certain_in_text(sim_world, text):
    assert find_in_text(sim_world.inventory, text) is None


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


@pytest.fixture
def bot(fake, sim_world) -> Iterator[BoltRunner]:
    settings = Settings(
        slack_bot_token=fake.bot_token, slack_app_token=fake.app_token, slack_api_url=fake.api_url
    )
    readings = ReadingService(sim_world.inventory, sim_world.client())

    with BoltRunner(lambda: build_app(settings, readings), fake) as runner:
        yield runner


def message_action(
    text: str, ts: str, thread_ts: str | None = None, response_url: str = ""
) -> dict:
    message = {"type": "message", "user": "U0CLIENTE", "ts": ts, "text": text}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "callback_id": SHORTCUT_MESSAGE,
        "trigger_id": "1.2.3",
        "team": {"id": "T0001", "domain": "isp"},
        "user": {"id": "U0001", "name": "operador"},
        "channel": {"id": "C0001", "name": "soporte"},
        "message": message,
        "message_ts": ts,
        "response_url": response_url,
        "token": "x",
    }


def test_shortcut_answers_in_the_message_thread(fake, bot):
    fake.send_envelope(
        "interactive", message_action("Ticket: IP 100.64.0.10 anda lento", "1700000900.000100")
    )
    [call] = fake.wait_for_calls("chat.postMessage")
    assert call.params["thread_ts"] == "1700000900.000100"
    assert call.params["text"].startswith("juan.perez en bras-norte")
    assert "Encontrado por la IP" not in repr(call.params)  # exact follow-up: the reading itself


def test_shortcut_on_a_reply_keeps_to_its_thread(fake, bot):
    fake.send_envelope(
        "interactive",
        message_action("20513 sigue sin servicio", "1700000950.000200", "1700000900.000100"),
    )
    [call] = fake.wait_for_calls("chat.postMessage")
    assert call.params["thread_ts"] == "1700000900.000100"


def test_shortcut_with_nothing_found_tells_only_the_operator(fake, bot):
    action = message_action(
        "Hola, buen día", "1700000990.000100", response_url=fake.response_url("sc")
    )
    fake.send_envelope("interactive", action)
    [note] = fake.wait_for_responses(key="sc")
    assert note.body["response_type"] == "ephemeral"
    assert "No encontré un usuario PPPoE" in note.body["text"]
    assert fake.calls("chat.postMessage") == []


def test_mention_without_user_in_a_thread_takes_the_ticket(fake, bot):
    fake.seed_message("C0001", "1700001000.000100", "Reclamo de 20513: internet lento desde ayer")
    fake.send_app_mention("<@UBOT>", ts="1700001050.000200", thread_ts="1700001000.000100")
    [call] = fake.wait_for_calls("chat.postMessage")
    assert call.params["thread_ts"] == "1700001000.000100"
    assert call.params["text"].startswith("20513 en bras-norte")


def test_mention_without_user_and_nothing_in_the_ticket_gets_usage(fake, bot):
    fake.seed_message("C0001", "1700001100.000100", "Hola, ¿alguien me ayuda?")
    fake.send_app_mention("<@UBOT>", ts="1700001150.000200", thread_ts="1700001100.000100")
    [call] = fake.wait_for_calls("chat.postEphemeral")
    assert (call.params["thread_ts"], call.params["user"]) == ("1700001100.000100", "U0001")
    assert "Uso:" in call.params["text"]
    assert fake.calls("chat.postMessage") == []


def test_consumo_with_seconds_starts_a_live_view(fake, bot):
    eid = fake.send_slash_command("juan.perez 3s")
    assert "Consultando" in fake.wait_for_ack(eid).payload["text"]
    [post] = fake.wait_for_calls("chat.postMessage", timeout=10)
    assert post.params["channel"] == "C0001"
    fake.wait_for_calls("files.completeUploadExternal", timeout=15)
