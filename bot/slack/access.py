"""Access control in front of every listener: a subscriber's traffic, IP and MAC are
personal data.

Deny by default: `guarded` names the kind of every request (slash command,
mention, one of the `BUTTONS`, message shortcut, view) and only `HARMLESS_TYPES` and the
mentions the mention listener ignores (a bot's, an edited one) pass unchecked; a kind it does
not know is refused whoever sends it, so a listener added later is guarded until
it is given a rule. `middleware` applies the rule (`bot.slack.policy.decide`,
with the allowed groups' members from `bot.slack.groups`) before any listener
runs: a denied request gets a Spanish explanation only its author sees, no
router is asked, and the audit records it as ``denied``.

Before that, a request from another workspace or another app (its ``team_id`` or
``api_app_id`` differ from the `Installation`'s, learned with ``auth.test``, see
`bot.slack.installation`) is dropped: acked, so Slack does not retry it, logged,
and nothing else. At start `log_policy` says who may ask (``serve`` warns when
everyone in the workspace may).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.internals import extract_channel_id, extract_user_id
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.errors import ConfigError
from bot.model import Asker
from bot.slack import blocks, delivery, parsing
from bot.slack.delivery import describe_lookup
from bot.slack.groups import GroupResolver
from bot.slack.ids import ACTION_DIAG, ACTION_LIVE, ACTION_LIVE_STOP, ACTION_PICK, ACTION_REFRESH
from bot.slack.installation import Installation
from bot.slack.policy import Decision, Policy, decide
from bot.slack.replies import Deps

log = logging.getLogger(__name__)

#: Longest wait for group members before answering: the ack must leave within 3 s.
GROUP_LOOKUP_DEADLINE = 2.0

#: Request kinds with an access rule: what `guarded` knows how to check.
KNOWN_SOURCES = frozenset({"command", "mention", "button", "shortcut", "view"})
#: The buttons checked as "button" (each asks a router about a subscriber, or stops
#: a live view): a click on any other action id is a kind without a rule, refused.
BUTTONS = frozenset({ACTION_REFRESH, ACTION_PICK, ACTION_LIVE, ACTION_LIVE_STOP, ACTION_DIAG})
#: Payloads that carry no one's question: Slack's own handshakes (Bolt answers
#: them before any middleware; listed so they stay harmless if that changes).
HARMLESS_TYPES = frozenset({"url_verification", "ssl_check"})


@dataclass(frozen=True)
class Request:
    """A request that would reach a listener, and who made it where."""

    #: "command", "mention", "button", "shortcut", "view"; any other value
    #: (``event:message``, ``block_suggestion``, ``action:<id>`` for a button not in
    #: `BUTTONS`…) is a kind without a rule.
    source: str
    user: str | None
    channel: str
    query: str
    thread_ts: str | None = None

    @property
    def known(self) -> bool:
        return self.source in KNOWN_SOURCES


def guarded(body: dict[str, Any]) -> Request | None:
    """The request in `body`, for access control; None only for payloads that ask
    nothing (`HARMLESS_TYPES`, a bot's or an edited ``app_mention``), which no
    listener answers. Any other payload is a `Request`, of a kind the policy may
    not know (`Request.known`): those are refused."""
    kind = body.get("type")
    if "command" in body:
        text = parsing.command_text(str(body.get("text", "")))
        return Request("command", body.get("user_id"), body.get("channel_id", ""), text)
    if kind in HARMLESS_TYPES:
        return None
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id", ""
        )
        user = (body.get("user") or {}).get("id")
        action_id = str(actions[0].get("action_id", ""))
        if action_id not in BUTTONS:
            return Request(f"action:{action_id[:40]}", user, channel, "")
        return Request("button", user, channel, parsing.button_value(body))
    if kind in ("message_action", "shortcut"):
        message = body.get("message") or {}
        return Request(
            "shortcut",
            (body.get("user") or {}).get("id"),
            (body.get("channel") or {}).get("id", ""),
            str(message.get("text", ""))[: parsing.AUDITED_MESSAGE_MAX],
            message.get("thread_ts") or message.get("ts"),
        )
    if kind in ("view_submission", "view_closed"):
        view = body.get("view") or {}
        return Request("view", (body.get("user") or {}).get("id"), "", view.get("callback_id", ""))
    event = body.get("event") or {}
    if kind == "event_callback":
        if event.get("type") == "app_mention":
            if event.get("bot_id") or event.get("subtype"):
                # A bot's (this one's included) or an edited mention: exactly what
                # the mention listener ignores. Any other event with a ``bot_id``
                # is a kind without a rule, like any other unknown event.
                return None
            text = parsing.mention_text(str(event.get("text", "")))
            return Request(
                "mention", event.get("user"), event.get("channel", ""), text, event.get("thread_ts")
            )
        kind = f"event:{event.get('type')}"
    return Request(str(kind), extract_user_id(body), extract_channel_id(body) or "", "")


_installations: weakref.WeakKeyDictionary[AsyncApp, Installation] = weakref.WeakKeyDictionary()


async def identify(app: AsyncApp) -> Installation:
    """Learn `app`'s installation (at start, before serving). A ConfigError saying
    what to fix when Slack does not tell, or cannot be reached."""
    installation = _installations[app]
    try:
        return await installation.learn()
    except (*delivery.SLACK_FAILURES, LookupError) as exc:
        raise ConfigError(
            f"cannot tell which Slack workspace and app this is ({describe_lookup(exc)}): "
            "check SLACK_BOT_TOKEN and that Slack's Web API is reachable"
        ) from None


Middleware = Callable[..., Awaitable[BoltResponse | None]]


def install(
    app: AsyncApp, policy: Policy, resolver: GroupResolver | None, deps: Deps
) -> Installation:
    """Put access control in front of every listener of `app` (its first global
    middleware); `identify` learns the returned installation at start."""
    installation = Installation(app.client)
    _installations[app] = installation
    app.middleware(middleware(policy, resolver, deps, installation))
    return installation


def middleware(
    policy: Policy, resolver: GroupResolver | None, deps: Deps, installation: Installation
) -> Middleware:
    """A Bolt global middleware: drops requests from another workspace or app, then
    applies `policy` to every request `guarded` names, refusing kinds it does not know.

    It runs before the ack, so it stays quick: cached groups, at most
    `GROUP_LOOKUP_DEADLINE` waiting for Slack, and the explanation (for buttons
    and mentions) and the audit entry are written after the ack has left.
    """
    background: set[asyncio.Task[None]] = set()

    async def check_access(
        body: dict[str, Any],
        ack: AsyncAck,
        client: AsyncWebClient,
        next: Callable[[], Awaitable[None]],  # Bolt injects arguments by their names
    ) -> BoltResponse | None:
        if body.get("type") not in HARMLESS_TYPES and not await _ours(installation, body):
            return await ack()  # acked: Slack must not retry it
        request = guarded(body)
        if request is None:
            return await next()
        if not request.known:
            decision = Decision(False, "kind")
            log.warning(
                "refused a %s request from user=%s: no access rule for that kind of request",
                request.source,
                request.user,
            )
        elif policy.open:
            return await next()
        else:
            members = None
            if resolver is not None and policy.needs_groups(request.user, request.channel):
                members = await resolver.members(GROUP_LOOKUP_DEADLINE)
            decision = decide(policy, request.user, request.channel, members)
        if decision.allowed:
            return await next()
        log.info(
            "access denied: user=%s channel=%s source=%s reason=%s",
            request.user,
            request.channel,
            request.source,
            decision.reason,
        )
        message = blocks.denied_message(
            decision.reason, sorted(policy.channels), policy.usergroups, bool(policy.users)
        )
        task = asyncio.ensure_future(_tell_and_audit(deps, client, body, request, message))
        background.add(task)
        task.add_done_callback(background.discard)
        if request.source == "command":
            return await ack(**message)  # the ack itself is the (ephemeral) answer
        return await ack()

    return check_access


async def _ours(installation: Installation, body: dict[str, Any]) -> bool:
    """Whether `body` comes from this workspace and app; logs why not."""
    try:
        await installation.learn()
    except (*delivery.SLACK_FAILURES, LookupError) as exc:
        log.error(
            "request dropped: cannot learn this installation's team and app (%s)",
            describe_lookup(exc),
        )
        return False
    foreign = installation.foreign(body)
    if foreign is None:
        return True
    teams, app_id = foreign
    log.warning(
        "request dropped: from team_id=%s api_app_id=%s, but this is team %s, app %s",
        ",".join(teams) or "(none)",
        app_id or "(none)",
        installation.team_id,
        installation.app_id,
    )
    return False


async def _tell_and_audit(
    deps: Deps,
    client: AsyncWebClient,
    body: dict[str, Any],
    request: Request,
    message: dict[str, Any],
) -> None:
    if request.source == "command":
        pass  # the ack carried the explanation
    elif request.source == "button":
        await delivery.reply(client, delivery.Target.of_action(body), message, public=False)
    elif body.get("response_url") or (request.source == "mention" and request.user):
        # A shortcut (or a kind without a rule) that has one; a mention, which has none.
        target = delivery.Target(
            body.get("response_url"), request.channel, request.user, request.thread_ts
        )
        await delivery.reply(client, target, message, public=False)
    asker = Asker(request.user, request.channel, request.source)
    deps.readings.audit(request.query, asker, "denied")


def log_policy(settings: Settings) -> None:
    """One line at start: who may ask. Open access is a WARNING: subscribers' traffic,
    IPs and MACs are then visible to anyone in the workspace."""
    policy = Policy.from_settings(settings)
    if policy.open:
        log.warning(
            "access is open to everyone in the workspace: set BEHOLDER_ALLOWED_CHANNELS, "
            "BEHOLDER_ALLOWED_USERS or BEHOLDER_ALLOWED_USERGROUPS to restrict it"
        )
        return
    log.info(
        "access restricted: channels=%s users=%d usergroups=%s",
        ",".join(sorted(policy.channels)) or "any",
        len(policy.users),
        ",".join(policy.usergroups) or "none",
    )
