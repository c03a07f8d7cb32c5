"""The "Actualizar" button: a new snapshot that replaces the message in place."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack.ids import ACTION_PICK, ACTION_REFRESH
from bot.slack.replies import Asker, Deps, consult


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ACTION_REFRESH)
    async def refresh(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = body["actions"][0].get("value", "")
        reply = await consult(deps, user, _asker(body), exact=True)
        if reply.kind == "reading":
            await respond(**reply.message, replace_original=True)
        else:
            # Keep the last good reading on screen; tell only the one who clicked.
            await respond(**reply.message, response_type="ephemeral", replace_original=False)

    @app.action(ACTION_PICK)
    async def pick(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """One subscriber chosen from a list of candidates: post its reading."""
        await ack()
        user = body["actions"][0].get("value", "")
        reply = await consult(deps, user, _asker(body), exact=True)
        await respond(
            **reply.message,
            response_type="in_channel" if reply.public else "ephemeral",
            replace_original=False,
        )
        await respond(delete_original=True)  # the list was only for the one who asked


def _asker(body: dict[str, Any]) -> Asker:
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id")
    return Asker(body.get("user", {}).get("id"), channel or "", "button")
