"""Whether Slack takes Beholder's tokens, and granted what manifest.yml asks for.

For ``beholder doctor``: ``auth.test`` with the bot token says whom it belongs
to, and its ``x-oauth-scopes`` response header lists the scopes the
installation granted; ``apps.connections.open`` with the app-level token is the
call Socket Mode starts with, so it works only when the token is an app token
with ``connections:write`` and Socket Mode is on. Nothing is sent to anyone and
the websocket address it hands back (a credential) is dropped unread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import describe

#: The bot scopes manifest.yml asks for, and what each one is for
#: (tests/slack/test_manifest.py checks that they are exactly the manifest's).
MANIFEST_BOT_SCOPES: Mapping[str, str] = {
    "commands": "the /consumo command",
    "chat:write": "replies in threads and live views",
    "app_mentions:read": "@Beholder mentions",
    "files:write": "the live view's chart",
    "usergroups:read": "BEHOLDER_ALLOWED_USERGROUPS",
    "channels:history": "a bare @Beholder in a public channel's thread",
    "groups:history": "a bare @Beholder in a private channel's thread",
}
#: Without these Beholder answers nothing at all.
ESSENTIAL_SCOPES = frozenset({"commands", "chat:write", "app_mentions:read"})
#: Most seconds one check waits for Slack.
CHECK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TokenCheck:
    """What Slack said about one token."""

    ok: bool
    #: Slack's error code (``invalid_auth``…) or why Slack could not be asked.
    error: str = ""
    #: Whether Slack answered at all (False: no route, DNS, timeout, not Slack).
    reached: bool = True
    team: str = ""
    user: str = ""
    #: What ``x-oauth-scopes`` listed; None when Slack sent no such header.
    scopes: frozenset[str] | None = None


@dataclass(frozen=True)
class ScopeGaps:
    """How the granted scopes differ from the manifest's."""

    missing: tuple[str, ...]
    #: Granted but not asked for: more than Beholder needs.
    extra: tuple[str, ...]


async def check_bot_token(token: str, api_url: str) -> TokenCheck:
    """``auth.test`` with the bot token: whose it is and which scopes it carries."""
    client = _client(token, api_url)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            response = await client.auth_test()
    except SlackApiError as exc:
        return TokenCheck(False, describe(exc))
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        return TokenCheck(False, describe(exc), reached=False)
    header = {k.lower(): v for k, v in response.headers.items()}.get("x-oauth-scopes")
    scopes = None if header is None else frozenset(s.strip() for s in header.split(",") if s)
    return TokenCheck(
        True,
        team=str(response.get("team") or response.get("team_id") or ""),
        user=str(response.get("user") or ""),
        scopes=scopes,
    )


async def check_app_token(token: str, api_url: str) -> TokenCheck:
    """``apps.connections.open`` with the app-level token, as Socket Mode starts.

    The address it returns carries a one-time ticket: it is neither kept nor
    shown, and no connection is opened with it.
    """
    client = _client(token, api_url)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await client.apps_connections_open(app_token=token)
    except SlackApiError as exc:
        return TokenCheck(False, describe(exc))
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        return TokenCheck(False, describe(exc), reached=False)
    return TokenCheck(True)


def _client(token: str, api_url: str) -> AsyncWebClient:
    """One try per check, no retries: the doctor reports what it saw, and is run again."""
    return AsyncWebClient(
        token=token, base_url=api_url, timeout=round(CHECK_TIMEOUT_S), retry_handlers=[]
    )


def scope_gaps(granted: frozenset[str]) -> ScopeGaps:
    """The manifest's scopes not granted, and those granted beyond it."""
    return ScopeGaps(
        missing=tuple(s for s in MANIFEST_BOT_SCOPES if s not in granted),
        extra=tuple(sorted(granted - MANIFEST_BOT_SCOPES.keys())),
    )
