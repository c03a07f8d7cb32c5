"""Benchmark: hostile and silent routers can neither exhaust the bot nor hold it.

    .venv/bin/python bench/hostile_bench.py
    .venv/bin/python bench/hostile_bench.py --max-rows 50000 --timeout 2

The hostile routers run in a child process (``python -m bot.sim --fault NAME``
for each fault), so their work is not in this process's CPU, memory or event
loop. This process is the bot: the real `RouterClient` over TCP, with the
settings' defaults (MIKROTIK_TIMEOUT 5 s, BEHOLDER_SYNC_TIMEOUT 120 s,
BEHOLDER_SYNC_MAX_ROWS 200,000). For each router it asks what the bot asks:

* a question (`RouterClient.snapshot`, what ``/consumo`` does) of the routers
  that flood rows, send a 16 MiB word, never end a sentence, flood empty
  sentences (zero bytes), or trickle one byte every 50 ms;
* a sync pull (`RouterClient.pull`) of the same hostile routers, and of silent
  ones (accepts TCP and never answers; logs in and goes silent; stops in the
  middle of the table);

and measures how long until the error (target: within the deadline that
applies), the peak RSS of this process during it (``VmHWM`` of /proc, reset
before each case through ``/proc/self/clear_refs``; target < 200 MB) and the
event loop lag (a 10 ms ticker): how late it wakes up (p95 and max), and how
much of that the loop spent running this process's own code (target: max
< 50 ms). The two differ when the machine is busy: a process waiting for a
core is late without holding its loop.

Last, ``beholder sync`` itself (the CLI, a child process) against a healthy, a
stalled and a dead node, with the default timeouts: it must end in under 30 s,
exit non-zero, name both and keep their rows. Exit status 0 when every target
is met, 1 otherwise. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sync_bench import PASSWORD, USER, percentiles  # noqa: E402
from bot.errors import RouterError, RouterReplyTooLarge, RouterTimeout  # noqa: E402
from bot.model import Node  # noqa: E402
from bot.routeros.client import RouterClient  # noqa: E402
from bot.sim import faults  # noqa: E402
from bot.sim.model import RouterConfig, Subscriber, scale_network  # noqa: E402
from bot.sim.network import SimNetwork  # noqa: E402

TARGET_RSS_MB = 200
TARGET_LAG_MS = 50
TARGET_SYNC_S = 30
#: What the deadline allows on top, for the error to travel up (not the router's share).
DEADLINE_SLACK_S = 0.25

HOSTILE = (
    faults.FLOOD_ROWS,
    faults.HUGE_WORD,
    faults.ENDLESS_SENTENCE,
    faults.EMPTY_FLOOD,
    faults.TRICKLE,
)
SILENT = (faults.STALL_CONNECT, faults.STALL_LOGIN, faults.STALL_MID_STREAM)
FAULTS_RUN = (*HOSTILE, *SILENT)


async def loop_lag(
    stop: asyncio.Event, lags: list[float], held: list[float], every: float = 0.01
) -> None:
    """How late a 10 ms sleep wakes up (`lags`), and how much of that lateness
    this thread spent on the CPU (`held`): the event loop held by the bot's own
    work. On a shared machine a process also waits for a core; that shows in
    `lags` only."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        started, cpu = loop.time(), time.thread_time()
        await asyncio.sleep(every)
        lag = loop.time() - started - every
        lags.append(lag)
        held.append(max(0.0, min(lag, time.thread_time() - cpu - every)))


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process, MB."""
    status = Path("/proc/self/status").read_text()
    rss, hwm = (int(re.search(rf"{key}:\s+(\d+)", status).group(1)) for key in ("VmRSS", "VmHWM"))  # type: ignore[union-attr]
    return rss / 1024, hwm / 1024


def reset_peak_rss() -> None:
    """Start the peak (VmHWM) over from the current RSS (Linux 4.0+)."""
    Path("/proc/self/clear_refs").write_text("5")


def start_sim(
    fault_names: tuple[str, ...], secrets: int
) -> tuple[subprocess.Popen[str], dict[str, Node]]:
    """The hostile routers in a child process, one per fault; fault → node."""
    argv = [sys.executable, "-m", "bot.sim", "--secrets", str(secrets), "--until-stdin-closes"]
    for name in fault_names:
        argv += ["--fault", name]
    process = subprocess.Popen(
        argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    nodes: dict[str, Node] = {}
    while (line := process.stdout.readline()) != "Ctrl-C to stop\n":
        if not line:
            raise SystemExit("the simulator exited before listing its routers")
        name, host, port = line.split("\t")[:3]
        nodes[name] = Node(name, host, int(port))
    return process, nodes


@dataclass
class Case:
    """One question or pull to one misbehaving router, and what it cost the bot."""

    what: str
    fault: str
    expected: type[RouterError]
    deadline: float
    #: Whom a question asks for: a subscriber online on that router.
    user: str = ""
    seconds: float = 0.0
    error: BaseException | None = None
    peak_rss: float = 0.0
    lag_max_ms: float = 0.0
    lag_p95_ms: float = 0.0
    held_max_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            isinstance(self.error, self.expected)
            and self.error.node == self.fault
            and self.seconds <= self.deadline + DEADLINE_SLACK_S
            and self.peak_rss < TARGET_RSS_MB
            and self.held_max_ms < TARGET_LAG_MS
        )

    def row(self) -> tuple[str, str, str, bool]:
        got = type(self.error).__name__ if self.error is not None else "no error"
        if isinstance(self.error, RouterReplyTooLarge):
            got += f" ({self.error.kind} > {self.error.ceiling:,})"
        elif isinstance(self.error, RouterTimeout):
            got += f" ({self.error.seconds:g} s)"
        return (
            f"{self.what}, router `{self.fault}`",
            f"{got} in {self.seconds:.2f} s; peak RSS {self.peak_rss:.0f} MB; "
            f"loop lag p95 / max {self.lag_p95_ms:.0f} / {self.lag_max_ms:.0f} ms, "
            f"held by the bot max {self.held_max_ms:.0f} ms",
            f"{self.expected.__name__} within {self.deadline:g} s; "
            f"< {TARGET_RSS_MB} MB; held max < {TARGET_LAG_MS} ms",
            self.ok,
        )


async def measure(case: Case, router: RouterClient, node: Node) -> Case:
    """Run `case` with a loop-lag ticker beside it."""
    stop = asyncio.Event()
    lags: list[float] = []
    held: list[float] = []
    reset_peak_rss()
    ticker = asyncio.create_task(loop_lag(stop, lags, held))
    await asyncio.sleep(0.05)  # the ticker is running before the question starts
    started = time.perf_counter()
    try:
        if case.what == "question":
            await router.snapshot(node, case.user)
        else:
            await router.pull(node)
    except RouterError as exc:
        case.error = exc
    case.seconds = time.perf_counter() - started
    stop.set()
    await ticker
    case.peak_rss = rss_mb()[1]
    ms = sorted(lag * 1000 for lag in lags) or [0.0]
    case.lag_max_ms, case.lag_p95_ms = ms[-1], ms[round(0.95 * (len(ms) - 1))]
    case.held_max_ms = max(held, default=0.0) * 1000
    print(f"  {case.row()[0]}: {case.row()[1]}", flush=True)
    return case


async def idle_lag(seconds: float = 3.0) -> tuple[str, str, str, bool]:
    """The ticker with nothing else running: what the machine's load alone costs."""
    stop = asyncio.Event()
    lags: list[float] = []
    ticker = asyncio.create_task(loop_lag(stop, lags, []))
    await asyncio.sleep(seconds)
    stop.set()
    await ticker
    row = (
        "event loop lag with nothing going on (the machine's share)",
        percentiles(lags),
        "—",
        True,
    )
    print(f"  {row[0]}: p50 / p95 / max {row[1]}", flush=True)
    return row


async def run_cases(args: argparse.Namespace, nodes: dict[str, Node]) -> list[Case]:
    router = RouterClient(
        USER,
        PASSWORD,
        timeout=args.timeout,
        sync_timeout=args.sync_timeout,
        sync_max_rows=args.max_rows,
    )
    too_large, timeout = RouterReplyTooLarge, RouterTimeout
    cases = [
        Case("question", faults.FLOOD_ROWS, too_large, args.timeout),
        Case("question", faults.HUGE_WORD, too_large, args.timeout),
        Case("question", faults.ENDLESS_SENTENCE, too_large, args.timeout),
        Case("question", faults.EMPTY_FLOOD, too_large, args.timeout),
        Case("question", faults.TRICKLE, timeout, args.timeout),
        Case("sync pull", faults.FLOOD_ROWS, too_large, args.sync_timeout),
        Case("sync pull", faults.HUGE_WORD, too_large, args.sync_timeout),
        Case("sync pull", faults.ENDLESS_SENTENCE, too_large, args.sync_timeout),
        Case("sync pull", faults.EMPTY_FLOOD, too_large, args.sync_timeout),
        # Silent: connect and login within MIKROTIK_TIMEOUT, then that long without a byte.
        Case("sync pull", faults.STALL_CONNECT, timeout, args.timeout),
        Case("sync pull", faults.STALL_LOGIN, timeout, args.timeout),
        Case("sync pull", faults.STALL_MID_STREAM, timeout, args.timeout),
    ]
    # The simulator's routers are `scale_network`'s, in --fault order: the
    # first subscriber of each is online, so a question reads all three tables.
    first = {
        fault: cfg.subscribers[0].name
        for fault, cfg in zip(FAULTS_RUN, scale_network(len(FAULTS_RUN), args.secrets), strict=True)
    }
    for case in cases:
        case.user = first[case.fault]
    return [await measure(case, router, nodes[case.fault]) for case in cases]


def sync_with_stalled_and_dead_node(args: argparse.Namespace) -> list[tuple[str, str, str, bool]]:
    """`beholder sync` (the CLI) with a healthy, a stalled and a dead node."""
    names = ("bras-sano", "bras-colgado", "bras-muerto")
    subscribers = [Subscriber(f"abonado{i:04d}", "pw", comment=f"Cliente {i}") for i in range(50)]
    configs = [
        RouterConfig(n, username=USER, password=PASSWORD, subscribers=subscribers) for n in names
    ]
    with tempfile.TemporaryDirectory() as tmp, SimNetwork(configs) as net:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MIKROTIK_", "BEHOLDER_", "SLACK_"))
        }
        env.update(
            BEHOLDER_DB=str(Path(tmp) / "bench.db"),
            MIKROTIK_USER=USER,
            MIKROTIK_PASSWORD=PASSWORD,
            MIKROTIK_TIMEOUT=f"{args.timeout:g}",
            BEHOLDER_SYNC_TIMEOUT=f"{args.sync_timeout:g}",
            PYTHONPATH=str(ROOT),
        )
        csv = Path(tmp) / "nodes.csv"
        csv.write_text(
            "name,host,port\n" + "".join(f"{n},127.0.0.1,{p}\n" for n, p in net.ports.items())
        )

        def beholder(*argv: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "bot", *argv]
            return subprocess.run(
                command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
            )

        for argv in (("nodes", "import", str(csv)), ("sync",)):
            if beholder(*argv).returncode != 0:
                raise SystemExit(f"beholder {' '.join(argv)} failed before any fault")
        net.set_fault("bras-colgado", faults.STALL_CONNECT)  # accepts TCP, never answers
        net.set_fault("bras-muerto", faults.BLACKHOLE)  # does not even complete a connect
        started = time.perf_counter()
        result = beholder("sync")
        took = time.perf_counter() - started
        with sqlite3.connect(env["BEHOLDER_DB"]) as conn:
            kept = dict(conn.execute("SELECT node, count(*) FROM ppp_secrets GROUP BY node"))
    print(result.stdout + result.stderr)
    last = result.stderr.splitlines()[-1] if result.stderr else ""
    named = all(n in last for n in ("bras-colgado", "bras-muerto"))
    return [
        (
            "beholder sync, a healthy + a stalled + a dead node, default timeouts",
            f"{took:.1f} s, exit {result.returncode}, "
            f"{'both named' if named else 'not both named'}, rows kept {kept}",
            f"< {TARGET_SYNC_S} s, exit 1, both named, 50 rows each kept",
            took < TARGET_SYNC_S
            and result.returncode == 1
            and named
            and kept == {n: 50 for n in names},
        )
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="MIKROTIK_TIMEOUT")
    parser.add_argument("--sync-timeout", type=float, default=120.0, help="BEHOLDER_SYNC_TIMEOUT")
    parser.add_argument("--max-rows", type=int, default=200_000, help="BEHOLDER_SYNC_MAX_ROWS")
    parser.add_argument("--secrets", type=int, default=2000, help="per simulated router")
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
        f"RSS at start {rss_mb()[0]:.0f} MB"
    )
    sim, nodes = start_sim(FAULTS_RUN, args.secrets)
    try:
        baseline = asyncio.run(idle_lag())
        cases = asyncio.run(run_cases(args, nodes))
    finally:
        assert sim.stdin is not None
        sim.stdin.close()
        sim.wait(timeout=30)
    report = [baseline, *(case.row() for case in cases)]
    report += sync_with_stalled_and_dead_node(args)
    print("\n| measure | result | target |\n| --- | --- | --- |")
    for measure_, result, target, met in report:
        print(f"| {measure_} | {result} | {target}{'' if met else ' **MISSED**'} |")
    return 0 if all(met for *_, met in report) else 1


if __name__ == "__main__":
    sys.exit(main())
