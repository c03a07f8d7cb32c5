"""One task per key while it runs, shared by everyone who asks for that key.

When every operator asks about the same subscriber at once (an outage), the
router should be asked once: a snapshot (`bot.routeros.client`) or a diagnosis
(`bot.domain.diagnose`) already in flight is awaited again, not started again;
so is Slack's list of a user group's members (`bot.slack.groups`).
Use from one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class InFlight(Generic[K, T]):
    """The tasks running now, by key; a key is forgotten as soon as its task ends
    (nothing is cached: the next ask after that starts a new one)."""

    def __init__(self) -> None:
        self._tasks: dict[K, asyncio.Task[T]] = {}

    async def join(self, key: K, start: Callable[[], Coroutine[Any, Any, T]], name: str) -> T:
        """The result of `key`'s task (`task`). Shielded: one caller who leaves
        (cancelled) does not cancel what the others await."""
        return await asyncio.shield(self.task(key, start, name))

    def task(
        self, key: K, start: Callable[[], Coroutine[Any, Any, T]], name: str
    ) -> asyncio.Task[T]:
        """`key`'s running task, or a new one started with `start()` (named `name`)
        when none is running: for a caller who waits on it with a deadline of its
        own and leaves it running past that (`bot.slack.groups`)."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.create_task(start(), name=name)
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: K, task: asyncio.Task[T]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved here: every caller got it; not logged again
