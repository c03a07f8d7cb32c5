"""Fuzz: thousands of generated texts through `/consumo` and `@Beholder`, real app.

Every text goes through the real Bolt app (`build_app`) over the fake Slack's
Socket Mode websocket, twice: as the text of ``/consumo`` and as an
``app_mention``. The routers are the simulator; every sentence they receive is
recorded. The texts come from a seeded generator of our own (`corpus`), so a
failure names a text that reproduces it.

What must hold for every text:

* no unhandled exception: nothing reaches the bot loop's exception handler,
  nothing is logged as an error or with a traceback;
* a reply: the command is acked with a message, and when the ack says
  "Consultando…" a ``response_url`` post follows; the mention gets exactly one
  ``chat.postMessage`` or ``chat.postEphemeral`` (a private reply) in its thread;
* no reply carries a traceback or the router password;
* no word a router receives is the operator's: every sentence is one of the
  five the bot composes, ``=.proplist=`` lists are ours (never ``password``),
  and ``?name=`` carries a name from the inventory or one that passed the
  bot's plausible-name check (`bot.domain.resolve.looks_like_user`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.config import Settings
from bot.domain.readings import ReadingService, clean_query
from bot.domain.resolve import looks_like_user
from bot.domain.sync import sync_nodes
from bot.errors import InputError, RouterError
from bot.inventory.store import Inventory
from bot.model import Node, Secret, Snapshot
from bot.routeros.client import RouterClient
from bot.routeros.pull import SECRET_PROPLIST
from bot.routeros.reads import ACTIVE_PROPLIST, QUEUE_PROPLIST
from bot.sim.network import SimNetwork
from bot.slack import parsing
from bot.slack.app import build_app
from tests.conftest import API_PASSWORD, API_USER, world
from tests.support.bolt_runner import BoltRunner
from tests.support.fake_slack import FakeSlack

SEED = 20_261_128
#: Texts per run. 2,000 (4,000 requests) keep the suite within its time budget; the
#: parsers' own property tests (hypothesis) cover odd text in depth. A deeper run:
#: ``BEHOLDER_FUZZ_COUNT=20000 pytest tests/system/test_fuzz.py``.
COUNT = int(os.environ.get("BEHOLDER_FUZZ_COUNT", "2000"))
#: Texts sent before waiting for their acks: operators in a burst, not 10,000 at once.
WINDOW = 100

# -- the generator ---------------------------------------------------------------------

USERS = sorted({s.name for cfg in world() for s in cfg.subscribers})
NAMES = [
    *USERS, "Pérez", "perez", "Juan Pérez", "perez san martin", "San Martín 1234", "juanperez",
    "JUAN.PEREZ", "juan_perez", "acuña", "sofia acuna", "cliente1", "cliente",
]  # fmt: skip
MARKUP = [
    "<@U123>", "<#C1|x>", "<!channel>", "<!here>", "<!everyone>", "<mailto:a@b|a@b>",
    "<http://x|y>", "<https://juan.perez.com|juan.perez.com>", "<http://juan.perez>", "<@UBOT>",
    "<#C0001>", "<!subteam^S1|@soporte>", "<!date^1392734382^{date}|x>", "<tel:123|123>", "&lt;",
    "&gt;", "&amp;", "&lt;!channel&gt;", "<>", "<|>", "<", ">", "*negrita*", "_it_", "~tachado~",
    "```bloque```", ":smile:",
]  # fmt: skip
QUOTES = ['"', "'", "`", "“", "”", "‘", "’", "«", "»", "„", "‚", "‹", "›", "「", "」", "'''", '"""']
SQL = [
    "'; DROP TABLE ppp_secrets;--", "%", "_", "%%", "_%_", "' OR '1'='1", '" OR 1=1 --', "\\",
    "/*", "*/", "; SELECT * FROM nodes", "UNION SELECT name FROM ppp_secrets", "?", "?1", ":name",
    "@p", "$1", "ESCAPE '\\'", "NULL", "0x00",
]  # fmt: skip
FTS = [
    '"', "*", "NEAR(", "NEAR(a b, 2)", "AND", "OR", "NOT", "juan*", '"juan perez"', "name:juan",
    "^juan", "(", ")", "+", "-", "{name comment}", "comment:", "a AND", "OR OR", '""', "-juan",
    "*perez*",
]  # fmt: skip
ROUTEROS = [
    "=name=x", "?name=", "/ppp/secret/print", ".proplist=password", "=.proplist=password",
    "=.proplist=name,password", "=.tag=1", ".tag=1", "?#|", "?>name=", "?-name", "/quit",
    "/login", "=password=", "/cancel", "=once=", "=interface=ether1", "!done", "!trap",
    "?name=juan.perez", "=.id=*1", "/system/reset-configuration", "=count-only=",
    "/interface/monitor-traffic", "<pppoe-juan.perez>", "pppoe-juan.perez",
]  # fmt: skip
CONTROL = [
    "\x00", "\x1b", "\r", "\x7f", "\u202e", "\u200b", "\u200d", "\ufeff", "\x0b", "\x0c",
    "\x1b[31m", "\x85", "\u2028", "\x08", "\U000e0041",
]  # fmt: skip
EMOJI = [
    "😀", "👍🏽", "👨\u200d👩\u200d👧", "🇦🇷", "❤️", "e\u0301", "n\u0303", "a\u0308\u0308\u0308",
    "Z\u0334\u0321\u0327\u031b\u0317\u033c", "\u0301", "ﬁ", "Ａ", "ｊｕａｎ", "ß", "İ", "𝐣𝐮𝐚𝐧",
    "ñandú",
]  # fmt: skip
NETWORK = [
    "100.64.0.10", "100.64.1.5", "100.64.2.12", "10.0.0.1", "0.0.0.0", "255.255.255.255",
    "256.1.1.1", "100.64.0", "100.64.0.10.5", "1.2.3.04", "::1", "fe80::1", "2001:db8::1",
    "100.64.0.10/32", "100.64.0.10:8728", "AA:BB:CC:00:00:10", "aa-bb-cc-00-00-20",
    "aabb.cc00.0010", "AABBCC000011", "4c-5e-0c-12-34-56", "GG:HH:II:JJ:KK:LL", "AA:BB:CC:00:00",
    "AA:BB:CC:00:00:10:11", "AA:BB:CC:00:00:1",
]  # fmt: skip
WORDS = [
    "consumo", "Consumo", "CONSUMO", "consumo:", "internet lento", "por favor", "usuario", "ver",
    "!", "...", "—", "12345", "0", "-1", "1e9",
]  # fmt: skip
SPACES = [" ", "  ", "\n", "\t", "\u00a0", "\u3000", "\u2003", "\r\n", "\n\n"]
POOLS = [NAMES, MARKUP, QUOTES, SQL, FTS, ROUTEROS, CONTROL, EMOJI, NETWORK, WORDS, SPACES]

#: Texts the issue names, always in the corpus, before the generated ones.
FIXED = [
    "", " ", "   \t\n ", "\u00a0\u3000", "x" * 10_000, " " * 10_000, "juan.perez " * 910,
    "a" * 100, "a" * 101, "juan.perez\x00", "\x00", "\x1b[2Jjuan.perez", "juan.perez\r",
    "juan\x7fperez", "\u202ezerep.nauj", "😀", "juan.perez 👍", "pe\u0301rez", "<@U123>",
    "<@U123> juan.perez", "<#C1|x>", "<!channel>", "<!channel> juan.perez", "<mailto:a@b|a@b>",
    "<http://x|y>", "<https://juan.perez|juan.perez>", "&lt;!channel&gt;", '"juan.perez"',
    "'juan.perez'", "«juan.perez»", "“juan.perez”", "`juan.perez`",
    "'; DROP TABLE ppp_secrets;--", "juan'; DROP TABLE ppp_secrets;--", "%", "_", "%perez%",
    "juan_perez", '"', "*", "NEAR(", "juan AND perez", "perez*", "=name=x", "?name=",
    "/ppp/secret/print", ".proplist=password", "=.proplist=password", "=.tag=1",
    "juan.perez =.proplist=password", "juan.perez\n=.proplist=password",
    "juan.perez\n/ppp/secret/print", "consumo juan.perez", "consumo", "juan.perez\njuan.perez",
    "100.64.0.10", "100.64.0.999", "AA:BB:CC:00:00:10", "aa-bb-cc-00-00-1g", "JUAN.PEREZ",
    "  juan.perez  ", "juanperez", "20513", "carlos.lopez", "ana.martinez", "sofia.acuna",
    "nadie.existe", "x` &lt;!channel&gt;", "&lt;@U123&gt;", "&lt;http://x|y&gt;",
]  # fmt: skip


def corpus(seed: int = SEED, count: int = COUNT) -> list[str]:
    """`count` texts: `FIXED`, then generated ones; the same for the same seed."""
    rng = random.Random(seed)
    texts = list(FIXED)
    while len(texts) < count:
        texts.append(_generated(rng))
    return texts[:count]


def _generated(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.25:
        return _noisy_name(rng)
    if kind < 0.30:
        return _random_unicode(rng, rng.randint(1, 30))
    if kind < 0.32:  # long: past the limit, or whitespace that collapses
        piece = rng.choice([*rng.choice(POOLS), "x", " "])
        return (piece * (10_000 // max(len(piece), 1) + 1))[: rng.choice([101, 1_000, 10_000])]
    pieces = [rng.choice(rng.choice(POOLS)) for _ in range(rng.randint(1, 6))]
    return "".join(piece + rng.choice(["", " ", " ", "\n", ""]) for piece in pieces)


def _noisy_name(rng: random.Random) -> str:
    """A real name or fragment, as an operator (or a ticket) mangles it."""
    name = rng.choice(NAMES)
    for _ in range(rng.randint(0, 3)):
        noise = rng.randrange(10)
        if noise == 0:
            name = name.upper()
        elif noise == 1:
            name = name.replace(".", rng.choice(["", " ", "_", "-", ". "]))
        elif noise == 2 and name:
            i = rng.randrange(len(name))
            name = name[:i] + rng.choice(rng.choice(POOLS)) + name[i:]
        elif noise == 3:
            quote = rng.choice(QUOTES)
            name = quote + name + rng.choice([quote, ""])
        elif noise == 4:
            name = rng.choice(["consumo ", "Consumo: ", "<@UBOT> ", "ver "]) + name
        elif noise == 5:
            name = name + rng.choice(["?", "!", ".", ",", ";", " pls", " 😡", "\n"])
        elif noise == 6:
            name = rng.choice(SPACES) + name + rng.choice(SPACES)
        elif noise == 7 and len(name) > 2:
            i = rng.randrange(len(name))
            name = name[:i] + name[i + 1 :]
        elif noise == 8:
            name = name.replace("e", "é").replace("n", "ñ")
        else:
            name = f"{name} {rng.choice(NETWORK)}"
    return name


def _random_unicode(rng: random.Random, length: int) -> str:
    """Code points from every plane Slack could carry (no lone surrogates: not in JSON)."""
    ranges = [(0x20, 0x7E), (0x00, 0x1F), (0xA0, 0x2FF), (0x300, 0x36F), (0x2000, 0x206F)]
    ranges += [(0x4E00, 0x4FFF), (0x1F300, 0x1F6FF), (0xE000, 0xE0FF), (0xE0000, 0xE007F)]
    chars = []
    for _ in range(length):
        low, high = rng.choice(ranges)
        chars.append(chr(rng.randint(low, high)))
    return "".join(chars)


# -- what a router may receive ------------------------------------------------------------

LOGIN = ("/login", f"=name={API_USER}", f"=password={API_PASSWORD}")
#: A snapshot's reads go out together, tagged by their place (bot/routeros/batch.py).
BATCH_TAGS = frozenset(f".tag={place}" for place in range(4))


def sentence_problem(words: tuple[str, ...], names: set[str], plausible: set[str]) -> str | None:
    """Why `words` is not a sentence the bot composes (None when it is).

    `names`: PPPoE users in the inventory (and on the routers); `plausible`:
    queries that passed the bot's plausible-name check.
    """
    command, rest = words[0], list(words[1:])
    if rest and rest[-1] in BATCH_TAGS:  # the tag the bot gives a read sent in a batch
        rest.pop()
    if command == "/login":
        return None if words == LOGIN else "login words"
    if command in ("/ppp/active/print", "/ppp/secret/print"):
        proplist = ACTIVE_PROPLIST if command == "/ppp/active/print" else SECRET_PROPLIST
        if len(rest) != 2 or rest[1] != f"=.proplist={proplist}":
            return "print words"
        if not rest[0].startswith("?name="):
            return "print query"
        value = rest[0][len("?name=") :]
        if value not in names and value not in plausible:
            return f"?name= value {value!r} neither in the inventory nor a plausible name"
        return None
    if command == "/interface/monitor-traffic":
        iface = rest[0].removeprefix("=interface=") if rest else ""
        if len(rest) != 2 or rest[1] != "=once=" or not rest[0].startswith("=interface="):
            return "monitor-traffic words (=interface=…, =once=)"
        if not (iface.startswith("<pppoe-") and iface.endswith(">") and iface[7:-1] in names):
            return f"monitor-traffic of {iface!r}"
        return None
    if command == "/queue/simple/print":
        if len(rest) != 2 or rest[1] != f"=.proplist={QUEUE_PROPLIST}":
            return "queue print words"
        queue = rest[0].removeprefix("?name=")
        if not (rest[0].startswith("?name=<pppoe-") and queue.endswith(">")):
            return "queue print query"
        return None if queue[7:-1] in names else f"queue of {queue!r}"
    return f"command {command!r}"


def plausible_query(text: str, parse: Callable[[str], str]) -> str | None:
    """The query the bot may ask routers for when it does not know the name."""
    try:
        query = " ".join(clean_query(parse(text)).split())
    except InputError:
        return None
    return query if looks_like_user(query) else None


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Run:
    texts: list[str]
    commands: dict[str, str] = field(default_factory=dict)  # envelope id → text
    mentions: dict[str, str] = field(default_factory=dict)  # envelope id → event text
    command_acks: dict[str, dict] = field(default_factory=dict)
    mention_acks: set[str] = field(default_factory=set)
    responses: dict[str, list[dict]] = field(default_factory=dict)  # key → bodies
    posts: dict[str, list[dict]] = field(default_factory=dict)  # thread_ts → params
    mention_ts: dict[str, str] = field(default_factory=dict)  # envelope id → ts
    sentences: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (router, words)
    router_failures: list[str] = field(default_factory=list)
    loop_errors: list[str] = field(default_factory=list)
    log_problems: list[str] = field(default_factory=list)
    active_after: dict[str, int] = field(default_factory=dict)


class RecordingClient(RouterClient):
    """The real router client, noting every router failure it reports."""

    failures: list[str]

    async def snapshot(self, node: Node, user: str) -> Snapshot:
        try:
            return await super().snapshot(node, user)
        except RouterError as exc:
            self.failures.append(f"snapshot {user!r}: {exc!r}")
            raise

    async def find_secret(self, node: Node, user: str) -> Secret | None:
        try:
            return await super().find_secret(node, user)
        except RouterError as exc:
            self.failures.append(f"pull {user!r}: {exc!r}")
            raise


class _Problems(logging.Handler):
    """Keeps every log record that is an error, has a traceback, or says so."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (
            record.levelno >= logging.ERROR
            or record.exc_info
            or "Traceback" in message
            or "unexpected error" in message
        ):
            self.found.append(f"{record.levelname} {record.name}: {message[:300]}")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    result = Run(corpus())
    problems = _Problems()
    root = logging.getLogger()
    root.addHandler(problems)
    try:
        with SimNetwork(world()) as network, FakeSlack() as fake:
            _drive(result, network, fake, tmp_path_factory.mktemp("fuzz") / "beholder.db")
    finally:
        root.removeHandler(problems)
    result.log_problems = problems.found
    return result


def _drive(result: Run, network: SimNetwork, fake: FakeSlack, db: Path) -> None:
    nodes = [Node(name, "127.0.0.1", port) for name, port in network.ports.items()]

    # A deadline far above anything the simulator needs: a router failure here
    # is the operator's text breaking a conversation, not a busy test machine.
    router = RecordingClient(username=API_USER, password=API_PASSWORD, timeout=20.0)
    router.failures = []
    with Inventory(db) as inventory:
        inventory.upsert_nodes(nodes)
        synced = asyncio.run(sync_nodes(inventory, RouterClient(API_USER, API_PASSWORD), nodes))
        assert all(s.ok for s in synced), synced
        network.reset_counters()
        settings = Settings(
            slack_bot_token=fake.bot_token,
            slack_app_token=fake.app_token,
            slack_api_url=fake.api_url,
        )
        readings = ReadingService(inventory, router)
        runner = BoltRunner(lambda: build_app(settings, readings), fake, raise_loop_errors=False)
        with runner:
            for start in range(0, len(result.texts), WINDOW):
                batch = []
                for text in result.texts[start : start + WINDOW]:
                    eid = fake.send_slash_command(text)
                    result.commands[eid] = text
                    batch.append(eid)
                    mid = fake.send_app_mention(text)
                    event = fake.envelope(mid).payload["event"]
                    result.mentions[mid] = event["text"]
                    result.mention_ts[mid] = event["ts"]
                    batch.append(mid)
                for eid in batch:
                    fake.wait_for_ack(eid, timeout=30)
            acks = {a.envelope_id: a.payload for a in fake.acks}
            result.command_acks = {eid: acks[eid] or {} for eid in result.commands}
            result.mention_acks = {eid for eid in result.mentions if eid in acks}
            consulting = sum(
                1 for p in result.command_acks.values() if p.get("text", "").startswith("Consult")
            )
            fake.wait_for_responses(count=consulting, timeout=60)
            # Each mention gets one reply in its thread: public, or only for its author.
            _wait_for_thread_replies(fake, len(result.mentions), timeout=60)
            # A moment for anything extra (a second post would be a bug too).
            asyncio.run(asyncio.sleep(0.2))
            for post in fake.responses():
                result.responses.setdefault(post.key, []).append(post.body)
            for call in fake.calls("chat.postMessage") + fake.calls("chat.postEphemeral"):
                result.posts.setdefault(str(call.params.get("thread_ts")), []).append(call.params)
        result.loop_errors = list(runner.errors)
        result.router_failures = router.failures
    for name in network.sims:
        for _ in range(100):  # the simulator notices closed connections a moment later
            counters = network.counters(name)
            if counters.active_sessions == 0:
                break
            asyncio.run(asyncio.sleep(0.02))
        result.sentences += [(name, words) for words in counters.commands]
        result.active_after[name] = counters.active_sessions


def _wait_for_thread_replies(fake: FakeSlack, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    posted = 0
    while time.monotonic() < deadline:
        posted = len(fake.calls("chat.postMessage")) + len(fake.calls("chat.postEphemeral"))
        if posted >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"wanted {count} replies in threads, got {posted}")


# -- the properties ------------------------------------------------------------------------------


def test_corpus_is_reproducible_and_covers_the_issue():
    texts = corpus()
    assert len(texts) == COUNT
    assert texts == corpus()
    assert corpus(seed=1) != texts
    joined = "\n".join(texts)
    for needle in (
        "\x00",
        "\x1b",
        "\r",
        "\x7f",
        "\u202e",
        "<@U123>",
        "<#C1|x>",
        "<!channel>",
        "<mailto:a@b|a@b>",
        "<http://x|y>",
        "'; DROP TABLE ppp_secrets;--",
        "NEAR(",
        " AND ",
        "=name=x",
        "?name=",
        "/ppp/secret/print",
        ".proplist=password",
        "=.tag=1",
        "100.64.0.10",
        "AA:BB:CC:00:00:10",
        "\u0301",
        "👍",
        "«",
        "“",
    ):
        assert needle in joined, needle
    assert {"", " "} <= set(texts)
    assert any(len(t) == 10_000 for t in texts)
    assert sum(1 for t in texts if any(u in t for u in USERS)) > 500


def test_nothing_crashed(run):
    assert run.loop_errors == []
    assert run.log_problems == []


def test_no_text_makes_a_healthy_router_fail(run):
    assert run.router_failures == []


def test_every_command_is_acked_and_answered_once(run):
    missing, silent, extra = [], [], []
    for eid, text in run.commands.items():
        ack = run.command_acks.get(eid)
        if not ack or not ack.get("text"):
            missing.append(text)
            continue
        posts = run.responses.get(eid, [])
        expected = 1 if ack["text"].startswith("Consultando") else 0
        if len(posts) < expected:
            silent.append(text)
        elif len(posts) > expected:
            extra.append(text)
    assert not missing, f"{len(missing)} commands not acked with a message: {missing[:5]!r}"
    assert not silent, f"{len(silent)} commands acked but never answered: {silent[:5]!r}"
    assert not extra, f"{len(extra)} commands answered twice: {extra[:5]!r}"


def test_every_mention_gets_one_reply_in_its_thread(run):
    assert set(run.mention_acks) == set(run.mentions)
    wrong = [
        run.mentions[eid]
        for eid, ts in run.mention_ts.items()
        if len(run.posts.get(ts, [])) != 1 or not run.posts[ts][0].get("text")
    ]
    assert not wrong, f"{len(wrong)} mentions without exactly one reply: {wrong[:5]!r}"


def test_replies_carry_no_traceback_nor_secret(run):
    everything = [
        *run.command_acks.values(),
        *(body for bodies in run.responses.values() for body in bodies),
        *(params for posts in run.posts.values() for params in posts),
    ]
    for message in everything:
        shown = repr(message)
        assert "Traceback" not in shown
        assert not re.search(r'File "[^"]+", line \d+', shown)
        assert API_PASSWORD not in shown


def test_routers_receive_only_words_the_bot_composes(run):
    names = set(USERS)
    plausible = {
        q for t in run.commands.values() if (q := plausible_query(t, parsing.command_text))
    }
    plausible |= {
        q for t in run.mentions.values() if (q := plausible_query(t, parsing.mention_text))
    }
    assert run.sentences, "no router was asked anything: the fuzz exercised nothing"
    problems = [
        f"{router}: {problem}: {words!r}"
        for router, words in run.sentences
        if (problem := sentence_problem(words, names, plausible))
    ]
    assert not problems, f"{len(problems)} foreign sentences, e.g.:\n" + "\n".join(problems[:10])
    for _, words in run.sentences:
        for word in words:
            if word.startswith("=.proplist="):
                assert "password" not in word.split("=", 2)[2].split(",")
    # Readings happened (snapshots of real users), not only lookups and pulls.
    commands = {words[0] for _, words in run.sentences}
    assert {"/interface/monitor-traffic", "/queue/simple/print", "/ppp/secret/print"} <= commands


def test_no_api_session_left_open(run):
    assert run.active_after == dict.fromkeys(run.active_after, 0)


def test_the_router_check_is_not_vacuous():
    names, plausible = {"juan.perez"}, {"nadie"}
    good = [
        LOGIN,
        ("/ppp/active/print", "?name=juan.perez", f"=.proplist={ACTIVE_PROPLIST}"),
        ("/ppp/secret/print", "?name=nadie", f"=.proplist={SECRET_PROPLIST}"),
        ("/interface/monitor-traffic", "=interface=<pppoe-juan.perez>", "=once="),
        ("/queue/simple/print", "?name=<pppoe-juan.perez>", f"=.proplist={QUEUE_PROPLIST}"),
    ]
    assert [sentence_problem(s, names, plausible) for s in good] == [None] * len(good)
    forged = [
        ("/ppp/secret/print", "?name=nadie", "=.proplist=name,password"),
        ("/ppp/secret/print", "?name=nadie", f"=.proplist={SECRET_PROPLIST}", "=.tag=1"),
        ("/ppp/secret/print", "?name=otro", f"=.proplist={SECRET_PROPLIST}"),
        ("/ppp/secret/print", "?name=nadie", "?name=x", f"=.proplist={SECRET_PROPLIST}"),
        ("/interface/monitor-traffic", "=interface=<pppoe-nadie>", "=once="),
        ("/interface/monitor-traffic", "=interface=<pppoe-juan.perez>"),
        ("/queue/simple/print", "?name=<pppoe-x>", f"=.proplist={QUEUE_PROPLIST}"),
        ("/login", f"=name={API_USER}", "=password=x"),
        ("/system/reset-configuration",),
    ]
    assert all(sentence_problem(s, names, plausible) for s in forged)
