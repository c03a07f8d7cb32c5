"""Replies that get there: the ``response_url`` first, with retries, then the Web API.

Bolt's ``respond()`` builds a bare webhook client for each call: no retry on a
429, none on a reset connection. Here the ``response_url`` post retries what is
worth retrying (a 429 after its ``Retry-After``, a dropped connection), and when
it still fails (an HTTP error, an expired or already used URL, Slack down) the
reply goes through the app's own Web API client instead: ``chat.postMessage``
in the channel for a public reply, ``chat.postEphemeral`` to the operator for a
private one. Either way one log line says what happened. The ``response_url``
itself is never logged: whoever holds it can post in the channel for 30 minutes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import logs

log = logging.getLogger(__name__)

#: Seconds one post to a response_url may take.
RESPONSE_URL_TIMEOUT = 10
#: Retries after a 429 (each waits Retry-After) and after a dropped connection.
RATE_LIMIT_RETRIES = 2
CONNECTION_RETRIES = 2
#: A 429 asking to wait longer than this is not waited for: the Web API goes instead.
MAX_RETRY_AFTER = 10

# slack_sdk's webhook client logs the URL and the body at DEBUG; the URL is a
# credential. Its own logger, held at INFO, keeps those lines from ever being made.
_webhook_log = logging.getLogger("beholder.slack.webhook")
_webhook_log.setLevel(logging.INFO)

#: What a call to Slack may fail with besides our own bugs: Slack refused it
#: (`SlackClientError`), or could not be reached (a dropped connection, a timeout).
SLACK_FAILURES: tuple[type[Exception], ...] = (
    SlackClientError,
    aiohttp.ClientError,
    TimeoutError,
    OSError,
)

# Routes a reply can take, as `reply` reports them.
RESPONSE_URL = "response_url"
POST_MESSAGE = "chat.postMessage"
POST_EPHEMERAL = "chat.postEphemeral"
LOST = "lost"


@dataclass(frozen=True)
class Target:
    """Where a reply goes: its ``response_url`` first, else the channel or the user."""

    response_url: str | None
    channel: str
    user: str | None
    thread_ts: str | None = None

    @classmethod
    def of_command(cls, command: dict[str, Any]) -> Target:
        return cls(
            command.get("response_url"), command.get("channel_id", ""), command.get("user_id")
        )

    @classmethod
    def of_action(cls, body: dict[str, Any]) -> Target:
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
        return cls(
            body.get("response_url"),
            channel,
            (body.get("user") or {}).get("id"),
            container.get("thread_ts"),
        )

    @classmethod
    def of_event(cls, event: dict[str, Any]) -> Target:
        """A mention: no response_url; its thread (or the thread it starts)."""
        return cls(
            None,
            event.get("channel", ""),
            event.get("user"),
            event.get("thread_ts") or event.get("ts"),
        )

    @classmethod
    def of_request(cls, body: dict[str, Any]) -> Target | None:
        """The asker of any request Bolt hands a listener (a command, a button, a
        shortcut, a mention); None for a request nobody asked (another event)."""
        if "command" in body:
            return cls.of_command(body)
        event = body.get("event")
        if isinstance(event, dict):
            return cls.of_event(event) if event.get("type") == "app_mention" else None
        if body.get("response_url") or body.get("user"):
            return cls.of_action(body)
        return None


async def reply(
    client: AsyncWebClient,
    target: Target,
    message: dict[str, Any],
    *,
    public: bool,
    replace_original: bool = False,
) -> str:
    """Post `message` (``text`` + ``blocks``) for `target`; never raises (but cancellation).

    `public`: seen by the whole channel (else only by the operator).
    `replace_original`: replace the message the button was on (public by nature).
    Returns the route taken: ``response_url``, ``chat.postMessage``,
    ``chat.postEphemeral``, or ``lost`` when even the fallback failed.
    """
    if replace_original:
        body = {**message, "replace_original": True}
    else:
        body = {
            **message,
            "response_type": "in_channel" if public else "ephemeral",
            "replace_original": False,
        }
    failure = await _post(target.response_url, body)
    if failure is None:
        return RESPONSE_URL
    public = public or replace_original
    method = POST_MESSAGE if public else POST_EPHEMERAL
    try:
        if not target.channel or (not public and not target.user):
            raise ValueError("no channel or user to post to")
        if public:
            await client.chat_postMessage(
                channel=target.channel, thread_ts=target.thread_ts, **message
            )
        else:
            await client.chat_postEphemeral(
                channel=target.channel, user=target.user, thread_ts=target.thread_ts, **message
            )
    except (*SLACK_FAILURES, ValueError) as exc:
        log.error(
            "reply lost: response_url failed (%s) and %s failed too (%s); channel=%s user=%s",
            failure,
            method,
            describe(exc),
            target.channel,
            target.user,
        )
        return LOST
    # With no response_url to try (a mention) the Web API is the way, not a fallback.
    log.log(
        logging.WARNING if target.response_url else logging.DEBUG,
        "response_url failed (%s); reply sent with %s instead; channel=%s user=%s",
        failure,
        method,
        target.channel,
        target.user,
    )
    return method


async def delete_original(target: Target) -> bool:
    """Delete the message a button was on (an ephemeral list cannot be deleted any
    other way: when this fails it stays on the operator's screen). Never raises."""
    failure = await _post(target.response_url, {"delete_original": True})
    if failure is not None:
        log.warning("could not delete the original message (%s); user=%s", failure, target.user)
    return failure is None


async def _post(url: str | None, body: dict[str, Any]) -> str | None:
    """POST `body` to `url`; None when Slack took it, else why not (for the log)."""
    if not url:
        return "no response_url"
    logs.note_response_url(url)  # an HTTP error naming it is masked in the log too
    webhook = AsyncWebhookClient(
        url,
        timeout=RESPONSE_URL_TIMEOUT,
        logger=_webhook_log,
        retry_handlers=[
            RateLimitRetry(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        ],
    )
    try:
        response = await webhook.send_dict(body)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return describe(exc)
    if response.status_code == 200:
        return None
    return f"HTTP {response.status_code} {str(response.body or '').strip()[:60]}".strip()


class RateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """Waits out a 429's Retry-After, unless it is longer than `MAX_RETRY_AFTER`:
    then the operator is better served by the fallback (or a note) right away than
    by a reply that comes when Slack says, however late. Used by the app's Web API
    client too (`bot.slack.app`)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                try:
                    return int(values[0]) <= MAX_RETRY_AFTER
                except (ValueError, IndexError):
                    return True
        return True


def describe(exc: BaseException) -> str:
    """A failure to reach Slack in a few words, for logs and notes (no URL, no token)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "error"))
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return type(exc).__name__


def describe_lookup(exc: BaseException) -> str:
    """`describe`, but a LookupError of ours (a user group handle or an installation
    Slack does not know) keeps its sentence."""
    return str(exc) if isinstance(exc, LookupError) else describe(exc)
