"""The one HTTP listener: the API's routes (`bot.api`) on an aiohttp app, served.

``serve --http`` mounts them on the same app that takes Slack's events
(`bot.serve.http`); Socket Mode's ``serve`` (`bot.serve.socket_mode`) starts a
listener of its own for them when ``BEHOLDER_HTTP_PORT`` is set, bound to
``BEHOLDER_HTTP_HOST`` (127.0.0.1 unless told otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger

from bot.api import shapes
from bot.api.health import Health, LoopWatch
from bot.api.routes import Api
from bot.config import Settings
from bot.domain.diagnose import DiagnosisService
from bot.domain.readings import ReadingService
from bot.errors import ConfigError

log = logging.getLogger(__name__)

#: Longest a connection stays open without a complete request, seconds: idle
#: between requests, or still sending its headers (a slowloris). aiohttp's own
#: default is an hour, long enough for a few thousand silent clients to take
#: every file descriptor (router sockets and the inventory's included). 75 s
#: outlasts how long a reverse proxy reuses an idle connection (nginx: 60 s), so
#: the proxy lets go first and never sends on a connection being closed.
IDLE_TIMEOUT_S = 75.0
#: Most connections open at once. Past it a new one is answered 503 and closed
#: before anything is read from it, so a flood of connections (each held until
#: `IDLE_TIMEOUT_S`) leaves the process the file descriptors its routers, its
#: inventory and Slack need (a process usually gets 1024).
MAX_CONNECTIONS = 256
#: What a connection refused for `MAX_CONNECTIONS` is told to wait, seconds.
CONNECTIONS_RETRY_S = 5


def mount_api(
    web_app: web.Application,
    settings: Settings,
    readings: ReadingService,
    loop: LoopWatch,
    slack_connected: Callable[[], Awaitable[bool]] | None = None,
    diagnoses: DiagnosisService | None = None,
) -> Api:
    """Add ``/live``, ``/healthz``, ``/openapi.json`` to `web_app`, and say whether
    the API is on (it is off while ``BEHOLDER_API_TOKENS`` is unset)."""
    health = Health(readings.inventory, loop, slack_connected)
    api = Api(settings, readings, health, diagnoses=diagnoses)
    api.mount(web_app)
    if api.tokens.enabled:
        log.info(
            "HTTP API on: GET /live/{user} with one of %d bearer tokens; CORS %s",
            len(settings.api_tokens),
            ", ".join(settings.api_cors_origins) or "off",
        )
    else:
        log.info("HTTP API off (BEHOLDER_API_TOKENS unset): /live answers 404")
    return api


@contextlib.asynccontextmanager
async def listening(web_app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """Serve `web_app` on `host`:`port` (0: a free port) while in the block; yields
    ``http://HOST:PORT``. A port taken (or a host not ours) is a `ConfigError`
    saying so; a `host` beyond loopback is a warning (plain HTTP: tokens and data
    in clear)."""
    runner = _CappedRunner(
        web_app, access_log=None, keepalive_timeout=IDLE_TIMEOUT_S, logger=ServerLog()
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): {_bind_advice(exc)}"
            ) from None
        if not on_loopback(host):
            log.warning(
                "listening on %s, beyond loopback, over plain HTTP: API tokens and "
                "subscribers' data cross the network in clear; put a TLS-terminating "
                "reverse proxy in front of it, or listen on 127.0.0.1",
                host,
            )
        bound_host, bound_port = runner.addresses[0][:2]
        try:
            yield f"http://{url_host(bound_host)}:{bound_port}"
        finally:
            await site.stop()
    finally:
        await runner.cleanup()


class ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log, where a malformed request (a NUL in a header, a line
    past 8 KiB, a bad chunk) is one DEBUG line instead of an ERROR with a
    traceback: anyone who reaches the port could send thousands, each one paging
    whoever watches for errors. The client gets aiohttp's 400 saying what was
    wrong. A handler that raises (our bug) is still an ERROR with its traceback."""

    def __init__(self) -> None:
        super().__init__(server_logger, {})

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.debug(
                "%s: malformed request refused (%s)", str(msg) % args, type(exc_info).__name__
            )
        else:
            self.logger.exception(msg, *args, exc_info=exc_info, **kwargs)


class _CappedRunner(web.AppRunner):
    """An AppRunner whose sites take each new connection through `_Capped`: a site
    asks the runner's `server` for the protocol factory it listens with."""

    _capped: _Capped | None = None

    @property
    def server(self) -> Any:
        server = super().server
        if server is None:
            return None
        if self._capped is None or self._capped.server is not server:
            self._capped = _Capped(server)
        return self._capped


class _Capped:
    """aiohttp's protocol factory while fewer than `MAX_CONNECTIONS` are open. The
    refusals are logged once a minute at most, counted: a flood of them must not
    become a flood of log lines."""

    #: Seconds between two warnings about refused connections.
    WARN_EVERY_S = 60.0

    def __init__(self, server: web.Server) -> None:
        self.server = server
        self._refused = 0
        self._warned_at: float | None = None

    def __call__(self) -> asyncio.BaseProtocol:
        if len(self.server.connections) < MAX_CONNECTIONS:
            return self.server()
        self._refused += 1
        now = time.monotonic()
        if self._warned_at is None or now - self._warned_at >= self.WARN_EVERY_S:
            log.warning(
                "HTTP connections refused with 503: %d open, the most (%d refused since the "
                "last warning); one client holding many?",
                MAX_CONNECTIONS,
                self._refused,
            )
            self._refused, self._warned_at = 0, now
        return _TooMany()


class _TooMany(asyncio.Protocol):
    """A connection past `MAX_CONNECTIONS`: one 503 in JSON, then closed, unread."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        answer = shapes.too_many_connections(MAX_CONNECTIONS, CONNECTIONS_RETRY_S)
        body = json.dumps(answer.body).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": str(len(body)),
            "Connection": "close",
            "Cache-Control": "no-store",
            **answer.headers,
        }
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        transport.write(f"HTTP/1.1 503 Service Unavailable\r\n{head}\r\n".encode() + body)
        transport.close()


def _bind_advice(exc: OSError) -> str:
    """What to do about a listener that could not start, from why it could not."""
    if exc.errno == errno.EADDRINUSE:
        return "is another process using that port? stop it, or choose another port"
    if exc.errno == errno.EACCES:
        return "ports below 1024 need privileges: listen on a higher one behind the proxy"
    # EADDRNOTAVAIL, a name that does not resolve (socket.gaierror)...
    return "is that host an address of this machine? check BEHOLDER_HTTP_HOST or --host"


def on_loopback(host: str) -> bool:
    """Whether `host` is reached only from this machine (a name other than
    ``localhost`` cannot be told, so it is not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
