"""Which live views run: one per subscriber, a global cap, a cap per router.

    registry.claim(user, node, seconds)   one view per subscriber, a global cap,
                                          and a cap per router
    registry.start(view, router, node, on_tick, on_done)
        RouterClient.watch → view.samples (one ``monitor-traffic once`` a second)
        on_tick(view)   every few seconds, never blocking the sampling
        on_done(view)   once, however it ended (completed, stopped, offline,
                        failed, cancelled), after the API session is closed

Plain asyncio, no Slack: `bot.domain.live_service` starts views on a display
whose callbacks these are (`bot.slack.listeners.live` hangs the messages on them).
A live view holds one API session on its router for its whole duration, so the
registry keeps at most ``max_views`` running at once and, per router, leaves
one session of ``MIKROTIK_MAX_SESSIONS`` free for ordinary readings: with one
session per router, no view runs at all (`LiveRegistry.enabled` is False).
`shutdown` (or leaving ``async with registry``) ends every view, so the
process never exits with a router session still held.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any

from bot.config import Settings
from bot.domain.live import LiveView
from bot.errors import RouterError
from bot.model import Node, Plan
from bot.routeros.client import RouterClient

log = logging.getLogger(__name__)

#: Shortest live view worth a chart.
MIN_SECONDS = 3
#: A running view is shown again at most this often (chat.update is Tier 3).
MIN_TICK_S = 5.0
#: chat.update calls per minute all running views may spend together (Tier 3 is ~50).
UPDATES_PER_MINUTE = 40
#: How long a final callback may take once the view was cancelled (shutdown).
CANCELLED_DONE_TIMEOUT_S = 3.0
#: How long an update in flight may take to land once the view ended.
TICK_LANDING_TIMEOUT_S = 10.0

Callback = Callable[["LiveView"], Awaitable[Any]]


# -- refusals -----------------------------------------------------------------------------


class LiveRefused(Exception):
    """A live view cannot start now."""


class LiveBusy(LiveRefused):
    """This subscriber already has a live view running: join it instead."""

    def __init__(self, view: LiveView) -> None:
        self.view = view
        super().__init__(f"live view of {view.user!r} already running ({view.id})")


class LiveFull(LiveRefused):
    """As many live views as allowed are running."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"{limit} live views running, the most allowed")


class LiveNodeFull(LiveRefused):
    """The router has as many live views as it can hold while still answering readings."""

    def __init__(self, node: str, limit: int) -> None:
        self.node = node
        self.limit = limit
        super().__init__(f"{limit} live views on {node}, the most allowed there")


class LiveClosed(LiveRefused):
    """The process is shutting down: no view starts any more."""

    def __init__(self) -> None:
        super().__init__("shutting down: no new live views")


# -- the registry ---------------------------------------------------------------------------


class LiveRegistry:
    """The live views of one process: who is watched, and the caps.

    Must be used from one event loop; `claim` does not await, so checking the
    caps and taking a place cannot interleave with another request.
    """

    def __init__(
        self,
        max_views: int = 5,
        max_seconds: int = 120,
        per_node: int | None = None,
        *,
        min_tick_s: float = MIN_TICK_S,
        updates_per_minute: int = UPDATES_PER_MINUTE,
        sample_every: float = 1.0,
    ) -> None:
        self.max_views = max_views
        self.max_seconds = max_seconds
        self.per_node = per_node
        self.min_tick_s = min_tick_s
        self.updates_per_minute = updates_per_minute
        #: Seconds between samples: one a second, as `monitor-traffic` itself.
        self.sample_every = sample_every
        self._views: dict[str, LiveView] = {}  # by PPPoE user
        #: Every started view's task until it is over (a view reports after its release).
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveRegistry:
        # Each view holds one of the router's sessions: keep one for ordinary readings
        # (with MIKROTIK_MAX_SESSIONS=1 that leaves none for views).
        sessions = settings.mikrotik_max_sessions
        return cls(
            max_views=settings.live_views,
            max_seconds=settings.live_max,
            per_node=max(0, sessions - 1),
        )

    async def __aenter__(self) -> LiveRegistry:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    @property
    def enabled(self) -> bool:
        """False when no router can spare a session for a view (``per_node`` 0)."""
        return self.per_node != 0

    def clamp(self, seconds: float) -> int:
        """A duration within [MIN_SECONDS, max_seconds], whole seconds."""
        return int(min(max(MIN_SECONDS, round(seconds)), max(MIN_SECONDS, self.max_seconds)))

    def get(self, user: str) -> LiveView | None:
        return self._views.get(user)

    def find(self, view_id: str) -> LiveView | None:
        return next((v for v in self._views.values() if v.id == view_id), None)

    def running(self) -> list[LiveView]:
        return list(self._views.values())

    @property
    def full(self) -> bool:
        """No room for another view anywhere (checked again by `claim`)."""
        return len(self._views) >= self.max_views

    def tick_interval(self) -> float:
        """Seconds between updates of each view, so that all together stay in budget."""
        share = 60.0 * max(1, len(self._views)) / self.updates_per_minute
        return max(self.min_tick_s, share)

    def claim(
        self,
        user: str,
        node: str,
        seconds: float,
        *,
        plan: Plan | None = None,
        started_by: str | None = None,
    ) -> LiveView:
        """A place for a new view, or `LiveBusy` / `LiveFull` / `LiveNodeFull` /
        `LiveClosed` (after `shutdown`)."""
        if self._closed:
            raise LiveClosed
        existing = self._views.get(user)
        if existing is not None:
            raise LiveBusy(existing)
        if len(self._views) >= self.max_views:
            raise LiveFull(self.max_views)
        on_node = sum(1 for v in self._views.values() if v.node == node)
        if self.per_node is not None and on_node >= self.per_node:
            raise LiveNodeFull(node, self.per_node)
        view = LiveView(
            id=secrets.token_hex(6),
            user=user,
            node=node,
            seconds=self.clamp(seconds),
            plan=plan,
            started_by=started_by,
        )
        self._views[user] = view
        return view

    def release(self, view: LiveView) -> None:
        if self._views.get(view.user) is view:
            del self._views[view.user]

    def start(
        self,
        view: LiveView,
        router: RouterClient,
        node: Node,
        on_tick: Callback,
        on_done: Callback,
    ) -> asyncio.Task[None]:
        """Run `view` in its own task (kept in ``view.task``); `LiveClosed` after
        `shutdown` (the view is then released and ends "cancelled", never run)."""
        if self._closed:
            self.release(view)
            view.outcome = "cancelled"
            raise LiveClosed
        view.task = asyncio.create_task(
            self.run(view, router, node, on_tick, on_done), name=f"live {view.user}"
        )
        self._tasks.add(view.task)
        view.task.add_done_callback(self._tasks.discard)
        return view.task

    async def run(
        self,
        view: LiveView,
        router: RouterClient,
        node: Node,
        on_tick: Callback,
        on_done: Callback,
    ) -> None:
        """Sample until the view ends; then release its place and call `on_done`.

        Never raises but cancellation: a cancelled view (while sampling, or while
        its last update lands) still closes its session, releases its place and
        gives `on_done` a few seconds, then ends cancelled.
        """
        finished = asyncio.Event()
        ticker = asyncio.create_task(self._tick(view, on_tick, finished), name="live ticker")
        cancelled = False
        try:
            watch = router.watch(
                node, view.user, view.seconds, view.stop_event, every=self.sample_every
            )
            async with aclosing(watch) as samples:  # closes the API session on every path
                async for sample in samples:
                    view.samples.append(sample)
            last = view.last
            if last is not None and last.traffic is None:
                view.outcome = "offline"
            elif view.stop_event.is_set():
                view.outcome = "stopped"
            else:
                view.outcome = "completed"
        except RouterError as exc:
            view.outcome, view.error = "failed", exc
            log.info("live view of %s on %s failed: %s", view.user, view.node, exc)
        except asyncio.CancelledError:
            view.outcome, cancelled = "cancelled", True
        except Exception:
            view.outcome = "failed"
            log.exception("live view of %s on %s: unexpected error", view.user, view.node)
        finally:
            self.release(view)
            finished.set()
            try:
                await _finish(ticker, cancel=cancelled)
            except asyncio.CancelledError:
                cancelled = True  # shutdown while an update was landing: report, then end
        log.info(
            "live view of %s on %s: %s after %d samples, %.1fs",
            view.user,
            view.node,
            view.outcome,
            len(view.samples),
            view.elapsed_s,
        )
        try:
            if cancelled:
                await asyncio.wait_for(on_done(view), CANCELLED_DONE_TIMEOUT_S)
            else:
                await on_done(view)
        except Exception:
            log.exception("live view of %s: the final report failed", view.user)
        if cancelled:
            raise asyncio.CancelledError

    async def _tick(self, view: LiveView, on_tick: Callback, finished: asyncio.Event) -> None:
        while True:
            try:
                await asyncio.wait_for(finished.wait(), self.tick_interval())
                return
            except TimeoutError:
                pass
            try:
                await on_tick(view)
            except Exception:
                log.warning("live view of %s: an update failed", view.user, exc_info=True)

    async def shutdown(self) -> None:
        """End every view before the process exits; no new one starts after this.

        Running views are cancelled: each closes its API session, releases its
        place and has a few seconds to say so (`on_done`). A view already
        reporting (the chart upload) gets as long to finish, then is cancelled.
        Returns when every view's task is over.
        """
        self._closed = True
        for view in list(self._views.values()):
            if view.task is not None:
                view.task.cancel()
            else:  # claimed, not started (its message being posted): `start` refuses it
                self.release(view)
        tasks = set(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=CANCELLED_DONE_TIMEOUT_S + 1.0)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _finish(ticker: asyncio.Task[None], *, cancel: bool) -> None:
    """Let an update in flight land before the final one; cancel it if it hangs.

    The ticker is over when this returns or raises; a cancellation of the caller
    is passed on (after the ticker is stopped), never taken for the ticker's own.
    """
    if cancel:
        ticker.cancel()
    try:
        await asyncio.wait({ticker}, timeout=TICK_LANDING_TIMEOUT_S)
    finally:
        if not ticker.done():
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
