"""Fair-use benchmark: readings during a burst of unknown names (targeted pulls).

    .venv/bin/python bench/fair_bench.py

A name missing from the inventory is asked of every router (a targeted pull).
This measures what a burst of them costs the routers and the operators asking
about real subscribers at the same moment, with the real `ReadingService` and
`RouterClient` over TCP against simulated routers (`SimNetwork` on its own
thread, every reply `--latency` late) and a real inventory filled by `sync`.

Phases and targets (exit status 1 when one is missed):

1. **baseline**: `--readings` readings of distinct subscribers, one every 50 ms,
   nothing else going on: their latency.
2. **burst**: 8 operators ask 5 unknown names each, all 40 at once (within each
   one's allowance, so all 40 are pulled), while the same readings are asked
   again, one every 50 ms. Every reading is answered; p95 within 100 ms of the
   baseline's (a reading waits behind at most one pull per router); no router
   sees more than `MIKROTIK_MAX_SESSIONS` sessions nor rejects one.
3. **one operator**: 40 unknown names at once from one operator: 5 are pulled
   (the allowance for a minute), 35 are told to wait; each router gets 5 logins.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from benchkit import Results, ms, percentile, report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.readings import ReadingService  # noqa: E402
from bot.domain.sync import sync_nodes  # noqa: E402
from bot.errors import PullDeferred, UnknownUser, UserNotConfirmed  # noqa: E402
from bot.inventory.store import Inventory  # noqa: E402
from bot.model import Node  # noqa: E402
from bot.routeros.client import RouterClient  # noqa: E402
from bot.sim.model import MBPS, RouterConfig, Subscriber  # noqa: E402
from bot.sim.network import SimNetwork  # noqa: E402

USER, PASSWORD = "beholder", "fair-bench-pass"
ROUTERS = 10
SUBSCRIBERS = 20  # per router
MAX_SESSIONS = 4  # MIKROTIK_MAX_SESSIONS (its default)
TIMEOUT = 5.0  # MIKROTIK_TIMEOUT (its default)
P95_SLACK_S = 0.100


def router_name(r: int) -> str:
    return f"bras-{r + 1:02d}"


def subscriber_name(r: int, i: int) -> str:
    return f"abonado{r + 1:02d}x{i:02d}"


def bench_world() -> list[RouterConfig]:
    return [
        RouterConfig(
            router_name(r),
            username=USER,
            password=PASSWORD,
            subscribers=[
                Subscriber(
                    subscriber_name(r, i),
                    "pw",
                    online=True,
                    plan=(10 * MBPS, 50 * MBPS),
                    fixed_traffic=(1 * MBPS, 20 * MBPS),
                )
                for i in range(SUBSCRIBERS)
            ],
        )
        for r in range(ROUTERS)
    ]


async def timed_reading(service: ReadingService, user: str, delay: float) -> float | None:
    """Seconds one reading took, or None when it failed."""
    await asyncio.sleep(delay)
    started = time.monotonic()
    try:
        await service.read(user, asker="U0READER")
    except Exception:  # noqa: BLE001 - a failed reading is what this counts
        return None
    return time.monotonic() - started


async def readings(service: ReadingService, users: list[str]) -> list[float | None]:
    return await asyncio.gather(*(timed_reading(service, u, k * 0.05) for k, u in enumerate(users)))


def outcome(result: object) -> str:
    match result:
        case PullDeferred(reason=reason):
            return f"deferred ({reason})"
        case UserNotConfirmed():
            return "router not asked"
        case UnknownUser():
            return "not found"
        case BaseException():
            return type(result).__name__
        case _:
            return "found"


async def pulls(service: ReadingService, askers: list[str], names: list[str]) -> list[str]:
    results = await asyncio.gather(
        *(service.read(n, asker=a) for a, n in zip(askers, names, strict=True)),
        return_exceptions=True,
    )
    return [outcome(r) for r in results]


def counts(outcomes: list[str]) -> str:
    return ", ".join(f"{outcomes.count(o)} {o}" for o in sorted(set(outcomes)))


def run(network: SimNetwork, db: Path, latency: float, count: int, results: Results) -> None:
    nodes = [Node(n, "127.0.0.1", p) for n, p in network.ports.items()]
    users = [subscriber_name(k % ROUTERS, k // ROUTERS) for k in range(count)]
    with Inventory(db) as inventory:
        inventory.upsert_nodes(nodes)
        synced = asyncio.run(sync_nodes(inventory, RouterClient(USER, PASSWORD), nodes))
        assert all(s.ok for s in synced), synced
        for name in network.sims:
            network.set_latency(name, latency)

        def service() -> ReadingService:
            client = RouterClient(USER, PASSWORD, timeout=TIMEOUT, max_sessions=MAX_SESSIONS)
            return ReadingService(inventory, client)

        base = [s for s in asyncio.run(readings(service(), users)) if s is not None]
        results.add(
            "baseline: readings p50 / p95",
            f"{ms(percentile(base, 50))} / {ms(percentile(base, 95))}",
        )

        network.reset_counters()
        askers = [f"U0OP{k // 5}" for k in range(40)]
        names = [f"nuevo{k:02d}" for k in range(40)]
        svc = service()

        async def burst() -> tuple[list[float | None], list[str]]:
            pulled = asyncio.ensure_future(pulls(svc, askers, names))
            timed = await readings(svc, users)
            return timed, await pulled

        timed, outcomes = asyncio.run(burst())
        during = [s for s in timed if s is not None]
        p95, limit = percentile(during, 95), percentile(base, 95) + P95_SLACK_S
        results.add(
            "burst (8 operators x 5 unknown names): readings answered",
            f"{len(during)} / {len(timed)}",
            "all",
            len(during) == len(timed),
        )
        results.add(
            "burst: readings p50 / p95 / max",
            f"{ms(percentile(during, 50))} / {ms(p95)} / {ms(max(during))}",
            f"p95 < {ms(limit)}",
            p95 < limit,
        )
        results.add("burst: the 40 names", counts(outcomes))
        counters = [network.counters(n) for n in network.sims]
        peak = max(c.peak_sessions for c in counters)
        rejected = sum(c.rejected_connections for c in counters)
        results.add(
            "burst: most sessions any router saw / rejected",
            f"{peak} / {rejected}",
            f"<= {MAX_SESSIONS} / 0",
            peak <= MAX_SESSIONS and rejected == 0,
        )

        network.reset_counters()
        others = [f"otro{k:02d}" for k in range(40)]
        outcomes = asyncio.run(pulls(service(), ["U0ONE"] * 40, others))
        pulled = [o for o in outcomes if not o.startswith("deferred")]
        logins = max(c.total_connections for c in map(network.counters, network.sims))
        results.add(
            "one operator, 40 unknown names at once",
            counts(outcomes),
            "5 pulled, 35 deferred (rate)",
            len(pulled) == 5 and outcomes.count("deferred (rate)") == 35,
        )
        results.add("one operator: most logins any router saw", str(logins), "<= 5", logins <= 5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per router reply")
    parser.add_argument("--readings", type=int, default=40, help="readings per phase")
    args = parser.parse_args()
    results = Results()
    with tempfile.TemporaryDirectory() as tmp, SimNetwork(bench_world()) as network:
        run(network, Path(tmp) / "fair.db", args.latency, args.readings, results)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return report(
        results,
        f"{ROUTERS} routers x {SUBSCRIBERS} subscribers, {args.latency * 1000:.0f} ms per "
        f"reply, MIKROTIK_MAX_SESSIONS={MAX_SESSIONS}, MIKROTIK_TIMEOUT={TIMEOUT:g}; "
        f"{os.cpu_count()} CPUs, load average {load}",
    )


if __name__ == "__main__":
    sys.exit(main())
