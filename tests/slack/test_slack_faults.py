"""Slack misbehaving: rate limits, dead response_urls, dropped Socket Mode connections.

The real Bolt app runs against the fake Slack and the RouterOS simulator (see
tests/slack/test_slack_app.py); faults are injected on the fake: `fail_next_response`
for response_url posts, `fail_next` for Web API methods, `drop_connections` and
`send_disconnect` for the websocket.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import RouterBusy, RouterTimeout
from bot.slack import delivery, replies
from bot.slack.app import SOCKET_MODE_PING_INTERVAL
from bot.slack.ids import ACTION_REFRESH

READING = "juan.perez en bras-norte: Bajada 45,2 Mbps"


def delivery_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.slack.delivery"]


def delivery_line(caplog) -> logging.LogRecord:
    """The one line delivery logs (written just after the fallback call returns)."""
    for _ in range(100):
        if delivery_lines(caplog):
            break
        time.sleep(0.02)
    [line] = delivery_lines(caplog)
    return line


# -- response_url: retried on 429, replaced by the Web API when it fails ----------------


def test_rate_limited_response_url_is_retried_after_retry_after(fake, start_bot):
    start_bot()
    fake.fail_next_response(status=429, headers={"Retry-After": "1"})
    eid = fake.send_slash_command("juan.perez")
    fake.wait_for_ack(eid)
    limited, accepted = fake.wait_for_responses(key=eid, count=2, timeout=10)
    assert (limited.status, accepted.status) == (429, 200)
    assert accepted.at - limited.at >= 1.0  # Retry-After honoured
    assert accepted.body["response_type"] == "in_channel"
    assert accepted.body["text"].startswith(READING)
    assert fake.calls("chat.postMessage") == []


def test_expired_response_url_falls_back_to_a_channel_message(fake, start_bot, caplog):
    caplog.set_level(logging.INFO)
    start_bot()
    fake.fail_next_response(status=404, headers={}, body="expired_url")
    eid = fake.send_slash_command("juan.perez", channel_id="C0SOP1")
    fake.wait_for_ack(eid)
    [call] = fake.wait_for_calls("chat.postMessage", timeout=10)
    assert call.ok
    assert call.params["channel"] == "C0SOP1"
    assert call.params["text"].startswith(READING)
    assert len(fake.responses(key=eid)) == 1  # a 404 is final: not retried
    line = delivery_line(caplog)
    assert line.levelno == logging.WARNING
    assert "HTTP 404 expired_url" in line.getMessage()
    assert "chat.postMessage" in line.getMessage()
    assert "/response/" not in line.getMessage()  # the response_url is a credential


def test_private_reply_falls_back_to_an_ephemeral_message(fake, start_bot):
    start_bot()
    fake.fail_next_response(status=500, headers={}, body="internal_error")
    eid = fake.send_slash_command("juan.peres", user_id="U0AAA1")  # a typo: only for the asker
    [call] = fake.wait_for_calls("chat.postEphemeral", timeout=10)
    assert (call.params["channel"], call.params["user"]) == ("C0001", "U0AAA1")
    assert "¿Quisiste decir: `juan.perez`" in call.params["text"]
    assert fake.calls("chat.postMessage") == []
    assert len(fake.responses(key=eid)) == 1


def test_rate_limited_past_the_retries_falls_back(fake, start_bot):
    start_bot()
    fake.fail_next_response(status=429, headers={"Retry-After": "0"}, times=3)
    eid = fake.send_slash_command("juan.perez")
    [call] = fake.wait_for_calls("chat.postMessage", timeout=15)
    assert call.params["text"].startswith(READING)
    posts = fake.responses(key=eid)
    assert [p.status for p in posts] == [429] * (1 + delivery.RATE_LIMIT_RETRIES)


def test_a_retry_after_too_long_is_not_waited_for(fake, start_bot):
    start_bot()
    fake.fail_next_response(status=429, headers={"Retry-After": "120"})
    eid = fake.send_slash_command("juan.perez")
    sent = time.monotonic()
    [call] = fake.wait_for_calls("chat.postMessage", timeout=10)
    assert call.at - sent < 5
    assert len(fake.responses(key=eid)) == 1


def test_refresh_with_a_dead_response_url_posts_the_new_reading(fake, start_bot):
    start_bot()
    fake.fail_next_response(status=404, headers={}, body="used_url")
    eid = fake.send_block_action(ACTION_REFRESH, "juan.perez", channel_id="C0SOP1")
    fake.wait_for_ack(eid)
    [call] = fake.wait_for_calls("chat.postMessage", timeout=10)
    assert call.params["channel"] == "C0SOP1"
    assert call.params["text"].startswith(READING)


def test_reply_lost_on_both_routes_is_one_error_line_and_no_crash(fake, start_bot, caplog):
    caplog.set_level(logging.INFO)
    start_bot()
    fake.fail_next_response(status=404, headers={}, body="expired_url")
    fake.fail_next(
        "chat.postMessage", status=200, headers={}, body={"ok": False, "error": "not_in_channel"}
    )
    eid = fake.send_slash_command("juan.perez")
    fake.wait_for_calls("chat.postMessage", timeout=10)
    line = delivery_line(caplog)
    assert line.levelno == logging.ERROR
    assert "not_in_channel" in line.getMessage()
    assert line.exc_info is None
    # The bot is still there for the next question.
    eid = fake.send_slash_command("juan.perez")
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith(READING)


def test_connection_errors_are_retried_then_fall_back(fake, caplog):
    """Nothing listens on the response_url's port: connection refused, retried, then the
    Web API. (Called directly: the fake Slack always answers its own response_urls.)"""
    caplog.set_level(logging.INFO)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = delivery.Target(f"http://127.0.0.1:{port}/response/x", "C0001", "U0001")

    async def run() -> str:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        return await delivery.reply(client, target, {"text": "hola"}, public=True)

    assert asyncio.run(run()) == delivery.POST_MESSAGE
    [call] = fake.calls("chat.postMessage")
    assert call.params["text"] == "hola"
    line = delivery_line(caplog)
    assert "ClientConnectorError" in line.getMessage()


def test_rate_limited_chat_post_message_is_retried(fake, start_bot):
    """Mentions answer with chat.postMessage: the app's client honours Retry-After too."""
    start_bot()
    fake.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})
    fake.send_app_mention("<@UBOT> consumo juan.perez", ts="1700000100.000200")
    limited, posted = fake.wait_for_calls("chat.postMessage", count=2, timeout=10)
    assert (limited.status, posted.ok) == (429, True)
    assert posted.params["text"].startswith(READING)


def test_a_retry_after_too_long_on_the_web_api_is_not_waited_for(fake, start_bot):
    """Regression: the app's Web API client honoured a Retry-After of any length, so a
    mention's reply could wait an hour for Slack's say-so. Now it is not retried and
    the operator is told at once (an ephemeral note in the thread)."""
    start_bot()
    fake.fail_next("chat.postMessage", status=429, headers={"Retry-After": "3600"})
    fake.send_app_mention("<@UBOT> consumo juan.perez", ts="1700000100.000200")
    [note] = fake.wait_for_calls("chat.postEphemeral", timeout=10)
    assert note.params["thread_ts"] == "1700000100.000200"
    [limited] = fake.calls("chat.postMessage")
    assert limited.status == 429


# -- Socket Mode: the connection comes back by itself ------------------------------------


@pytest.fixture
def served(start_serve) -> None:
    start_serve()


def test_serve_reconnects_after_the_connection_drops_silently(fake, served):
    """No close frame, no disconnect message: the socket just dies (NAT timeout, link
    down). The next ping notices, and the next command is answered."""
    assert fake.drop_connections() == 1
    dropped = time.monotonic()
    fake.wait_for_connection(timeout=SOCKET_MODE_PING_INTERVAL + 5, total=2)
    assert time.monotonic() - dropped <= SOCKET_MODE_PING_INTERVAL + 2
    eid = fake.send_slash_command("juan.perez")
    fake.wait_for_ack(eid)
    [post] = fake.wait_for_responses(key=eid, timeout=10)
    assert post.body["text"].startswith(READING)


def test_serve_reconnects_at_once_when_slack_asks(fake, served):
    """Slack rotates connections with a `disconnect` message: a new one opens right away."""
    assert fake.send_disconnect() == 1
    asked = time.monotonic()
    fake.wait_for_connection(timeout=5, total=2)
    assert time.monotonic() - asked < 2
    eid = fake.send_slash_command("juan.perez")
    [post] = fake.wait_for_responses(key=eid, timeout=10)
    assert post.body["text"].startswith(READING)


def test_our_own_full_queue_is_told_to_the_asker_alone_a_router_fault_to_all():
    """RouterBusy (Beholder's own sessions to a router all in use) is not news for
    the channel: it goes to the asker alone (a burst of clicks once filled the
    channel with "ocupado"); a router that failed (RouterTimeout) is still posted
    for everyone, and both say which router."""
    busy = replies.failed_reply(
        "juan.perez", RouterBusy("bras-norte", user="juan.perez", seconds=5, sessions=4)
    )
    slow = replies.failed_reply(
        "juan.perez", RouterTimeout("bras-norte", user="juan.perez", seconds=5)
    )
    assert (busy.public, slow.public) == (False, True)
    assert "bras-norte" in busy.message["text"]
    assert "bras-norte" in slow.message["text"]
