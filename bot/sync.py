"""``beholder sync``: copy every node's ``/ppp/secret`` into the inventory.

Nodes are pulled concurrently (bounded). A node's rows are replaced in one
transaction only after its pull completed: a node that fails keeps its previous
rows, and the others are still updated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.errors import RouterError
from bot.inventory import Inventory, Node
from bot.routeros import RouterClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeSync:
    """How one node's pull went."""

    node: str
    rows: int
    seconds: float
    error: RouterError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def sync_nodes(
    inventory: Inventory, router: RouterClient, nodes: list[Node], concurrency: int = 8
) -> list[NodeSync]:
    """Pull `nodes` (at most `concurrency` at once); results in the order given."""
    limit = asyncio.Semaphore(concurrency)

    async def pull(node: Node) -> NodeSync:
        async with limit:
            started = time.monotonic()
            try:
                tables = await router.pull(node)
            except RouterError as exc:
                log.warning("sync node=%s failed, keeping its previous rows: %s", node.name, exc)
                await asyncio.to_thread(
                    inventory.mark_sync_failed, node.name, _reason(exc), datetime.now(UTC)
                )
                return NodeSync(node.name, 0, time.monotonic() - started, exc)
            rows = await asyncio.to_thread(
                inventory.replace_node,
                node.name,
                tables.secrets,
                tables.sessions,
                datetime.now(UTC),
            )
            seconds = time.monotonic() - started
            log.info("sync node=%s rows=%d %.1fs", node.name, rows, seconds)
            return NodeSync(node.name, rows, seconds)

    results = list(await asyncio.gather(*(pull(node) for node in nodes)))
    if any(r.ok for r in results):
        await asyncio.to_thread(inventory.rebuild_search_index)
    return results


def _reason(exc: RouterError) -> str:
    return f"{type(exc).__name__}: {exc.detail}" if exc.detail else type(exc).__name__
