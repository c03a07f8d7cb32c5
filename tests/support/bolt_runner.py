"""Run a Bolt ``AsyncApp`` over Socket Mode against :class:`FakeSlack`, on its own thread.

    with FakeSlack() as fake, BoltRunner(lambda: build_app(fake), fake) as bot:
        eid = fake.send_slash_command("juan.perez")
        fake.wait_for_ack(eid)
        bot.run(some_coroutine())          # run code on the bot's loop if needed

``app`` is an ``AsyncApp``, or a zero-argument callable returning one (or an awaitable of one);
a callable is invoked on the bot's own loop, so it may create loop-bound objects. The app's
``client`` must already point at ``fake.api_url`` (checked). The Socket Mode side gets its own
``AsyncWebClient(base_url=fake.api_url)`` so ``apps.connections.open`` reaches the fake.

On exit the handler is closed (``close_async``), leftover tasks are cancelled, the loop is
closed and the thread joined. Exceptions that reached the loop's exception handler (e.g. "Task
exception was never retrieved") are collected in ``errors`` and, with ``raise_loop_errors``
(default), raised as an AssertionError on exit.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.fake_slack import FakeSlack, shutdown_loop

T = TypeVar("T")

AppSource = AsyncApp | Callable[[], AsyncApp | Awaitable[AsyncApp]]


class BoltRunner:
    def __init__(
        self,
        app: AppSource,
        fake: FakeSlack,
        *,
        app_token: str | None = None,
        ping_interval: float | None = None,
        connect_timeout: float = 5.0,
        stop_timeout: float = 5.0,
        raise_loop_errors: bool = True,
    ) -> None:
        self._source = app
        self.fake = fake
        self.app_token = app_token or fake.app_token
        self.ping_interval = ping_interval  # None: the handler's default (10 s)
        self.connect_timeout = connect_timeout
        self.stop_timeout = stop_timeout
        self.raise_loop_errors = raise_loop_errors

        self.app: AsyncApp | None = None
        self.handler: AsyncSocketModeHandler | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.errors: list[str] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stop_event: asyncio.Event | None = None

    def __enter__(self) -> BoltRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(check_errors=exc[0] is None)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> BoltRunner:
        if self._thread is not None:
            raise RuntimeError("BoltRunner is already started")
        self._ready.clear()
        self._failure = None
        self.errors = []
        self._thread = threading.Thread(target=self._thread_main, name="BoltRunner", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.connect_timeout + 5):
            self.stop(check_errors=False)
            raise RuntimeError("BoltRunner: the bot thread did not report ready")
        if self._failure is not None:
            failure = self._failure
            self.stop(check_errors=False)
            raise failure
        # The client has its socket; make sure the fake registered it too (hello sent).
        self.fake.wait_for_connection(self.connect_timeout)
        return self

    def stop(self, *, check_errors: bool = True) -> None:
        thread, loop = self._thread, self.loop
        if thread is None:
            return
        if loop is not None and self._stop_event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stop_event.set)
        thread.join(self.stop_timeout)
        if thread.is_alive():
            raise RuntimeError(f"BoltRunner: bot thread still alive after {self.stop_timeout}s")
        self._thread = None
        if check_errors and self.raise_loop_errors and self.errors:
            raise AssertionError("errors on the bot loop:\n" + "\n".join(self.errors))

    def run(self, coro: Awaitable[T], timeout: float = 5.0) -> T:
        """Run a coroutine on the bot's loop from the test thread and return its result."""
        if self.loop is None or self._thread is None:
            raise RuntimeError("BoltRunner is not running")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ bot thread

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self._on_loop_error)
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._failure = exc
        finally:
            self._ready.set()
            shutdown_loop(loop)

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        self.errors.append(f"{context.get('message')}: {exc!r}" if exc else str(context))
        loop.default_exception_handler(context)

    async def _build_app(self) -> AsyncApp:
        source = self._source
        app = source if isinstance(source, AsyncApp) else source()
        if inspect.isawaitable(app):
            app = await app
        if not isinstance(app, AsyncApp):
            raise TypeError(f"BoltRunner needs an AsyncApp, got {type(app).__name__}")
        base_url = app.client.base_url
        if base_url != self.fake.api_url:
            raise RuntimeError(
                f"the app's client talks to {base_url!r}, not the fake ({self.fake.api_url!r}):"
                " build it with AsyncWebClient(token=..., base_url=fake.api_url)"
            )
        return app

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        self.app = await self._build_app()
        kwargs: dict[str, Any] = {}
        if self.ping_interval is not None:
            kwargs["ping_interval"] = self.ping_interval
        # Built inside the running loop: SocketModeClient.__init__ creates a task and an
        # aiohttp session. Its own web client only calls apps.connections.open (with the
        # app token), so it needs just the fake's URL.
        self.handler = AsyncSocketModeHandler(
            self.app,
            app_token=self.app_token,
            web_client=AsyncWebClient(base_url=self.fake.api_url, logger=self.app.logger),
            **kwargs,
        )
        try:
            try:
                # connect() retries forever on errors (e.g. invalid_auth): bound it.
                await asyncio.wait_for(self.handler.connect_async(), self.connect_timeout)
            except TimeoutError:
                calls = "\n".join(
                    f"  {c.method} -> {c.status} {c.response}" for c in self.fake.calls()
                )
                raise RuntimeError(
                    f"Socket Mode client did not connect within {self.connect_timeout}s;"
                    f" API calls seen by the fake:\n{calls or '  (none)'}"
                ) from None
            self._ready.set()
            await self._stop_event.wait()
        finally:
            await self.handler.close_async()
