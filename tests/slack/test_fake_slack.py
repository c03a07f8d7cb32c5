"""Self-test of tests/support/fake_slack.py and bolt_runner.py with a real Bolt AsyncApp."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import aiohttp
import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.bolt_runner import BoltRunner
from tests.support.fake_slack import FakeSlack, FakeSlackTimeout


def build_app(fake: FakeSlack) -> AsyncApp:
    app = AsyncApp(client=AsyncWebClient(token="xoxb-test", base_url=fake.api_url))

    @app.command("/consumo")
    async def consumo(ack, respond, command):
        await ack("hola")
        if command["text"] == "lento":
            await asyncio.sleep(0.5)  # each request is a task: must not block the others
        await respond(text=f"r {command['text']}", response_type="in_channel")

    @app.event("app_mention")
    async def mention(event, client):
        await client.chat_postMessage(
            channel=event["channel"],
            thread_ts=event.get("thread_ts") or event["ts"],
            text=f"visto: {event['text']}",
        )

    @app.action("ver_detalle")
    async def detalle(ack, body, respond):
        await ack()
        await respond(replace_original=True, text=f"detalle {body['actions'][0]['value']}")

    return app


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


@pytest.fixture
def bot(fake: FakeSlack) -> Iterator[BoltRunner]:
    with BoltRunner(lambda: build_app(fake), fake) as runner:
        yield runner


def test_connects_with_auth_test_and_hello(fake: FakeSlack, bot: BoltRunner) -> None:
    assert fake.connections == 1
    opened = fake.calls("apps.connections.open")
    assert [c.ok for c in opened] == [True]
    assert opened[0].headers["Authorization"] == "Bearer xapp-test"
    assert fake.unexpected_messages == []


def test_slash_command_ack_and_response_url(fake: FakeSlack, bot: BoltRunner) -> None:
    eid = fake.send_slash_command("juan.perez")
    ack = fake.wait_for_ack(eid)
    assert ack.payload == {"text": "hola"}
    assert ack.latency is not None
    assert 0 <= ack.latency < 3
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["response_type"] == "in_channel"
    assert post.body["text"] == "r juan.perez"
    payload = fake.envelope(eid).payload
    assert payload["response_url"] == fake.response_url(eid)
    assert payload["command"] == "/consumo"
    # The first request made Bolt call auth.test with the bot token.
    [auth] = fake.calls("auth.test")
    assert auth.ok
    assert auth.headers["Authorization"] == "Bearer xoxb-test"


def test_app_mention_reply_in_thread(fake: FakeSlack, bot: BoltRunner) -> None:
    eid = fake.send_app_mention("consumo juan.perez", thread_ts="1699999999.000100")
    assert fake.wait_for_ack(eid).payload is None
    [call] = fake.wait_for_calls("chat.postMessage")
    assert call.ok
    assert call.params["thread_ts"] == "1699999999.000100"
    assert call.params["channel"] == "C0001"
    assert call.params["text"] == "visto: <@UBOT> consumo juan.perez"
    stored = fake.message("C0001", call.response["ts"])
    assert stored is not None
    assert stored["thread_ts"] == "1699999999.000100"


def test_block_action_on_posted_message(fake: FakeSlack, bot: BoltRunner) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    blocks = [
        {
            "type": "actions",
            "block_id": "acciones",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ver_detalle",
                    "text": {"type": "plain_text", "text": "Ver detalle"},
                    "value": "juan.perez",
                }
            ],
        }
    ]
    ts = client.chat_postMessage(channel="C0001", text="consumo", blocks=blocks)["ts"]
    eid = fake.send_block_action("ver_detalle", "juan.perez", message_ts=ts)
    fake.wait_for_ack(eid)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["replace_original"] is True
    assert post.body["text"] == "detalle juan.perez"
    payload = fake.envelope(eid).payload
    assert payload["container"]["message_ts"] == ts
    assert payload["actions"][0]["block_id"] == "acciones"
    assert payload["actions"][0]["text"]["text"] == "Ver detalle"
    assert payload["message"]["blocks"] == blocks


def test_twenty_concurrent_slow_commands_all_acked(fake: FakeSlack, bot: BoltRunner) -> None:
    started = time.monotonic()
    with_threads: list[str] = []
    lock = threading.Lock()

    def send() -> None:
        eid = fake.send_slash_command("lento")
        with lock:
            with_threads.append(eid)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acks = [fake.wait_for_ack(eid) for eid in with_threads]
    assert len({a.envelope_id for a in acks}) == 20
    assert all(a.payload == {"text": "hola"} for a in acks)
    assert max(a.latency or 0 for a in acks) < 1
    fake.wait_for_responses(count=20)
    assert time.monotonic() - started < 3  # 20 x 0.5 s would take 10 s if serialised


def test_web_api_parsing_tokens_and_faults(fake: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    # Form data with blocks as a JSON string is decoded.
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hola*"}}]
    resp = client.api_call(
        "chat.postMessage", data={"channel": "C0001", "text": "t", "blocks": json.dumps(blocks)}
    )
    assert resp["message"]["blocks"] == blocks
    assert fake.calls("chat.postMessage")[0].params["blocks"] == blocks
    first, second = fake.next_ts(), fake.next_ts()
    assert float(resp["ts"]) < float(first) < float(second)

    with pytest.raises(SlackApiError) as err:
        WebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"

    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0001", text="x", blocks=[{"type": "header"}])
    assert err.value.response["error"] == "invalid_blocks"

    fake.fail_next("chat.update", status=200, headers={}, body={"ok": False, "error": "boom"})
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C0001", ts=resp["ts"], text="x")
    assert err.value.response["error"] == "boom"
    assert client.chat_update(channel="C0001", ts=resp["ts"], text="nuevo")["ok"]
    assert fake.message("C0001", resp["ts"])["text"] == "nuevo"
    assert [c.ok for c in fake.calls("chat.update")] == [False, True]

    assert client.users_info(user="U0001")["user"]["name"] == "operador"
    assert client.conversations_info(channel="C0001")["channel"]["name"] == "soporte"
    assert client.api_call("reactions.add", json={"name": "eyes"})["ok"]

    with pytest.raises(FakeSlackTimeout, match=r"chat\.postMessage"):
        fake.wait_for_calls("chat.delete", timeout=0.05)


def test_rate_limit_retry_and_file_upload(fake: FakeSlack) -> None:
    async def scenario() -> dict:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
        fake.fail_next("chat.postMessage", headers={"Retry-After": "0"})
        posted = await client.chat_postMessage(channel="C0001", text="hola")
        upload = await client.files_upload_v2(
            channel="C0001",
            thread_ts=posted["ts"],
            content=b"\x89PNG fake",
            filename="consumo.png",
            alt_txt="gráfico",
        )
        return upload.data

    result = asyncio.run(scenario())
    assert [c.status for c in fake.calls("chat.postMessage")] == [429, 200]
    [uploaded] = fake.files
    assert uploaded.data == b"\x89PNG fake"
    assert uploaded.alt_txt == "gráfico"
    assert uploaded.thread_ts == fake.calls("chat.postMessage")[-1].response["ts"]
    assert result["file"]["id"] == uploaded.file_id


def test_dropped_call_is_recorded_and_raises_a_connection_error(fake: FakeSlack) -> None:
    """`drop_next` closes the connection unanswered: slack_sdk retries that once by
    default, so one drop goes unnoticed; without the retry it reaches the caller as
    aiohttp's ServerDisconnectedError."""

    async def scenario() -> tuple[bool, BaseException | None]:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        fake.drop_next("chat.postMessage")
        retried = (await client.chat_postMessage(channel="C0001", text="uno"))["ok"]
        fake.drop_next("chat.postMessage")
        no_retry = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
        try:
            await no_retry.chat_postMessage(channel="C0001", text="dos")
        except aiohttp.ClientError as exc:
            return retried, exc
        return retried, None

    retried, error = asyncio.run(scenario())
    assert retried
    assert isinstance(error, aiohttp.ServerDisconnectedError)
    calls = fake.calls("chat.postMessage")
    assert [c.status for c in calls] == [0, 200, 0]
    assert [c.params["text"] for c in calls] == ["uno", "uno", "dos"]
    assert not calls[0].ok
    assert [m["text"] for m in fake.messages("C0001")] == ["uno"]


def test_response_url_fault(fake: FakeSlack, bot: BoltRunner) -> None:
    fake.fail_next_response(status=404, body="expired_url")
    eid = fake.send_slash_command("x")
    [post] = fake.wait_for_responses(key=eid)
    assert post.status == 404


def test_disconnect_and_drop_reconnect(fake: FakeSlack) -> None:
    with BoltRunner(lambda: build_app(fake), fake, ping_interval=0.3):
        assert fake.send_disconnect() == 1
        fake.wait_for_connection(total=2)
        eid = fake.send_slash_command("tras refresh")
        assert fake.wait_for_ack(eid).payload == {"text": "hola"}

        assert fake.drop_connections() == 1
        fake.wait_for_connection(total=3)
        eid = fake.send_slash_command("tras caida")
        assert fake.wait_for_ack(eid).payload == {"text": "hola"}
        assert len(fake.calls("apps.connections.open")) == 3
    fake.wait_for_disconnect(timeout=2)


def test_send_without_client_fails_clearly() -> None:
    with FakeSlack(connect_wait=0.1) as fake, pytest.raises(FakeSlackTimeout, match="no Socket"):
        fake.send_slash_command("x")


def test_stop_leaves_nothing_behind() -> None:
    before = set(threading.enumerate())
    with FakeSlack() as fake, BoltRunner(lambda: build_app(fake), fake):
        eid = fake.send_slash_command("x")
        fake.wait_for_ack(eid)
        port = fake.port
    assert set(threading.enumerate()) <= before
    with pytest.raises(ConnectionRefusedError):  # nobody listens any more
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_runner_reports_connection_failures(fake: FakeSlack) -> None:
    runner = BoltRunner(lambda: build_app(fake), fake, app_token="xapp-wrong", connect_timeout=0.5)
    with pytest.raises(RuntimeError, match=r"apps\.connections\.open -> 200 .*invalid_auth"):
        runner.start()
    elsewhere = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    )
    with pytest.raises(RuntimeError, match="not the fake"):
        BoltRunner(elsewhere, fake).start()
    assert fake.connections == 0
