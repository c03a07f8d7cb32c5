"""Latency benchmark: `/consumo` on a slow link against a bare sequential snapshot.

    .venv/bin/python bench/latency_bench.py
    .venv/bin/python bench/latency_bench.py --rounds 25 --latencies 0.1 0.3

A reading costs the router's reply latency once per round trip. A simple
client (librouteros, one command after the other) pays it five times: the TCP
connect, the login, ``/ppp/active``, ``monitor-traffic``, ``/queue/simple``.
Beholder sends the reads of a snapshot together as tagged commands
(`bot.routeros.batch`), so after login there is one round trip for all of them.

Processes, as in `load_bench` (whose simulator, bot and fake Slack this reuses):
the simulator in a child process (20 routers, 40 subscribers each), whose
reply latency is set per phase; the bot as ``beholder serve`` against the fake
Slack; this process sends the slash commands and runs the bare client.

At each latency (20, 100 and 300 ms per router reply), `--rounds` times,
alternating which goes first, for a subscriber drawn at random:

* **/consumo**: the slash command sent to the Bolt app through the fake Slack,
  until the reading is posted to the ``response_url``;
* **bare**: librouteros ``connect`` (with login), then ``/ppp/active/print
  ?name=``, ``/interface/monitor-traffic … once``, ``/queue/simple/print
  ?name=``, one after the other, then close (`load_bench.bare_snapshot`).

Reported: p50 and p90 of each, the ratio of the medians (target ≤ 0.6 at 100
and 300 ms; 20 ms is reported only), and the most tagged commands the
simulator answered at once (the bot's reads went out together). The
simulator sleeps its latency before each reply; a TCP connect on loopback costs
none, so on a real link both columns gain one round trip: the table also
gives the ratio computed that way. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

from benchkit import Results, ms, percentile, report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from load_bench import (  # noqa: E402
    MAX_SESSIONS,
    ROUTERS,
    SUBSCRIBERS,
    TIMEOUT,
    Sim,
    bare_snapshot,
    collect,
    is_reading,
    prepare_inventory,
    router_name,
    send_paced,
    start_bot,
    stop_bot,
    subscriber_name,
)

from tests.support.fake_slack import FakeSlack  # noqa: E402

LATENCIES = (0.020, 0.100, 0.300)
#: Latencies at and above this have the ratio target; below, it is reported only.
TARGET_FROM_S = 0.100
RATIO_TARGET = 0.6
#: Rounds before the measured ones, at each latency (first connections, caches).
WARMUP = 2


def consumo_once(fake: FakeSlack, user: str, router: str) -> float:
    """Seconds from the slash command to the reading posted."""
    [asked] = send_paced(fake, [(0.0, user, router)])
    collect(fake, [asked], timeout=TIMEOUT + 5)
    if asked.reply_s is None or not is_reading(asked):
        raise SystemExit(f"/consumo {user}: no reading ({asked.reply_text[:80]!r})")
    return asked.reply_s


def measure(
    fake: FakeSlack, sim: Sim, rng: random.Random, latency: float, rounds: int
) -> tuple[list[float], list[float], int]:
    """`rounds` of each at `latency`, alternating: (/consumo, bare, peak tagged commands)."""
    sim.ask("latency", latency)
    sim.ask("reset")
    bot: list[float] = []
    bare: list[float] = []
    for k in range(WARMUP + rounds):
        r, i = rng.randrange(ROUTERS), rng.randrange(SUBSCRIBERS)
        user, router = subscriber_name(r, i), router_name(r)
        order = ("bare", "bot") if k % 2 else ("bot", "bare")
        for which in order:
            if which == "bare":
                seconds = bare_snapshot(sim.ports[router], user)
                if k >= WARMUP:
                    bare.append(seconds)
            else:
                seconds = consumo_once(fake, user, router)
                if k >= WARMUP:
                    bot.append(seconds)
    peak = sim.ask("peak_commands")
    assert isinstance(peak, int)
    return bot, bare, peak


def add_rows(
    results: Results, latency: float, bot: list[float], bare: list[float], peak: int
) -> None:
    bot_p50, bare_p50 = statistics.median(bot), statistics.median(bare)
    label = f"{latency * 1000:.0f} ms per reply"
    results.add(
        f"{label}: /consumo p50 / p90 ({len(bot)} rounds)",
        f"{ms(bot_p50)} / {ms(percentile(bot, 90))}",
    )
    results.add(
        f"{label}: bare sequential librouteros p50 / p90",
        f"{ms(bare_p50)} / {ms(percentile(bare, 90))}",
    )
    ratio = bot_p50 / bare_p50
    targeted = latency >= TARGET_FROM_S - 1e-9
    results.add(
        f"{label}: ratio of medians, /consumo / bare (tagged commands at once: {peak})",
        f"{ratio:.2f}",
        f"≤ {RATIO_TARGET:g}" if targeted else "",
        ratio <= RATIO_TARGET or not targeted,
    )
    # On a real link the TCP handshake costs one round trip more to both.
    linked = (bot_p50 + latency) / (bare_p50 + latency)
    results.add(f"{label}: the same with one round trip more each (TCP connect)", f"{linked:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="measured rounds per latency")
    parser.add_argument(
        "--latencies", type=float, nargs="+", default=LATENCIES, help="seconds per router reply"
    )
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = Results()
    sim = Sim(0.0)  # the inventory's sync at no latency; each phase sets its own
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
                for latency in args.latencies:
                    bot_s, bare_s, peak = measure(fake, sim, rng, latency, args.rounds)
                    add_rows(results, latency, bot_s, bare_s, peak)
            finally:
                stop_bot(bot)
            output = log.read_text(errors="replace")
            bad = [line for line in output.splitlines() if "Traceback" in line]
            results.add("bot log: tracebacks", str(len(bad)), "0", not bad)
    finally:
        sim.stop()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return report(
        results,
        f"{ROUTERS} routers x {SUBSCRIBERS} subscribers, {args.rounds} rounds per latency, "
        f"MIKROTIK_TIMEOUT={TIMEOUT:g}; {os.cpu_count()} CPUs, load average {load}",
    )


if __name__ == "__main__":
    sys.exit(main())
