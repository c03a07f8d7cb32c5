"""Metrics benchmark: what a ``GET /metrics`` scrape and counting a question cost.

    .venv/bin/python bench/metrics_bench.py [--nodes 300] [--scrapes 100]

A scrape rendered on the event loop would hold every reply back for its whole
length; the route renders it in a worker thread (`bot.metrics.exposition_in_thread`).
Measured here, in one process, at ISP scale: a real inventory in a temporary
file with `--nodes` nodes (two thirds synced, a third never), every node with
router errors of five kinds and a session in use, a third with an open circuit,
questions of every source and outcome, a few live views. Measures and targets
(exit status 1 when one is missed):

1. **scrape**: `bot.metrics.exposition` p99 < 500 ms (well within a scraper's
   timeout); the body size is reported. It is prometheus-client's formatting,
   about 15 µs a line.
2. **the loop during scrapes**: how late a 1 ms timer fires while scrapes run one
   after the other, rendered as the route does (`exposition_in_thread`): p99
   < 50 ms. Also shown: the same with nothing running (this machine's own lag), and
   with the scrape on the loop (each one stalls every reply for its whole length).
3. **counting a question**: `bot.metrics.question`, called on every reply's path,
   mean < 50 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import timeit
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from benchkit import Results, percentile, report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import metrics  # noqa: E402
from bot.errors import (  # noqa: E402
    RouterAuthFailed,
    RouterBusy,
    RouterCircuitOpen,
    RouterProtocolError,
    RouterTimeout,
)
from bot.inventory.store import Inventory  # noqa: E402
from bot.model import Node  # noqa: E402

SCRAPE_P99_TARGET_S = 0.5
#: The loop's lag p99 while scrapes run in a thread: the GIL is handed over every
#: 5 ms, so the loop waits slices of a scrape, never a whole one.
LAG_P99_TARGET_S = 0.050
IDLE_S = 0.05
QUESTION_TARGET_US = 50.0


def fill(inventory: Inventory, count: int) -> list[str]:
    """`count` nodes, two thirds of them synced (no secrets: a scrape never reads them)."""
    names = [f"bras-{i:03d}" for i in range(count)]
    inventory.upsert_nodes([Node(name, "127.0.0.1", 8728) for name in names])
    now = datetime.now(UTC)
    for i, name in enumerate(names):
        if i % 3:
            inventory.replace_node(name, [], [], now)
    return names


def record_events(names: list[str]) -> None:
    """Every label set a busy day would leave in the counters."""
    for source in metrics.SOURCES:
        for outcome in metrics.OUTCOMES:
            metrics.question(source, outcome, 0.3)
    for name in names:
        for error in (
            RouterTimeout(name, seconds=5),
            RouterAuthFailed(name, "bad password"),
            RouterProtocolError(name, "closed"),
            RouterBusy(name, "queued", seconds=5, sessions=4),
            RouterCircuitOpen(name, "open", since_s=1, retry_in_s=29),
        ):
            metrics.router_error(name, error)


async def loop_lag(scrape: Callable[[], Awaitable[object]], scrapes: int) -> list[float]:
    """The event loop's lag (how late a 1 ms timer fires) while `scrapes` run one
    after the other: what every reply waits for meanwhile."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            asked = loop.time()
            await asyncio.sleep(0.001)
            lags.append(loop.time() - asked - 0.001)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # the ticker's first timer is set
    for _ in range(scrapes):
        await scrape()
        await asyncio.sleep(0)
    done = True
    await task
    return lags


async def on_loop() -> tuple[bytes, str]:
    return metrics.exposition()


async def idle() -> None:
    """As long as a scrape, doing nothing: the lag this machine has anyway."""
    await asyncio.sleep(IDLE_S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=300, help="nodes in the inventory")
    parser.add_argument("--scrapes", type=int, default=100, help="scrapes timed")
    args = parser.parse_args()
    results = Results()
    with tempfile.TemporaryDirectory() as tmp, Inventory(Path(tmp) / "b.db") as inventory:
        names = fill(inventory, args.nodes)
        record_events(names)
        sessions = dict.fromkeys(names, 1)
        breakers = {name: "open" for name in names[::3]}
        views = list(range(5))
        metrics.track(
            sessions_in_use=lambda: dict(sessions),
            breakers=lambda: dict(breakers),
            live_views=lambda: views,
            last_syncs=inventory.last_syncs,
        )
        body, _ = metrics.exposition()
        durations = []
        for _ in range(args.scrapes):
            started = time.perf_counter()
            metrics.exposition()
            durations.append(time.perf_counter() - started)
        baseline = asyncio.run(loop_lag(idle, args.scrapes))
        blocked = asyncio.run(loop_lag(on_loop, args.scrapes))
        threaded = asyncio.run(loop_lag(metrics.exposition_in_thread, args.scrapes))
    p50, p99 = percentile(durations, 50), percentile(durations, 99)
    lines = body.count(b"\n")
    results.add("scrape body", f"{len(body) / 1024:.0f} KiB, {lines} lines")
    results.add(f"scrape, {args.nodes} nodes: p50", f"{p50 * 1000:.1f} ms")
    results.add(
        f"scrape, {args.nodes} nodes: p99",
        f"{p99 * 1000:.1f} ms",
        f"< {SCRAPE_P99_TARGET_S * 1000:.0f} ms",
        p99 < SCRAPE_P99_TARGET_S,
    )
    results.add("loop lag, idle: p99", f"{percentile(baseline, 99) * 1000:.1f} ms")
    results.add("loop lag, scraping on the loop: max", f"{max(blocked) * 1000:.1f} ms")
    lag = percentile(threaded, 99)
    results.add(
        "loop lag, scraping in a thread (the route): p99",
        f"{lag * 1000:.1f} ms",
        f"< {LAG_P99_TARGET_S * 1000:.0f} ms",
        lag < LAG_P99_TARGET_S,
    )
    results.add("loop lag, scraping in a thread: max", f"{max(threaded) * 1000:.1f} ms")
    runs = 20_000
    us = timeit.timeit(lambda: metrics.question("command", "ok", 0.3), number=runs) / runs * 1e6
    results.add(
        "counting a question",
        f"{us:.1f} µs",
        f"< {QUESTION_TARGET_US:.0f} µs",
        us < QUESTION_TARGET_US,
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return report(results, f"{os.cpu_count()} CPUs, load average {load}")


if __name__ == "__main__":
    sys.exit(main())
