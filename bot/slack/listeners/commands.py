"""The ``/consumo`` slash command.

Ack first (Slack gives up after 3 s), with an ephemeral "Consultando…"; then
ask the router and post the reading in the channel through ``response_url``,
which works in any channel the command was typed in, even without inviting
the bot (`bot.slack.delivery` retries it and falls back to the Web API).
``/consumo ayuda`` (or ``help``) is answered in the ack itself, to the asker alone,
without asking any router. ``/consumo juan.perez diag`` acks "Diagnosticando…"
and posts the reading with its diagnosis (a few seconds later) the same way.
Every command runs as its own asyncio task (AsyncApp), so twenty operators
asking at once are all acked at once.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.readings import clean_query
from bot.errors import InputError
from bot.model import Asker
from bot.slack import blocks, delivery, parsing
from bot.slack.ids import COMMAND
from bot.slack.listeners import live
from bot.slack.replies import Deps, consult, diagnose, help_message


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def consumo(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        asker = Asker(command.get("user_id"), command.get("channel_id", ""), "command")
        try:
            text, seconds = parsing.command_question(command.get("text", ""))
            if parsing.asks_help(text, seconds):
                await ack(**help_message(deps))  # the ack is seen by the asker alone
                deps.readings.audit(text.strip(), asker, "help")
                return
            diag = False
            if seconds is None:
                text, diag = parsing.split_diag(text)
            user = clean_query(text)
        except InputError as exc:
            await ack(**blocks.error_message(exc))
            return
        if diag:
            await ack(**blocks.diagnosing_message(user))
            reply = await diagnose(deps, user, asker)
            target = delivery.Target.of_command(command)
            await delivery.reply(client, target, reply.message, public=reply.public)
            return
        await ack(**blocks.consulting_message(user))
        if seconds is not None:
            await live.answer(
                deps,
                client,
                command["channel_id"],
                None,
                user,
                seconds,
                asker,
                response_url=command.get("response_url"),
            )
            return
        reply = await consult(deps, user, asker)
        target = delivery.Target.of_command(command)
        await delivery.reply(client, target, reply.message, public=reply.public)
