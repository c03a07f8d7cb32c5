"""Input benchmark: 100,000-character operator texts through the real app, loop lag measured.

    .venv/bin/python bench/input_bench.py

Two processes, so the bot does not share a GIL with its load:

* the **bot**: `bot.serve.socket_mode.serve` (what ``beholder serve`` runs: the real Bolt
  app over Socket Mode, access middleware, background tasks) in a
  `multiprocessing` child, plus a ticker task on its event loop that sleeps
  5 ms at a time and records how late it wakes: any parsing that holds the
  loop shows up there;
* this process: the fake Slack (`tests/support/fake_slack.py`) and the
  RouterOS simulator (`SimNetwork`, the test suite's two routers), on loopback,
  sending the texts and timing the acks.

Phases:

1. **quiet**: ordinary ``/consumo`` questions, one every 50 ms: the baseline
   loop lag and ack latency;
2. **huge**: five rounds of every shape of 100,000-character text (spaces
   then a digit, ``<``, unclosed mentions and links, digits, mixed) as
   ``/consumo``, as a mention and as the "Ver consumo" shortcut's message,
   each followed by an ordinary ``/consumo``, then a 50 ms pause (a stall is
   one text holding the loop; a burst of hundreds at once would measure
   throughput instead); every huge text must get its answer (the ack with
   "demasiado largo", the same in the mention's thread, the shortcut's
   private "No encontré…" note).

Targets (exit status 1 when one is missed): the loop never stalls more than
50 ms during the huge phase (its thread never computes 50 ms within one 5 ms
tick; the wall-clock lag is printed too, but on a loaded machine it mostly
measures the scheduler); the ordinary commands sent among the huge texts are
acked within 1 s (max). ``--old-parsers`` puts back the parsing of before
the bound (no cut, the original regexes) to show what the benchmark catches:
use it with ``--size 10000 --rounds 1`` (at 10,000 characters the old code
already holds the loop for tens of seconds; at 100,000, for much longer).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from benchkit import Results, ms, percentile, report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.domain.sync import sync_nodes  # noqa: E402
from bot.inventory.store import Inventory  # noqa: E402
from bot.model import Node  # noqa: E402
from bot.routeros.client import RouterClient  # noqa: E402
from bot.sim.network import SimNetwork  # noqa: E402
from bot.slack import parsing  # noqa: E402
from bot.slack.ids import SHORTCUT_MESSAGE  # noqa: E402
from tests.conftest import API_PASSWORD, API_USER, world  # noqa: E402
from tests.support.fake_slack import FakeSlack, FakeSlackTimeout  # noqa: E402

TICK_S = 0.005
LAG_TARGET_S = 0.050
ACK_TARGET_S = 1.0
QUIET_COMMANDS = 40
#: Pause after each huge text sent three ways (and its three ordinary commands).
PACE_S = 0.05
ANSWER_TIMEOUT_S = 120.0


def shapes(size: int) -> dict[str, str]:
    """Texts of `size` characters, one per shape the issue names."""
    return {
        "spaces then a digit": "x" + " " * (size - 2) + "1",
        "unclosed <": "<" * size,
        "unclosed mentions": ("<@" * size)[:size],
        "unclosed links": ("<http://x|" * size)[:size],
        "digits": "1" * size,
        "mixed": ("pedro.gomez <@U1 &lt; 100.64.9.9 30 s\n" * size)[:size],
    }


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Ticker:
    """How late a 5 ms sleep wakes on the bot's loop, sample by sample, and how much
    CPU the loop's thread spent meanwhile.

    A late wake-up on a shared machine is often the process not being scheduled
    at all; a stall the bot causes (parsing that holds the loop) is CPU spent on
    the loop's thread. So both are kept: the wall-clock lag, and the loop
    thread's CPU time during the tick, which the target applies to. Times are
    `time.monotonic`, the system-wide clock on Linux, so the bot process's
    samples line up with this process's phases.
    """

    #: (monotonic, wall-clock lag, loop-thread CPU seconds during the tick)
    samples: list[tuple[float, float, float]] = field(default_factory=list)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(TICK_S)
            lag = max(0.0, loop.time() - before - TICK_S)
            self.samples.append((time.monotonic(), lag, time.thread_time() - cpu))

    def between(self, start: float, end: float) -> list[tuple[float, float]]:
        """(wall-clock lag, loop-thread CPU) of the ticks within [start, end]."""
        return [(lag, cpu) for at, lag, cpu in self.samples if start <= at <= end]


# -- the bot, in its own process ------------------------------------------------------------


def bot_process(conn: Connection, settings: Settings, old_parsers: bool) -> None:
    """The child: `serve` and the ticker until the parent says stop; then the lags."""
    if old_parsers:
        use_old_parsers()
    asyncio.run(_bot_main(conn, settings))


async def _bot_main(conn: Connection, settings: Settings) -> None:
    from bot.serve.socket_mode import serve

    ticker = Ticker()
    tasks = [asyncio.create_task(serve(settings)), asyncio.create_task(ticker.run())]
    await asyncio.to_thread(conn.recv)  # "stop"
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(ticker.samples)


class Bot:
    """The parent's handle on the bot process."""

    def __init__(self, settings: Settings, old_parsers: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=bot_process, args=(child, settings, old_parsers), daemon=True
        )
        self.process.start()

    def stop(self) -> Ticker:
        self.conn.send("stop")
        samples = self.conn.recv() if self.conn.poll(30) else []
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
        return Ticker(samples)


# -- the world ------------------------------------------------------------------------------


def prepare(db: Path, network: SimNetwork) -> None:
    """The inventory `serve` will use, filled by a real sync of the simulated routers."""
    nodes = [Node(name, "127.0.0.1", port) for name, port in network.ports.items()]
    with Inventory(db) as inventory:
        inventory.upsert_nodes(nodes)
        router = RouterClient(username=API_USER, password=API_PASSWORD, timeout=10.0)
        results = asyncio.run(sync_nodes(inventory, router, nodes))
    assert all(r.ok for r in results), results


def message_action(text: str, ts: str, response_url: str) -> dict:
    return {
        "type": "message_action",
        "callback_id": SHORTCUT_MESSAGE,
        "trigger_id": "1.2.3",
        "team": {"id": "T0001", "domain": "isp"},
        "user": {"id": "U0001", "name": "operador"},
        "channel": {"id": "C0001", "name": "soporte"},
        "message": {"type": "message", "user": "U0CLIENTE", "ts": ts, "text": text},
        "message_ts": ts,
        "response_url": response_url,
        "token": "x",
    }


# -- the parsing of before the bound, to show what the benchmark catches ---------------------

_OLD_MENTION = re.compile(r"<[@#!][^>]*>")
_OLD_LINK = re.compile(r"<([^>|]*)(?:\|([^>]*))?>")
_OLD_DURATION = re.compile(
    r"(?P<query>.+?)\s+(?P<seconds>\d{1,4})\s*s(?:eg|egundos)?", re.IGNORECASE
)


def use_old_parsers() -> None:
    """Replace the bounded parsing with the code before the issue was fixed."""

    def unwrap(text: str) -> str:
        text = _OLD_MENTION.sub(" ", text)
        text = _OLD_LINK.sub(lambda m: m.group(2) or m.group(1), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def split(text: str) -> tuple[str, int | None]:
        match = _OLD_DURATION.fullmatch(text.strip())
        return (text, None) if match is None else (match["query"], int(match["seconds"]))

    def mention_text(text: str) -> str:
        words = unwrap(text).split(maxsplit=1)
        if words and words[0].casefold() == "consumo":
            words = words[1:]
        return " ".join(words).strip()

    parsing.command_text = lambda text: unwrap(text).strip()
    parsing.mention_text = mention_text
    parsing.command_question = lambda text: split(unwrap(text).strip())
    parsing.mention_question = lambda text: split(mention_text(text))
    parsing.message_text = lambda text: text


# -- the phases -----------------------------------------------------------------------------


def ordinary(fake: FakeSlack) -> str:
    return fake.send_slash_command("juan.perez")


def ack_latencies(fake: FakeSlack, eids: list[str]) -> list[float]:
    return [fake.wait_for_ack(eid, timeout=ANSWER_TIMEOUT_S).latency or 0.0 for eid in eids]


def phase_quiet(fake: FakeSlack, results: Results) -> tuple[float, float]:
    start = time.monotonic()
    eids = []
    for _ in range(QUIET_COMMANDS):
        eids.append(ordinary(fake))
        time.sleep(0.05)
    acks = ack_latencies(fake, eids)
    fake.wait_for_responses(count=QUIET_COMMANDS, timeout=ANSWER_TIMEOUT_S)
    results.add(
        f"quiet: {QUIET_COMMANDS} /consumo, ack p50 / max",
        f"{ms(percentile(acks, 50))} / {ms(max(acks))}",
    )
    return start, time.monotonic()


def phase_huge(fake: FakeSlack, results: Results, size: int, rounds: int) -> tuple[float, float]:
    texts = list(shapes(size).values()) * rounds
    fake.clear()
    start = time.monotonic()
    commands, mentions, notes, others = [], [], [], []
    for i, text in enumerate(texts):
        commands.append(fake.send_slash_command(text))
        others.append(ordinary(fake))
        mentions.append(fake.send_app_mention(text))
        others.append(ordinary(fake))
        key = f"shortcut{i}"
        fake.send_envelope(
            "interactive", message_action(text, f"1700009{i:03d}.000100", fake.response_url(key))
        )
        notes.append(key)
        others.append(ordinary(fake))
        time.sleep(PACE_S)
    huge_acks = ack_latencies(fake, commands)
    other_acks = ack_latencies(fake, others)
    for eid in mentions:
        fake.wait_for_ack(eid, timeout=ANSWER_TIMEOUT_S)
    # Ordinary commands get a reading; mentions a reply in their thread, only the asker
    # sees (an error about what was typed); shortcuts a note.
    fake.wait_for_calls("chat.postEphemeral", count=len(mentions), timeout=ANSWER_TIMEOUT_S)
    for key in notes:
        fake.wait_for_responses(key=key, timeout=ANSWER_TIMEOUT_S)
    end = time.monotonic()
    acks = {a.envelope_id: a.payload or {} for a in fake.acks}
    too_long = sum(1 for eid in commands if "demasiado largo" in acks[eid].get("text", ""))
    replied = sum(
        1 for c in fake.calls("chat.postEphemeral") if "demasiado largo" in c.params.get("text", "")
    )
    nothing = sum(
        1
        for key in notes
        if any("No encontré" in r.body.get("text", "") for r in fake.responses(key))
    )
    n = len(texts)
    results.add(
        f"huge: {n // rounds} shapes x {rounds} rounds x {size:,} chars "
        "as /consumo, mention, shortcut: answered",
        f"{too_long} + {replied} + {nothing} / {3 * n}",
        f"all {3 * n}",
        too_long + replied + nothing == 3 * n,
    )
    results.add("huge: /consumo of a huge text, ack max", ms(max(huge_acks)))
    worst = max(other_acks)
    results.add(
        f"huge: {len(others)} ordinary /consumo among them, ack p50 / max",
        f"{ms(percentile(other_acks, 50))} / {ms(worst)}",
        f"max < {ms(ACK_TARGET_S)}",
        worst < ACK_TARGET_S,
    )
    return start, end


def loop_lags(
    results: Results, ticker: Ticker, quiet: tuple[float, float], huge: tuple[float, float]
) -> None:
    for name, window, target in (("quiet", quiet, False), ("huge", huge, True)):
        ticks = ticker.between(*window)
        if not ticks:
            results.add(f"{name}: loop lag", "no sample", "samples", False)
            continue
        lags = [lag for lag, _ in ticks]
        busy = max(cpu for _, cpu in ticks)
        results.add(
            f"{name}: loop lag, wall clock, p50 / p99 / max ({len(ticks)} ticks)",
            f"{ms(percentile(lags, 50))} / {ms(percentile(lags, 99))} / {ms(max(lags))}",
        )
        results.add(
            f"{name}: longest loop stall (CPU on the loop's thread in one tick)",
            ms(busy),
            f"< {ms(LAG_TARGET_S)}" if target else "",
            busy < LAG_TARGET_S or not target,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="characters per huge text")
    parser.add_argument("--rounds", type=int, default=5, help="times every shape is sent")
    parser.add_argument(
        "--old-parsers",
        action="store_true",
        help="parse as before the bound (no cut, original regexes): shows the stall",
    )
    args = parser.parse_args()
    results = Results()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SimNetwork(world()) as network,
        FakeSlack() as fake,
    ):
        db = Path(tmp) / "beholder.db"
        prepare(db, network)
        settings = Settings(
            db_path=db,
            mikrotik_user=API_USER,
            mikrotik_password=API_PASSWORD,
            slack_bot_token=fake.bot_token,
            slack_app_token=fake.app_token,
            slack_api_url=fake.api_url,
        )
        bot = Bot(settings, args.old_parsers)
        try:
            fake.wait_for_connection(timeout=60)
            ack_latencies(fake, [ordinary(fake) for _ in range(5)])  # warm up
            fake.wait_for_responses(count=5, timeout=ANSWER_TIMEOUT_S)
            fake.clear()
            quiet = phase_quiet(fake, results)
            huge = phase_huge(fake, results, args.size, args.rounds)
        except FakeSlackTimeout as exc:
            first = str(exc).splitlines()[0]
            results.add("every answer within 120 s", f"no: {first}", "yes", False)
            quiet = huge = (0.0, time.monotonic())
        finally:
            ticker = bot.stop()
        loop_lags(results, ticker, quiet, huge)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return report(
        results,
        f"serve in its own process; fake Slack and {len(world())} simulated routers on "
        f"loopback; {'OLD parsers; ' if args.old_parsers else ''}"
        f"{os.cpu_count()} CPUs, load average {load}",
    )


if __name__ == "__main__":
    sys.exit(main())
