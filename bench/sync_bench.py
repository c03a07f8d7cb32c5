"""Benchmark of `beholder sync` at ISP scale, against simulated routers.

    .venv/bin/python bench/sync_bench.py                 # 300 nodes x 2,000 secrets, 20 ms
    .venv/bin/python bench/sync_bench.py --nodes 50 --profile /tmp/sync.prof

The simulated routers run in a child process (``python -m bot.sim --nodes N``),
so the bot and the simulator each get a core of their own. This process is the
bot: it runs the real sync path (`bot.domain.sync.sync_nodes`, the real `RouterClient`
and `Inventory`) and measures:

1. a full sync into an empty inventory: wall time, rows/s, peak RSS;
2. `/consumo` latencies (`ReadingService.read`) with nothing else going on:
   one at a time, then a few operators asking in loops for a while;
3. a full re-sync of the now populated inventory while the same operators keep
   asking `/consumo` in a loop, in the same event loop (what `beholder serve`
   does): the re-sync's wall time and the latencies of those readings. For
   `serve`'s background re-sync, their p95 is held against the p95 of the same
   loops without a sync (phase 2): how much the re-sync slows commands down,
   with a target (`SLOWDOWN_FACTOR`, `SLOWDOWN_MARGIN_S`).

Peak RSS is this process's (`ru_maxrss`), so the simulator's memory is not in
it. See bench/README.md for the last results.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import ms, percentile  # noqa: E402

from bot.domain.background import BACKGROUND_CONCURRENCY  # noqa: E402
from bot.domain.readings import ReadingService  # noqa: E402
from bot.domain.sync import sync_nodes  # noqa: E402
from bot.errors import BeholderError  # noqa: E402
from bot.inventory.store import Inventory  # noqa: E402
from bot.model import Node  # noqa: E402
from bot.routeros.client import RouterClient  # noqa: E402

USER, PASSWORD = "beholder", "beholder-pass"  # what `python -m bot.sim` routers accept
TARGET_S = 30.0  # full sync of 300 x 2,000 secrets at 20 ms per reply
TARGET_RSS_MB = 300
#: `/consumo` p95 during serve's background re-sync may be at most this many times
#: the p95 of the same operators without it, or this much more, whichever is larger
#: (on a small network a few milliseconds more would otherwise read as double).
SLOWDOWN_FACTOR = 2.0
SLOWDOWN_MARGIN_S = 0.050
#: Seconds the operators ask with nothing else going on, for that baseline.
ALONE_S = 5.0


def bare_probe(port: int, user: str) -> None:
    """``--bare-probe PORT USER``: a snapshot's reads with plain librouteros, in a loop.

    Runs in its own process (no bot code, no GIL shared with the sync) until its
    stdin closes, then prints one latency in seconds per line: what the
    simulated router alone costs a question while the sync loads it.
    """
    import threading

    import librouteros

    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    latencies = []
    iface = f"<pppoe-{user}>"
    while not done.is_set():
        started = time.perf_counter()
        api = librouteros.connect("127.0.0.1", USER, PASSWORD, port=port, encoding="utf-8")
        try:
            tuple(api.rawCmd("/ppp/active/print", f"?name={user}"))
            tuple(api.rawCmd("/interface/monitor-traffic", f"=interface={iface}", "=once="))
            tuple(api.rawCmd("/queue/simple/print", f"?name={iface}"))
        finally:
            api.close()
        latencies.append(time.perf_counter() - started)
    print("\n".join(str(x) for x in latencies))


class BareProbe:
    """`bare_probe` in a child process, from creation until `stop`."""

    def __init__(self, port: int, user: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--bare-probe", str(port), user],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.latencies: list[float] = []

    def stop(self) -> None:
        out, _ = self.process.communicate("", timeout=30)
        self.latencies = [float(line) for line in out.split()]


async def bare_probe_of(inventory: Inventory, user: str) -> BareProbe:
    """A `BareProbe` asking for `user` on the router the inventory places it on."""
    [probed] = await asyncio.to_thread(inventory.locate, user)
    assert probed.node is not None
    return BareProbe(probed.node.port, user)


def start_sim(nodes: int, secrets: int, latency: float) -> tuple[subprocess.Popen[str], list[Node]]:
    """The simulated routers in a child process; their nodes, in order."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.sim",
            "--nodes",
            str(nodes),
            "--secrets",
            str(secrets),
            "--latency",
            str(latency),
            "--until-stdin-closes",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    found: list[Node] = []
    while (line := process.stdout.readline()) != "Ctrl-C to stop\n":
        if not line:
            raise SystemExit("the simulator exited before listing its routers")
        name, host, port = line.split("\t")[:3]
        found.append(Node(name, host, int(port)))
    return process, found


def reader_users(db: Path, count: int) -> list[str]:
    """Users that were online at the cold sync, spread over the network."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name FROM ppp_sessions ORDER BY node, name").fetchall()
    step = max(len(rows) // count, 1)
    return [rows[i * step][0] for i in range(min(count, len(rows)))]


def operators_asking(
    service: ReadingService,
    users: list[str],
    operators: int,
    stop: asyncio.Event,
    latencies: list[float],
) -> list[asyncio.Task[int]]:
    """`operators` loops asking for their share of `users` until `stop`; each task
    returns how many of its readings failed."""
    return [
        asyncio.create_task(read_loop(service, users[i::operators], stop, latencies))
        for i in range(operators)
    ]


async def operators_alone(
    inventory: Inventory,
    service: ReadingService,
    users: list[str],
    args: argparse.Namespace,
    report: list[tuple[str, str, str, bool]],
) -> list[float]:
    """The operators' loops for `ALONE_S` with nothing else going on: the baseline
    a re-sync's readings are held against. Reports them and the bare probe's
    latencies (the router's own share) meanwhile; returns the readings' latencies."""
    bare = await bare_probe_of(inventory, users[0])
    stop = asyncio.Event()
    alone: list[float] = []
    readers = operators_asking(service, users, args.operators, stop, alone)
    await asyncio.sleep(ALONE_S)
    stop.set()
    failures = sum(await asyncio.gather(*readers))
    bare.stop()
    print(f"/consumo, {args.operators} operators, no sync: {summary(alone)}, failed {failures}")
    report.append(
        (
            f"/consumo, {args.operators} operators asking, no sync: p50 / p95 / max",
            f"{percentiles(alone)}, {len(alone)} answered, {failures} failed",
            "all answered",
            failures == 0 and bool(alone),
        )
    )
    report.append(
        (
            "the router's own share: a bare librouteros snapshot, from another process",
            percentiles(bare.latencies),
            "—",
            True,
        )
    )
    return alone


async def read_loop(
    service: ReadingService, users: list[str], stop: asyncio.Event, latencies: list[float]
) -> int:
    """Ask for `users` in turn until `stop`; returns how many readings failed."""
    failures = 0
    while not stop.is_set():
        for user in users:
            started = time.perf_counter()
            try:
                reading = await service.read(user)
                assert reading.online, user
            except BeholderError as exc:
                failures += 1
                print(f"  reading {user} failed: {exc}", file=sys.stderr)
            latencies.append(time.perf_counter() - started)
            if stop.is_set():
                break
    return failures


async def loop_lag(stop: asyncio.Event, lags: list[float], every: float = 0.01) -> None:
    """How late a 10 ms sleep wakes up: how long the event loop was held by others."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        started = loop.time()
        await asyncio.sleep(every)
        lags.append(loop.time() - started - every)


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "no readings"
    p50, p95, top = statistics.median(latencies), percentile(latencies, 95), max(latencies)
    return f"n={len(latencies)} p50={ms(p50)} p95={ms(p95)} max={ms(top)}"


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    p50, p95, top = statistics.median(values), percentile(values, 95), max(values)
    return f"{p50 * 1000:.0f} / {p95 * 1000:.0f} / {top * 1000:.0f} ms"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class CpuClock:
    """CPU seconds used by this process and by the simulator's, between two calls."""

    def __init__(self, sim_pid: int) -> None:
        self.sim_pid = sim_pid
        self.mark()

    def _read(self) -> tuple[float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        try:
            fields = Path(f"/proc/{self.sim_pid}/stat").read_text().rsplit(")", 1)[1].split()
            sim = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            sim = float("nan")
        return usage.ru_utime + usage.ru_stime, sim

    def mark(self) -> None:
        self._bot, self._sim = self._read()

    def since(self) -> str:
        bot, sim = self._read()
        return f"CPU: bot {bot - self._bot:.1f} s, simulator {sim - self._sim:.1f} s"


async def resync_with_readers(
    label: str,
    concurrency: int,
    inventory: Inventory,
    router: RouterClient,
    nodes: list[Node],
    service: ReadingService,
    users: list[str],
    args: argparse.Namespace,
    cpu: CpuClock,
    report: list[tuple[str, str, str, bool]],
) -> list[float]:
    """A full re-sync while `args.operators` loops ask /consumo; report what it cost
    them, and return their latencies."""
    # Started (and, below, stopped) while nothing is measured: Popen and its
    # wait would show up as event loop lag.
    bare = await bare_probe_of(inventory, users[0])
    stop = asyncio.Event()
    during: list[float] = []
    readers = operators_asking(service, users, args.operators, stop, during)
    lags: list[float] = []
    lag_monitor = asyncio.create_task(loop_lag(stop, lags))
    cpu.mark()
    started = time.perf_counter()
    results = await sync_nodes(inventory, router, nodes, concurrency)
    took = time.perf_counter() - started
    stop.set()
    failures = sum(await asyncio.gather(*readers))
    await lag_monitor
    bare.stop()
    rows = sum(r.rows for r in results)
    print(
        f"re-sync as {label} (concurrency {concurrency}), {args.operators} operators asking: "
        f"{took:.1f} s, {rows:,} rows, {rows / took:,.0f} rows/s, "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )
    print(f"  {cpu.since()}")
    print(f"  /consumo during it: {summary(during)}, failed {failures}")
    print(f"  event loop lag:     {summary(lags)}")
    report.append(
        (
            f"re-sync as {label} (concurrency {concurrency}), {args.operators} operators asking",
            f"{took:.1f} s",
            "—",
            all(r.ok for r in results),
        )
    )
    report.append(
        (
            "/consumo during that re-sync: p50 / p95 / max",
            f"{percentiles(during)}, {len(during)} answered, {failures} failed",
            "all answered",
            failures == 0 and bool(during),
        )
    )
    report.append(
        (
            "the router's own share: a bare librouteros snapshot, from another process",
            percentiles(bare.latencies),
            "—",
            True,
        )
    )
    report.append(
        ("event loop lag during it (10 ms timer): p50 / p95 / max", percentiles(lags), "—", True)
    )
    return during


def slowdown(alone: list[float], during: list[float]) -> tuple[str, str, str, bool]:
    """The table row of how much serve's re-sync slows /consumo down: p95 during
    it against p95 of the same operators without it."""
    if not alone or not during:
        return ("/consumo p95: during serve's re-sync / without it", "no readings", "—", False)
    before, after = percentile(alone, 95), percentile(during, 95)
    allowed = max(SLOWDOWN_FACTOR * before, before + SLOWDOWN_MARGIN_S)
    return (
        "/consumo p95: during serve's background re-sync / the same operators without it",
        f"{ms(after)} / {ms(before)} ({after / before:.1f}×)",
        f"≤ max({SLOWDOWN_FACTOR:g} × p95 without, p95 without + {ms(SLOWDOWN_MARGIN_S)})"
        f" = {ms(allowed)}",
        after <= allowed,
    )


async def run(
    args: argparse.Namespace, nodes: list[Node], db: Path, cpu: CpuClock
) -> list[tuple[str, str, str, bool]]:
    """Run the phases; return the table rows (measure, result, target, met)."""
    report: list[tuple[str, str, str, bool]] = []
    inventory = Inventory(db)
    inventory.upsert_nodes(nodes)
    router = RouterClient(USER, PASSWORD, timeout=args.timeout, sync_timeout=120.0)
    total = args.nodes * args.secrets
    print(
        f"{args.nodes} nodes x {args.secrets} secrets = {total:,} rows, "
        f"{args.latency * 1000:.0f} ms per reply, concurrency {args.concurrency}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"
    )

    # 1. cold sync
    profiler = cProfile.Profile() if args.profile else None
    cpu.mark()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    results = await sync_nodes(inventory, router, nodes, args.concurrency)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    cold = time.perf_counter() - started
    rows = sum(r.rows for r in results)
    failed = [r.node for r in results if not r.ok]
    print(
        f"cold sync: {cold:.1f} s, {rows:,} rows, {rows / cold:,.0f} rows/s, "
        f"failed: {failed or 'none'}, peak RSS {peak_rss_mb():.0f} MB"
    )
    print(f"  {cpu.since()}")
    report.append(
        (
            f"full sync, {args.nodes} nodes × {args.secrets:,} secrets, "
            f"{args.latency * 1000:.0f} ms per reply, concurrency {args.concurrency}",
            f"{cold:.1f} s ({rows / cold:,.0f} rows/s)",
            f"< {TARGET_S:.0f} s, no node failed",
            cold < TARGET_S and not failed,
        )
    )
    report.append(
        ("CPU during the full sync: bot / simulator", cpu.since().removeprefix("CPU: "), "—", True)
    )

    # 2. idle readings
    service = ReadingService(inventory, router)
    users = reader_users(db, args.readers)
    idle: list[float] = []
    for _ in range(3):
        for user in users:
            t = time.perf_counter()
            await service.read(user)
            idle.append(time.perf_counter() - t)
    print(f"/consumo idle:        {summary(idle)}")
    report.append(
        ("/consumo with nothing else going on: p50 / p95 / max", percentiles(idle), "—", True)
    )

    # 3. re-syncs while operators ask: at the CLI's concurrency, and at
    #    `beholder serve`'s background one, held against the same operators alone.
    if args.resync:
        alone = await operators_alone(inventory, service, users, args, report)
        during: dict[int, list[float]] = {}
        for label, concurrency in (
            ("beholder sync", args.concurrency),
            ("serve's background sync", BACKGROUND_CONCURRENCY),
        ):
            during[concurrency] = await resync_with_readers(
                label, concurrency, inventory, router, nodes, service, users, args, cpu, report
            )
        report.append(slowdown(alone, during[BACKGROUND_CONCURRENCY]))
    inventory.close()
    rss = peak_rss_mb()
    report.append(
        (
            "peak RSS of the bot process",
            f"{rss:.0f} MB",
            f"< {TARGET_RSS_MB} MB",
            rss < TARGET_RSS_MB,
        )
    )
    return report


def main() -> int:
    if sys.argv[1:2] == ["--bare-probe"]:
        bare_probe(int(sys.argv[2]), sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--secrets", type=int, default=2000, help="per node")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per reply")
    parser.add_argument("--concurrency", type=int, default=8, help="nodes pulled at once")
    parser.add_argument("--readers", type=int, default=12, help="distinct users asked for")
    parser.add_argument("--operators", type=int, default=3, help="concurrent /consumo loops")
    parser.add_argument("--timeout", type=float, default=5.0, help="MIKROTIK_TIMEOUT")
    parser.add_argument("--no-resync", dest="resync", action="store_false")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the cold sync into FILE")
    parser.add_argument("--db", type=Path, help="inventory file (default: a temporary one)")
    args = parser.parse_args()
    sim, nodes = start_sim(args.nodes, args.secrets, args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = args.db or Path(tmp) / "bench.db"
            report = asyncio.run(run(args, nodes, db, CpuClock(sim.pid)))
    finally:
        assert sim.stdin is not None
        sim.stdin.close()
        sim.wait(timeout=30)
    if args.profile:
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
    print("\n| measure | result | target |\n| --- | --- | --- |")
    for measure, result, target, met in report:
        print(f"| {measure} | {result} | {target}{'' if met else ' **MISSED**'} |")
    return 0 if all(met for *_, met in report) else 1


if __name__ == "__main__":
    sys.exit(main())
