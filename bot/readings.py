"""The domain: what a reading is, and how one is made.

    operator's text → inventory.locate → RouterClient.snapshot (each node, at once)
                    → choose the live one → Reading

`Reading` is a plain value: the Slack blocks, the terminal view and ``--json``
are all pure functions of it.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import InputError, NodeNotInInventory, RouterError
from bot.inventory import Inventory, Secret
from bot.routeros import (
    Plan,
    QueueState,
    RouterClient,
    Session,
    Snapshot,
    Traffic,
    parse_router_time,
    pick_live,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """One answer to "how much is this subscriber using right now?"."""

    user: str
    node: str
    taken_at: datetime
    secret: Secret
    session: Session | None = None
    traffic: Traffic | None = None
    queue: QueueState | None = None
    #: Other nodes that also have this secret configured (a duplicated user).
    also_on: tuple[str, ...] = ()
    #: Nodes holding the secret that could not be asked; the live session may be there.
    unavailable: tuple[RouterError, ...] = ()

    @property
    def online(self) -> bool:
        return self.session is not None

    @property
    def plan(self) -> Plan | None:
        return self.queue.plan if self.queue else None

    @property
    def download_pct(self) -> float | None:
        return _share(self.traffic.download_bps if self.traffic else None, self.plan, "download")

    @property
    def upload_pct(self) -> float | None:
        return _share(self.traffic.upload_bps if self.traffic else None, self.plan, "upload")

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: bits per second, nulls where unknown."""
        plan, traffic, session = self.plan, self.traffic, self.session
        return {
            "user": self.user,
            "node": self.node,
            "online": self.online,
            "taken_at": self.taken_at.isoformat(timespec="seconds"),
            "download_bps": traffic.download_bps if traffic else None,
            "upload_bps": traffic.upload_bps if traffic else None,
            "plan_download_bps": plan.download_bps if plan else None,
            "plan_upload_bps": plan.upload_bps if plan else None,
            "download_pct": _round(self.download_pct),
            "upload_pct": _round(self.upload_pct),
            "address": session.address if session else None,
            "caller_id": session.caller_id if session else None,
            "uptime_s": session.uptime_s if session else None,
            "profile": self.secret.profile or None,
            "comment": self.secret.comment or None,
            "disabled": self.secret.disabled,
            "last_logged_out": self.secret.last_logged_out or None,
            "last_disconnect_reason": self.secret.last_disconnect_reason or None,
            "last_caller_id": self.secret.last_caller_id or None,
            "also_on": list(self.also_on),
            "unavailable": [{"node": e.node, "error": type(e).__name__} for e in self.unavailable],
        }


class ReadingService:
    """Makes readings: lookup, then one snapshot per node holding the user."""

    def __init__(self, inventory: Inventory, router: RouterClient) -> None:
        self.inventory = inventory
        self.router = router

    async def read(self, user: str) -> Reading:
        """A reading of `user`, or a `BeholderError` that says why not."""
        # In a worker thread: an unknown user triggers a scan for suggestions.
        locations = await asyncio.to_thread(self.inventory.locate, user)
        reachable = [loc for loc in locations if loc.node is not None]
        if not reachable:
            raise NodeNotInInventory(user, locations[0].secret.node)
        results = await asyncio.gather(
            *(self.router.snapshot(loc.node, user) for loc in reachable if loc.node),
            return_exceptions=True,
        )
        snapshots: list[Snapshot] = []
        failures: list[RouterError] = []
        for result in results:
            if isinstance(result, Snapshot):
                snapshots.append(result)
            elif isinstance(result, RouterError):
                failures.append(result)
            else:
                raise result  # a bug, not a router fault: let the edge log it
        if not snapshots:
            raise failures[0]
        chosen = choose(snapshots)
        stored = {loc.secret.node: loc.secret for loc in locations}
        return Reading(
            user=user,
            node=chosen.node,
            taken_at=chosen.taken_at,
            secret=chosen.secret or stored[chosen.node],
            session=chosen.session,
            traffic=chosen.traffic,
            queue=chosen.queue,
            also_on=tuple(loc.secret.node for loc in locations if loc.secret.node != chosen.node),
            unavailable=tuple(failures),
        )


def choose(snapshots: list[Snapshot]) -> Snapshot:
    """The node that counts: the live session; else the most recent logout."""
    live = pick_live(snapshots)
    if live is not None:
        return live

    def last_seen(snapshot: Snapshot) -> datetime:
        text = snapshot.secret.last_logged_out if snapshot.secret else ""
        return parse_router_time(text) or datetime.min  # noqa: DTZ901 (router clocks are naive)

    return max(snapshots, key=last_seen)


def _share(value: int | None, plan: Plan | None, direction: str) -> float | None:
    if value is None or plan is None:
        return None
    limit = plan.download_bps if direction == "download" else plan.upload_bps
    return value * 100 / limit if limit else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


#: RouterOS accepts long names, but nobody types a PPPoE user longer than this.
MAX_USER_LENGTH = 64
_QUOTES = "\"'`“”‘’«»"


def clean_user(text: str) -> str:
    """The PPPoE user an operator asked for, or `InputError`.

    The first word is the user (quotes around it are dropped). Control
    characters are refused: a name must be something a person can type.
    """
    words = text.split()
    if not words:
        raise InputError(text, "empty")
    user = words[0].strip(_QUOTES)
    if not user:
        raise InputError(text, "empty")
    if len(user) > MAX_USER_LENGTH:
        raise InputError(text, "too_long")
    if any(unicodedata.category(c)[0] == "C" for c in user):
        raise InputError(text, "invalid")
    return user
