"""`beholder serve --http`: the real app over HTTP on loopback, with signed requests.

Requests are built as Slack builds them: form-encoded slash commands and
interactivity payloads, JSON events, signed with ``v0=HMAC-SHA256(secret,
"v0:{ts}:{body}")``. Answers go to the fake Slack (response_url, Web API);
readings come from the RouterOS simulator.
"""

from __future__ import annotations

import asyncio
import json
import queue
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.serve.http import EVENTS_PATH, serve_http
from bot.slack.ids import ACTION_REFRESH
from tests.conftest import LoopThread, beholder, serve_process, slack_settings
from tests.support.fake_slack import APP_ID, BOT_USER_ID, TEAM_ID, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documentation example
READING = "juan.perez en bras-norte: Bajada 45,2 Mbps"
FORM = "application/x-www-form-urlencoded"


def signature(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    return SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)


def post(
    url: str,
    body: str,
    content_type: str = FORM,
    *,
    secret: str | None = SIGNING_SECRET,
    timestamp: str | None = None,
    signed: bool = True,
    sig: str | None = None,
) -> tuple[int, str]:
    """POST `body` like Slack does; returns (status, response text)."""
    timestamp = timestamp or str(int(time.time()))
    headers = {"Content-Type": content_type}
    if signed:
        headers["X-Slack-Request-Timestamp"] = timestamp
        headers["X-Slack-Signature"] = sig or signature(body, timestamp, secret or "")
    request = urllib.request.Request(url, body.encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def slash_command(fake: FakeSlack, text: str, user_id: str = "U0001", key: str = "") -> str:
    return urlencode(
        {
            "token": "unused-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "fake-isp",
            "channel_id": "C0001",
            "channel_name": "soporte",
            "user_id": user_id,
            "user_name": "operador",
            "command": "/consumo",
            "text": text,
            "api_app_id": APP_ID,
            "response_url": fake.response_url(key or None),
            "trigger_id": f"1.{int(time.time())}.{uuid.uuid4().hex}",
        }
    )


def mention_event(text: str, ts: str, thread_ts: str | None = None) -> str:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": "U0001",
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": "C0001",
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return json.dumps(
        {
            "token": "unused-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def button_click(fake: FakeSlack, value: str, key: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0001", "username": "operador", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "team": {"id": TEAM_ID, "domain": "fake-isp"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0001"},
        "channel": {"id": "C0001", "name": "soporte"},
        "trigger_id": f"1.{int(time.time())}.{uuid.uuid4().hex}",
        "response_url": fake.response_url(key),
        "actions": [
            {
                "action_id": ACTION_REFRESH,
                "block_id": "consumo_actions",
                "type": "button",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


@pytest.fixture
def start_http(fake, sim_world, tmp_path) -> Iterator[Callable[..., str]]:
    """Run `serve_http` on 127.0.0.1, port 0; ``start_http(**settings)`` returns its URL."""
    threads: list[LoopThread] = []

    def start(**overrides: Any) -> str:
        settings = slack_settings(
            fake,
            db_path=tmp_path / "beholder.db",
            slack_signing_secret=SIGNING_SECRET,
            **overrides,
        )
        ready: queue.Queue[str] = queue.Queue()
        coro = serve_http(settings, "127.0.0.1", 0, sim_world.client(), on_ready=ready.put)
        threads.append(LoopThread(coro, "serve_http").start())
        return ready.get(timeout=10)

    yield start
    for thread in threads:
        thread.stop()


def routers_untouched(sim_world) -> bool:
    return all(sim_world.network.counters(n).total_connections == 0 for n in sim_world.nodes)


# -- signed requests are answered ---------------------------------------------------------


def test_signed_slash_command_is_acked_and_answered(fake, start_http):
    url = start_http()
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith(EVENTS_PATH)
    status, body = post(url, slash_command(fake, "juan.perez", key="cmd1"))
    assert status == 200
    assert body == "Consultando `juan.perez` en su router…"  # text alone: Bolt sends it plain
    [reply] = fake.wait_for_responses(key="cmd1", timeout=10)
    assert reply.body["response_type"] == "in_channel"
    assert reply.body["text"].startswith(READING)


def test_signed_mention_event_is_answered_in_its_thread(fake, start_http):
    url = start_http()
    body = mention_event("consumo juan.perez", "1700000100.000200", "1700000000.000100")
    status, _ = post(url, body, "application/json")
    assert status == 200
    [call] = fake.wait_for_calls("chat.postMessage", timeout=10)
    assert call.params["thread_ts"] == "1700000000.000100"
    assert call.params["text"].startswith(READING)


def test_signed_button_click_replaces_the_reading(fake, start_http):
    url = start_http()
    status, _ = post(url, button_click(fake, "juan.perez", "click1"))
    assert status == 200
    [reply] = fake.wait_for_responses(key="click1", timeout=10)
    assert reply.body["replace_original"] is True
    assert reply.body["text"].startswith(READING)


def test_url_verification_challenge(start_http):
    url = start_http()
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595", "type": "url_verification"}
    )
    status, answer = post(url, body, "application/json")
    assert status == 200
    assert json.loads(answer)["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595"


def test_access_control_applies_over_http_too(fake, start_http, sim_world):
    url = start_http(allowed_users=frozenset({"U0ANA1"}))
    status, body = post(url, slash_command(fake, "juan.perez", key="denied"))
    assert status == 200
    assert json.loads(body)["text"].startswith("No tenés permiso")
    assert routers_untouched(sim_world)


def test_http_mode_learns_its_installation_and_drops_other_workspaces(
    fake, start_http, sim_world, caplog
):
    """serve --http asks auth.test before serving; a signed command from
    another team is acked (200, empty) and dropped: no router, no reply."""
    url = start_http()
    assert fake.calls("auth.test")
    foreign = slash_command(fake, "juan.perez", key="foreign").replace(
        f"team_id={TEAM_ID}", "team_id=T0OTHER9"
    )
    status, body = post(url, foreign)
    assert (status, body) == (200, "")
    status, _ = post(url, slash_command(fake, "juan.perez", key="ours"))
    assert status == 200
    fake.wait_for_responses(key="ours", timeout=10)
    assert fake.responses(key="foreign") == []
    assert sum(sim_world.network.counters(n).total_connections for n in sim_world.nodes) == 1
    assert any("team_id=T0OTHER9" in r.getMessage() for r in caplog.records)


def test_serve_http_ends_running_live_views_on_its_way_out(fake, sim_world, tmp_path):
    """Regression: nothing called `LiveRegistry.shutdown` when `serve_http` stopped, so
    it returned with live views still running, their API sessions open. Now, by the time
    it returns, each view has closed its session and its message says Beholder stopped."""
    settings = slack_settings(
        fake, db_path=tmp_path / "beholder.db", slack_signing_secret=SIGNING_SECRET
    )
    ready: queue.Queue[str] = queue.Queue()
    seen: dict[str, Any] = {}

    async def serve_then_look() -> None:
        try:
            await serve_http(settings, "127.0.0.1", 0, sim_world.client(), on_ready=ready.put)
        finally:
            counters = sim_world.network.counters  # a running view keeps its session open
            for _ in range(100):
                if counters("bras-norte").active_sessions == 0:
                    break
                await asyncio.sleep(0.02)
            seen["sessions"] = counters("bras-norte").active_sessions
            seen["updates"] = [c.params.get("text", "") for c in fake.calls("chat.update")]

    thread = LoopThread(serve_then_look(), "serve_http").start()
    try:
        status, _ = post(ready.get(timeout=10), slash_command(fake, "juan.perez 30s"))
        assert status == 200
        [live] = fake.wait_for_calls("chat.postMessage", timeout=10)
        assert "Detener" in repr(live.params["blocks"])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if sim_world.network.counters("bras-norte").active_sessions == 1:
                break  # the view's session
            time.sleep(0.02)
    finally:
        thread.stop()
    assert seen["sessions"] == 0
    assert any("Interrumpida" in text for text in seen["updates"]), seen["updates"]


# -- everything else is refused before any listener -------------------------------------


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param({"secret": "not-the-signing-secret"}, id="other-secret"),
        pytest.param({"sig": "v0=" + "0" * 64}, id="made-up-signature"),
        pytest.param({"signed": False}, id="unsigned"),
        pytest.param({"timestamp": str(int(time.time()) - 301)}, id="stale"),
        pytest.param({"timestamp": "not-a-number"}, id="bad-timestamp"),
    ],
)
def test_forged_unsigned_and_stale_requests_get_401(fake, start_http, sim_world, forgery):
    url = start_http()
    status, _ = post(url, slash_command(fake, "juan.perez", key="forged"), **forgery)
    assert status == 401
    status, _ = post(
        url, mention_event("consumo juan.perez", "1700000100.000200"), "application/json", **forgery
    )
    assert status == 401
    # Genuine requests sent after them, answered: a forged one that got through
    # would have reached the routers and the fake before these did.
    status, _ = post(url, slash_command(fake, "juan.perez", key="genuine"))
    assert status == 200
    fake.wait_for_responses(key="genuine", timeout=10)
    genuine_mention = mention_event("consumo juan.perez", "1700000100.000300", "1700000000.000300")
    status, _ = post(url, genuine_mention, "application/json")
    assert status == 200
    [reply] = fake.wait_for_calls("chat.postMessage", timeout=10)
    assert reply.params["thread_ts"] == "1700000000.000300"
    assert [r.key for r in fake.responses()] == ["genuine"]
    assert sum(sim_world.network.counters(n).total_connections for n in sim_world.nodes) == 2


def test_a_body_changed_after_signing_gets_401(fake, start_http, sim_world):
    url = start_http()
    timestamp = str(int(time.time()))
    genuine = slash_command(fake, "juan.perez", key="tampered")
    sig = signature(genuine, timestamp)
    status, _ = post(
        url, genuine.replace("juan.perez", "ana.martinez"), timestamp=timestamp, sig=sig
    )
    assert status == 401
    assert routers_untouched(sim_world)


# -- the command line ------------------------------------------------------------------


def test_http_mode_needs_the_signing_secret(env):
    env = {**env, "SLACK_BOT_TOKEN": "xoxb-test"}
    result = beholder(env, "serve", "--http")
    assert result.returncode == 2
    assert "missing SLACK_SIGNING_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_without_http_is_a_usage_error(env):
    result = beholder(
        {**env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"},
        "serve",
        "--port",
        "8080",
    )
    assert result.returncode == 2
    assert "--http" in result.stderr


def test_beholder_serve_http_process_answers_and_logs_no_secret(synced, fake):
    env = {
        **synced,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_API_URL": fake.api_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "BEHOLDER_LOG_LEVEL": "DEBUG",
    }
    ready = r"serving Slack over HTTP at (\S+):"
    with serve_process(env, "--http", "--port", "0", ready=ready) as served:
        assert served.url.startswith("http://127.0.0.1:")
        status, _ = post(served.url, slash_command(fake, "juan.perez", key="proc"))
        assert status == 200
        [reply] = fake.wait_for_responses(key="proc", timeout=10)
        assert reply.body["text"].startswith(READING)
    output = served.output
    assert served.returncode in (0, 130), output
    assert "Traceback" not in output
    assert SIGNING_SECRET not in output
    assert fake.bot_token not in output
