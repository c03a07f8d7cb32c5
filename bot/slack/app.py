"""Builds the Bolt app; wiring only, nothing created at import time."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.readings import ReadingService
from bot.slack import actions, blocks, commands, events
from bot.slack.replies import Deps
from bot.texts import zone

log = logging.getLogger(__name__)


def build_app(settings: Settings, readings: ReadingService) -> AsyncApp:
    """The Slack app: `/consumo`, `@Beholder` mentions and the refresh button.

    Bolt's `AsyncApp` runs each request as an asyncio task: acks never wait on a
    slow router (the sync `App` holds one of only 5 threads per request).
    """
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    # chat.postMessage and friends are rate limited; honour Retry-After.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    bolt_log = logging.getLogger("beholder.slack")
    if _token_from_env not in bolt_log.filters:
        bolt_log.addFilter(_token_from_env)
    app = AsyncApp(client=client, logger=bolt_log)
    deps = Deps(readings=readings, tz=zone(settings.timezone))
    commands.register(app, deps)
    events.register(app, deps)
    actions.register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: Any) -> None:
        """Last resort: log it whole, tell the operator in one Spanish line."""
        log.error("unhandled error in a Slack listener", exc_info=error)
        if respond is not None and body.get("response_url"):
            await respond(**blocks.unexpected_message(None), response_type="ephemeral")

    return app


def _token_from_env(record: logging.LogRecord) -> bool:
    """Drop Bolt's start-up warning about SLACK_BOT_TOKEN: it reads that variable
    by itself even when handed a client, and our client carries the same token."""
    return "`token` will be unused" not in record.getMessage()
