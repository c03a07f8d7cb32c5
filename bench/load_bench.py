"""Load benchmark: `/consumo` through the real app, the fake Slack and simulated routers.

    .venv/bin/python bench/load_bench.py

Three processes, so the bot and the routers do not share a core (nor a GIL):

* the **simulator**: 20 routers (`SimNetwork`) in a `multiprocessing` child,
  every reply 20 ms late, driven over a pipe (faults, counters);
* the **bot**: ``beholder serve`` as a subprocess, configured only by its
  environment (inventory, router account, Slack tokens and API URL), exactly
  as deployed; its log is searched for tracebacks afterwards;
* this process: the fake Slack (Web API, ``response_url`` and the Socket Mode
  websocket on loopback) and the load, plus the bare librouteros baseline.

Scenarios and targets (exit status 1 when one is missed):

1. **load**: 200 ``/consumo`` over 10 s (seeded Poisson arrivals) for distinct
   subscribers spread over the 20 routers. Ack latency p99 < 1 s; all 200
   replies arrive and are readings; no router sees more concurrent API sessions
   than ``MIKROTIK_MAX_SESSIONS`` (4). A burst of 40 at once to one router
   checks that cap under pressure.
2. **overhead**: one question at a time; the time from the command to the
   reply, minus the time a bare librouteros script takes for the same snapshot
   (connect, login, the same three reads, close) against the same router.
   Median overhead < 20 ms.
3. **blackhole**: 200 commands over 10 s to the 19 healthy routers, with all
   routers up, then again with the 20th blackholed (fault ``blackhole``: the
   port swallows connects) while 20 more commands ask for its subscribers;
   twice, alternating, pooled. The healthy routers' reply latency must not
   move: p50 within 20 ms of the all-up phases', p99 within 100 ms (a shared
   machine's noise), none over 1 s. Every command, including those to the
   dead router, gets a reply within the deadline (5 s) + 1 s.

See bench/LOAD.md for the last results.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from benchkit import Results, ms, percentile, report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import librouteros  # noqa: E402

from bot.domain.sync import sync_nodes  # noqa: E402
from bot.inventory.store import Inventory  # noqa: E402
from bot.model import Node  # noqa: E402
from bot.routeros.client import RouterClient  # noqa: E402
from bot.routeros.reads import ACTIVE_PROPLIST, QUEUE_PROPLIST  # noqa: E402
from bot.sim.model import MBPS, RouterConfig, Subscriber  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402

USER, PASSWORD = "beholder", "load-bench-pass"
ROUTERS = 20
SUBSCRIBERS = 40  # per router
MAX_SESSIONS = 4  # MIKROTIK_MAX_SESSIONS given to the bot (its default)
TIMEOUT = 5.0  # MIKROTIK_TIMEOUT given to the bot (its default)

ACK_P99_TARGET_S = 1.0
OVERHEAD_TARGET_S = 0.020


# -- the simulated routers, in their own process ------------------------------------------


def router_name(r: int) -> str:
    return f"bras-{r + 1:02d}"


def subscriber_name(r: int, i: int) -> str:
    return f"abonado{r + 1:02d}-{i + 1:02d}"


def bench_world(latency: float) -> list[RouterConfig]:
    """`ROUTERS` BRAS, `SUBSCRIBERS` online subscribers each, every reply `latency` late."""
    return [
        RouterConfig(
            router_name(r),
            username=USER,
            password=PASSWORD,
            latency=latency,
            subscribers=[
                Subscriber(
                    subscriber_name(r, i),
                    "pw",
                    profile="plan-50M",
                    comment=f"Cliente {r + 1}-{i + 1}",
                    plan=(10 * MBPS, 50 * MBPS),
                    online=True,
                    address=f"100.64.{r}.{i + 10}",
                    caller_id=f"4C:5E:0C:00:{r:02X}:{i:02X}",
                    uptime_s=3600 + i,
                    fixed_traffic=(2_000_000 + i, 30_000_000 + r),
                )
                for i in range(SUBSCRIBERS)
            ],
        )
        for r in range(ROUTERS)
    ]


def sim_process(conn: Connection, latency: float) -> None:
    """The child: run the routers, answer the parent's requests until it leaves."""
    from bot.sim.network import SimNetwork

    with SimNetwork(bench_world(latency)) as network:
        conn.send(network.ports)
        while True:
            try:
                op, *args = conn.recv()
            except EOFError:
                return
            if op == "stop":
                conn.send(None)
                return
            if op == "fault":
                network.set_fault(*args)
                conn.send(None)
            elif op == "reset":
                network.reset_counters()
                conn.send(None)
            elif op == "latency":
                for name in network.sims:
                    network.set_latency(name, *args)
                conn.send(None)
            elif op == "peak_commands":
                conn.send(max(network.counters(n).peak_concurrent_commands for n in network.sims))
            elif op == "counters":
                counters = {name: network.counters(name) for name in network.sims}
                conn.send(
                    {
                        name: (c.peak_sessions, c.active_sessions, c.rejected_connections)
                        for name, c in counters.items()
                    }
                )


class Sim:
    """The parent's handle on the simulator process."""

    def __init__(self, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=sim_process, args=(child, latency), daemon=True)
        self.process.start()
        child.close()
        self.ports: dict[str, int] = self.conn.recv()

    def ask(self, *message: object) -> object:
        self.conn.send(message)
        return self.conn.recv()

    def peak_sessions(self) -> int:
        counters = self.ask("counters")
        assert isinstance(counters, dict)
        return max(peak for peak, _, _ in counters.values())

    def rejected(self) -> int:
        counters = self.ask("counters")
        assert isinstance(counters, dict)
        return sum(rejected for _, _, rejected in counters.values())

    def stop(self) -> None:
        try:
            self.ask("stop")
        finally:
            self.process.join(10)


# -- the bot, as `beholder serve` ------------------------------------------------------------


def prepare_inventory(db: Path, ports: dict[str, int]) -> None:
    """Nodes and a real sync, as an operator would have before `serve`."""
    nodes = [Node(name, "127.0.0.1", port) for name, port in ports.items()]
    with Inventory(db) as inventory:
        inventory.upsert_nodes(nodes)
        results = asyncio.run(
            sync_nodes(inventory, RouterClient(USER, PASSWORD, timeout=30), nodes)
        )
        failed = [r.node for r in results if not r.ok]
        if failed:
            raise SystemExit(f"sync failed for {failed}")


def start_bot(
    fake: FakeSlack,
    db: Path,
    log: Path,
    settings: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.Popen[bytes]:
    """`beholder serve` against the fake Slack, on the prepared inventory, with only
    our own settings (none inherited from the caller's environment) plus `settings`;
    its log in `log`. Returns once it holds the Socket Mode connection."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MIKROTIK_", "BEHOLDER_", "SLACK_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        BEHOLDER_DB=str(db),
        MIKROTIK_USER=USER,
        MIKROTIK_PASSWORD=PASSWORD,
        SLACK_BOT_TOKEN=fake.bot_token,
        SLACK_APP_TOKEN=fake.app_token,
        SLACK_API_URL=fake.api_url,
        BEHOLDER_LOG_LEVEL="INFO",
        **(settings or {}),
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--env-file", os.devnull, "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )
    fake.wait_for_connection(timeout=60)
    return process


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Asked:
    """One /consumo sent: what was asked, and what came back when."""

    eid: str
    user: str
    router: str
    sent_at: float
    ack_s: float | None = None
    reply_s: float | None = None
    reply_text: str = ""


def send_paced(fake: FakeSlack, plan: list[tuple[float, str, str]]) -> list[Asked]:
    """Send `/consumo user` at each (offset, user, router) of `plan`, on time."""
    started = time.monotonic()
    asked: list[Asked] = []
    for offset, user, router in plan:
        delay = started + offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        eid = fake.send_slash_command(user)
        asked.append(Asked(eid, user, router, fake.envelope(eid).sent_at))
    return asked


def collect(fake: FakeSlack, asked: list[Asked], timeout: float) -> None:
    """Wait for every ack and reply (up to `timeout`), and note their latencies."""
    deadline = time.monotonic() + timeout
    keys = {a.eid for a in asked}
    while time.monotonic() < deadline:
        if sum(1 for r in fake.responses() if r.key in keys) >= len(asked):
            break
        time.sleep(0.05)
    acks = {a.envelope_id: a for a in fake.acks}
    posts: dict[str, list] = {}
    for post in fake.responses():
        posts.setdefault(post.key, []).append(post)
    for a in asked:
        ack = acks.get(a.eid)
        a.ack_s = ack.latency if ack else None
        if a.eid in posts:
            first = min(posts[a.eid], key=lambda p: p.at)
            a.reply_s = first.at - a.sent_at
            a.reply_text = str(first.body.get("text", ""))


def poisson_plan(
    rng: random.Random, count: int, seconds: float, users: list[tuple[str, str]]
) -> list[tuple[float, str, str]]:
    """`count` arrivals over about `seconds` (exponential gaps), one user each."""
    gaps = [rng.expovariate(count / seconds) for _ in range(count)]
    scale = seconds / sum(gaps)
    plan, at = [], 0.0
    for gap, (user, router) in zip(gaps, users, strict=True):
        plan.append((at, user, router))
        at += gap * scale
    return plan


def spread_users(rng: random.Random, routers: list[int], count: int) -> list[tuple[str, str]]:
    """`count` distinct subscribers, round-robin over `routers`, shuffled."""
    chosen: list[tuple[str, str]] = []
    per_router = {r: rng.sample(range(SUBSCRIBERS), SUBSCRIBERS) for r in routers}
    for k in range(count):
        r = routers[k % len(routers)]
        i = per_router[r][(k // len(routers)) % SUBSCRIBERS]
        chosen.append((subscriber_name(r, i), router_name(r)))
    rng.shuffle(chosen)
    return chosen


def is_reading(a: Asked) -> bool:
    return a.reply_text.startswith(f"{a.user} en {a.router}: Bajada")


# -- the scenarios ---------------------------------------------------------------------------


def scenario_load(fake: FakeSlack, sim: Sim, rng: random.Random, results: Results) -> None:
    sim.ask("reset")
    users = spread_users(rng, list(range(ROUTERS)), 200)
    asked = send_paced(fake, poisson_plan(rng, 200, 10.0, users))
    collect(fake, asked, timeout=30)
    acks = [a.ack_s for a in asked if a.ack_s is not None]
    replies = [a.reply_s for a in asked if a.reply_s is not None]
    readings = sum(1 for a in asked if is_reading(a))
    p99 = percentile(acks, 99) if acks else math.inf
    results.add(
        "load: 200 /consumo in 10 s, 20 routers: ack p50 / p99 / max",
        f"{ms(statistics.median(acks))} / {ms(p99)} / {ms(max(acks))}",
        f"p99 < {ms(ACK_P99_TARGET_S)}",
        p99 < ACK_P99_TARGET_S and len(acks) == len(asked),
    )
    results.add(
        "load: replies arrived (readings)",
        f"{len(replies)}/{len(asked)} ({readings} readings)",
        "all, all readings",
        len(replies) == len(asked) == readings,
    )
    results.add(
        "load: reply latency p50 / p99 / max",
        f"{ms(statistics.median(replies))} / {ms(percentile(replies, 99))} / {ms(max(replies))}",
    )
    peak = sim.peak_sessions()
    results.add(
        "load: most concurrent API sessions on one router",
        str(peak),
        f"<= {MAX_SESSIONS}",
        peak <= MAX_SESSIONS and sim.rejected() == 0,
    )

    # The cap under pressure: 40 subscribers of one router at once.
    sim.ask("reset")
    burst = [(0.0, subscriber_name(0, i), router_name(0)) for i in range(40)]
    asked = send_paced(fake, burst)
    collect(fake, asked, timeout=30)
    replies = [a.reply_s for a in asked if a.reply_s is not None]
    peak = sim.peak_sessions()
    results.add(
        "burst: 40 at once to one router: sessions seen, replies, slowest",
        f"{peak} sessions, {len(replies)}/40, {ms(max(replies))}",
        f"<= {MAX_SESSIONS} sessions, all",
        peak <= MAX_SESSIONS and len(replies) == 40 and all(is_reading(a) for a in asked),
    )


def bare_snapshot(port: int, user: str) -> float:
    """The same snapshot with nothing but librouteros: connect, login, 3 reads, close."""
    started = time.perf_counter()
    api = librouteros.connect("127.0.0.1", USER, PASSWORD, port=port, timeout=10)
    try:
        query = f"?name={user}"
        active = list(api.rawCmd("/ppp/active/print", query, f"=.proplist={ACTIVE_PROPLIST}"))
        iface = f"<pppoe-{user}>"
        traffic = list(api.rawCmd("/interface/monitor-traffic", f"=interface={iface}", "=once="))
        queue = list(
            api.rawCmd("/queue/simple/print", f"?name={iface}", f"=.proplist={QUEUE_PROPLIST}")
        )
    finally:
        api.close()
    assert active, user
    assert traffic, user
    assert queue, user
    return time.perf_counter() - started


def scenario_overhead(
    fake: FakeSlack, sim: Sim, rng: random.Random, results: Results, rounds: int
) -> None:
    bare: list[float] = []
    bot: list[float] = []
    for k in range(rounds + 3):
        r, i = rng.randrange(ROUTERS), rng.randrange(SUBSCRIBERS)
        user, router = subscriber_name(r, i), router_name(r)
        # Alternate which goes first, so drift in the machine's load hits both.
        order = ("bare", "bot") if k % 2 else ("bot", "bare")
        for which in order:
            if which == "bare":
                seconds = bare_snapshot(sim.ports[router], user)
                if k >= 3:
                    bare.append(seconds)
            else:
                [a] = send_paced(fake, [(0.0, user, router)])
                collect(fake, [a], timeout=10)
                assert a.reply_s is not None, a
                assert is_reading(a), a
                if k >= 3:  # the first rounds warm up both sides
                    bot.append(a.reply_s)
    overhead = statistics.median(bot) - statistics.median(bare)
    results.add(
        f"overhead ({rounds} rounds): bare librouteros snapshot median",
        ms(statistics.median(bare)),
    )
    results.add("overhead: /consumo command → reply median", ms(statistics.median(bot)))
    results.add(
        "overhead: bot's own (median difference)",
        f"{overhead * 1000:.1f} ms",
        f"< {ms(OVERHEAD_TARGET_S)}",
        overhead < OVERHEAD_TARGET_S,
    )


def scenario_blackhole(
    fake: FakeSlack, sim: Sim, rng: random.Random, results: Results, rounds: int
) -> None:
    """Healthy routers' latency, all up vs one blackholed: alternating phases, pooled.

    The phases alternate (up, blackholed, up, blackholed…) so that a change in
    the machine's load between them hits both sides alike.
    """
    healthy = list(range(ROUTERS - 1))
    dead = router_name(ROUTERS - 1)

    def phase(with_dead: bool) -> tuple[list[Asked], list[Asked]]:
        plan = poisson_plan(rng, 200, 10.0, spread_users(rng, healthy, 200))
        if with_dead:
            plan += [(k * 0.5, subscriber_name(ROUTERS - 1, k), dead) for k in range(20)]
            plan.sort()
        asked = send_paced(fake, plan)
        collect(fake, asked, timeout=30)
        return [a for a in asked if a.router != dead], [a for a in asked if a.router == dead]

    baseline: list[Asked] = []
    during: list[Asked] = []
    to_dead: list[Asked] = []
    for _ in range(rounds):
        baseline += phase(with_dead=False)[0]
        sim.ask("fault", dead, "blackhole")
        try:
            healthy_asked, dead_asked = phase(with_dead=True)
        finally:
            sim.ask("fault", dead, None)
        during += healthy_asked
        to_dead += dead_asked

    def latencies(asked: list[Asked]) -> list[float]:
        return [a.reply_s for a in asked if a.reply_s is not None]

    before, after = latencies(baseline), latencies(during)
    p50_before, p99_before = statistics.median(before), percentile(before, 99)
    p50_after, p99_after = statistics.median(after), percentile(after, 99)
    results.add(
        f"blackhole ({rounds}x200 per side): healthy routers, reply p50 / p99 / max, all up",
        f"{ms(p50_before)} / {ms(p99_before)} / {ms(max(before))}",
    )
    ok = (
        p50_after <= p50_before + 0.020
        and p99_after <= p99_before + 0.100
        and max(after) < 1.0
        and len(after) == len(during)
        and all(is_reading(a) for a in during)
    )
    results.add(
        "blackhole: healthy routers, reply p50 / p99 / max, one blackholed",
        f"{ms(p50_after)} / {ms(p99_after)} / {ms(max(after))}"
        f" ({sum(1 for a in during if is_reading(a))}/{len(during)} readings)",
        "p50 +20 ms, p99 +100 ms, max < 1 s",
        ok,
    )
    dead_replies = latencies(to_dead)
    results.add(
        "blackhole: commands to the dead router answered, slowest",
        f"{len(dead_replies)}/{len(to_dead)}, {ms(max(dead_replies, default=math.inf))}",
        f"all, <= {TIMEOUT:g} s + 1 s",
        len(dead_replies) == len(to_dead) and max(dead_replies) <= TIMEOUT + 1,
    )


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per router reply")
    parser.add_argument("--rounds", type=int, default=40, help="overhead: questions asked")
    parser.add_argument(
        "--blackhole-rounds", type=int, default=2, help="blackhole: up/blackholed phase pairs"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = Results()
    sim = Sim(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
            db, log = Path(tmp) / "beholder.db", Path(tmp) / "serve.log"
            prepare_inventory(db, sim.ports)
            bot = start_bot(
                fake,
                db,
                log,
                {"MIKROTIK_TIMEOUT": str(TIMEOUT), "MIKROTIK_MAX_SESSIONS": str(MAX_SESSIONS)},
            )
            try:
                # Warm up: one question per router (imports, first connections).
                warm = send_paced(
                    fake, [(0.0, subscriber_name(r, 0), router_name(r)) for r in range(ROUTERS)]
                )
                collect(fake, warm, timeout=30)
                scenario_load(fake, sim, rng, results)
                scenario_overhead(fake, sim, rng, results, args.rounds)
                scenario_blackhole(fake, sim, rng, results, args.blackhole_rounds)
            finally:
                stop_bot(bot)
            output = log.read_text(errors="replace")
            bad = [
                line for line in output.splitlines() if "Traceback" in line or "unexpected" in line
            ]
            results.add("bot log: tracebacks / unexpected errors", str(len(bad)), "0", not bad)
    finally:
        sim.stop()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return report(
        results,
        f"{ROUTERS} routers x {SUBSCRIBERS} subscribers, {args.latency * 1000:.0f} ms per "
        f"reply, MIKROTIK_MAX_SESSIONS={MAX_SESSIONS}, MIKROTIK_TIMEOUT={TIMEOUT:g}; "
        f"{os.cpu_count()} CPUs, load average {load}",
    )


if __name__ == "__main__":
    sys.exit(main())
