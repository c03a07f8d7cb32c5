"""The buffered RouterOS API protocol (bot/routeros/transport.py) against the simulator.

Real TCP, the simulator's own encoder on the other side, and librouteros's Api
layer on top (`RawApi`, its login, its error types), as `RouterClient` uses it.
At the end, the shape of the librouteros internals it subclasses and calls
(pinned in pyproject.toml).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import logging
from collections.abc import Iterator

import librouteros.login
import librouteros.protocol
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from librouteros.api import AsyncApi
from librouteros.connections import AsyncSocketTransport
from librouteros.exceptions import (
    ConnectionClosed,
    FatalError,
    LibRouterosError,
    MultiTrapError,
    ProtocolError,
    TrapError,
)
from librouteros.protocol import AsyncApiProtocol

from bot.model import Node
from bot.routeros.client import RouterClient
from bot.routeros.connection import RawApi
from bot.routeros.pull import SECRET_PROPLIST
from bot.routeros.sentences import (
    MAX_EMPTY_SENTENCES,
    MAX_SENTENCE_BYTES,
    MAX_SENTENCE_WORDS,
    STEP_BYTES,
    ReplyLimit,
    ReplyTooLarge,
    SentenceParser,
)
from bot.routeros.transport import YIELD_WORDS, BufferedApiProtocol
from bot.sim import faults, wire
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from tests.conftest import API_PASSWORD, API_USER

BIG = 5000
#: Comments whose words need a 1-, 2-, 3- and 4-byte length prefix on the wire.
COMMENTS = {
    "short": "Pérez, Juan",  # < 0x80 bytes
    "200": "Pérez " + "x" * 194,  # < 0x4000
    "20000": "Ñandú " + "y" * 19_993,  # < 0x200000
    "2MiB": "Güemes " + "z" * (0x200000 + 10),  # < 0x10000000
}


def _world() -> list[RouterConfig]:
    odd = [
        Subscriber("20513", "pw", comment="true", profile="00"),
        Subscriber("yes", "pw", disabled=True),
        *(Subscriber(f"len-{key}", "pw", comment=text) for key, text in COMMENTS.items()),
    ]
    big = [
        Subscriber(f"user{i:05d}", "pw", comment=f"Cliente {i} - Calle Güemes {i}")
        for i in range(BIG)
    ]
    return [
        RouterConfig("odd", username=API_USER, password=API_PASSWORD, subscribers=odd),
        RouterConfig("big", username=API_USER, password=API_PASSWORD, subscribers=big),
        RouterConfig("new", username=API_USER, password=API_PASSWORD, version="7.18"),
        RouterConfig("faulty", username=API_USER, password=API_PASSWORD, subscribers=odd),
    ]


@pytest.fixture(scope="module")
def net() -> Iterator[SimNetwork]:
    with SimNetwork(_world()) as network:
        yield network


@pytest.fixture
def faulty(net: SimNetwork) -> Iterator[str]:
    yield "faulty"
    net.set_fault("faulty", None)
    net.call("faulty", lambda sim: setattr(sim.config, "fault_after_rows", 100))


def node(net: SimNetwork, name: str) -> Node:
    return Node(name, "127.0.0.1", net.port(name))


def client() -> RouterClient:
    return RouterClient(API_USER, API_PASSWORD, timeout=5.0, sync_timeout=10.0)


#: Room for the big tables (and the 2 MiB comment) these tests read on purpose.
ROOMY = ReplyLimit(rows=100_000, bytes=64 * 1024 * 1024)


async def rows(net: SimNetwork, name: str, *words: str) -> list[dict[str, str]]:
    async with asyncio.timeout(10), client().session(node(net, name)) as api:
        assert isinstance(api.protocol, BufferedApiProtocol)
        api.protocol.limit = ROOMY
        return [row async for row in api.rawCmd(*words)]


def run(coro):
    return asyncio.run(coro)


class StockProtocol(AsyncApiProtocol):
    """librouteros's own word-by-word protocol, one sentence per
    `readSentences` (the call `RawApi` reads through)."""

    async def readSentences(self, most: int = 1) -> list[list[str]]:
        reply_word, words = await self.readSentence()
        return [[reply_word, *words]]


# -- against the simulator ---------------------------------------------------------


def test_big_table_matches_stock_librouteros(net):
    """5,000 rows read from large chunks equal what word-by-word librouteros reads."""
    command = ("/ppp/secret/print", f"=.proplist={SECRET_PROPLIST}")

    async def stock() -> list[dict[str, str]]:
        reader, writer = await asyncio.open_connection("127.0.0.1", net.port("big"))
        try:
            api = RawApi(StockProtocol(AsyncSocketTransport(reader, writer), "utf-8", timeout=None))
            await api.protocol.writeSentence(
                "/login", f"=name={API_USER}", f"=password={API_PASSWORD}"
            )
            await api.readResponse()
            return [row async for row in api.rawCmd(*command)]
        finally:
            writer.close()

    buffered = run(rows(net, "big", *command))
    assert len(buffered) == BIG
    assert buffered[0] == {
        "name": "user00000",
        "service": "pppoe",
        "profile": "default",
        "disabled": "false",
        "comment": "Cliente 0 - Calle Güemes 0",
    }
    assert [r["name"] for r in buffered] == [f"user{i:05d}" for i in range(BIG)]
    assert buffered == run(stock())


def test_words_of_every_prefix_size_and_utf8(net):
    got = {r["name"]: r for r in run(rows(net, "odd", "/ppp/secret/print"))}
    for key, text in COMMENTS.items():
        assert got[f"len-{key}"]["comment"] == text, key
    # The wire really used 1-, 2-, 3- and 4-byte prefixes for those words.
    sizes = {
        key: len(wire.encode_length(len(f"=comment={text}".encode())))
        for key, text in COMMENTS.items()
    }
    assert sizes == {"short": 1, "200": 2, "20000": 3, "2MiB": 4}


def test_values_stay_the_strings_the_router_sent(net):
    got = {r["name"]: r for r in run(rows(net, "odd", "/ppp/secret/print"))}
    assert "20513" in got  # not the int 20513
    assert got["20513"]["comment"] == "true"  # not True
    assert got["20513"]["profile"] == "00"  # not 0
    assert got["yes"]["disabled"] == "true"
    assert all(isinstance(v, str) for row in got.values() for v in row.values())


def test_empty_reply_since_7_18(net):
    assert run(rows(net, "new", "/ppp/active/print")) == []

    async def raw_sentences() -> list[tuple[str, tuple[str, ...]]]:
        async with asyncio.timeout(5), client().session(node(net, "new")) as api:
            await api.protocol.writeSentence("/ppp/active/print")
            return [await api.protocol.readSentence(), await api.protocol.readSentence()]

    assert run(raw_sentences()) == [("!empty", ()), ("!done", ())]


def test_trap_then_the_session_goes_on(net):
    async def scenario() -> list[dict[str, str]]:
        async with asyncio.timeout(5), client().session(node(net, "odd")) as api:
            with pytest.raises(TrapError, match="no such command prefix"):
                [row async for row in api.rawCmd("/ip/firewall/nat/print")]
            return [row async for row in api.rawCmd("/system/identity/print")]

    assert run(scenario()) == [{"name": "odd"}]


def test_fatal_raises_with_its_message(net, faulty):
    async def quit_() -> None:
        async with asyncio.timeout(5), client().session(node(net, "odd")) as api:
            [row async for row in api.rawCmd("/quit")]

    with pytest.raises(FatalError, match="session terminated on request"):
        run(quit_())
    net.set_fault(faulty, faults.FATAL)
    with pytest.raises(FatalError, match=faults.FATAL_MESSAGE):
        run(rows(net, faulty, "/ppp/secret/print"))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (faults.CLOSE_MID_SENTENCE, ConnectionClosed),
        (faults.CLOSE_MID_STREAM, ConnectionClosed),
        (faults.MALFORMED, ProtocolError),
    ],
)
def test_broken_streams(net, faulty, fault, error):
    net.call(faulty, lambda sim: setattr(sim.config, "fault_after_rows", 2))
    net.set_fault(faulty, fault)
    with pytest.raises(error):
        run(rows(net, faulty, "/ppp/secret/print"))


class Ticks:
    """Counts how often another task gets the event loop while the block runs."""

    def __init__(self) -> None:
        self.count = 0
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while not self._done.is_set():
            self.count += 1
            await asyncio.sleep(0)

    async def __aenter__(self) -> Ticks:
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._done.set()
        assert self._task is not None
        await self._task


def test_big_reply_lets_other_tasks_run(net):
    """Reading thousands of buffered rows still yields to the event loop."""

    async def scenario() -> tuple[int, int]:
        async with Ticks() as ticks:
            got = await rows(net, "big", "/ppp/secret/print")
        return len(got), ticks.count

    count, ticks = run(scenario())
    assert count == BIG
    assert ticks >= BIG // YIELD_WORDS


def test_words_are_logged_only_at_debug(net, caplog):
    caplog.set_level(logging.INFO, logger="librouteros")
    run(rows(net, "odd", "/system/identity/print"))
    assert "=name=odd" not in caplog.text
    caplog.set_level(logging.DEBUG, logger="librouteros")
    run(rows(net, "odd", "/system/identity/print"))
    assert "=name=odd" in caplog.text


# -- the parser alone ----------------------------------------------------------------


def _stream() -> bytes:
    sentences = [
        ["!re", "=name=Pérez", "=comment=" + "é" * 150],
        [],  # an empty sentence
        ["!re", "=comment=" + "x" * 20_000],
        ["!done"],
    ]
    return b"".join(wire.encode_sentence(s) for s in sentences)


def feed_all(parser: SentenceParser, data: bytes) -> list[list[str]]:
    """`data` fed, and the feed's steps (`STEP_BYTES`) gone on with until nothing is left."""
    got = parser.feed(data)
    while parser.backlog:
        got += parser.feed(b"")
    return got


def test_parser_any_split_of_the_stream():
    data = _stream()
    whole = feed_all(SentenceParser(), data)
    assert [s[0] for s in whole] == ["!re", "!re", "!done"]  # the empty one counted only
    for size in (1, 2, 3, 7, 100, 4096):
        parser, got = SentenceParser(), []
        for i in range(0, len(data), size):
            got += feed_all(parser, data[i : i + size])
        assert got == whole, size
        assert parser.buffered == 0


def test_parser_five_byte_prefix():
    # 0xF0 + four bytes: RouterOS's prefix for words of 256 MiB or more. A
    # small length written that way must still parse (librouteros refuses it).
    word = b"=name=cinco"
    data = b"\x03!re" + b"\xf0" + len(word).to_bytes(4, "big") + word + b"\x00"
    assert SentenceParser().feed(data) == [["!re", "=name=cinco"]]


def test_parser_refuses_corrupt_prefixes():
    with pytest.raises(ProtocolError, match="control byte"):
        SentenceParser().feed(b"\xf8\x00\x00\x00\x00")
    huge = b"\xf0" + (MAX_SENTENCE_BYTES).to_bytes(4, "big")
    with pytest.raises(ProtocolError, match="limit"):
        SentenceParser().feed(huge)  # refused at once, nothing buffered for it


def test_parser_drops_undecodable_bytes_like_librouteros():
    assert SentenceParser().feed(b"\x09=name=a\xffb\x00") == [["=name=ab"]]


# -- parse once, and bounds ------------------------------------------------------------


def test_a_sentence_in_many_chunks_is_parsed_once():
    """Bug: an incomplete sentence was re-parsed from its start on every read
    (8 MB took 16.6 s of CPU); now each byte fed is examined once."""
    sentence = ["!re", *(f"=campo{i}=valor {i}" for i in range(1000))]
    data = wire.encode_sentence(sentence)  # words under 128 bytes: 1-byte prefixes
    parser, got = SentenceParser(), []
    for i in range(0, len(data), 7):
        got += parser.feed(data[i : i + 7])
    assert got == [sentence]
    assert parser.examined == len(data)


def test_a_big_word_in_many_chunks_is_examined_once():
    data = wire.encode_sentence(["!re", "=comment=" + "x" * 300_000])
    parser = SentenceParser()
    chunks = range(0, len(data), 1000)
    for i in chunks:
        parser.feed(data[i : i + 1000])
    # A chunk boundary inside a length prefix makes its first byte looked at twice.
    assert len(data) <= parser.examined <= len(data) + len(chunks)
    assert parser.buffered == 0


words_strategy = st.one_of(
    st.text(min_size=1, max_size=30),
    # 2- and 3-byte length prefixes (140 and 18,000 bytes)
    st.sampled_from((70, 9_000)).map(lambda n: "ñ" * n),
)
sentences_strategy = st.lists(st.lists(words_strategy, max_size=6), min_size=1, max_size=8)


@settings(max_examples=50, deadline=None)
@given(sentences=sentences_strategy, data=st.data())
def test_any_split_of_a_stream_gives_the_sentences_of_the_whole(sentences, data):
    stream = b"".join(wire.encode_sentence(s) for s in sentences)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=40)))
    whole = feed_all(SentenceParser(max_empty=len(sentences)), stream)
    assert whole == [s for s in sentences if s]  # empty sentences are counted, not returned
    parser, got = SentenceParser(max_empty=len(sentences)), []
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    for piece in pieces:
        got += feed_all(parser, piece)
    assert got == whole
    assert parser.buffered == 0
    assert len(stream) <= parser.examined <= len(stream) + len(pieces)


def test_a_sentence_over_its_byte_ceiling_is_refused_from_the_prefix():
    parser = SentenceParser(max_sentence=1000)
    head = wire.encode_word("!re") + wire.encode_word("=a=" + "x" * 500)
    assert parser.feed(head) == []
    with pytest.raises(ReplyTooLarge) as caught:
        parser.feed(wire.encode_length(600))  # only the prefix: 1,106 bytes announced
    assert (caught.value.kind, caught.value.ceiling) == ("bytes", 1000)


def test_a_sentence_over_its_word_ceiling_is_refused():
    parser = SentenceParser(max_words=10)
    assert parser.feed(b"".join(wire.encode_word(f"={i}=") for i in range(10))) == []
    with pytest.raises(ReplyTooLarge) as caught:
        parser.feed(wire.encode_word("=10="))
    assert (caught.value.kind, caught.value.ceiling) == ("words", 10)


def test_a_word_past_the_reply_horizon_is_refused():
    parser = SentenceParser()
    parser.horizon = (100, 100)
    assert parser.feed(wire.encode_sentence(["!re", "=a=" + "x" * 80])) == [
        ["!re", "=a=" + "x" * 80]
    ]
    with pytest.raises(ReplyTooLarge) as caught:
        parser.feed(wire.encode_word("=b=" + "y" * 20)[:2])
    assert (caught.value.kind, caught.value.ceiling) == ("bytes", 100)


def test_a_run_of_empty_sentences_is_counted_and_cut():
    """Empty sentences are counted per reply (RouterOS never sends one): a few
    pass, a flood is refused, and a run of them is skipped in one step."""
    parser = SentenceParser()
    assert parser.feed(b"\x00" * MAX_EMPTY_SENTENCES + wire.encode_sentence(["!done"])) == [
        ["!done"]
    ]
    assert parser.empty == MAX_EMPTY_SENTENCES
    with pytest.raises(ReplyTooLarge) as caught:
        parser.feed(b"\x00")
    assert (caught.value.kind, caught.value.ceiling) == ("empty", MAX_EMPTY_SENTENCES)
    stepped = SentenceParser(max_empty=10**6, step_bytes=1)
    assert stepped.feed(bytes(500_000)) == []  # one step: the whole run at once
    assert (stepped.empty, stepped.backlog, stepped.buffered) == (500_000, False, 0)


def test_the_parser_stops_at_its_step_on_a_chunk_of_tiny_words():
    """Bug: one 64 KiB chunk of one-byte words was parsed in one go (tens of
    thousands of words with the event loop held); a feed now parses at most
    `STEP_BYTES` bytes and leaves the rest for the next, once the loop ran."""
    sentence = ["!re", *("x" for _ in range(MAX_SENTENCE_WORDS - 1))]
    data = wire.encode_sentence(sentence) * 30  # 30 sentences of 1,024 words: 61 KiB
    parser = SentenceParser()
    got = parser.feed(data)
    assert len(got) < 30  # a step, not the whole chunk
    feeds = 1
    while parser.backlog:
        got += parser.feed(b"")
        feeds += 1
    assert got == [sentence] * 30
    assert feeds >= len(data) // STEP_BYTES
    assert parser.examined == len(data)


def test_a_chunk_of_tiny_words_lets_other_tasks_run():
    """The protocol yields to the event loop by words, not sentences: rows of
    1,024 one-byte fields arriving in big chunks let a ticker run at least once
    per `YIELD_WORDS` words (the bug: 100 such rows between yields)."""
    sentence = ["!re", *("=x=" for _ in range(MAX_SENTENCE_WORDS - 1))]
    rows = 60
    payload = wire.encode_sentence(sentence) * rows + wire.encode_sentence(["!done"])

    async def scenario() -> tuple[int, int]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1024)  # the command
            writer.write(payload)
            await writer.drain()
            await reader.read(1)  # until the client hangs up

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        protocol = BufferedApiProtocol(reader, writer, limit=ReplyLimit(10**6, 64 << 20))
        read = 0
        async with Ticks() as ticks:
            await protocol.writeSentence("/ppp/secret/print")
            while (await protocol.readSentence())[0] != "!done":
                read += 1
        writer.close()
        server.close()
        return read, ticks.count

    read, ticks = run(scenario())
    assert read == rows
    assert ticks >= rows * MAX_SENTENCE_WORDS // YIELD_WORDS


def test_a_non_ascii_word_is_charged_at_what_python_holds():
    """One emoji in front of ASCII makes Python hold 4 bytes per character: the
    parser charges the reply's horizon for that, not for the wire bytes."""
    word = "=comment=" + "x" * 300
    parser = SentenceParser()
    parser.horizon = (1000, 1000)
    assert parser.feed(wire.encode_sentence(["!re", word])) == [["!re", word]]
    wide = SentenceParser()
    wide.horizon = (1000, 1000)
    with pytest.raises(ReplyTooLarge) as caught:  # 305 bytes on the wire, 1,240 held
        wide.feed(wire.encode_sentence(["!re", "=comment=\U0001f600" + "x" * 296]))
    assert (caught.value.kind, caught.value.ceiling) == ("bytes", 1000)


# -- the librouteros internals bot/routeros/ relies on (transport, connection, client) ----
#
# pyproject.toml pins librouteros to the release these were written for. Before
# raising the pin, these say what changed shape, loudly.

LIBROUTEROS = importlib.metadata.version("librouteros")
ARG, ONLY = "POSITIONAL_OR_KEYWORD", "POSITIONAL_ONLY"
ARGS, KWARGS = "VAR_POSITIONAL", "VAR_KEYWORD"


def changed(what: str, relier: str = "bot/routeros/transport.py") -> str:
    return (
        f"librouteros {LIBROUTEROS} changed {what}; {relier} relies on it: "
        "review before raising the pin"
    )


#: (what, the library's function, its parameters, coroutine / async generator / plain,
#: which of our modules relies on it, how).
SHAPES = [
    (
        "AsyncApiProtocol.__init__",
        AsyncApiProtocol.__init__,
        [("self", ARG), ("transport", ARG), ("encoding", ARG), ("timeout", ARG)],
        "plain",
        "bot/routeros/transport.py",  # BufferedApiProtocol calls it: transport, encoding=, timeout=None
    ),
    (
        "AsyncApiProtocol.writeSentence",
        AsyncApiProtocol.writeSentence,
        [("self", ARG), ("cmd", ARG), ("words", ARGS)],
        "coroutine",
        "bot/routeros/transport.py",  # overridden, and called through super()
    ),
    (
        "AsyncApiProtocol.readSentence",
        AsyncApiProtocol.readSentence,
        [("self", ARG)],
        "coroutine",
        "bot/routeros/transport.py",  # overridden: AsyncApi reads every sentence through it
    ),
    (
        "AsyncApiProtocol.readWord",
        AsyncApiProtocol.readWord,
        [("self", ARG)],
        "coroutine",
        "bot/routeros/transport.py",  # overridden to refuse word-by-word reads
    ),
    (
        "AsyncApiProtocol.close",
        AsyncApiProtocol.close,
        [("self", ARG)],
        "coroutine",
        "bot/routeros/transport.py",  # inherited: closes the transport
    ),
    (
        "AsyncSocketTransport.__init__",
        AsyncSocketTransport.__init__,
        [("self", ARG), ("reader", ARG), ("writer", ARG)],
        "plain",
        "bot/routeros/transport.py",  # built from our own reader and writer
    ),
    (
        "AsyncSocketTransport.write",
        AsyncSocketTransport.write,
        [("self", ARG), ("data", ARG)],
        "coroutine",
        "bot/routeros/transport.py",  # what the inherited writeSentence sends with
    ),
    (
        "AsyncSocketTransport.close",
        AsyncSocketTransport.close,
        [("self", ARG)],
        "coroutine",
        "bot/routeros/transport.py",  # called on !fatal
    ),
    (
        "protocol.log",
        librouteros.protocol.log,
        [("direction_string", ARG), ("sentence", ARGS)],
        "plain",
        "bot/routeros/transport.py",  # each word logged at DEBUG, as librouteros does
    ),
    (
        "AsyncApi.__init__",
        AsyncApi.__init__,
        [("self", ARG), ("protocol", ARG)],
        "plain",
        "bot/routeros/connection.py",  # RawApi(BufferedApiProtocol(...))
    ),
    (
        "AsyncApi.readSentence",
        AsyncApi.readSentence,
        [("self", ARG)],
        "coroutine",
        "bot/routeros/connection.py",  # RawApi overrides it: values stay strings
    ),
    (
        "AsyncApi.readResponse",
        AsyncApi.readResponse,
        [("self", ARG)],
        "coroutine",
        "bot/routeros/connection.py",  # RawApi overrides it with readTable
    ),
    (
        "AsyncApi.rawCmd",
        AsyncApi.rawCmd,
        [("self", ARG), ("cmd", ARG), ("words", ARGS)],
        "async generator",
        "bot/routeros/reads.py",  # every question's command
    ),
    (
        "AsyncApi.__call__",
        AsyncApi.__call__,
        [("self", ONLY), ("cmd", ONLY), ("kwargs", KWARGS)],
        "async generator",
        "bot/routeros/connection.py",  # what async_plain logs in with
    ),
    (
        "login.async_plain",
        librouteros.login.async_plain,
        [("api", ARG), ("username", ARG), ("password", ARG)],
        "coroutine",
        "bot/routeros/connection.py",  # the login of every session
    ),
    (
        "TrapError.__init__",
        TrapError.__init__,
        [("self", ARG), ("message", ARG), ("category", ARG)],
        "plain",
        "bot/routeros/connection.py",  # RawApi.readTable builds the traps it reads
    ),
    (
        "MultiTrapError.__init__",
        MultiTrapError.__init__,
        [("self", ARG), ("traps", ARGS)],
        "plain",
        "bot/routeros/connection.py",  # RawApi.readTable raises it for several traps
    ),
]


def _kind(func: object) -> str:
    if inspect.isasyncgenfunction(func):
        return "async generator"
    return "coroutine" if inspect.iscoroutinefunction(func) else "plain"


@pytest.mark.parametrize(
    ("what", "func", "params", "kind", "relier"), SHAPES, ids=[s[0] for s in SHAPES]
)
def test_librouteros_functions_we_override_or_call_keep_their_shape(
    what, func, params, kind, relier
):
    found = [(p.name, p.kind.name) for p in inspect.signature(func).parameters.values()]
    assert found == params, changed(f"the parameters of {what} (now {found})", relier)
    assert _kind(func) == kind, changed(f"{what} into a {_kind(func)} (was a {kind})", relier)


def test_librouteros_exceptions_we_raise_and_map_keep_their_family():
    """`mapped_errors` in bot/routeros/connection.py turns every LibRouterosError into a router
    fault; bot/routeros/transport.py raises ConnectionClosed, FatalError and a ProtocolError
    of its own."""
    for error in (ConnectionClosed, ProtocolError, FatalError, TrapError, MultiTrapError):
        assert issubclass(error, LibRouterosError), changed(
            f"{error.__name__}: no longer a LibRouterosError", "bot/routeros/connection.py"
        )
    assert issubclass(FatalError, ProtocolError), changed("FatalError's base class")
    trap = TrapError("invalid user name or password (6)", 6)
    assert str(trap) == "invalid user name or password (6)", changed(
        "what str() of a TrapError says", "bot/routeros/connection.py"
    )
    assert librouteros.protocol.LOGGER.name == "librouteros", changed(
        "the name of its logger (bot/logs.py quiets it by name)"
    )


def test_librouteros_attributes_we_read_are_there_on_our_sessions(net):
    """A session built as `RouterClient.session` builds it: the attributes of the
    librouteros objects under it that our code reads or relies on."""

    async def look() -> dict[str, object]:
        async with asyncio.timeout(10), client().session(node(net, "odd")) as api:
            protocol = api.protocol
            transport = getattr(protocol, "transport", None)
            return {
                "AsyncApi.protocol is our protocol": isinstance(protocol, BufferedApiProtocol),
                "AsyncApiProtocol.transport is an AsyncSocketTransport": isinstance(
                    transport, AsyncSocketTransport
                ),
                "AsyncSocketTransport.writer is the stream we write to": getattr(
                    transport, "writer", None
                )
                is protocol._writer,
                "AsyncApiProtocol.encoding is what we passed": getattr(protocol, "encoding", None)
                == "utf-8",
                "AsyncApiProtocol.timeout is None (our deadline is the only one)": getattr(
                    protocol, "timeout", "missing"
                )
                is None,
            }

    for what, holds in run(look()).items():
        assert holds, changed(what)
