"""Who may ask Beholder, and where: a subscriber's traffic, IP and MAC are personal data.

Configured with ``BEHOLDER_ALLOWED_CHANNELS``, ``BEHOLDER_ALLOWED_USERS`` and
``BEHOLDER_ALLOWED_USERGROUPS`` (`bot.config.Settings`). All empty: everyone in
the workspace may ask (``serve`` logs a warning saying so). Otherwise a request
is allowed when its channel is allowed (if channels are configured) AND its user
is listed or belongs to an allowed user group (if users or groups are configured).

`decide` is the pure rule. `GroupResolver` turns user groups into members with
``usergroups.users.list`` (``usergroups.list`` for handles), cached for
`GROUP_TTL`; a group that cannot be resolved lets none of its members in.
`middleware` applies both to the slash command, mentions and buttons before any
listener runs: a denied request gets a Spanish explanation only its author sees,
no router is asked, and the audit records it as ``denied``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack import blocks, delivery, parsing
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
    #: Denied: "channel", "user", "unverified" (group membership could not be checked).
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


@dataclass(frozen=True)
class Request:
    """A request that would reach a listener, and who made it where."""

    source: str  # "command", "mention", "button"
    user: str | None
    channel: str
    query: str
    thread_ts: str | None = None


def guarded(body: dict[str, Any]) -> Request | None:
    """The request in `body` if access control applies to it; None for anything
    else (URL verification, bots' own messages, events we do not answer)."""
    if "command" in body:
        text = parsing.command_text(str(body.get("text", "")))
        return Request("command", body.get("user_id"), body.get("channel_id", ""), text)
    if body.get("type") == "block_actions":
        actions = body.get("actions") or [{}]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id", ""
        )
        user = (body.get("user") or {}).get("id")
        return Request("button", user, channel, str(actions[0].get("value", "")))
    event = body.get("event") or {}
    if body.get("type") == "event_callback" and event.get("type") == "app_mention":
        if event.get("bot_id") or event.get("subtype"):
            return None
        text = parsing.mention_text(str(event.get("text", "")))
        return Request(
            "mention", event.get("user"), event.get("channel", ""), text, event.get("thread_ts")
        )
    return None


Middleware = Callable[..., Awaitable[BoltResponse | None]]


def middleware(policy: Policy, resolver: GroupResolver | None, deps: Deps) -> Middleware:
    """A Bolt global middleware applying `policy` to every request `guarded` names.

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
        request = guarded(body)
        if request is None or policy.open:
            return await next()
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


async def _tell_and_audit(
    deps: Deps,
    client: AsyncWebClient,
    body: dict[str, Any],
    request: Request,
    message: dict[str, Any],
) -> None:
    if request.source == "button":
        await delivery.reply(client, delivery.Target.of_action(body), message, public=False)
    elif request.source == "mention" and request.user:
        try:
            await client.chat_postEphemeral(
                channel=request.channel, user=request.user, thread_ts=request.thread_ts, **message
            )
        except SlackClientError as exc:
            log.warning(
                "could not tell user=%s in channel=%s why access was denied: %s",
                request.user,
                request.channel,
                _describe(exc),
            )
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
