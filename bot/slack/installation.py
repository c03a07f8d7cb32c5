"""Which workspace and app this bot is, to drop requests from any other.

A request whose ``team_id`` or ``api_app_id`` differ from this installation's
(learned with ``auth.test`` at start) is not ours: another workspace sharing the
signing secret or the app token, or a Slack Connect user of another workspace.
`bot.slack.access` drops it before any listener or access rule sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.inflight import InFlight
from bot.slack.delivery import describe

log = logging.getLogger(__name__)


class Installation:
    """The workspace (``team_id``) and app (``api_app_id``) this bot serves.

    Both come from ``auth.test``, which Slack answers with the bot's ``app_id``
    too; it works the same in Socket Mode and over HTTP (which has no Socket Mode
    ``hello`` to read the app id from). An older answer without ``app_id`` falls
    back to ``bots.info`` on the bot's id, which needs the ``users:read`` scope
    Beholder does not ask for by default (it would let the bot read every
    member's profile); without either, requests are checked by team only and a
    WARNING says so. `learn` asks once; concurrent callers share the answer, a
    failure is not kept.
    """

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self.team_id: str | None = None
        #: None once learned: Slack did not say, and only the team is checked.
        self.app_id: str | None = None
        #: The one ``auth.test`` in flight, shared by concurrent callers.
        self._learning: InFlight[str, None] = InFlight()

    @property
    def known(self) -> bool:
        return self.team_id is not None

    async def learn(self) -> Installation:
        """Ask Slack who this bot is, unless already known. Raises LookupError when
        Slack does not say, one of `delivery.SLACK_FAILURES` when it refuses or
        cannot be reached."""
        if not self.known:
            await self._learning.join("auth.test", self._fetch, "learn the installation")
        return self

    async def _fetch(self) -> None:
        auth = await self._client.auth_test()
        bot_id, team_id = auth.get("bot_id"), auth.get("team_id")
        if not bot_id or not team_id:
            raise LookupError("auth.test named no bot or team: is SLACK_BOT_TOKEN a bot token?")
        app_id = auth.get("app_id") or await self._app_of(str(bot_id))
        if not app_id:
            log.warning(
                "Slack did not say this bot's app id (auth.test gave none, bots.info needs "
                "the users:read scope): requests are checked by team only"
            )
        self.team_id, self.app_id = str(team_id), str(app_id) if app_id else None

    async def _app_of(self, bot_id: str) -> str | None:
        """``bots.info``'s app id for `bot_id`, or None when Slack refuses to say."""
        try:
            response = await self._client.bots_info(bot=bot_id)
        except SlackApiError as exc:
            log.info("bots.info for %s: %s", bot_id, describe(exc))
            return None
        return (response.get("bot") or {}).get("app_id") or None

    def foreign(self, body: dict[str, Any]) -> tuple[list[str], str | None] | None:
        """The teams and app `body` names when they are not (only) this installation's;
        None when it is ours. A body naming no team at all is foreign too."""
        teams = sorted(set(_teams_named(body)))
        app_id = body.get("api_app_id")
        if teams == [self.team_id] and (self.app_id is None or app_id in (None, self.app_id)):
            return None
        return teams, app_id


def _teams_named(body: dict[str, Any]) -> Iterator[str]:
    """Every team id a payload names for its installation or for the person acting
    (Slack Connect: a user of another workspace in a shared channel). Not the team
    of a message a shortcut was used on: that is its author, not who asks."""
    team = body.get("team")
    candidates = [
        body.get("team_id"),
        team.get("id") if isinstance(team, dict) else team,
        (body.get("user") or {}).get("team_id") if isinstance(body.get("user"), dict) else None,
        *((a or {}).get("team_id") for a in body.get("authorizations") or ()),
    ]
    event = body.get("event")
    if isinstance(event, dict):
        candidates += [event.get("team"), event.get("user_team")]
    view = body.get("view")
    if isinstance(view, dict):
        candidates.append(view.get("team_id"))
    yield from (str(c) for c in candidates if c)
