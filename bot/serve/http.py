"""``beholder serve --http``: the Slack app over HTTP, for teams that prefer it to Socket Mode.

Slack POSTs slash commands, events (``app_mention``) and interactivity (buttons)
to one URL, `EVENTS_PATH`, served here with Bolt's aiohttp adapter. Every request
must carry a valid ``X-Slack-Signature`` made with ``SLACK_SIGNING_SECRET`` and a
``X-Slack-Request-Timestamp`` less than 5 minutes old; Bolt's RequestVerification
answers anything else with 401 before any listener (or router) is reached.

It listens on 127.0.0.1 by default: put the TLS-terminating reverse proxy Slack
reaches in front of it, or pass ``--host`` to listen elsewhere. The same listener
serves the API's routes (`bot.api`: ``/live/{user}``, ``/healthz``, ``/openapi.json``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.api.health import LoopWatch
from bot.config import Settings
from bot.domain import background
from bot.inventory.store import Inventory
from bot.routeros.client import RouterClient
from bot.serve.listener import listening, mount_api
from bot.serve.socket_mode import announce, bot_for
from bot.slack.access import identify

log = logging.getLogger(__name__)

#: The one Request URL for slash commands, events and interactivity.
EVENTS_PATH = "/slack/events"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
#: Longest wait for the body of a request to `EVENTS_PATH`, seconds. Bolt reads the
#: whole body before it checks the signature, so without this bound anyone could
#: hold a connection and a handler by announcing a body and never sending it.
#: Slack sends a few kilobytes at once (and wants its answer within 3 s).
BODY_TIMEOUT_S = 10.0


async def serve_http(
    settings: Settings,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    router: RouterClient | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Answer Slack's HTTP requests until cancelled.

    `port` 0 picks a free port; `on_ready` receives the URL actually served
    (``http://127.0.0.1:PORT/slack/events``) once it accepts connections.
    """
    with Inventory(settings.db_path) as inventory:
        bot = bot_for(settings, inventory, router)
        installation = await identify(bot.app)  # requests from elsewhere are dropped
        web_app = bot.app.web_app(path=EVENTS_PATH)
        web_app.middlewares.append(_reject_malformed_timestamps)
        web_app.middlewares.append(_body_in_time)
        async with LoopWatch().running() as loop:
            # The same listener: /live, /diag, /healthz, with Slack's diagnoses.
            mount_api(web_app, settings, bot.readings, loop, diagnoses=bot.diagnoses)
            # On the way out: no new requests, then every live view ends (its router
            # session closed, its message saying so), then the background jobs.
            async with (
                background.running(settings, inventory, bot.readings.router),
                bot.live_views,
                listening(web_app, host, port) as base,
            ):
                url = base + EVENTS_PATH
                announce(settings, inventory, f"HTTP at {url}", installation)
                if on_ready is not None:
                    on_ready(url)
                await asyncio.Event().wait()  # until cancelled (Ctrl-C)


@web.middleware
async def _reject_malformed_timestamps(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """401 for a request whose X-Slack-Request-Timestamp is not a number, or whose
    X-Slack-Signature is not ASCII: Bolt's own checks would raise on them (``int()``,
    ``hmac.compare_digest`` on a non-ASCII str): a 500 and a traceback in the log
    instead of a refusal. Missing headers, bad signatures and stale timestamps are
    Bolt's to refuse."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    # ASCII digits only: "²" and "١٢" are digits to isdigit() but not to int().
    if (timestamp is not None and not (timestamp.isascii() and timestamp.strip().isdigit())) or (
        signature is not None and not signature.isascii()
    ):
        return web.json_response({"error": "invalid request"}, status=401)
    return await handler(request)


@web.middleware
async def _body_in_time(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Read a Slack request's body within `BODY_TIMEOUT_S`, or answer 408 and close
    the connection; a body that is not UTF-8 (Slack's always is) is a 400, where
    Bolt's decoding would raise. What is read is kept: Bolt's own read gets it at
    once. (The API's routes refuse a body unread: `bot.api.routes`.)"""
    if request.path == EVENTS_PATH and request.body_exists:
        try:
            async with asyncio.timeout(BODY_TIMEOUT_S):
                body = await request.read()
        except TimeoutError:
            log.info("a request to %s sent no whole body within %gs", EVENTS_PATH, BODY_TIMEOUT_S)
            response = web.json_response({"error": "request timeout"}, status=408)
            response.force_close()
            return response
        try:
            body.decode(request.charset or "utf-8")
        except (UnicodeDecodeError, LookupError):
            return web.json_response({"error": "invalid request"}, status=400)
    return await handler(request)
