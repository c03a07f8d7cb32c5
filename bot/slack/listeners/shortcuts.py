"""The "Ver consumo" message shortcut: answer from any message.

A ticket pasted in the channel, a customer's message forwarded by a colleague:
the operator picks "Ver consumo" on it, Beholder finds the PPPoE user, IP or
MAC in its text and answers in that message's thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import resolve
from bot.model import Asker
from bot.slack import blocks, delivery, parsing
from bot.slack.ids import SHORTCUT_MESSAGE
from bot.slack.replies import Deps, consult

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.shortcut(SHORTCUT_MESSAGE)
    async def from_message(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message", {})
        channel = body.get("channel", {}).get("id", "")
        user = body.get("user", {}).get("id")
        thread_ts = message.get("thread_ts") or message.get("ts")
        text = parsing.message_text(message.get("text", ""))
        asker = Asker(user, channel, "shortcut")
        # Notes for the operator alone go through the response_url (with the
        # Web API as fallback): they work even where the bot is not a member.
        private = delivery.Target(body.get("response_url"), channel, user, thread_ts)
        match = await asyncio.to_thread(resolve.find_in_text, deps.readings.inventory, text)
        if match is None:
            deps.readings.audit(text[: parsing.AUDITED_MESSAGE_MAX], asker, "not_found")
            await delivery.reply(client, private, blocks.nothing_in_message(), public=False)
            return
        reply = await consult(deps, match.user, asker, exact=True)
        if not reply.public:  # e.g. the subscriber's node is missing from the inventory
            await delivery.reply(client, private, reply.message, public=False)
            return
        try:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **reply.message)
        except SlackApiError as exc:
            log.warning("shortcut reply not posted in %s: %s", channel, exc.response.get("error"))
            await delivery.reply(client, private, blocks.invite_needed(), public=False)
