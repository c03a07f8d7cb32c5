"""``beholder serve``: the Slack app over Socket Mode, for as long as it runs."""

from __future__ import annotations

import logging

from bot import background
from bot.config import Settings
from bot.inventory import Inventory
from bot.readings import ReadingService
from bot.routeros import RouterClient
from bot.slack.access import log_policy
from bot.slack.app import build_app, socket_mode_handler

log = logging.getLogger(__name__)


async def serve(settings: Settings, router: RouterClient | None = None) -> None:
    """Connect to Slack and answer until cancelled."""
    with Inventory(settings.db_path) as inventory:
        nodes, secrets = len(inventory.nodes()), inventory.count_secrets()
        if not secrets:
            log.warning("the inventory %s has no secrets: run beholder sync", settings.db_path)
        readings = ReadingService(inventory, router or RouterClient.from_settings(settings))
        app = build_app(settings, readings)
        handler = socket_mode_handler(app, settings.slack_app_token)
        log_policy(settings)
        log.info(
            "serving Slack over Socket Mode: %d nodes, %d secrets, deadline %gs, "
            "max %d API sessions per router",
            nodes,
            secrets,
            settings.mikrotik_timeout,
            settings.mikrotik_max_sessions,
        )
        async with background.running(settings, inventory, readings.router):
            try:
                await handler.start_async()
            finally:
                await handler.close_async()
