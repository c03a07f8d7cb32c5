"""Starting a live view: from the operator's text to a running view, or why not.

    start_live(readings, registry, query, seconds, display)
        registry enabled?      no spare session on the routers: NO_SPARE_SESSION
        already watched?       (a PPPoE name) the asker joins it: BUSY
        registry full?         FULL, before any router is asked
        one reading            the subscriber, its router, online or OFFLINE
        registry.claim         BUSY / FULL / NODE_FULL / CLOSED
        display.show(view)     the view is shown before it samples (Slack: the message)
        registry.start         sampling; display.update every few seconds, display.finish once

The outcome comes back as a `LiveStart` value: what the asker is told, and how
it is audited, is the presentation's business (`bot.slack.listeners.live` maps it to
messages). A view that was claimed but could not be shown is released at once:
it never held a router session, only its place.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.domain.live import LiveView
from bot.domain.live_registry import LiveBusy, LiveClosed, LiveFull, LiveNodeFull, LiveRegistry
from bot.domain.readings import ReadingService
from bot.errors import BeholderError
from bot.inventory.store import Inventory
from bot.model import Node, Reading

log = logging.getLogger(__name__)


class LiveDisplay(Protocol):
    """Where a live view is shown while it runs (Slack: one message and its thread)."""

    async def show(self, view: LiveView) -> None:
        """Show the claimed view before it samples; raise when it cannot be shown."""

    async def update(self, view: LiveView) -> None:
        """Show the running figures (every few seconds; a failure is only logged)."""

    async def finish(self, view: LiveView) -> None:
        """Show how the view ended (once, however it ended)."""


class LiveOutcome(StrEnum):
    """What became of a request for a live view."""

    #: The view runs (`LiveStart.view`).
    STARTED = "started"
    #: The subscriber already had a view running: the asker joined it (`view`).
    BUSY = "busy"
    #: One API session per router, which a view would hold for its whole length.
    NO_SPARE_SESSION = "no_spare_session"
    #: As many views as allowed run already (`limit`).
    FULL = "full"
    #: The subscriber's router holds as many views as it can spare (`node`, `limit`).
    NODE_FULL = "node_full"
    #: The subscriber has no PPPoE session to watch (`reading`).
    OFFLINE = "offline"
    #: Beholder is shutting down: no view starts any more.
    CLOSED = "closed"
    #: No subscriber to watch: unknown, ambiguous, a router or inventory fault (`error`).
    NOT_READ = "not_read"
    #: The subscriber's router left the inventory between the reading and the claim.
    GONE = "gone"
    #: The view could not be shown (`error`): it was released without sampling.
    NOT_SHOWN = "not_shown"
    #: An error of ours (`error`, already logged with its traceback).
    ERROR = "error"


@dataclass(frozen=True)
class LiveStart:
    """The outcome of `start_live`, with what the presentation needs to say it."""

    outcome: LiveOutcome
    view: LiveView | None = None
    reading: Reading | None = None
    error: BaseException | None = None
    #: The cap that refused the view (FULL, NODE_FULL).
    limit: int = 0
    #: The router whose cap refused it (NODE_FULL).
    node: str = ""
    #: Milliseconds the reading took (0 when none was taken).
    latency_ms: int = 0


async def start_live(
    readings: ReadingService,
    registry: LiveRegistry,
    query: str,
    seconds: float,
    display: LiveDisplay,
    *,
    asker: str | None = None,
    exact: bool = False,
) -> LiveStart:
    """Start (or join) a live view of the subscriber `query` designates, for `seconds`.

    `query` is what the operator typed (resolved as ``/consumo`` resolves it);
    `exact`: a PPPoE name from a button. `asker` (the operator's id) is charged
    for the search like a reading, starts the view or joins it. Never raises but
    cancellation; a view that could not be shown, whatever the failure, is
    released at once.
    """
    if not registry.enabled:
        return LiveStart(LiveOutcome.NO_SPARE_SESSION)
    running = registry.get(query) if exact else None
    if running is not None:
        running.join(asker)
        return LiveStart(LiveOutcome.BUSY, view=running)
    if registry.full:  # no router question when no view could start anyway
        return LiveStart(LiveOutcome.FULL, limit=registry.max_views)

    started = time.monotonic()
    try:
        reading = await (readings.read_user(query) if exact else readings.read(query, asker=asker))
        latency_ms = _since(started)
        if not reading.online:
            return LiveStart(LiveOutcome.OFFLINE, reading=reading, latency_ms=latency_ms)
        node = await asyncio.to_thread(_node_of, readings.inventory, reading)
    except BeholderError as exc:  # no such subscriber, a router fault, a damaged inventory
        return LiveStart(LiveOutcome.NOT_READ, error=exc, latency_ms=_since(started))
    except Exception as exc:
        log.exception("live view of %r: unexpected error", query)
        return LiveStart(LiveOutcome.ERROR, error=exc, latency_ms=_since(started))
    if node is None:
        return LiveStart(LiveOutcome.GONE, reading=reading, latency_ms=latency_ms)

    def after_reading(
        outcome: LiveOutcome,
        view: LiveView | None = None,
        *,
        error: BaseException | None = None,
        limit: int = 0,
        node: str = "",
    ) -> LiveStart:
        return LiveStart(outcome, view, reading, error, limit, node, latency_ms)

    try:
        view = registry.claim(
            reading.user, reading.node, seconds, plan=reading.plan, started_by=asker
        )
    except LiveBusy as busy:
        busy.view.join(asker)
        return after_reading(LiveOutcome.BUSY, busy.view)
    except LiveFull as full:
        return after_reading(LiveOutcome.FULL, limit=full.limit)
    except LiveNodeFull as full:
        return after_reading(LiveOutcome.NODE_FULL, node=full.node, limit=full.limit)
    except LiveClosed:
        return after_reading(LiveOutcome.CLOSED)

    try:
        await display.show(view)
    except asyncio.CancelledError:
        registry.release(view)
        raise
    except Exception as exc:
        registry.release(view)  # never started: it holds no session, only its place
        log.debug("live view of %s: it could not be shown", view.user, exc_info=True)
        return after_reading(LiveOutcome.NOT_SHOWN, view, error=exc)
    try:
        registry.start(view, readings.router, node, display.update, display.finish)
    except LiveClosed:  # shut down while the view was being shown: show that it ended
        await _finish_unstarted(display, view)
        return after_reading(LiveOutcome.CLOSED, view)
    return after_reading(LiveOutcome.STARTED, view)


async def _finish_unstarted(display: LiveDisplay, view: LiveView) -> None:
    """A view shown, then refused by `start` (ended "cancelled", never sampled):
    its display must not go on saying it runs. Never raises but cancellation."""
    try:
        await display.finish(view)
    except Exception:
        log.exception("live view of %s: its end could not be shown", view.user)


def _node_of(inventory: Inventory, reading: Reading) -> Node | None:
    """The inventory's node (host, port) where the reading was taken."""
    for location in inventory.locate(reading.user):
        if location.secret.node == reading.node:
            return location.node
    return None


def _since(started: float) -> int:
    """Milliseconds since `started` (a `time.monotonic` reading)."""
    return round((time.monotonic() - started) * 1000)
