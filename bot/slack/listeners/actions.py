"""A reading's buttons: "Actualizar" (a new snapshot that replaces the message in
place), "Diagnosticar" (the reading with its diagnosis, posted where the reading
is), and a candidate's "Consultar"."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.model import Asker
from bot.slack import blocks, delivery, parsing
from bot.slack.ids import ACTION_DIAG, ACTION_PICK, ACTION_REFRESH
from bot.slack.replies import Deps, consult, diagnose


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ACTION_REFRESH)
    async def refresh(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = parsing.button_value(body)
        reply = await consult(deps, user, _asker(body), exact=True)
        target = delivery.Target.of_action(body)
        if reply.kind == "reading":
            await delivery.reply(client, target, reply.message, public=True, replace_original=True)
        else:
            # Keep the last good reading on screen; tell only the one who clicked.
            await delivery.reply(client, target, reply.message, public=False)

    @app.action(ACTION_DIAG)
    async def diag(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Diagnose the reading's subscriber: "Diagnosticando…" to the one who clicked
        at once, then the reading with its diagnosis in the reading's channel or thread
        (the reading stays as it was)."""
        await ack()
        user = parsing.button_value(body)
        target = delivery.Target.of_action(body)
        await delivery.reply(client, target, blocks.diagnosing_message(user), public=False)
        reply = await diagnose(deps, user, _asker(body), exact=True)
        await delivery.reply(client, target, reply.message, public=reply.public)

    @app.action(ACTION_PICK)
    async def pick(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """One subscriber chosen from a list of candidates: post its reading."""
        await ack()
        user = parsing.button_value(body)
        reply = await consult(deps, user, _asker(body), exact=True)
        target = delivery.Target.of_action(body)
        await delivery.reply(client, target, reply.message, public=reply.public)
        await delivery.delete_original(target)  # the list was only for the one who asked


def _asker(body: dict[str, Any]) -> Asker:
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id")
    return Asker(body.get("user", {}).get("id"), channel or "", "button")
