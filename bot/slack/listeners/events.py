"""``@Beholder consumo juan.perez``: the way to ask inside a thread.

Slack does not allow slash commands in threads, so escalation threads mention
the bot. The answer goes to the thread the mention is in (or starts one under
a top-level mention), keeping the evidence with the escalation. Only what the
whole thread should see is posted there (a reading, a router fault: see
`Reply.public`); a typo, an unknown name or a list of candidates goes to the
operator who asked alone, as an ephemeral message in that thread. Inside a
thread, a mention with no user takes the subscriber from the thread's first
message (the ticket that opened the escalation). ``… 30s`` starts a live view;
``… diag`` diagnoses (a note "Diagnosticando…" to the asker, then the diagnosis
in the thread), and a bare ``@Beholder diag`` diagnoses the ticket's subscriber;
``@Beholder ayuda`` (or ``help``) shows every way to ask, to the asker alone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import resolve
from bot.domain.readings import clean_query
from bot.errors import InputError
from bot.model import Asker
from bot.slack import blocks, delivery, parsing
from bot.slack.listeners import live
from bot.slack.replies import Deps, consult, diagnose, help_message

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("bot_id") or event.get("subtype"):
            return  # bots and edits do not ask questions
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        asker = Asker(event.get("user"), channel, "mention")
        exact = diag = False
        try:
            text, seconds = parsing.mention_question(event.get("text", ""))
            if parsing.asks_help(text, seconds):
                await _post(client, channel, thread_ts, asker.user, help_message(deps))
                deps.readings.audit(text.strip(), asker, "help")
                return
            if seconds is None:
                text, diag = parsing.split_diag(text)
            # A bare ``diag`` in a ticket's thread asks about the ticket's subscriber
            # (a user named "diag" is still found when the ticket names nobody).
            bare_diag = seconds is None and text.strip().casefold() == parsing.DIAG_WORD
            if (not text.strip() or bare_diag) and event.get("thread_ts"):
                found = await _thread_subscriber(deps, client, channel, event["thread_ts"])
                if found is not None:
                    text, exact, diag = found, True, diag or bare_diag
            query = clean_query(text)
        except InputError as exc:
            await _post(client, channel, thread_ts, asker.user, blocks.error_message(exc))
            return
        if seconds is not None:
            await live.answer(deps, client, channel, thread_ts, query, seconds, asker, exact=exact)
            return
        if diag:
            await _post(client, channel, thread_ts, asker.user, blocks.diagnosing_message(query))
            reply = await diagnose(deps, query, asker, exact=exact)
        else:
            reply = await consult(deps, query, asker, exact=exact)
        await _post(client, channel, thread_ts, asker.user, reply.message, public=reply.public)


async def _post(
    client: AsyncWebClient,
    channel: str,
    thread_ts: str,
    user: str | None,
    message: blocks.Message,
    *,
    public: bool = False,
) -> None:
    """Post in the thread for everyone (a failure is raised: the app's error handler
    tells the asker), or in it for `user` alone (``public=False``) through
    `bot.slack.delivery`, which never falls back to the whole thread."""
    if public:
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
    else:
        target = delivery.Target(None, channel, user, thread_ts)
        await delivery.reply(client, target, message, public=False)


async def _thread_subscriber(
    deps: Deps, client: AsyncWebClient, channel: str, thread_ts: str
) -> str | None:
    """The PPPoE user named in the thread's first message, if one is certain."""
    try:
        replies = await client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
    except SlackApiError as exc:
        log.warning(
            "cannot read thread %s in %s: %s", thread_ts, channel, exc.response.get("error")
        )
        return None
    messages = replies.get("messages") or []
    if not messages:
        return None
    match = await asyncio.to_thread(
        resolve.find_in_text,
        deps.readings.inventory,
        parsing.message_text(messages[0].get("text", "")),
    )
    return match.user if match else None
