"""A local fake of the Slack platform for tests: Web API, ``response_url`` and Socket Mode.

``FakeSlack`` is an aiohttp server on ``127.0.0.1`` (port 0) running on its own thread and
event loop, so plain synchronous pytest functions can drive it while the bot runs on another
thread (see ``tests/support/bolt_runner.py``).

    with FakeSlack() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        ...
        eid = fake.send_slash_command("juan.perez")
        assert fake.wait_for_ack(eid).payload == {"text": "..."}
        [post] = fake.wait_for_responses(key=eid)   # the response_url key IS the envelope_id

What it serves:

* ``POST /api/<method>`` - the Web API. Bodies may be form-urlencoded, multipart or JSON, and
  parameters may also come in the query string (slack_sdk sends ``params=`` that way).
  ``blocks``/``attachments``/... sent as JSON strings inside form data are decoded. Every call is
  recorded as an :class:`ApiCall`. Tokens: the bot token works everywhere but ``apps.*``;
  the app token only for ``apps.*`` and ``auth.test``; otherwise ``invalid_auth``
  (``not_authed`` when none, ``not_allowed_token_type`` for the other known token).
* ``POST /upload/<file_id>`` - the upload URL of ``files.getUploadURLExternal``.
* ``POST /response/<key>`` - ``response_url`` targets, recorded as :class:`ResponsePost`.
* ``GET /link/`` - the Socket Mode websocket handed out by ``apps.connections.open``. Client
  acks are recorded as :class:`Ack`.

Messages posted with ``chat.postMessage`` (and edited by ``chat.update``/``chat.delete``) are
kept in a small store (:meth:`FakeSlack.message`), so a test can "click" a button on a message
the bot really posted: ``send_block_action(..., message_ts=ts)``.

Block Kit payloads are checked against Slack's documented limits (50 blocks, section text 3000,
fields 10 x 2000, header 150, ...); violations answer ``invalid_blocks`` like Slack does.
Pass ``validate_blocks=False`` to turn that off.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import mimetypes
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import WSCloseCode, WSMsgType, web

from bot.slack.tokens import MANIFEST_BOT_SCOPES

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
TEAM_ID = "T0001"
TEAM_DOMAIN = "fake-isp"
TEAM_NAME = "Fake ISP"
APP_ID = "A0001"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "beholder"
VERIFICATION_TOKEN = "fake-verification-token"

# Parameters slack_sdk serialises to JSON strings when it sends form data.
_JSON_PARAMS = frozenset(
    {"blocks", "attachments", "files", "metadata", "view", "outputs", "user_auth_blocks"}
)
# Default user / channel names for users.info and conversations.info.
_DEFAULT_USERS = {"U0001": "operador", BOT_USER_ID: BOT_NAME}
_DEFAULT_CHANNELS = {"C0001": "soporte"}

T = TypeVar("T")


class FakeSlackTimeout(AssertionError):
    """A wait_for_* helper timed out. The message lists what the fake did receive."""


@dataclass(frozen=True)
class ApiCall:
    """One Web API request. ``params`` merges query string and body, with JSON fields decoded
    and the token removed. ``response`` is what the fake answered (dict, or str); a call
    answered by dropping the connection (`FakeSlack.drop_next`) has status 0, response None."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    response: Any = None

    @property
    def ok(self) -> bool:
        return (
            self.status == 200 and isinstance(self.response, dict) and bool(self.response.get("ok"))
        )


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a ``response_url``. ``status`` is what the fake answered."""

    key: str
    body: dict[str, Any]
    at: float
    status: int = 200


@dataclass(frozen=True)
class Ack:
    """A Socket Mode ack. ``latency`` = ack time - send time of that envelope (None when the
    envelope_id was never sent by this fake)."""

    envelope_id: str
    payload: dict[str, Any] | None
    at: float
    latency: float | None


@dataclass(frozen=True)
class SentEnvelope:
    """An envelope pushed over the websocket. ``response_key`` is the key of its response_url
    (equal to ``envelope_id`` for slash commands and block actions, else None)."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    sent_at: float
    connection_id: int
    response_key: str | None


@dataclass(frozen=True)
class UploadedFile:
    """A file going through files.getUploadURLExternal -> upload URL -> completeUploadExternal."""

    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class _Fault:
    status: int
    headers: dict[str, str]
    body: Any
    remaining: int
    #: Close the connection without answering (``status`` and ``body`` unused).
    drop: bool = False


@dataclass
class _Conn:
    id: int
    ws: web.WebSocketResponse
    request: web.Request
    ticket: str | None
    opened_at: float = field(default_factory=time.monotonic)

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()


def shutdown_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left on a (stopped, not running) loop, drain it and close it."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _bearer(value: str | None) -> str | None:
    if value and value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return None


def _decode_json_params(params: dict[str, Any]) -> None:
    for name in _JSON_PARAMS:
        value = params.get(name)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return ""


def _text_object_errors(where: str, obj: Any, limit: int, plain_only: bool = False) -> list[str]:
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in allowed or "text" not in obj:
        return [f"{where}: must be a text object with type in {allowed} and a text"]
    if len(str(obj["text"])) > limit:
        return [f"{where}: must be at most {limit} characters (got {len(str(obj['text']))})"]
    return []


def block_errors(blocks: Any) -> list[str]:
    """Check Block Kit against Slack's documented limits. Empty list = valid."""
    if not isinstance(blocks, list):
        return ["blocks: must be an array"]
    errors: list[str] = []
    if len(blocks) > 50:
        errors.append(f"blocks: at most 50 blocks (got {len(blocks)})")
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"{where}: must be an object with a type")
            continue
        kind = block["type"]
        block_id = block.get("block_id")
        if block_id is not None and len(str(block_id)) > 255:
            errors.append(f"{where}.block_id: at most 255 characters")
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                errors.append(f"{where}: a section needs text or fields")
            if text is not None:
                errors += _text_object_errors(f"{where}.text", text, 3000)
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(f"{where}.fields: an array of at most 10 items")
                else:
                    for j, f in enumerate(fields):
                        errors += _text_object_errors(f"{where}.fields[{j}]", f, 2000)
        elif kind == "header":
            errors += _text_object_errors(f"{where}.text", block.get("text"), 150, True)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                errors.append(f"{where}.elements: an array of 1 to 10 items")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                errors.append(f"{where}.elements: an array of 1 to 25 items")
                continue
            for j, element in enumerate(elements):
                ewhere = f"{where}.elements[{j}]"
                if not isinstance(element, dict):
                    errors.append(f"{ewhere}: must be an object")
                    continue
                if len(str(element.get("action_id", ""))) > 255:
                    errors.append(f"{ewhere}.action_id: at most 255 characters")
                if element.get("type") == "button":
                    errors += _text_object_errors(f"{ewhere}.text", element.get("text"), 75, True)
                    if len(str(element.get("value", ""))) > 2000:
                        errors.append(f"{ewhere}.value: at most 2000 characters")
    return errors


def _summarize_call(call: ApiCall) -> str:
    bits = [f"{call.method}"]
    if not call.ok:
        err = call.response.get("error") if isinstance(call.response, dict) else call.response
        bits.append(f"->{call.status}:{err}")
    for name in ("channel", "ts", "thread_ts", "user"):
        if name in call.params:
            bits.append(f"{name}={call.params[name]}")
    if "text" in call.params:
        bits.append(f"text={str(call.params['text'])[:60]!r}")
    return " ".join(bits)


def _tail(items: list[str], n: int = 25) -> str:
    if not items:
        return "  (none)"
    shown = items[-n:]
    more = f"  ... {len(items) - n} earlier\n" if len(items) > n else ""
    return more + "\n".join(f"  {s}" for s in shown)


class FakeSlack:
    """Fake Slack on loopback. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        connect_wait: float = 5.0,
        validate_blocks: bool = True,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.connect_wait = connect_wait
        self.validate_blocks = validate_blocks
        #: The bot token's scopes, sent as Slack does in every bot-token answer's
        #: ``x-oauth-scopes`` header (None: no header); by default the manifest's.
        self.scopes: frozenset[str] | None = frozenset(MANIFEST_BOT_SCOPES)
        self.users: dict[str, str] = dict(_DEFAULT_USERS)
        self.channels: dict[str, str] = dict(_DEFAULT_CHANNELS)

        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        #: While set, new websocket connections are refused (Slack unreachable).
        self._refusing = False

        self._calls: list[ApiCall] = []
        self._responses: list[ResponsePost] = []
        self._acks: list[Ack] = []
        self._sent: dict[str, SentEnvelope] = {}
        self._unexpected: list[str] = []
        self._conns: dict[int, _Conn] = {}
        self._total_connections = 0
        self._tickets: list[str] = []
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._files: dict[str, UploadedFile] = {}
        self._api_faults: dict[str, list[_Fault]] = {}
        self._response_faults: dict[str | None, list[_Fault]] = {}
        self._ids = itertools.count(1)
        self._ts_counter = itertools.count()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FakeSlack:
        if self._thread is not None:
            raise RuntimeError("FakeSlack is already started")
        self._closing = False
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=self._thread_main, name="FakeSlack", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._astart(), loop).result(timeout=10)
        except BaseException:
            self._stop_thread()
            raise
        return self

    def stop(self) -> None:
        """Close websockets, the server, its loop and thread. Idempotent."""
        if self._thread is None or self._loop is None:
            return
        try:
            if self._runner is not None:
                asyncio.run_coroutine_threadsafe(self._astop(), self._loop).result(timeout=10)
        finally:
            self._stop_thread()

    def _thread_main(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            shutdown_loop(self._loop)

    def _stop_thread(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
            if thread.is_alive():
                raise RuntimeError("FakeSlack thread did not stop within 10 s")
        self._thread = None
        self._loop = None
        self._runner = None

    async def _astart(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/response/{key}", self._handle_response)
        app.router.add_get("/link/", self._handle_ws)
        app.router.add_get("/link", self._handle_ws)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def _astop(self) -> None:
        assert self._runner is not None
        self._closing = True
        for site in list(self._runner.sites):
            await site.stop()  # stop accepting new connections first
        with self._cond:
            conns = list(self._conns.values())
        await asyncio.gather(*(self._close_conn(c) for c in conns))
        await self._runner.cleanup()

    @staticmethod
    async def _close_conn(conn: _Conn) -> None:
        try:
            await asyncio.wait_for(
                conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake slack stopping"), 2
            )
        except (TimeoutError, ConnectionError):
            conn.abort()

    def _run(self, coro: Any, timeout: float = 5.0) -> Any:
        """Run a coroutine on the fake's loop from another thread."""
        loop = self._require_loop()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("FakeSlack's synchronous API cannot be used from its own loop")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=timeout)

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return self._loop

    # ------------------------------------------------------------------ URLs

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Give this to WebClient/AsyncWebClient(base_url=...). Trailing slash required."""
        return f"{self.base_url}/api/"

    def response_url(self, key: str | None = None) -> str:
        """A fresh response_url; POSTs to it are recorded under ``key``."""
        return f"{self.base_url}/response/{key or uuid.uuid4().hex}"

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls to ``method`` answer ``status``/``headers``/``body``
        (defaults: 429, Retry-After 1, ``{"ok": false, "error": "ratelimited"}``). They are
        still recorded. ``body`` may be a dict (JSON) or a str."""
        fault = _Fault(
            status=status,
            headers={"Retry-After": "1"} if headers is None else dict(headers),
            body={"ok": False, "error": "ratelimited"} if body is None else body,
            remaining=times,
        )
        with self._cond:
            self._api_faults.setdefault(method, []).append(fault)

    def drop_next(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` are read, recorded (status 0, response
        None) and answered by closing the connection: what a client sees when Slack or a
        proxy on the way resets it mid-request (aiohttp raises ServerDisconnectedError).
        slack_sdk retries that once by default: ``times=2`` makes the call fail."""
        fault = _Fault(status=0, headers={}, body=None, remaining=times, drop=True)
        with self._cond:
            self._api_faults.setdefault(method, []).append(fault)

    def fail_next_response(
        self,
        key: str | None = None,
        status: int = 429,
        headers: dict[str, str] | None = None,
        body: Any = "rate_limited",
        times: int = 1,
    ) -> None:
        """Same as fail_next for response_url posts; ``key=None`` matches any key."""
        fault = _Fault(
            status=status,
            headers={"Retry-After": "1"} if headers is None else dict(headers),
            body=body,
            remaining=times,
        )
        with self._cond:
            self._response_faults.setdefault(key, []).append(fault)

    def _take_fault(self, faults: dict[Any, list[_Fault]], *keys: Any) -> _Fault | None:
        with self._cond:
            for key in keys:
                queue = faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.pop(0)
                    return fault
        return None

    # ------------------------------------------------------------------ accessors

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def responses(self, key: str | None = None) -> list[ResponsePost]:
        with self._cond:
            return [r for r in self._responses if key is None or r.key == key]

    @property
    def acks(self) -> list[Ack]:
        with self._cond:
            return list(self._acks)

    @property
    def envelopes(self) -> list[SentEnvelope]:
        with self._cond:
            return list(self._sent.values())

    def envelope(self, envelope_id: str) -> SentEnvelope:
        with self._cond:
            return self._sent[envelope_id]

    @property
    def unexpected_messages(self) -> list[str]:
        """Websocket messages from the client that were not acks."""
        with self._cond:
            return list(self._unexpected)

    @property
    def connections(self) -> int:
        """Number of open Socket Mode websockets."""
        with self._cond:
            return len(self._conns)

    @property
    def total_connections(self) -> int:
        """Number of Socket Mode websockets ever accepted (reconnects included)."""
        with self._cond:
            return self._total_connections

    @property
    def tickets(self) -> list[str]:
        """The Socket Mode tickets handed out by ``apps.connections.open`` (credentials)."""
        with self._cond:
            return list(self._tickets)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """Current state of a message posted through chat.postMessage (None if unknown/deleted)."""
        with self._cond:
            msg = self._messages.get((channel, ts))
            return json.loads(json.dumps(msg)) if msg is not None else None

    def seed_message(
        self,
        channel: str,
        ts: str,
        text: str,
        user: str = "U0CLIENTE",
        thread_ts: str | None = None,
    ) -> None:
        """A message people wrote (not the bot), e.g. the ticket that opens a thread."""
        message = {"type": "message", "user": user, "ts": ts, "text": text}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._cond:
            self._messages[(channel, ts)] = message

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            found = [m for (ch, _), m in self._messages.items() if channel in (None, ch)]
            return json.loads(json.dumps(found))

    @property
    def files(self) -> list[UploadedFile]:
        """Files whose upload was completed with files.completeUploadExternal."""
        with self._cond:
            return [f for f in self._files.values() if f.completed]

    def clear(self) -> None:
        """Forget recorded calls, responses, acks and envelopes (connections stay)."""
        with self._cond:
            self._calls.clear()
            self._responses.clear()
            self._acks.clear()
            self._sent.clear()
            self._unexpected.clear()

    # ------------------------------------------------------------------ waiting

    def _wait(
        self, fetch: Callable[[], T | None], timeout: float, describe: Callable[[], str]
    ) -> T:
        if threading.current_thread() is self._thread:
            raise RuntimeError("FakeSlack wait helpers cannot be used from its own loop")
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = fetch()
                if result is not None:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FakeSlackTimeout(f"timed out after {timeout}s: {describe()}")
                self._cond.wait(remaining)

    def wait_for_connection(self, timeout: float = 5.0, *, total: int = 1) -> int:
        """Wait until a websocket is open and at least ``total`` were ever accepted (use
        ``total=2`` after a drop to wait for the reconnect). Returns the open count."""

        def fetch() -> int | None:
            ok = self._conns and self._total_connections >= total
            return len(self._conns) if ok else None

        return self._wait(fetch, timeout, lambda: self._describe_connection(total))

    def wait_for_disconnect(self, timeout: float = 5.0) -> None:
        """Wait until no websocket is open (the server side notices a client's close a moment
        after the client's close() returns)."""
        self._wait(
            lambda: True if not self._conns else None,
            timeout,
            lambda: f"{len(self._conns)} websocket(s) still open",
        )

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        def fetch() -> Ack | None:
            return next((a for a in self._acks if a.envelope_id == envelope_id), None)

        def describe() -> str:
            env = self._sent.get(envelope_id)
            what = f"{env.type} envelope" if env else "envelope never sent by this fake"
            acked = [f"{a.envelope_id} payload={a.payload}" for a in self._acks]
            return (
                f"no ack for {envelope_id} ({what}); open connections: {len(self._conns)}\n"
                f"acks received:\n{_tail(acked)}\n"
                f"API calls:\n{_tail([_summarize_call(c) for c in self._calls])}"
            )

        return self._wait(fetch, timeout, describe)

    def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[ApiCall], bool] | None = None,
    ) -> list[ApiCall]:
        """Wait for ``count`` calls to ``method`` (matching ``predicate``); returns all the
        matching calls so far (failed ones included: see ``ApiCall.ok``)."""

        def matching() -> list[ApiCall]:
            return [
                c for c in self._calls if c.method == method and (predicate is None or predicate(c))
            ]

        def fetch() -> list[ApiCall] | None:
            found = matching()
            return found if len(found) >= count else None

        def describe() -> str:
            return (
                f"wanted {count} call(s) to {method}"
                f"{' matching predicate' if predicate else ''}, got {len(matching())}\n"
                f"API calls received:\n{_tail([_summarize_call(c) for c in self._calls])}"
            )

        return self._wait(fetch, timeout, describe)

    def wait_for_responses(
        self, count: int = 1, timeout: float = 5.0, key: str | None = None
    ) -> list[ResponsePost]:
        """Wait for ``count`` response_url posts (to ``key`` if given); returns all so far."""

        def matching() -> list[ResponsePost]:
            return [r for r in self._responses if key is None or r.key == key]

        def fetch() -> list[ResponsePost] | None:
            found = matching()
            return found if len(found) >= count else None

        def describe() -> str:
            posts = [f"{r.key}: {json.dumps(r.body)[:120]}" for r in self._responses]
            return (
                f"wanted {count} response_url post(s){f' to {key}' if key else ''}, "
                f"got {len(matching())}\nresponse_url posts received:\n{_tail(posts)}\n"
                f"acks received: {len(self._acks)}; "
                f"API calls:\n{_tail([_summarize_call(c) for c in self._calls])}"
            )

        return self._wait(fetch, timeout, describe)

    def _describe_connection(self, total: int = 1) -> str:
        return (
            f"no Socket Mode client connected (open: {len(self._conns)}, ever: "
            f"{self._total_connections}, wanted ever >= {total})\n"
            f"API calls received:\n{_tail([_summarize_call(c) for c in self._calls])}"
        )

    # ------------------------------------------------------------------ ids

    def _next_id(self) -> int:
        with self._cond:
            return next(self._ids)

    def next_ts(self) -> str:
        """A fresh, increasing message ts ("1700000000.000100" style)."""
        with self._cond:
            value = 1_700_000_000_000_100 + next(self._ts_counter) * 100
        return f"{value // 1_000_000}.{value % 1_000_000:06d}"

    def _trigger_id(self) -> str:
        return f"{self._next_id()}.{int(time.time())}.{uuid.uuid4().hex}"

    # ------------------------------------------------------------------ envelope senders

    def send_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        envelope_id: str | None = None,
        response_key: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Push a raw envelope to the newest connection; returns its envelope_id."""
        eid = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": eid,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            **(extra or {}),
        }
        try:
            self.wait_for_connection(self.connect_wait)
        except FakeSlackTimeout as exc:
            raise FakeSlackTimeout(f"cannot send {type_} envelope: {exc}") from None
        self._run(self._asend(envelope, response_key))
        return eid

    async def _asend(self, envelope: dict[str, Any], response_key: str | None) -> None:
        with self._cond:
            open_conns = [c for c in self._conns.values() if not c.ws.closed]
            if not open_conns:
                raise RuntimeError(self._describe_connection())
            conn = open_conns[-1]
            self._sent[envelope["envelope_id"]] = SentEnvelope(
                envelope_id=envelope["envelope_id"],
                type=envelope["type"],
                payload=envelope["payload"],
                sent_at=time.monotonic(),
                connection_id=conn.id,
                response_key=response_key,
            )
        await conn.ws.send_str(json.dumps(envelope))

    def send_slash_command(
        self,
        text: str,
        command: str = "/consumo",
        user_id: str = "U0001",
        user_name: str = "operador",
        channel_id: str = "C0001",
        channel_name: str = "soporte",
        *,
        team_id: str = TEAM_ID,
        api_app_id: str = APP_ID,
    ) -> str:
        """Send a slash command; returns the envelope_id, which is also the response_url key.
        ``team_id`` / ``api_app_id``: as from another workspace or app."""
        eid = str(uuid.uuid4())
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url(eid),
            "trigger_id": self._trigger_id(),
        }
        return self.send_envelope(
            "slash_commands",
            payload,
            accepts_response_payload=True,
            envelope_id=eid,
            response_key=eid,
        )

    def send_event(
        self,
        event: dict[str, Any],
        *,
        retry_attempt: int = 0,
        team_id: str = TEAM_ID,
        api_app_id: str = APP_ID,
    ) -> str:
        """Send an Events API envelope wrapping ``event``; returns the envelope_id.
        ``team_id`` / ``api_app_id``: as delivered to another installation or app."""
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "context_team_id": team_id,
            "context_enterprise_id": None,
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{self._next_id():08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-fake-{uuid.uuid4().hex}",
        }
        return self.send_envelope(
            "events_api",
            payload,
            extra={
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
            },
        )

    def send_app_mention(
        self,
        text: str,
        channel: str = "C0001",
        user: str = "U0001",
        ts: str | None = None,
        thread_ts: str | None = None,
        *,
        mention: bool = True,
    ) -> str:
        """Send an app_mention event. With ``mention=True`` (default) ``<@UBOT> `` is prepended
        when the text does not already mention the bot, as a real mention always does.
        ``ts`` defaults to a fresh ts (see ``envelope(eid).payload["event"]["ts"]``)."""
        tag = f"<@{BOT_USER_ID}>"
        if mention and tag not in text:
            text = f"{tag} {text}"
        ts = ts or self.next_ts()
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "ts": ts,
            "client_msg_id": str(uuid.uuid4()),
            "team": TEAM_ID,
            "channel": channel,
            "event_ts": ts,
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return self.send_event(event)

    def send_block_action(
        self,
        action_id: str,
        value: str,
        channel_id: str = "C0001",
        user_id: str = "U0001",
        message: dict[str, Any] | None = None,
        message_ts: str | None = None,
        thread_ts: str | None = None,
        *,
        block_id: str | None = None,
        user_name: str = "operador",
        channel_name: str | None = None,
    ) -> str:
        """Click a button. The message is ``message``, else the stored message at
        (channel_id, message_ts) if the bot posted it here, else a made-up bot message holding
        the button. Returns the envelope_id, which is also the response_url key."""
        if message is None and message_ts is not None:
            message = self.message(channel_id, message_ts)
        ts = message_ts or (message or {}).get("ts") or self.next_ts()
        if message is None:
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": "fake message",
                "team": TEAM_ID,
                "blocks": [
                    {
                        "type": "actions",
                        "block_id": block_id or "fake_actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": action_id,
                                "text": {"type": "plain_text", "text": "Button", "emoji": True},
                                "value": value,
                            }
                        ],
                    }
                ],
            }
        message = {**json.loads(json.dumps(message)), "ts": ts}
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        button_text = "Button"
        for block in message.get("blocks") or []:
            for element in block.get("elements") or [] if isinstance(block, dict) else []:
                if isinstance(element, dict) and element.get("action_id") == action_id:
                    block_id = block_id or block.get("block_id")
                    button_text = _text_of(element.get("text")) or button_text
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        if thread_ts is not None:
            container["thread_ts"] = thread_ts
        eid = str(uuid.uuid4())
        payload = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": container,
            "trigger_id": self._trigger_id(),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {
                "id": channel_id,
                "name": channel_name or self.channels.get(channel_id, channel_id.lower()),
            },
            "message": message,
            "state": {"values": {}},
            "response_url": self.response_url(eid),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id or "fake_actions",
                    "text": {"type": "plain_text", "text": button_text, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.send_envelope("interactive", payload, envelope_id=eid, response_key=eid)

    def send_disconnect(self, reason: str = "refresh_requested") -> int:
        """Send ``{"type": "disconnect"}`` to every open connection; returns how many."""
        msg = json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}})

        async def send_all() -> int:
            with self._cond:
                conns = [c for c in self._conns.values() if not c.ws.closed]
            for conn in conns:
                with contextlib.suppress(ConnectionError):
                    await conn.ws.send_str(msg)
            return len(conns)

        return self._run(send_all())

    def refuse_connections(self, refuse: bool = True) -> None:
        """While `refuse`, new websocket connections get HTTP 503: Slack unreachable,
        so a dropped connection stays down until this is called with False."""
        self._refusing = refuse

    def drop_connections(self) -> int:
        """Abort every websocket's TCP connection (no close frame); returns how many."""

        async def drop_all() -> int:
            with self._cond:
                conns = list(self._conns.values())
            for conn in conns:
                conn.abort()
            return len(conns)

        return self._run(drop_all())

    # ------------------------------------------------------------------ websocket

    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        if self._closing or self._refusing:
            return web.Response(status=503, text="fake slack stopping")
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)
        await ws.prepare(request)
        conn = _Conn(id=self._next_id(), ws=ws, request=request, ticket=request.query.get("ticket"))
        with self._cond:
            num = len(self._conns) + 1
        hello = {
            "type": "hello",
            "num_connections": num,
            "debug_info": {
                "host": "fake",
                "started": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": APP_ID},
        }
        try:
            await ws.send_str(json.dumps(hello))
        except ConnectionError:
            return ws
        with self._cond:
            self._conns[conn.id] = conn
            self._total_connections += 1
            self._cond.notify_all()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_client_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._on_client_text(msg.data.decode("utf-8", "replace"))
        finally:
            with self._cond:
                self._conns.pop(conn.id, None)
                self._cond.notify_all()
        return ws

    def _on_client_text(self, raw: str) -> None:
        now = time.monotonic()
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        with self._cond:
            if isinstance(data, dict) and isinstance(data.get("envelope_id"), str):
                sent = self._sent.get(data["envelope_id"])
                self._acks.append(
                    Ack(
                        envelope_id=data["envelope_id"],
                        payload=data.get("payload"),
                        at=now,
                        latency=(now - sent.sent_at) if sent else None,
                    )
                )
            else:
                self._unexpected.append(raw)
            self._cond.notify_all()

    # ------------------------------------------------------------------ HTTP handlers

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            ctype = request.content_type
            if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for name, value in form.items():
                    params[name] = value.file.read() if isinstance(value, web.FileField) else value
            else:
                raw = await request.read()
                text = raw.decode("utf-8", "replace")
                try:
                    data = json.loads(text) if text.strip() else {}
                except ValueError:
                    data = dict(parse_qsl(text, keep_blank_values=True))
                if isinstance(data, dict):
                    params.update(data)
        _decode_json_params(params)
        return params

    @staticmethod
    def _reply(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
        if isinstance(body, (dict, list)):
            return web.json_response(body, status=status, headers=headers)
        return web.Response(text=str(body), status=status, headers=headers)

    def _auth_error(self, method: str, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        app_ok = method.startswith("apps.") or method == "auth.test"
        if token == self.app_token:
            return None if app_ok else "not_allowed_token_type"
        if token == self.bot_token:
            return "not_allowed_token_type" if method.startswith("apps.") else None
        return "invalid_auth"

    async def _handle_api(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        method = request.match_info["method"]
        params = await self._read_params(request)
        body_token = params.pop("token", None)
        token = _bearer(request.headers.get("Authorization")) or body_token
        headers: dict[str, str] = {}
        status = 200
        fault = self._take_fault(self._api_faults, method)
        if fault is not None and fault.drop:
            with self._cond:
                self._calls.append(ApiCall(method, params, dict(request.headers), at, 0, None))
                self._cond.notify_all()
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)  # never written: the connection is gone
        if fault is not None:
            status, headers, body = fault.status, fault.headers, fault.body
        else:
            error = self._auth_error(method, token)
            if error is not None:
                body = {"ok": False, "error": error}
            else:
                handler = self._methods().get(method)
                body = handler(params) if handler else {"ok": True}
                if token == self.bot_token and self.scopes is not None:
                    headers["x-oauth-scopes"] = ",".join(sorted(self.scopes))
        call = ApiCall(method, params, dict(request.headers), at, status, body)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        return self._reply(status, body, headers)

    async def _handle_response(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        key = request.match_info["key"]
        raw = (await request.read()).decode("utf-8", "replace")
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = {"_raw": raw}
        if not isinstance(body, dict):
            body = {"_raw": raw}
        _decode_json_params(body)
        headers: dict[str, str] = {}
        fault = self._take_fault(self._response_faults, key, None)
        if fault is not None:
            status, headers, answer = fault.status, fault.headers, fault.body
        elif self.validate_blocks and "blocks" in body and block_errors(body["blocks"]):
            status, answer = 400, "invalid_blocks"
        else:
            status, answer = 200, "ok"
        with self._cond:
            self._responses.append(ResponsePost(key, body, at, status))
            self._cond.notify_all()
        return self._reply(status, answer, headers)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if request.content_type == "multipart/form-data":
            form = await request.post()
            data = b""
            for value in form.values():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    break
        else:
            data = await request.read()
        with self._cond:
            upload = self._files.get(file_id)
            if upload is None:
                return web.Response(status=404, text="file_not_found")
            self._files[file_id] = replace(upload, data=data)
        return web.Response(text=f"OK - {len(data)}")

    # ------------------------------------------------------------------ Web API methods

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "bots.info": self._bots_info,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "app_name": BOT_NAME,
            "is_enterprise_install": False,
        }

    def _bots_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """Slack's answer for this app's bot (the one auth.test names); others are unknown."""
        if params.get("bot") != BOT_ID:
            return {"ok": False, "error": "bot_not_found"}
        icons = {f"image_{n}": f"https://a.slack-edge.com/fake/bot_{n}.png" for n in (36, 48, 72)}
        return {
            "ok": True,
            "bot": {
                "id": BOT_ID,
                "deleted": False,
                "name": BOT_NAME,
                "updated": 1_700_000_000,
                "app_id": APP_ID,
                "user_id": BOT_USER_ID,
                "icons": icons,
            },
        }

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ticket = uuid.uuid4().hex
        with self._cond:
            self._tickets.append(ticket)
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}"}

    def _message_error(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        if self.validate_blocks and "blocks" in params:
            errors = block_errors(params["blocks"])
            if errors:
                return {
                    "ok": False,
                    "error": "invalid_blocks",
                    "errors": errors,
                    "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
                }
        return None

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._message_error(params)
        if error:
            return error
        ts = self.next_ts()
        channel = str(params["channel"])
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "ts": ts,
            "text": params.get("text") or "",
        }
        for name in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(name) is not None:
                message[name] = params[name]
        with self._cond:
            self._messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        error = self._message_error(params)
        if error:
            return error
        channel, ts = str(params["channel"]), str(params["ts"])
        with self._cond:
            message = self._messages.setdefault(
                (channel, ts), {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts}
            )
            for name in ("text", "blocks", "attachments", "metadata"):
                if params.get(name) is not None:
                    message[name] = params[name]
            message["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
            snapshot = dict(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": snapshot.get("text", ""),
            "message": snapshot,
        }

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("user"):
            return {"ok": False, "error": "user_not_found"}
        error = self._message_error(params)
        if error:
            return error
        return {"ok": True, "message_ts": self.next_ts()}

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        with self._cond:
            self._messages.pop((channel, ts), None)
        return {"ok": True, "channel": channel, "ts": ts}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        if not user:
            return {"ok": False, "error": "user_not_found"}
        name = self.users.get(user, user.lower())
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": name,
                "deleted": False,
                "is_bot": user == BOT_USER_ID,
                "tz": "America/Argentina/Buenos_Aires",
                "profile": {"real_name": name, "display_name": name},
            },
        }

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """The thread's parent first, then its replies (as Slack orders them)."""
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        limit = int(params.get("limit") or 1000)
        with self._cond:
            parent = self._messages.get((channel, ts))
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            replies = sorted(
                (
                    m
                    for (ch, _), m in self._messages.items()
                    if ch == channel and m.get("thread_ts") == ts and m.get("ts") != ts
                ),
                key=lambda m: m["ts"],
            )
            thread = [parent, *replies][:limit]
            return {"ok": True, "messages": json.loads(json.dumps(thread)), "has_more": False}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": self.channels.get(channel, channel.lower()),
                "is_channel": True,
                "is_private": False,
                "is_archived": False,
                "is_member": True,
            },
        }

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), params.get("length")
        try:
            size = int(length)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return {"ok": False, "error": "invalid_arguments"}
        if not filename:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{self._next_id():08d}"
        with self._cond:
            self._files[file_id] = UploadedFile(
                file_id=file_id, filename=str(filename), length=size, alt_txt=params.get("alt_txt")
            )
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        items = params.get("files")
        if not isinstance(items, list) or not items:
            return {"ok": False, "error": "invalid_arguments"}
        done: list[dict[str, Any]] = []
        with self._cond:
            for item in items:
                upload = self._files.get(str(item.get("id"))) if isinstance(item, dict) else None
                if upload is None or upload.data is None:
                    return {"ok": False, "error": "file_not_found"}
                upload = replace(
                    upload,
                    title=item.get("title") or upload.filename,
                    channel_id=params.get("channel_id"),
                    thread_ts=params.get("thread_ts"),
                    initial_comment=params.get("initial_comment"),
                    completed=True,
                )
                self._files[upload.file_id] = upload
                done.append(
                    {
                        "id": upload.file_id,
                        "name": upload.filename,
                        "title": upload.title,
                        "mimetype": mimetypes.guess_type(upload.filename)[0]
                        or "application/octet-stream",
                        "size": len(upload.data or b""),
                        "user": BOT_USER_ID,
                        "channels": [upload.channel_id] if upload.channel_id else [],
                        "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{upload.file_id}",
                    }
                )
        return {"ok": True, "files": done}
