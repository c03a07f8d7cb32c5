"""``@Beholder consumo juan.perez``: the way to ask inside a thread.

Slack does not allow slash commands in threads, so escalation threads mention
the bot. The answer goes to the thread the mention is in (or starts one under
a top-level mention), keeping the evidence with the escalation.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import InputError
from bot.readings import clean_query
from bot.slack import blocks, parsing
from bot.slack.replies import Asker, Deps, consult


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("bot_id") or event.get("subtype"):
            return  # bots and edits do not ask questions
        thread_ts = event.get("thread_ts") or event["ts"]
        try:
            user = clean_query(parsing.mention_text(event.get("text", "")))
        except InputError as exc:
            message = blocks.error_message(exc)
        else:
            asker = Asker(event.get("user"), event.get("channel", ""), "mention")
            message = (await consult(deps, user, asker)).message
        await client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts, **message)
