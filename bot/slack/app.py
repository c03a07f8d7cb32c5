"""Builds the Bolt app; wiring only, nothing created at import time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.domain.diagnose import DiagnosisService
from bot.domain.live_registry import LiveRegistry
from bot.domain.readings import ReadingService
from bot.errors import BeholderError
from bot.present.numbers import zone
from bot.slack import access, blocks, delivery
from bot.slack.groups import GroupResolver
from bot.slack.listeners import actions, commands, events, live, shortcuts
from bot.slack.policy import Policy
from bot.slack.replies import Deps

log = logging.getLogger(__name__)

#: Seconds between Socket Mode pings. It is also how soon a connection that died
#: silently (no close frame: a NAT timeout, a dropped link) is noticed and replaced:
#: Bolt's handler defaults to 10 s, during which commands fail with "dispatch_failed".
SOCKET_MODE_PING_INTERVAL = 5.0


def build_app(
    settings: Settings,
    readings: ReadingService,
    live_views: LiveRegistry | None = None,
    *,
    diagnoses: DiagnosisService | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncApp:
    """The Slack app: `/consumo`, `@Beholder` mentions and the reading's buttons.

    `live_views`: the live views' registry, for `serve` to shut them down on
    exit (by default one from `settings`). `diagnoses`: the process's one
    `DiagnosisService`, shared with the HTTP API so that a subscriber's
    diagnosis asked from both at once runs once (by default one from
    `settings`). `clock`: the monotonic clock the user group cache
    (`access.GroupResolver`) counts its TTL with, so tests can move it instead
    of waiting.

    Bolt's `AsyncApp` runs each request as an asyncio task: acks never wait on a
    slow router (the sync `App` holds one of only 5 threads per request). Access
    control (`bot.slack.access`) runs first, as a global middleware. The signing
    secret matters only over HTTP (`bot.serve.http`); Socket Mode needs none.
    """
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    # chat.postMessage and friends are rate limited; honour a Retry-After that is short.
    client.retry_handlers.append(
        delivery.RateLimitRetry(max_retry_count=delivery.RATE_LIMIT_RETRIES)
    )
    bolt_log = logging.getLogger("beholder.slack")
    if _token_from_env not in bolt_log.filters:
        bolt_log.addFilter(_token_from_env)
    app = AsyncApp(
        client=client, logger=bolt_log, signing_secret=settings.slack_signing_secret or None
    )
    deps = Deps(
        readings=readings,
        tz=zone(settings.timezone),
        live_views=LiveRegistry.from_settings(settings) if live_views is None else live_views,
        diagnoses=diagnoses or DiagnosisService.from_settings(readings, settings),
    )
    policy = Policy.from_settings(settings)
    resolver = GroupResolver(client, policy.usergroups, clock=clock) if policy.usergroups else None
    access.install(app, policy, resolver, deps)  # before the listeners: deny by default
    commands.register(app, deps)
    events.register(app, deps)
    actions.register(app, deps)
    live.register(app, deps)
    shortcuts.register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Last resort for whatever a listener let escape. A fault Beholder knows
        (`BeholderError`: a damaged inventory, a router failure) gets its own Spanish
        reply to the asker and one log line; anything else is logged whole and the
        operator is told, in one Spanish line, that it was our fault."""
        target = delivery.Target.of_request(body)
        if isinstance(error, BeholderError):
            log.warning("a Slack listener stopped on %s: %s", type(error).__name__, error)
            message = blocks.error_message(error)
        else:
            log.error("unhandled error in a Slack listener", exc_info=error)
            message = blocks.unexpected_message(None)
        if target is not None:
            await delivery.reply(client, target, message, public=False)

    return app


def socket_mode_handler(app: AsyncApp, app_token: str, **options: Any) -> AsyncSocketModeHandler:
    """The Socket Mode connection `serve` uses. slack_sdk reconnects by itself: at
    once on Slack's ``disconnect`` message or a close frame, and within one ping
    interval when the connection died without a word."""
    options.setdefault("ping_interval", SOCKET_MODE_PING_INTERVAL)
    return AsyncSocketModeHandler(app, app_token, **options)


def _token_from_env(record: logging.LogRecord) -> bool:
    """Drop Bolt's start-up warning about SLACK_BOT_TOKEN: it reads that variable
    by itself even when handed a client, and our client carries the same token."""
    return "`token` will be unused" not in record.getMessage()
