"""``beholder serve``: the Slack app over Socket Mode, for as long as it runs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot import metrics
from bot.api.health import LoopWatch
from bot.config import Settings
from bot.domain import background
from bot.domain.diagnose import DiagnosisService
from bot.domain.live_registry import LiveRegistry
from bot.domain.readings import ReadingService
from bot.inventory.store import Inventory
from bot.routeros.client import RouterClient
from bot.routeros.tls import insecure_nodes, insecure_warning
from bot.serve.listener import listening, mount_api
from bot.slack.access import identify, log_policy
from bot.slack.app import SOCKET_MODE_PING_INTERVAL, build_app, socket_mode_handler
from bot.slack.installation import Installation

log = logging.getLogger(__name__)


async def serve(
    settings: Settings,
    router: RouterClient | None = None,
    *,
    ping_interval: float = SOCKET_MODE_PING_INTERVAL,
    on_listening: Callable[[str], None] | None = None,
) -> None:
    """Connect to Slack and answer until cancelled.

    With ``BEHOLDER_HTTP_PORT`` set, the API's routes (`bot.api`: ``/healthz``,
    ``/live/{user}``…) are served on ``BEHOLDER_HTTP_HOST`` too; `on_listening`
    receives their base URL (``http://127.0.0.1:PORT``) once they are.
    `ping_interval`: seconds between Socket Mode pings (how soon a dead
    connection is replaced).
    """
    with Inventory(settings.db_path) as inventory:
        bot = bot_for(settings, inventory, router)
        installation = await identify(bot.app)
        handler = socket_mode_handler(
            bot.app, settings.slack_app_token, ping_interval=ping_interval
        )
        try:
            announce(settings, inventory, "Socket Mode", installation)
            # On the way out: no new requests, then every live view ends (its router
            # session closed, its message saying so), then the background jobs.
            async with (
                LoopWatch().running() as loop,
                background.running(settings, inventory, bot.readings.router),
                bot.live_views,
                _api_listener(settings, bot, loop, handler, on_listening),
            ):
                try:
                    await handler.start_async()
                finally:
                    await handler.close_async()
        finally:
            # Again, for when it never started (BEHOLDER_HTTP_PORT taken): its HTTP
            # session would be left for the garbage collector to complain about.
            await handler.close_async()


@contextlib.asynccontextmanager
async def _api_listener(
    settings: Settings,
    bot: Bot,
    loop: LoopWatch,
    handler: AsyncSocketModeHandler,
    on_listening: Callable[[str], None] | None,
) -> AsyncIterator[None]:
    """The API's listener, when ``BEHOLDER_HTTP_PORT`` asks for one."""
    if settings.http_port is None:
        yield
        return
    web_app = web.Application()
    connected = handler.client.is_connected
    mount_api(
        web_app, settings, bot.readings, loop, slack_connected=connected, diagnoses=bot.diagnoses
    )
    async with listening(web_app, settings.http_host, settings.http_port) as url:
        log.info("serving /healthz and the HTTP API at %s", url)
        if on_listening is not None:
            on_listening(url)
        yield


@dataclass(frozen=True)
class Bot:
    """What either transport serves: the app and the services behind it, one of
    each per process, shared by Slack and the HTTP API."""

    readings: ReadingService
    diagnoses: DiagnosisService
    app: AsyncApp
    #: Running live views, shut down when serving ends.
    live_views: LiveRegistry


def bot_for(settings: Settings, inventory: Inventory, router: RouterClient | None = None) -> Bot:
    """The app either transport serves, on one inventory and one router client, and
    its live views (to be shut down when serving ends). Their state is what
    ``/metrics`` reports (`bot.metrics.track`)."""
    if not inventory.count_secrets():
        log.warning("the inventory %s has no secrets: run beholder sync", settings.db_path)
    readings = ReadingService(inventory, router or RouterClient.from_settings(settings))
    diagnoses = DiagnosisService.from_settings(readings, settings)
    live_views = LiveRegistry.from_settings(settings)
    metrics.track(
        sessions_in_use=readings.router.sessions_in_use,
        breakers=readings.router.breaker.states,
        live_views=live_views.running,
        last_syncs=inventory.last_syncs,
    )
    app = build_app(settings, readings, live_views, diagnoses=diagnoses)
    return Bot(readings, diagnoses, app, live_views)


def announce(
    settings: Settings, inventory: Inventory, transport: str, installation: Installation
) -> None:
    """The start-up lines: who may ask, what this instance serves, and which
    routers it cannot authenticate (``tls=insecure``)."""
    log_policy(settings)
    nodes = inventory.nodes()
    insecure = insecure_nodes(nodes)
    if insecure:
        log.warning("%s", insecure_warning(insecure))
    log.info(
        "serving Slack over %s: %d nodes, %d secrets, deadline %gs, "
        "max %d API sessions per router; team %s, app %s (requests from others are dropped)",
        transport,
        len(nodes),
        inventory.count_secrets(),
        settings.mikrotik_timeout,
        settings.mikrotik_max_sessions,
        installation.team_id,
        installation.app_id,
    )
