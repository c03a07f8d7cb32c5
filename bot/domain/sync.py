"""``beholder sync``: copy every node's ``/ppp/secret`` into the inventory.

How a sync goes, whatever the size of the network:

* Nodes are pulled concurrently, at most `concurrency` at once (each pull is one
  API session, within the router client's per-router session cap).
* A node's rows are replaced in **one transaction, only after its pull
  completed** (`Inventory.replace_node`). A node that fails or times out keeps
  the rows of its last good sync and is marked stale with the reason
  (`Inventory.mark_sync_failed`); the others are still updated. A sync killed
  at any point (even SIGKILL) leaves every node with either all its old rows or
  all its new ones: SQLite rolls back the transaction that was open.
* Database writes run on one dedicated thread, so they never wait in (or fill)
  the default executor that `/consumo` lookups use, and they overlap with the
  next pulls. At most ``2 * concurrency`` pulled tables wait in memory.
* The trigram search index is rebuilt once, at the end (when some node's
  secrets changed).

`sync_nodes` is shared by ``beholder sync`` (with a progress display) and by
the periodic re-sync inside ``beholder serve`` (`bot.domain.background`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from bot.errors import RouterError
from bot.inventory.store import Inventory
from bot.model import Node
from bot.routeros.client import RouterClient

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class NodeSync:
    """How one node's pull went."""

    node: str
    rows: int
    seconds: float
    error: RouterError | None = None
    sessions: int = 0
    #: For a failed node: when the rows it keeps were synced (ISO 8601 UTC;
    #: None if it was never synced, so it has none), and how many it keeps.
    last_good: str | None = None
    kept: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def reason(self) -> str:
        """Why it failed, for logs and the summary ("" when it did not)."""
        return _reason(self.error) if self.error is not None else ""


async def sync_nodes(
    inventory: Inventory,
    router: RouterClient,
    nodes: Sequence[Node],
    concurrency: int = 8,
    on_result: Callable[[NodeSync], None] | None = None,
) -> list[NodeSync]:
    """Pull `nodes` (at most `concurrency` at once); results in the order given.

    `on_result` is called on the event loop as each node finishes, ok or not
    (progress displays, logs). Router failures never raise: they are results.
    """
    concurrency = max(1, concurrency)
    network = asyncio.Semaphore(concurrency)
    # Pulled tables waiting for (or being written by) the database thread count too.
    in_flight = asyncio.Semaphore(2 * concurrency)
    loop = asyncio.get_running_loop()
    db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beholder-sync-db")

    async def write(func: Callable[..., T], *args: object) -> T:
        return await loop.run_in_executor(db, func, *args)

    async def pull(node: Node) -> NodeSync:
        async with in_flight:
            started = time.monotonic()
            try:
                async with network:
                    tables = await router.pull(node)
            except RouterError as exc:
                await write(inventory.mark_sync_failed, node.name, _reason(exc), datetime.now(UTC))
                result = NodeSync(
                    node.name,
                    0,
                    time.monotonic() - started,
                    exc,
                    last_good=before[node.name].synced_at if node.name in before else None,
                    kept=before[node.name].secrets if node.name in before else 0,
                )
                # INFO: the CLI shows it in its progress and summary; `serve`
                # logs each background sync's stale nodes in one line.
                log.info(
                    "sync node=%s failed, keeping its rows of %s: %s",
                    node.name,
                    result.last_good or "never",
                    result.reason,
                )
            else:
                rows = await write(
                    inventory.replace_node,
                    node.name,
                    tables.secrets,
                    tables.sessions,
                    datetime.now(UTC),
                )
                result = NodeSync(
                    node.name, rows, time.monotonic() - started, sessions=len(tables.sessions)
                )
                log.debug("sync node=%s rows=%d %.1fs", node.name, rows, result.seconds)
        if on_result is not None:
            on_result(result)
        return result

    try:
        before = {status.node.name: status for status in await write(inventory.node_status)}
        # A task group: should one pull fail with something unexpected (a bug,
        # not a router fault), the others are cancelled instead of left running.
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(pull(node), name=f"sync {node.name}") for node in nodes]
        results = [task.result() for task in tasks]
        # Once, at the end, and only if some node's secrets changed (now or in
        # an earlier sync that did not get this far).
        if await write(lambda: inventory.search_index_dirty):
            await write(inventory.rebuild_search_index)
    finally:
        # Cancelled or not, a write already running finishes (or rolls back)
        # on its own: a transaction is never cut in half.
        db.shutdown(wait=False, cancel_futures=True)
    return results


def _reason(exc: RouterError) -> str:
    return f"{type(exc).__name__}: {exc.detail}" if exc.detail else type(exc).__name__
