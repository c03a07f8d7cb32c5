"""Who may ask Beholder, and where: a subscriber's traffic, IP and MAC are personal data.

Configured with ``BEHOLDER_ALLOWED_CHANNELS``, ``BEHOLDER_ALLOWED_USERS`` and
``BEHOLDER_ALLOWED_USERGROUPS`` (`bot.config.Settings`). All empty: everyone in
the workspace may ask (``serve`` logs a warning saying so). Otherwise a request
is allowed when its channel is allowed (if channels are configured) AND its user
is listed or belongs to an allowed user group (if users or groups are configured).

`decide` is the pure rule. `GroupResolver` turns user groups into members with
``usergroups.users.list`` (``usergroups.list`` for handles), cached for
`GROUP_TTL`; a group that cannot be resolved lets none of its members in.

Deny by default: `guarded` names the kind of every request (slash command,
mention, button, message shortcut, view) and only `HARMLESS_TYPES` and the
mentions the mention listener ignores (a bot's, an edited one) pass unchecked; a kind it does
not know is refused whoever sends it, so a listener added later is guarded until
it is given a rule. `middleware` applies all that before any listener runs: a
denied request gets a Spanish explanation only its author sees, no router is
asked, and the audit records it as ``denied``.

Before that, a request from another workspace or another app (its ``team_id`` or
``api_app_id`` differ from the `Installation`'s, learned with ``auth.test``)
is dropped: acked, so Slack does not retry it, logged, and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.internals import extract_channel_id, extract_user_id
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.errors import ConfigError
from bot.slack import blocks, delivery, parsing, shortcuts
from bot.slack.replies import Asker, Deps, audit

log = logging.getLogger(__name__)

#: Seconds a resolved user group is trusted before asking Slack again.
GROUP_TTL = 300.0
#: Longest wait for group members before answering: the ack must leave within 3 s.
GROUP_LOOKUP_DEADLINE = 2.0


@dataclass(frozen=True)
class Policy:
    """The configured lists. Empty lists mean "no restriction of that kind"."""

    channels: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()
    usergroups: tuple[str, ...] = ()  # ids ("S…") or handles ("@soporte-n2")

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            frozenset(settings.allowed_channels),
            frozenset(settings.allowed_users),
            tuple(settings.allowed_usergroups),
        )

    @property
    def open(self) -> bool:
        """Nothing configured: everyone in the workspace, in every channel."""
        return not (self.channels or self.users or self.usergroups)

    def needs_groups(self, user: str | None, channel: str) -> bool:
        """Only group membership can still decide: worth asking Slack for members."""
        return (
            bool(self.usergroups)
            and (not self.channels or channel in self.channels)
            and (user is None or user not in self.users)
        )


@dataclass(frozen=True)
class Members:
    """What the allowed user groups resolved to."""

    users: frozenset[str] = frozenset()
    #: Groups that could not be resolved (Slack error, missing scope, timeout).
    failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: Allowed: "open", "channel" (only channels configured), "user", "group".
    #: Denied: "channel", "user", "unverified" (group membership could not be checked),
    #: "kind" (a kind of request no rule covers: refused whatever the lists say).
    reason: str


def decide(
    policy: Policy, user: str | None, channel: str, members: Members | None = None
) -> Decision:
    """The rule. `members`: the allowed groups' members, when they were looked up."""
    if policy.open:
        return Decision(True, "open")
    if policy.channels and channel not in policy.channels:
        return Decision(False, "channel")
    if not (policy.users or policy.usergroups):
        return Decision(True, "channel")
    if user is not None and user in policy.users:
        return Decision(True, "user")
    if members is not None and user is not None and user in members.users:
        return Decision(True, "group")
    if members is not None and members.failed:
        return Decision(False, "unverified")
    return Decision(False, "user")


class GroupResolver:
    """User groups → member ids, cached for `ttl` seconds; one Slack call per group
    however many requests wait for it. Failures are not cached: the next request
    asks again."""

    def __init__(
        self,
        client: AsyncWebClient,
        groups: Sequence[str],
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.groups = tuple(groups)
        self.ttl = GROUP_TTL if ttl is None else ttl
        self._client = client
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._handles: tuple[float, dict[str, str]] | None = None
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def members(self, deadline: float | None = None) -> Members:
        """Members of every configured group; groups not resolved within `deadline`
        are reported as failed (their lookup goes on and fills the cache)."""
        if not self.groups:
            return Members()
        lookups = [self._lookup(group) for group in self.groups]
        _, pending = await asyncio.wait(lookups, timeout=deadline)
        users: set[str] = set()
        failed: list[str] = []
        for group, lookup in zip(self.groups, lookups, strict=True):
            if lookup in pending or lookup.exception() is not None:
                failed.append(group)
            else:
                users |= lookup.result()
        if pending:
            log.warning("user groups %s did not resolve within %gs", failed, deadline)
        return Members(frozenset(users), tuple(failed))

    def _lookup(self, group: str) -> asyncio.Future[frozenset[str]]:
        cached = self._members.get(group)
        if cached is not None and cached[0] > self._clock():
            done: asyncio.Future[frozenset[str]] = asyncio.get_running_loop().create_future()
            done.set_result(cached[1])
            return done
        return self._shared(group, lambda: self._fetch(group))

    def _shared(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        """One in-flight fetch per key, awaited by everyone who needs it."""
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(fetch())
            self._inflight[key] = future

            def forget(done: asyncio.Future[Any]) -> None:
                self._inflight.pop(key, None)
                if not done.cancelled() and (exc := done.exception()) is not None:
                    log.warning(
                        "could not resolve user group %s: %s; its members are denied until it "
                        "resolves",
                        key,
                        _describe(exc),
                    )

            future.add_done_callback(forget)
        return future

    async def _fetch(self, group: str) -> frozenset[str]:
        group_id = await self._group_id(group) if group.startswith("@") else group
        response = await self._client.usergroups_users_list(usergroup=group_id)
        users = frozenset(response.get("users") or ())
        self._members[group] = (self._clock() + self.ttl, users)
        return users

    async def _group_id(self, handle: str) -> str:
        if self._handles is None or self._handles[0] <= self._clock():
            handles = await self._shared(" handles", self._fetch_handles)
        else:
            handles = self._handles[1]
        try:
            return handles[handle.removeprefix("@")]
        except KeyError:
            raise LookupError(f"no user group with handle {handle}") from None

    async def _fetch_handles(self) -> dict[str, str]:
        response = await self._client.usergroups_list()
        handles = {g["handle"]: g["id"] for g in response.get("usergroups") or ()}
        self._handles = (self._clock() + self.ttl, handles)
        return handles


#: Request kinds with an access rule: what `guarded` knows how to check.
KNOWN_SOURCES = frozenset({"command", "mention", "button", "shortcut", "view"})
#: Payloads that carry no one's question: Slack's own handshakes (Bolt answers
#: them before any middleware; listed so they stay harmless if that changes).
HARMLESS_TYPES = frozenset({"url_verification", "ssl_check"})


@dataclass(frozen=True)
class Request:
    """A request that would reach a listener, and who made it where."""

    #: "command", "mention", "button", "shortcut", "view"; any other value
    #: (``event:message``, ``block_suggestion``…) is a kind without a rule.
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
        return Request("button", user, channel, str(actions[0].get("value", "")))
    if kind in ("message_action", "shortcut"):
        message = body.get("message") or {}
        return Request(
            "shortcut",
            (body.get("user") or {}).get("id"),
            (body.get("channel") or {}).get("id", ""),
            str(message.get("text", ""))[: shortcuts.QUERY_MAX],
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


# -- the installation: which workspace and app this bot is ----------------------------------


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
        self._learning: asyncio.Future[None] | None = None

    @property
    def known(self) -> bool:
        return self.team_id is not None

    async def learn(self) -> Installation:
        """Ask Slack who this bot is, unless already known. Raises SlackClientError
        or LookupError when Slack does not say."""
        if not self.known:
            if self._learning is None:
                self._learning = asyncio.ensure_future(self._fetch())
                self._learning.add_done_callback(self._forget_failure)
            await asyncio.shield(self._learning)
        return self

    def _forget_failure(self, done: asyncio.Future[None]) -> None:
        if done.cancelled() or done.exception() is not None:
            self._learning = None

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
            log.info("bots.info for %s: %s", bot_id, _describe(exc))
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


_installations: weakref.WeakKeyDictionary[AsyncApp, Installation] = weakref.WeakKeyDictionary()


async def identify(app: AsyncApp) -> Installation:
    """Learn `app`'s installation (at start, before serving). A ConfigError saying
    what to fix when Slack does not tell."""
    installation = _installations[app]
    try:
        return await installation.learn()
    except (SlackClientError, LookupError) as exc:
        raise ConfigError(
            f"cannot tell which Slack workspace and app this is ({_describe(exc)}): "
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
    except (SlackClientError, LookupError) as exc:
        log.error(
            "request dropped: cannot learn this installation's team and app (%s)", _describe(exc)
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
    await audit(deps, request.query, asker, "denied")


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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "error"))
    if isinstance(exc, LookupError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__
