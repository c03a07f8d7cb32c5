"""Beholder's own queue to each router: how many API sessions it may hold, and for what.

* **At most `max_sessions` concurrent API sessions per router** (a semaphore per
  host and port), so an outage in which every operator asks at once cannot
  exhaust the router's ``/ip/service max-sessions``.
* **A reading always finds a session**: work other than a reading (live views,
  targeted and sync pulls) holds at most ``max_sessions - 1`` of them
  (`SessionSlots.spare`), targeted pulls `PULL_SESSIONS` (`SessionSlots.pull_turn`)
  and diagnoses (ping and torch on one session each) `DIAG_SESSIONS` (`SessionSlots.diag_turn`).
* **Our queue is not the router's fault**: each question notes whether, and
  how long, it waited here (`queue_to_blame`), so a timeout spent queued
  becomes `RouterBusy` instead of a failure counted against the router.

Used by `bot.routeros.client.RouterClient`, from one event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from bot.errors import RouterBusy
from bot.model import Node

#: True while this task waits for one of our own session slots to a router.
_queued: ContextVar[bool] = ContextVar("beholder_queued_for_session", default=False)
#: Seconds this task's question has spent waiting for our own slots (`_wait_for_slot`).
_waited: ContextVar[float] = ContextVar("beholder_waited_for_session", default=0.0)
#: A timeout after the question spent at least this share of its deadline waiting
#: for our own slots is Beholder's queue (`RouterBusy`), not the router's fault.
BUSY_SHARE = 0.1
#: API sessions to one router that targeted pulls (`RouterClient.find_secret`) may hold.
PULL_SESSIONS = 1
#: API sessions to one router that diagnoses' pings and torches may hold: one
#: diagnosis (a ping and a torch, seconds each). A burst of "Diagnosticar" clicks
#: must not take every spare session from live views and targeted pulls.
DIAG_SESSIONS = 2


@dataclass
class SessionSlots:
    """The session slots to every router, made on first use, by host and port."""

    max_sessions: int
    _limits: dict[tuple[str, int], asyncio.Semaphore] = field(default_factory=dict, repr=False)
    _pull_turns: dict[tuple[str, int], asyncio.Semaphore] = field(default_factory=dict, repr=False)
    _diag_turns: dict[tuple[str, int], asyncio.Semaphore] = field(default_factory=dict, repr=False)
    _spares: dict[tuple[str, int], asyncio.Semaphore] = field(default_factory=dict, repr=False)
    #: Sessions held right now, by node name (nodes holding none are left out).
    _in_use: dict[str, int] = field(default_factory=dict, repr=False)

    @asynccontextmanager
    async def session(self, node: Node) -> AsyncIterator[None]:
        """One of `node`'s `max_sessions` API sessions; the caller's deadline
        bounds the wait."""
        key = (node.host, node.port)
        if key not in self._limits:
            self._limits[key] = asyncio.Semaphore(self.max_sessions)
        limit = self._limits[key]
        await _wait_for_slot(limit)
        self._in_use[node.name] = self._in_use.get(node.name, 0) + 1
        try:
            yield
        finally:
            limit.release()
            left = self._in_use.pop(node.name) - 1
            if left:
                self._in_use[node.name] = left

    def in_use(self) -> dict[str, int]:
        """API sessions held right now, by node name; nodes holding none are absent.
        A copy made in one step (atomic under the GIL): ``/metrics`` may ask from
        its own thread."""
        return dict(self._in_use)

    def pull_turn(self, node: Node, wait: float) -> AbstractAsyncContextManager[None]:
        """One of this router's `PULL_SESSIONS` turns for targeted pulls."""
        return self._reserved(self._pull_turns, node, PULL_SESSIONS, wait)

    def diag_turn(self, node: Node, wait: float) -> AbstractAsyncContextManager[None]:
        """One of this router's `DIAG_SESSIONS` turns for a diagnosis (its ping and torch)."""
        return self._reserved(self._diag_turns, node, DIAG_SESSIONS, wait)

    def spare(self, node: Node, wait: float) -> AbstractAsyncContextManager[None]:
        """One of the sessions work other than a reading may hold on `node`: live
        views and targeted pulls together take at most ``max_sessions - 1`` (but
        at least one), so however many views run and names are pulled at once, a
        reading still finds a session (with one session per router, no view runs
        and a pull may take it)."""
        return self._reserved(self._spares, node, max(1, self.max_sessions - 1), wait)

    @asynccontextmanager
    async def _reserved(
        self,
        slots: dict[tuple[str, int], asyncio.Semaphore],
        node: Node,
        size: int,
        wait: float,
    ) -> AsyncIterator[None]:
        """One of `size` slots per router in `slots`, waited for up to `wait`, then
        `RouterBusy`: our own queue, not the router's fault."""
        key = (node.host, node.port)
        if key not in slots:
            slots[key] = asyncio.Semaphore(size)
        semaphore = slots[key]
        try:
            async with asyncio.timeout(wait):
                await _wait_for_slot(semaphore)
        except TimeoutError:
            raise RouterBusy(
                node.name,
                f"no free API session within {wait:g}s",
                seconds=wait,
                sessions=self.max_sessions,
            ) from None
        try:
            yield
        finally:
            semaphore.release()


def new_question() -> None:
    """Start counting this task's wait in our queue afresh (one question per task)."""
    _queued.set(False)
    _waited.set(0.0)


def queue_to_blame(seconds: float) -> bool:
    """Whether a timeout after `seconds` is our queue's doing: the question was
    still waiting for a slot, or the router got only what our queue left of it."""
    return _queued.get() or _waited.get() >= BUSY_SHARE * seconds


async def _wait_for_slot(semaphore: asyncio.Semaphore) -> None:
    """Acquire one of our own slots, noting for `queue_to_blame` that this task is
    waiting (`_queued`) and for how long in all (`_waited`): time spent in
    Beholder's own queue is never the router's fault."""
    if not semaphore.locked():
        await semaphore.acquire()  # free: no wait
        return
    started = time.monotonic()
    _queued.set(True)
    try:
        await semaphore.acquire()
    finally:
        _waited.set(_waited.get() + time.monotonic() - started)
    _queued.set(False)
