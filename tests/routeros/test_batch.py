"""Tagged commands sent together (bot/routeros/batch.py): a snapshot's reads go out
at once and each reply is gathered by its tag, whatever order the router answers in.

The snapshot tests run through real TCP against the simulator, which answers tagged
commands concurrently as RouterOS does. The hostile-reply tests feed `Batch` the
router's side of a real socket pair, byte for byte, through the same buffered
transport `RouterClient` uses.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from librouteros.exceptions import TrapError

from bot.domain.live import queue_drops
from bot.model import Node, Plan, Sample, Snapshot
from bot.routeros.batch import Ask, Batch, Reply
from bot.routeros.connection import RawApi
from bot.routeros.parse import MalformedReply
from bot.routeros.reads import read_sample, read_snapshot
from bot.routeros.sentences import ReplyLimit, ReplyTooLarge
from bot.routeros.transport import BufferedApiProtocol
from bot.sim import traffic, wire

MBPS = 1_000_000
T = TypeVar("T")

# -- a snapshot's reads, against the simulator ----------------------------------------


def test_a_snapshot_sends_its_reads_together_and_reads_them_right(sim_world):
    """The four reads of a snapshot (session, traffic, queue, secret) are sent with
    their own tags before any is answered: the simulator, which answers tagged
    commands concurrently, has all four in hand at once; and each figure still
    lands in its place (tx is download)."""
    sim_world.network.set_latency("bras-norte", 0.05)
    client = sim_world.client()
    reading = asyncio.run(client.snapshot(sim_world.nodes["bras-norte"], "juan.perez"))
    counters = sim_world.network.counters("bras-norte")
    assert counters.peak_concurrent_commands == 4
    sent = [words[0] for words in counters.commands if any(w.startswith(".tag=") for w in words)]
    assert sorted(sent) == sorted(
        [
            "/ppp/active/print",
            "/interface/monitor-traffic",
            "/queue/simple/print",
            "/ppp/secret/print",
        ]
    )
    assert reading.online
    assert reading.traffic.download_bps == 45_200_000
    assert reading.queue is not None
    assert reading.secret is None  # an online reading shows the session, not the secret
    assert counters.unbounded_commands == 0
    sim_world.network.set_latency("bras-norte", 0.0)
    sim_world.quiet()


def test_an_offline_user_is_read_in_the_same_round_trip(sim_world):
    """An offline user's monitor-traffic traps (his interface is gone); that trap is
    expected: the reading still says offline, with the secret's last logout, and
    the secret was asked together with the other reads, not after them."""
    sim_world.network.set_latency("bras-norte", 0.05)
    client = sim_world.client()
    reading = asyncio.run(client.snapshot(sim_world.nodes["bras-norte"], "carlos.lopez"))
    sim_world.network.set_latency("bras-norte", 0.0)
    assert sim_world.network.counters("bras-norte").peak_concurrent_commands == 4
    assert not reading.online
    assert reading.secret is not None
    assert reading.secret.name == "carlos.lopez"
    assert reading.secret.last_logged_out
    assert reading.traffic is None
    sim_world.quiet()


# -- a live view's samples, against the simulator ---------------------------------------


def test_a_live_sample_reads_traffic_and_queue_together_and_counts_the_drops(sim_world):
    """Each second of a live view sends ``monitor-traffic once`` and the subscriber's
    queue together: the simulator has both in hand at once. juan.perez runs at 90 %
    of his plan, so his queue drops packets; when his session ages ten minutes
    between two samples, the drops counted for the view are the router's drops of
    those ten minutes (and of the moment the test itself took)."""
    node = sim_world.nodes["bras-norte"]
    sim_world.network.set_latency("bras-norte", 0.02)
    client = sim_world.client()

    def age(sim) -> None:
        sim.config.subscriber("juan.perez").uptime_s += 600

    async def watch() -> list[Sample]:
        samples = []
        # Two samples, however late they come (a late sample skips its slot).
        async with aclosing(client.watch(node, "juan.perez", 10, every=0.1)) as watching:
            async for sample in watching:
                samples.append(sample)
                if len(samples) == 1:
                    sim_world.network.call("bras-norte", age)
                if len(samples) == 2:
                    break
        return samples

    started = time.monotonic()
    samples = asyncio.run(watch())
    took = time.monotonic() - started
    counters = sim_world.network.counters("bras-norte")
    assert counters.peak_concurrent_commands == 2
    asked = [words for words in counters.commands if words[0] != "/login"]
    assert [words[0] for words in asked] == [
        "/interface/monitor-traffic",
        "/queue/simple/print",
    ] * 2
    assert all("=once=" in words for words in asked[::2])
    assert all("?name=<pppoe-juan.perez>" in words for words in asked[1::2])
    assert all(any(word.startswith(".tag=") for word in words) for words in asked)
    assert len(samples) == 2
    assert all(s.queue is not None and s.queue.plan == Plan(50 * MBPS, 10 * MBPS) for s in samples)
    subscriber = sim_world.network.call(
        "bras-norte", lambda sim: sim.config.subscriber("juan.perez")
    )
    per_second = traffic.queue_totals(subscriber, 1000).dropped[1] / 1000
    assert per_second > 10  # the model drops at 90 % of the plan
    assert 600 * per_second - 1 <= queue_drops(samples) <= (600 + took) * per_second + 1
    sim_world.network.set_latency("bras-norte", 0.0)
    sim_world.quiet()


# -- hostile or reordered replies, byte for byte --------------------------------------


def _reply(tag: int, rows: list[dict[str, str]], trap: str | None = None) -> list[list[str]]:
    sentences = [["!re", *(f"={k}={v}" for k, v in row.items()), f".tag={tag}"] for row in rows]
    if trap is not None:
        sentences.append(["!trap", f"=message={trap}", f".tag={tag}"])
    sentences.append(["!done", f".tag={tag}"])
    return sentences


async def _batch_against(stream: list[list[str]], asks: list[Ask]) -> tuple[list[Reply], bytes]:
    """Run `asks` against a peer that sends `stream` (already interleaved); also
    return what the peer received (the commands written)."""
    ours, theirs = socket.socketpair()
    try:
        reader, writer = await asyncio.open_connection(sock=ours)
        theirs.sendall(b"".join(wire.encode_sentence(s) for s in stream))
        try:
            api = RawApi(BufferedApiProtocol(reader, writer))
            async with asyncio.timeout(5):
                replies = await Batch(asks).run(api)
        finally:
            writer.transport.abort()
        theirs.setblocking(False)
        try:
            received = theirs.recv(1 << 20)
        except BlockingIOError:
            received = b""
        return replies, received
    finally:
        theirs.close()


rows_strategy = st.lists(
    st.dictionaries(
        st.sampled_from(["name", "address", "rate", "comment"]),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
        max_size=3,
    ),
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(replies=st.lists(rows_strategy, min_size=1, max_size=4), data=st.data())
def test_replies_in_any_interleaving_reach_their_own_command(replies, data):
    """However the router interleaves the replies of tagged commands, each command
    gets exactly its own rows, in their order."""
    queues = [_reply(tag, rows) for tag, rows in enumerate(replies)]
    stream: list[list[str]] = []
    while any(queues):
        pick = data.draw(st.sampled_from([i for i, q in enumerate(queues) if q]))
        stream.append(queues[pick].pop(0))
    asks = [Ask(f"/x{tag}/print") for tag in range(len(replies))]
    got, _ = asyncio.run(_batch_against(stream, asks))
    assert [reply.rows for reply in got] == [[dict(row) for row in rows] for rows in replies]
    assert all(reply.done and reply.trap is None for reply in got)


def test_every_command_is_written_with_its_own_tag():
    """What goes on the wire: each command, its words, and the tag of its place."""
    stream = _reply(1, [{"name": "b"}]) + _reply(0, [{"name": "a"}])
    asks = [Ask("/ppp/active/print", ("?name=a",)), Ask("/queue/simple/print", ("?name=b",))]
    got, received = asyncio.run(_batch_against(stream, asks))
    assert [r.rows for r in got] == [[{"name": "a"}], [{"name": "b"}]]
    for words in (
        [b"/ppp/active/print", b"?name=a", b".tag=0"],
        [b"/queue/simple/print", b"?name=b", b".tag=1"],
    ):
        assert b"".join(wire.encode_word(w.decode()) for w in words) in received


def test_a_trap_stays_with_its_command_and_the_others_are_read():
    """A trap (the monitor of an interface that is gone) is kept in its reply;
    the other commands' rows are still read; `table()` raises it on demand."""
    stream = _reply(0, [{"name": "a"}]) + _reply(1, [], trap="no such item")
    got, _ = asyncio.run(_batch_against(stream, [Ask("/a/print"), Ask("/b")]))
    assert got[0].table() == [{"name": "a"}]
    assert got[1].trap is not None
    with pytest.raises(TrapError, match="no such item"):
        got[1].table()


@pytest.mark.parametrize("category", ["²", "9" * 5000])
def test_a_trap_whose_category_is_no_short_number_is_still_a_trap(category: str) -> None:
    """Regression: a one-command read turned a ``!trap`` whose category passes
    `isdigit` but not `int` ("²", or 5,000 digits) into a ValueError (mapped as a
    reply of garbage, not as the router's trap), while the batch had its own,
    stricter copy of the rule. Both read the trap now, with no category."""
    trap = ["!trap", f"=category={category}", "=message=no such item"]

    async def table() -> None:
        ours, theirs = socket.socketpair()
        try:
            reader, writer = await asyncio.open_connection(sock=ours)
            theirs.sendall(b"".join(wire.encode_sentence(s) for s in [trap, ["!done"]]))
            try:
                async with asyncio.timeout(5):
                    await RawApi(BufferedApiProtocol(reader, writer)).readTable(dict)
            finally:
                writer.transport.abort()
        finally:
            theirs.close()

    with pytest.raises(TrapError, match="no such item") as raised:
        asyncio.run(table())
    assert raised.value.category is None
    [reply], _ = asyncio.run(_batch_against([[*trap, ".tag=0"], ["!done", ".tag=0"]], [Ask("/b")]))
    assert reply.trap is not None
    assert (str(reply.trap), reply.trap.category) == ("no such item", None)


@pytest.mark.parametrize(
    "stream",
    [
        [["!re", "=name=x"], ["!done"]],  # no tag at all
        [["!re", "=name=x", ".tag=7"], ["!done", ".tag=0"]],  # a tag we never sent
        [["!done", ".tag=0"], ["!re", "=name=x", ".tag=0"], ["!done", ".tag=1"]],  # after !done
        [["!done", ".tag=٠"]],  # a digit, but not an ASCII one
    ],
    ids=["untagged", "unknown-tag", "after-done", "unicode-digit"],
)
def test_a_sentence_that_belongs_to_no_command_is_malformed(stream):
    """A sentence we cannot place is a MalformedReply (the client maps it to
    RouterProtocolError), never read into another command's reply."""
    with pytest.raises(MalformedReply):
        asyncio.run(_batch_against(stream, [Ask("/a/print"), Ask("/b/print")]))


def test_each_command_keeps_its_own_row_ceiling():
    """One reply over its own ceiling is cut even when the batch's total still
    has room: a flood on one tag cannot borrow the others' budget."""
    small = ReplyLimit(rows=2, bytes=64 * 1024)
    stream = _reply(0, [{"name": str(i)} for i in range(3)]) + _reply(1, [])
    asks = [
        Ask("/a/print", limit=small),
        Ask("/b/print", limit=ReplyLimit(rows=100, bytes=1 << 20)),
    ]
    with pytest.raises(ReplyTooLarge):
        asyncio.run(_batch_against(stream, asks))


def test_ceilings_of_a_batch_add_up():
    """The stream of a batch may carry what its commands may, together."""
    a = ReplyLimit(rows=2, bytes=100, field=300)
    b = ReplyLimit(rows=3, bytes=50, field=200, words=10)
    total = a + b
    assert (total.rows, total.bytes, total.field, total.envelope) == (5, 150, 300, 8)


def _read_against(stream: list[list[str]], read: Callable[[RawApi, Node], Awaitable[T]]) -> T:
    """`read` (a snapshot's or a live sample's reads) against a peer that sends `stream`."""

    async def run() -> T:
        ours, theirs = socket.socketpair()
        try:
            reader, writer = await asyncio.open_connection(sock=ours)
            theirs.sendall(b"".join(wire.encode_sentence(s) for s in stream))
            try:
                async with asyncio.timeout(5):
                    api = RawApi(BufferedApiProtocol(reader, writer))
                    return await read(api, Node("bras-norte", "127.0.0.1", 1))
            finally:
                writer.transport.abort()
        finally:
            theirs.close()

    return asyncio.run(run())


def _snapshot_against(stream: list[list[str]]) -> Snapshot:
    """`read_snapshot` of juan.perez against a peer that sends `stream`."""
    return _read_against(stream, lambda api, node: read_snapshot(api, node, "juan.perez"))


IFACE = "<pppoe-juan.perez>"


@pytest.mark.parametrize(
    "stream",
    [
        # Another subscriber's session under the session's tag.
        _reply(0, [{"name": "otro.usuario", "address": "100.64.0.99"}])
        + _reply(1, [{"name": IFACE, "tx-bits-per-second": "1"}])
        + _reply(2, [])
        + _reply(3, []),
        # The right session, but another interface's traffic under the monitor's tag.
        _reply(0, [{"name": "juan.perez", "address": "100.64.0.10"}])
        + _reply(1, [{"name": "<pppoe-otro>", "tx-bits-per-second": "1"}])
        + _reply(2, [])
        + _reply(3, []),
    ],
    ids=["session", "traffic"],
)
def test_a_row_about_someone_else_is_never_read_as_this_subscribers(stream):
    """A reply read under the wrong tag (a router mixing up its replies) carries
    another name: the snapshot refuses it (MalformedReply, mapped to a protocol
    fault) instead of showing another subscriber's figures as his."""
    with pytest.raises(MalformedReply):
        _snapshot_against(stream)


@pytest.mark.parametrize(
    "stream",
    [
        _reply(0, [{"name": "<pppoe-otro>", "tx-bits-per-second": "1"}]) + _reply(1, []),
        _reply(0, [{"name": IFACE, "tx-bits-per-second": "1"}])
        + _reply(1, [{"name": "<pppoe-otro>", "max-limit": "10000000/50000000"}]),
    ],
    ids=["traffic", "queue"],
)
def test_a_live_sample_about_someone_else_is_refused(stream):
    """Regression: a live view's second took the first row of each reply whatever
    its name (the snapshot checked it, the live sample did not), so a reply under
    the wrong tag showed another interface's traffic or queue as his."""
    with pytest.raises(MalformedReply):
        _read_against(stream, lambda api, node: read_sample(api, node, IFACE))


def test_rows_about_the_subscriber_make_his_snapshot():
    """The same replies with the right names: a reading, tx as download."""
    stream = (
        _reply(0, [{"name": "juan.perez", "address": "100.64.0.10"}])
        + _reply(1, [{"name": IFACE, "tx-bits-per-second": "45200000", "rx-bits-per-second": "1"}])
        + _reply(2, [])
        + _reply(3, [])
    )
    snapshot = _snapshot_against(stream)
    assert snapshot.online
    assert snapshot.traffic.download_bps == 45_200_000
