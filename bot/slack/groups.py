"""The allowed user groups' members, as Slack says, cached for `GROUP_TTL`.

Access by user group needs ``usergroups.users.list`` (``usergroups.list`` to turn
a handle such as ``@soporte-n2`` into its id) before the ack, which must leave
within 3 s: so members are cached, one call per group is shared by every request
waiting for it, and a group not resolved in time is reported as failed
(`Members.failed`: its members are denied) while its lookup goes on and fills
the cache. Failures are not cached: the next request asks again. The clock is
injected, so the TTL can be tested without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.inflight import InFlight
from bot.slack.delivery import describe_lookup
from bot.slack.policy import Members

log = logging.getLogger(__name__)

#: Seconds a resolved user group is trusted before asking Slack again.
GROUP_TTL = 300.0


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
        self._inflight: InFlight[str, Any] = InFlight()
        #: Lookups already reported late: one warning per lookup, not per request.
        self._late: weakref.WeakSet[asyncio.Future[Any]] = weakref.WeakSet()

    async def members(self, deadline: float | None = None) -> Members:
        """Members of every configured group; groups not resolved within `deadline`
        are reported as failed (their lookup goes on and fills the cache, and is
        warned about once however many requests it keeps waiting)."""
        if not self.groups:
            return Members()
        lookups = [self._lookup(group) for group in self.groups]
        _, pending = await asyncio.wait(lookups, timeout=deadline)
        users: set[str] = set()
        failed: list[str] = []
        late: list[str] = []
        for group, lookup in zip(self.groups, lookups, strict=True):
            if lookup in pending:
                failed.append(group)
                if lookup not in self._late:
                    self._late.add(lookup)
                    late.append(group)
            elif lookup.cancelled() or lookup.exception() is not None:
                failed.append(group)  # cancelled: only when the loop shuts down
            else:
                users |= lookup.result()
        if late:
            log.warning("user groups %s did not resolve within %gs", late, deadline)
        return Members(frozenset(users), tuple(failed))

    def _lookup(self, group: str) -> asyncio.Future[frozenset[str]]:
        cached = self._members.get(group)
        if cached is not None and cached[0] > self._clock():
            done: asyncio.Future[frozenset[str]] = asyncio.get_running_loop().create_future()
            done.set_result(cached[1])
            return done
        return self._inflight.task(
            group, lambda: _warned(group, self._fetch(group)), f"user group {group}"
        )

    async def _fetch(self, group: str) -> frozenset[str]:
        group_id = await self._group_id(group) if group.startswith("@") else group
        response = await self._client.usergroups_users_list(usergroup=group_id)
        users = frozenset(response.get("users") or ())
        self._members[group] = (self._clock() + self.ttl, users)
        return users

    async def _group_id(self, handle: str) -> str:
        if self._handles is None or self._handles[0] <= self._clock():
            # Its failure is warned about by each group waiting for it, by name.
            handles = await self._inflight.join(
                " handles", self._fetch_handles, "user group handles"
            )
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


async def _warned(key: str, fetch: Awaitable[Any]) -> Any:
    """`fetch`'s result; its failure logged, then raised to everyone waiting for it."""
    try:
        return await fetch
    except Exception as exc:
        log.warning(
            "could not resolve user group %s: %s; its members are denied until it resolves",
            key,
            describe_lookup(exc),
        )
        raise
