"""A hostile or silent router can neither exhaust the bot nor hold it.

Real TCP against the simulator's hostile faults (`bot.sim.faults`): an endless
``!re`` flood, a 16 MiB word, a sentence never ended, a byte trickle, silence.
Each test asserts what a user would notice (the error, naming the router; the
sync's summary and exit code; rows kept) and what bounds the bot (the
connection closed, the bytes read at the ceiling). How fast and how much
memory is measured by bench/hostile_bench.py, not here.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import aclosing

import pytest

from bot.errors import RouterReplyTooLarge, RouterTimeout
from bot.model import Node
from bot.routeros.client import RouterClient
from bot.routeros.pull import PULL_FIELD_BYTES, PULL_ROW_WORDS, pull_limit
from bot.routeros.reads import SAMPLE, SAMPLE_QUEUE, rows_of
from bot.routeros.sentences import (
    MAX_EMPTY_SENTENCES,
    MAX_SENTENCE_WORDS,
    QUESTION,
    ReplyLimit,
    ReplyTooLarge,
)
from bot.routeros.transport import CHUNK_BYTES
from bot.sim import faults
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from tests.conftest import API_PASSWORD, API_USER, beholder, sim_process

HOSTILE = "bras-hostil"
#: MIKROTIK_TIMEOUT of the tests that wait for it to pass.
TIMEOUT = 0.3


def secrets(count: int) -> list[Subscriber]:
    return [
        Subscriber(f"abonado{i:04d}", "pw", comment=f"Cliente {i} - Av. Belgrano {i}")
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def net() -> Iterator[SimNetwork]:
    config = RouterConfig(
        HOSTILE, username=API_USER, password=API_PASSWORD, subscribers=secrets(300)
    )
    with SimNetwork([config]) as network:
        yield network


@pytest.fixture
def hostile(net: SimNetwork) -> Iterator[Node]:
    yield Node(HOSTILE, "127.0.0.1", net.port(HOSTILE))
    net.set_fault(HOSTILE, None)
    for _ in range(100):  # the simulator saw the client hang up
        if net.counters(HOSTILE).active_sessions == 0:
            break
        time.sleep(0.02)
    assert net.counters(HOSTILE).active_sessions == 0, "the connection was left open"


def client(**options: float) -> RouterClient:
    """A router client; a test that expects a timeout passes `TIMEOUT`."""
    return RouterClient(API_USER, API_PASSWORD, **{"timeout": 5.0, **options})


async def cut_reply(node: Node, limit: ReplyLimit) -> tuple[ReplyTooLarge, int]:
    """Ask for the secrets with `limit`; the error and the bytes read for the reply."""
    async with asyncio.timeout(10), client().session(node) as api:
        before = api.protocol.received
        with pytest.raises(ReplyTooLarge) as caught:
            await rows_of(api, "/ppp/secret/print", limit=limit)
        return caught.value, api.protocol.received - before


# -- bounded replies -----------------------------------------------------------------


def test_row_flood_is_cut_at_the_snapshot_ceiling_naming_the_router(net, hostile):
    net.set_fault(HOSTILE, faults.FLOOD_ROWS)
    with pytest.raises(RouterReplyTooLarge) as caught:
        asyncio.run(client().snapshot(hostile, "abonado0001"))
    err = caught.value
    assert err.node == HOSTILE
    assert err.user == "abonado0001"
    assert (err.kind, err.ceiling) == ("rows", QUESTION.rows)


def test_row_flood_stops_being_read_at_the_row_ceiling(net, hostile):
    """At most one read past the last row allowed, however long the router goes on."""
    net.set_fault(HOSTILE, faults.FLOOD_ROWS)
    err, read = asyncio.run(cut_reply(hostile, ReplyLimit(rows=100, bytes=64 << 20)))
    assert (err.kind, err.ceiling) == ("rows", 100)
    assert read <= 100 * 300 + CHUNK_BYTES  # a flood row is under 300 bytes


def test_byte_ceiling_is_not_read_past(net, hostile):
    """The bytes read for a reply never pass its ceiling by more than one."""
    net.set_fault(HOSTILE, faults.FLOOD_ROWS)
    err, read = asyncio.run(cut_reply(hostile, ReplyLimit(rows=10**6, bytes=200_000)))
    assert (err.kind, err.ceiling) == ("bytes", 200_000)
    assert 200_000 - CHUNK_BYTES < read <= 200_001


def test_a_16_mib_word_is_refused_from_its_length_prefix(net, hostile):
    net.set_fault(HOSTILE, faults.HUGE_WORD)
    err, read = asyncio.run(cut_reply(hostile, QUESTION))
    assert err.kind == "bytes"
    assert read <= CHUNK_BYTES  # one read: the prefix, not the 16 MiB behind it
    # A sync pull, with room for 77 MB, refuses it too: no field is that big.
    with pytest.raises(RouterReplyTooLarge) as caught:
        asyncio.run(client().pull(hostile))
    assert (caught.value.node, caught.value.kind) == (HOSTILE, "field")
    assert caught.value.ceiling == PULL_FIELD_BYTES


def test_a_sentence_never_ended_is_cut_at_its_word_ceiling(net, hostile):
    net.set_fault(HOSTILE, faults.ENDLESS_SENTENCE)
    with pytest.raises(RouterReplyTooLarge) as caught:
        asyncio.run(client(sync_timeout=30).pull(hostile))
    assert (caught.value.node, caught.value.kind) == (HOSTILE, "words")
    assert caught.value.ceiling == PULL_ROW_WORDS  # a pull's rows are short
    with pytest.raises(RouterReplyTooLarge) as caught:
        asyncio.run(client().snapshot(hostile, "abonado0001"))
    assert (caught.value.kind, caught.value.ceiling) == ("words", MAX_SENTENCE_WORDS)


def test_an_empty_sentence_flood_is_cut_naming_the_router(net, hostile):
    """Bug: empty sentences (zero bytes) were skipped uncounted: a question read
    its whole 1 MiB and a pull never ended before BEHOLDER_SYNC_TIMEOUT. Now a
    run of them is cut at `MAX_EMPTY_SENTENCES`, within the first read."""
    net.set_fault(HOSTILE, faults.EMPTY_FLOOD)
    err, read = asyncio.run(cut_reply(hostile, QUESTION))
    assert (err.kind, err.ceiling) == ("empty", MAX_EMPTY_SENTENCES)
    assert read <= CHUNK_BYTES
    with pytest.raises(RouterReplyTooLarge) as caught:
        asyncio.run(client().snapshot(hostile, "abonado0001"))
    assert (caught.value.node, caught.value.user, caught.value.kind) == (
        HOSTILE,
        "abonado0001",
        "empty",
    )
    with pytest.raises(RouterReplyTooLarge) as caught:
        asyncio.run(client(sync_timeout=30).pull(hostile))
    assert (caught.value.node, caught.value.kind) == (HOSTILE, "empty")


def test_a_live_view_sample_is_cut_at_its_ceiling(net, hostile):
    """A sample is two reads sent together (`SAMPLE` and `SAMPLE_QUEUE`): one row
    each, or the two rows or 128 KiB of the pair; which one a flood passes first
    depends on how much of it the first read finds waiting."""
    net.set_fault(HOSTILE, faults.FLOOD_ROWS)

    async def watch() -> None:
        async with aclosing(client().watch(hostile, "abonado0001", 5)) as samples:
            async for _ in samples:
                pass

    with pytest.raises(RouterReplyTooLarge) as caught:
        asyncio.run(watch())
    assert caught.value.node == HOSTILE
    pair = SAMPLE + SAMPLE_QUEUE
    ceilings = {("rows", 1), ("rows", pair.rows), ("bytes", pair.bytes)}
    assert (caught.value.kind, caught.value.ceiling) in ceilings


def test_a_pull_past_sync_max_rows_fails_and_names_the_router(net, hostile):
    with pytest.raises(RouterReplyTooLarge) as caught:
        asyncio.run(RouterClient(API_USER, API_PASSWORD, sync_max_rows=299).pull(hostile))
    assert (caught.value.node, caught.value.kind, caught.value.ceiling) == (HOSTILE, "rows", 299)
    tables = asyncio.run(RouterClient(API_USER, API_PASSWORD, sync_max_rows=300).pull(hostile))
    assert len(tables.secrets) == 300  # exactly at the ceiling is fine


def _commented(comment: str) -> RouterConfig:
    subscribers = [Subscriber(f"abonado{i:04d}", "pw", comment=comment) for i in range(300)]
    return RouterConfig(
        f"bras-{len(comment)}-{comment.isascii()}",
        username=API_USER,
        password=API_PASSWORD,
        subscribers=subscribers,
    )


def test_a_pull_counts_non_ascii_words_at_what_python_holds():
    """Bug: a pull's byte ceiling counted wire bytes, but one emoji makes Python
    store every character of a string in 4 bytes (1.2 GB held within a 200 MB
    ceiling). 300 rows with an ASCII comment fit `pull_limit(300)`; the same
    rows with an emoji in front of the comment are cut, naming the router, and
    a comment past `PULL_FIELD_BYTES` is refused from its length prefix."""
    ascii_, emoji, long = (
        _commented("x" * 100),
        _commented("\U0001f600" + "x" * 99),
        _commented("x" * PULL_FIELD_BYTES),
    )
    router = RouterClient(API_USER, API_PASSWORD, sync_max_rows=300)
    with SimNetwork([ascii_, emoji, long]) as network:

        def pull(config: RouterConfig):
            return asyncio.run(
                router.pull(Node(config.name, "127.0.0.1", network.port(config.name)))
            )

        assert len(pull(ascii_).secrets) == 300
        with pytest.raises(RouterReplyTooLarge) as caught:
            pull(emoji)
        assert (caught.value.node, caught.value.kind) == (emoji.name, "bytes")
        assert caught.value.ceiling == pull_limit(300).bytes
        with pytest.raises(RouterReplyTooLarge) as caught:
            pull(long)
        assert (caught.value.node, caught.value.kind) == (long.name, "field")


# -- silence and trickles ---------------------------------------------------------------


@pytest.mark.parametrize("fault", [faults.STALL_CONNECT, faults.STALL_LOGIN])
def test_a_silent_router_fails_a_pull_within_mikrotik_timeout(net, hostile, fault):
    """Bug: connect and login had the 120 s sync deadline, not MIKROTIK_TIMEOUT."""
    net.set_fault(HOSTILE, fault)
    with pytest.raises(RouterTimeout) as caught:
        asyncio.run(client(timeout=TIMEOUT, sync_timeout=120).pull(hostile))
    assert (caught.value.node, caught.value.seconds) == (HOSTILE, TIMEOUT)


def test_a_pull_stalled_mid_table_fails_after_mikrotik_timeout_without_a_byte(net, hostile):
    net.call(HOSTILE, lambda sim: setattr(sim.config, "fault_after_rows", 120))
    net.set_fault(HOSTILE, faults.STALL_MID_STREAM)
    try:
        with pytest.raises(RouterTimeout, match=r"no data for 0\.3s") as caught:
            asyncio.run(client(timeout=TIMEOUT, sync_timeout=120).pull(hostile))
    finally:
        net.call(HOSTILE, lambda sim: setattr(sim.config, "fault_after_rows", 100))
    assert (caught.value.node, caught.value.seconds) == (HOSTILE, TIMEOUT)


@pytest.fixture
def trickle(net: SimNetwork) -> Iterator[None]:
    def slow(sim) -> None:
        sim.config.trickle_bytes, sim.config.trickle_interval = 512, 0.02

    net.call(HOSTILE, slow)
    net.set_fault(HOSTILE, faults.TRICKLE)
    yield
    net.call(HOSTILE, lambda sim: setattr(sim.config, "trickle_bytes", 1))


def test_a_slow_but_flowing_pull_may_outlast_mikrotik_timeout(net, hostile, trickle):
    # MIKROTIK_TIMEOUT 1 s: far above the 20 ms between writes, even on a busy machine.
    started = time.monotonic()
    tables = asyncio.run(client(timeout=1.0, sync_timeout=30).pull(hostile))
    assert len(tables.secrets) == 300
    # 300 rows (33 KB) 512 bytes at a time, 20 ms apart: over 60 pauses, over 1 s.
    assert time.monotonic() - started > 1.0


def test_a_flowing_pull_still_ends_at_sync_timeout(net, hostile, trickle):
    with pytest.raises(RouterTimeout) as caught:
        asyncio.run(client(sync_timeout=0.5, timeout=1.0).pull(hostile))
    assert (caught.value.node, caught.value.seconds) == (HOSTILE, 0.5)


def test_a_byte_trickle_cannot_hold_a_question_past_its_deadline(net, hostile):
    net.set_fault(HOSTILE, faults.TRICKLE)  # one byte every 50 ms
    with pytest.raises(RouterTimeout) as caught:
        asyncio.run(client(timeout=TIMEOUT).snapshot(hostile, "abonado0001"))
    assert (caught.value.node, caught.value.seconds) == (HOSTILE, TIMEOUT)


# -- beholder sync with a stalled and a dead node -------------------------------------


def test_sync_with_a_stalled_a_dead_and_a_too_big_node_fails_fast_and_keeps_their_rows(
    env, tmp_path
):
    """Bug: a node that accepts TCP and never answers held `beholder sync` for
    BEHOLDER_SYNC_TIMEOUT (120 s): connect and login now get MIKROTIK_TIMEOUT.
    A node with more rows than BEHOLDER_SYNC_MAX_ROWS is cut and named too."""
    sizes = {"bras-bien": 5, "bras-quieto": 5, "bras-muerto": 5, "bras-grande": 8}
    configs = [
        RouterConfig(name, username=API_USER, password=API_PASSWORD, subscribers=secrets(count))
        for name, count in sizes.items()
    ]
    with SimNetwork(configs) as net:
        csv = tmp_path / "nodes.csv"
        csv.write_text(
            "name,host,port\n" + "".join(f"{n},127.0.0.1,{p}\n" for n, p in net.ports.items())
        )
        for args in (("nodes", "import", str(csv)), ("sync",)):
            assert beholder(env, *args).returncode == 0
        net.set_fault("bras-quieto", faults.STALL_CONNECT)  # accepts TCP, never answers
        net.set_fault("bras-muerto", faults.BLACKHOLE)  # no answer to a connect either
        env = {
            **env,
            "MIKROTIK_TIMEOUT": "1",
            "BEHOLDER_SYNC_TIMEOUT": "120",
            "BEHOLDER_SYNC_MAX_ROWS": "6",
        }

        result = beholder(env, "sync")

    assert result.returncode == 1
    table = {line.split()[0]: line for line in result.stdout.splitlines()[1:-1]}
    assert table["bras-bien"].split()[1] == "5"
    for name in ("bras-quieto", "bras-muerto"):
        assert "5 kept" in table[name]
        assert "STALE since" in table[name]
        assert "RouterTimeout: no answer within 1s" in table[name]
    assert "8 kept" in table["bras-grande"]
    assert "RouterReplyTooLarge: reply cut: a reply of over 6 rows" in table["bras-grande"]
    assert "1/4 nodes synced" in result.stdout
    assert result.stderr.splitlines()[-1] == (
        "beholder: sync failed for bras-grande, bras-muerto, bras-quieto; "
        "their previous rows were kept"
    )
    with sqlite3.connect(env["BEHOLDER_DB"]) as conn:
        kept = dict(conn.execute("SELECT node, count(*) FROM ppp_secrets GROUP BY node"))
    assert kept == sizes


def test_simulator_cli_runs_one_router_per_fault_as_the_hostile_bench_starts_it():
    with sim_process("--fault", "flood_rows", "--fault", "stall_login", "--secrets", "5") as out:
        lines = [out.readline().split("\t") for _ in range(2)]
        nodes = {line[0]: Node(line[0], line[1], int(line[2])) for line in lines}
        assert sorted(nodes) == ["flood_rows", "stall_login"]
        router = RouterClient("beholder", "beholder-pass", timeout=0.5, sync_max_rows=1000)
        with pytest.raises(RouterReplyTooLarge):
            asyncio.run(router.pull(nodes["flood_rows"]))
        with pytest.raises(RouterTimeout):
            asyncio.run(router.pull(nodes["stall_login"]))
