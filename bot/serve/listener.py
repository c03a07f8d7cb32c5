"""The one HTTP listener: the API's routes (`bot.api`) on an aiohttp app, served.

``serve --http`` mounts them on the same app that takes Slack's events
(`bot.serve.http`); Socket Mode's ``serve`` (`bot.serve.socket_mode`) starts a
listener of its own for them when ``BEHOLDER_HTTP_PORT`` is set, bound to
``BEHOLDER_HTTP_HOST`` (127.0.0.1 unless told otherwise).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot.api.health import Health, LoopWatch
from bot.api.routes import Api
from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.errors import ConfigError

log = logging.getLogger(__name__)


def mount_api(
    web_app: web.Application,
    settings: Settings,
    readings: ReadingService,
    loop: LoopWatch,
    slack_connected: Callable[[], Awaitable[bool]] | None = None,
) -> Api:
    """Add ``/live``, ``/healthz``, ``/openapi.json`` to `web_app`, and say whether
    the API is on (it is off while ``BEHOLDER_API_TOKENS`` is unset)."""
    api = Api(settings, readings, Health(readings.inventory, loop, slack_connected))
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
    ``http://HOST:PORT``. A port taken is a `ConfigError` saying so."""
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): "
                "is another process using that port?"
            ) from None
        bound_host, bound_port = runner.addresses[0][:2]
        try:
            yield f"http://{url_host(bound_host)}:{bound_port}"
        finally:
            await site.stop()
    finally:
        await runner.cleanup()


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
