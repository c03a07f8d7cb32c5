"""What an attacker (or an unlucky client) can do to the one HTTP listener: each
test pins a bug found by trying, through the real listener on 127.0.0.1 port 0.

Raw sockets where an HTTP client library would refuse to send the request (or
would finish it): a request line and no more, a body that never arrives, the
same header twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time

import pytest
from aiohttp import web

from bot.errors import ConfigError
from bot.serve import http, listener
from bot.serve.http import EVENTS_PATH
from bot.serve.listener import listening
from tests.api import test_api
from tests.api.test_api import TOKEN, call, conforms, routers_untouched
from tests.conftest import beholder

#: `serve_http` (what ``beholder serve --http`` runs) on its thread: Slack's events
#: and the API on one listener, against the simulator.
start_api = test_api.start_api

#: How long a test waits for the listener to close a connection it should close:
#: far beyond the shortened limits the tests set, far below what aiohttp allows.
WAIT_S = 20.0


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=WAIT_S)


def closed_by_listener(sock: socket.socket) -> bool:
    """Whether the listener closes `sock` (anything it answers first is read and
    dropped) before `WAIT_S`."""
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def exchange(base: str, request: bytes) -> tuple[int, bytes]:
    """Send `request` as is; the answer's status and body."""
    with connect(base) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


# -- connections held open ------------------------------------------------------------


def test_a_request_never_finished_is_dropped_at_the_idle_limit(start_api, monkeypatch):
    """Bug: the listener took aiohttp's default idle limit, an hour, so a client
    sending half a request line (a slowloris) held its connection, and a few
    thousand such clients every file descriptor the process has. It is dropped
    at `listener.IDLE_TIMEOUT_S`."""
    monkeypatch.setattr(listener, "IDLE_TIMEOUT_S", 0.5, raising=False)
    base = start_api()
    with connect(base) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and no more
        assert closed_by_listener(sock)


def test_a_slack_request_whose_body_never_arrives_is_dropped(start_api, monkeypatch):
    """Bug: a POST to the events URL announcing a body it never sends kept its
    connection (and a Bolt handler) for as long as the client liked: Bolt reads the
    body before checking the signature, and nothing bounded that read. The body
    must arrive within `http.BODY_TIMEOUT_S`; otherwise the answer is 408 (and
    aiohttp closes the connection after its lingering time)."""
    monkeypatch.setattr(http, "BODY_TIMEOUT_S", 0.5, raising=False)
    base = start_api()
    with connect(base) as sock:
        sock.sendall(
            f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\ncommand=".encode()
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")
    assert answer.endswith(b'{"error": "request timeout"}')


# -- every answer JSON -------------------------------------------------------------------


def test_a_newline_in_the_user_is_a_json_400_not_aiohttps_text_404(start_api, sim_world):
    """Bug: ``/live/{user:.+}`` and the catch-all ``/{tail:.*}`` both stop at a newline,
    so ``/live/%0A`` matched no route and got aiohttp's text ``404: Not Found``
    instead of the documented JSON (hypothesis's path test had found it). Now it
    reaches /live, which reads a newline as a space: nothing to look up, 400, no
    router asked."""
    base = start_api()
    answer = call(f"{base}/live/%0A")
    assert answer.status == 400
    assert conforms(answer)["error"] == "bad_request"
    assert routers_untouched(sim_world)


@pytest.mark.parametrize(
    "request_line", ["OPTIONS * HTTP/1.1", "CONNECT 127.0.0.1:80 HTTP/1.1", "GET /%0A HTTP/1.1"]
)
def test_a_request_no_route_can_match_is_a_json_404(start_api, request_line):
    """Bug: a target that is no path (``*``, an authority) or whose path holds a
    newline got aiohttp's text ``404: Not Found``; every answer is JSON."""
    base = start_api()
    status, body = exchange(
        base, f"{request_line}\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert status == 404
    assert json.loads(body)["error"] == "no_such_route"


# -- the log ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"GET /healthz HTTP/1.1\r\nX-A: a\x00b\r\n\r\n", id="nul-in-header"),
        pytest.param(b"GET /healthz HTTP/1.1\r\nX-A: " + b"a" * 9000 + b"\r\n\r\n", id="long"),
        pytest.param(b"GET /live/\xff HTTP/1.1\r\n\r\n", id="raw-byte-in-path"),
    ],
)
def test_a_malformed_request_is_no_error_in_the_log(start_api, caplog, request_bytes):
    """Bug: aiohttp logged every malformed request as ERROR with a traceback, so
    anyone who reached the port could fill the log (and page whoever watches for
    errors) at will. The client still gets a 400; the log gets no error."""
    base = start_api()
    status, _ = exchange(base, request_bytes)
    assert status == 400
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_handler_that_raises_is_still_an_error_in_the_log(caplog):
    """What stays an ERROR with its traceback: our own bug, a handler raising."""

    async def broken(request: web.Request) -> web.StreamResponse:
        raise RuntimeError("a bug of ours")

    async def ask_it() -> int:
        app = web.Application()
        app.router.add_get("/", broken)
        async with listening(app, "127.0.0.1", 0) as base:
            return (
                await asyncio.to_thread(
                    exchange, base, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
            )[0]

    assert asyncio.run(ask_it()) == 500
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.exc_info is not None
    assert "a bug of ours" in caplog.text


def test_connections_past_the_most_get_503_and_the_rest_keep_working(
    start_api, monkeypatch, caplog
):
    """Bug: the listener took every connection offered, so a client holding a few
    hundred open (each until the idle limit) took every file descriptor: accept()
    failed with EMFILE, and readings with it (a router socket needs one too).
    Past `listener.MAX_CONNECTIONS` a new connection gets a JSON 503 with
    Retry-After and is closed; once one closes, requests are served again."""
    monkeypatch.setattr(listener, "MAX_CONNECTIONS", 2, raising=False)
    base = start_api()
    held = [connect(base) for _ in range(2)]
    for sock in held:  # answered, and kept alive: both counted
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    with connect(base) as third:
        answer = b""
        while chunk := third.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503")
    assert b"Retry-After: " in head
    assert json.loads(body)["error"] == "too_many_connections"
    assert "refused with 503" in caplog.text
    held.pop().close()
    deadline = time.monotonic() + WAIT_S  # until the listener has seen it close
    while call(f"{base}/healthz", token=None).status != 200:
        assert time.monotonic() < deadline
    for sock in held:
        sock.close()


# -- the events URL's own checks ------------------------------------------------------


@pytest.mark.parametrize("timestamp", ["²", "١٧٠٠٠٠٠٠٠٠"], ids=["superscript", "arabic"])
def test_a_timestamp_of_unicode_digits_is_refused_not_a_500(start_api, caplog, timestamp):
    """Bug: ``X-Slack-Request-Timestamp: ²`` passed the middleware's ``isdigit()``
    check, and Bolt's ``int()`` then raised: a 500 and a traceback in the log.
    Any timestamp that is not ASCII digits is now a 401 before Bolt."""
    base = start_api()
    status, body = exchange(
        base,
        f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"X-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: v0=00\r\n"
        "Content-Length: 2\r\n\r\n{}".encode(),
    )
    assert (status, body) == (401, b'{"error": "invalid request"}')
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def slack_post(base: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """A POST to the events URL with a current timestamp, `headers` and `body` as is."""
    sent = {"X-Slack-Request-Timestamp": str(int(time.time())), **headers}
    head = "".join(f"{name}: {value}\r\n" for name, value in sent.items())
    return exchange(
        base,
        f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{head}"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body,
    )


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        pytest.param({"X-Slack-Signature": "v0=é"}, b"{}", 401, id="non-ascii-signature"),
        pytest.param({"X-Slack-Signature": "v0=00"}, b"command=\xff\xfe", 400, id="latin-1-body"),
        pytest.param(
            {"X-Slack-Signature": "v0=00", "Content-Type": "text/plain; charset=klingon"},
            b"{}",
            400,
            id="unknown-charset",
        ),
    ],
)
def test_a_slack_request_bolt_cannot_decode_is_refused_not_a_500(
    start_api, caplog, headers, body, status
):
    """Bug: a signature that is not ASCII made Bolt's ``hmac.compare_digest`` raise
    TypeError, and a body that is not UTF-8 (or names a charset Python lacks) made
    ``request.text()`` raise: 500s, and ERROR lines with tracebacks that anyone who
    reaches the URL could repeat. They are refused before Bolt, and nothing is
    logged as an error."""
    base = start_api()
    assert slack_post(base, headers, body) == (status, b'{"error": "invalid request"}')
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- who is asking ---------------------------------------------------------------------


@pytest.mark.parametrize("valid_first", [True, False], ids=["valid-first", "valid-second"])
def test_two_authorization_headers_are_refused(start_api, sim_world, valid_first):
    """Bug: with two ``Authorization`` headers the first one decided, so a proxy
    that adds its own after the client's (or a client that slips one in before a
    proxy's) was not what the listener checked. Two are refused, unread: 401, no
    router asked."""
    base = start_api()
    headers = [f"Authorization: Bearer {TOKEN}", "Authorization: Bearer someone-else-entirely"]
    if not valid_first:
        headers.reverse()
    status, body = exchange(
        base,
        (
            "GET /live/juan.perez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "".join(f"{h}\r\n" for h in headers)
            + "\r\n"
        ).encode(),
    )
    assert status == 401
    assert b'"unauthorized"' in body
    assert routers_untouched(sim_world)


def test_one_valid_authorization_header_still_reads(start_api):
    """The refusal of two headers leaves the ordinary case alone."""
    base = start_api()
    assert call(f"{base}/live/juan.perez").status == 200


# -- where it listens ------------------------------------------------------------------


def test_listening_beyond_loopback_warns_that_tokens_travel_in_clear(caplog):
    """Bug: ``BEHOLDER_HTTP_HOST=0.0.0.0`` (or ``serve --http --host 0.0.0.0``)
    served plain HTTP to the network without a word, though ``/live`` carries a
    bearer token and subscribers' data. Listening beyond loopback is now a
    WARNING saying to put a TLS proxy in front; loopback says nothing."""

    async def listen(host: str) -> None:
        async with listening(web.Application(), host, 0):
            pass

    caplog.set_level(logging.WARNING, logger="bot.serve.listener")
    for host in ("127.0.0.1", "::1", "localhost"):
        asyncio.run(listen(host))
    assert not caplog.records
    asyncio.run(listen("0.0.0.0"))  # and nothing connects to it
    [warning] = caplog.records
    assert "0.0.0.0" in warning.getMessage()
    assert "TLS" in warning.getMessage()


def test_socket_mode_with_its_port_taken_exits_with_one_clear_line(synced, fake):
    """Bug: ``beholder serve`` with ``BEHOLDER_HTTP_PORT`` already in use said so, then
    logged ``ERROR asyncio: Unclosed client session``: the Socket Mode handler built
    before the listener failed was never closed, and the operator was left with an
    error line that reads like a crash. Exit code 2, the port named, no ERROR line."""
    env = {
        **synced,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_APP_TOKEN": fake.app_token,
        "SLACK_API_URL": fake.api_url,
        "BEHOLDER_API_TOKENS": TOKEN,
    }
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = beholder({**env, "BEHOLDER_HTTP_PORT": str(port)}, "serve")
    assert result.returncode == 2, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert " ERROR " not in result.stderr
    assert "Unclosed" not in result.stderr


def test_a_host_not_of_this_machine_is_named_as_the_problem():
    """Bug: whatever stopped the listener, the advice was "is another process using
    that port?", also for ``BEHOLDER_HTTP_HOST`` set to an address this machine does
    not have (binding to it sends nothing). The advice now follows the cause."""

    async def listen() -> None:
        async with listening(web.Application(), "192.0.2.1", 0):  # TEST-NET-1
            pass

    with pytest.raises(ConfigError) as raised:
        asyncio.run(listen())
    assert "cannot listen on 192.0.2.1:0" in str(raised.value)
    assert "BEHOLDER_HTTP_HOST" in str(raised.value)
    assert "another process" not in str(raised.value)
