"""One API connection: login, command dispatch, streaming, and fault behaviour.

Tagged commands run concurrently, as on RouterOS: each after login is its own
task, so three reads sent together are answered in one reply latency, not
three, and their sentences may interleave (each marked with its tag). Untagged
commands, login among them, are answered in order. A streaming
`monitor-traffic` (no `once`), `/ping` and `/tool/torch` run as tasks of the
session too, so that `/cancel` and other commands can still be read and
answered while they stream. Any of those three
sent so that it never ends by itself (no `once` or `duration`, no `count`) is
counted in the router's `unbounded_commands`: a client must never do that.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import secrets
from collections.abc import Coroutine, Iterator
from contextlib import suppress
from typing import Protocol

from bot.sim import diag, faults, tables, wire
from bot.sim.command import Command, parse_command
from bot.sim.model import RouterConfig, version_tuple
from bot.sim.query import QueryError, matches, project_all

Sentence = list[str]

BAD_LOGIN_MESSAGE = "invalid user name or password (6)"
NOT_LOGGED_IN_MESSAGE = "not logged in"
NO_SUCH_COMMAND_MESSAGE = "no such command prefix"
NO_SUCH_ITEM_MESSAGE = "no such item"
QUIT_MESSAGE = "session terminated on request"
INTERRUPTED_MESSAGE = "interrupted"
# RouterOS 7.18 started answering an empty print with `!empty` before `!done`.
EMPTY_REPLY_SINCE = (7, 18)

# Tagged commands one connection may have running at once (each is a task of the
# simulator's): past it a command is refused with a trap, so a client that floods
# tagged commands cannot make the simulator hold unbounded tasks.
MAX_RUNNING_COMMANDS = 64
TOO_MANY_MESSAGE = "too many commands running"

# Sentences encoded and written at once before letting other connections run.
SEND_CHUNK_SENTENCES = 200

# Faults under which the router reads but never answers.
_SILENT_FAULTS = frozenset({faults.BLACKHOLE, faults.STALL_CONNECT})


def _trap(message: str, category: int | None = None) -> Sentence:
    words = ["!trap"]
    if category is not None:
        words.append(f"=category={category}")
    words.append(f"=message={message}")
    return words


def _row(row: tables.Row) -> Sentence:
    return ["!re", *(f"={key}={value}" for key, value in row.items())]


def _only_name(queries: list[str]) -> str | None:
    """The name a print asks for when its whole query is ``?name=X``, else None.

    Lets a table skip building rows the query rejects anyway. Values that read
    as booleans are left alone (queries compare those loosely: yes = true).
    """
    if len(queries) != 1 or not queries[0].startswith("name="):
        return None
    wanted = queries[0][len("name=") :]
    return None if wanted.lower() in ("true", "yes", "false", "no") else wanted


def _tagged(sentence: Sentence, tag: str | None) -> Sentence:
    # Replies carry the tag as the word ".tag=x", as the API manual shows
    # (no leading "="), not as an attribute.
    return [*sentence, f".tag={tag}"] if tag is not None else sentence


def _token_response(password: str, challenge: bytes) -> str:
    """Expected `=response=` of the pre-6.43 login for this challenge."""
    digest = hashlib.md5(b"\x00" + password.encode("utf-8") + challenge, usedforsecurity=False)
    return "00" + digest.hexdigest()


def _same(given: str, expected: str) -> bool:
    # Bytes: compare_digest refuses non-ASCII str, and clients may send any UTF-8.
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _parse_duration(text: str) -> float | None:
    """Seconds from "10", "10s", "1m30s", "200ms" (RouterOS duration); None if invalid."""
    if text.isdigit():
        return float(text)
    units = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
    total, number, i = 0.0, "", 0
    while i < len(text):
        char = text[i]
        unit = "ms" if text.startswith("ms", i) else char
        if char.isdigit() or char == ".":
            number += char
        elif unit in units and number:
            try:
                total += float(number) * units[unit]
            except ValueError:  # "1.2.3"
                return None
            number = ""
            i += len(unit) - 1
        else:
            return None
        i += 1
    return None if number else total


#: What RouterOS accepts as a ping's `interval`, in seconds.
PING_INTERVAL_RANGE = (0.01, 5.0)


#: Bytes a hostile fault writes at once (then it lets other connections run).
HOSTILE_CHUNK_BYTES = 64 * 1024


def _flood_rows(start: int, count: int, tag: str | None = None) -> bytes:
    """`count` well-formed ``/ppp/secret`` rows, numbered from `start`, tagged
    as replies to `tag` (a broken router floods the command it answers)."""
    return b"".join(
        wire.encode_sentence(
            _tagged(
                [
                    "!re",
                    f"=name=flood{i:08d}",
                    "=profile=plan-50M",
                    "=service=pppoe",
                    "=disabled=false",
                    f"=comment=Cliente {i} - Av. San Martín {i % 5000}",
                    f"=last-caller-id=4C:5E:0C:{_mac_tail(i)}",
                    "=last-logged-out=2025-11-17 06:02:41",
                    "=last-disconnect-reason=hung-up",
                ],
                tag,
            )
        )
        for i in range(start, start + count)
    )


def _mac_tail(i: int) -> str:
    return f"{i >> 16 & 255:02X}:{i >> 8 & 255:02X}:{i & 255:02X}"


async def _hostile(writer: asyncio.StreamWriter, fault: str, tag: str | None) -> None:
    """Talk forever, as `fault` says, until the client hangs up (the write fails).
    Rows that end carry `tag`, as the command's own reply would.

    Writes wait for the client to read (drain), so what the simulator holds
    stays small whatever the client does.
    """
    if fault == faults.HUGE_WORD:
        head = wire.encode_word("!re") + wire.encode_length(faults.HUGE_WORD_BYTES)
        await wire.send_raw(writer, head)
        left = faults.HUGE_WORD_BYTES
        filler = b"=comment=" + b"x" * (HOSTILE_CHUNK_BYTES - 9)
        while left > 0:
            await wire.send_raw(writer, filler[:left])
            left -= len(filler[:left])
            filler = b"x" * HOSTILE_CHUNK_BYTES
            await asyncio.sleep(0)
        await wire.send_raw(writer, b"\x00")  # a client reading all that gets its row
        return
    if fault == faults.EMPTY_FLOOD:
        zeros = bytes(HOSTILE_CHUNK_BYTES)
        while True:
            await wire.send_raw(writer, zeros)
            await asyncio.sleep(0)
    if fault == faults.ENDLESS_SENTENCE:
        await wire.send_raw(writer, wire.encode_word("!re"))
        words = b"".join(wire.encode_word(f"=field{i}=value{i}") for i in range(4096))
        while True:
            await wire.send_raw(writer, words)
            await asyncio.sleep(0)
    row = 0
    while True:  # FLOOD_ROWS
        await wire.send_raw(writer, _flood_rows(row, 256, tag))
        row += 256
        await asyncio.sleep(0)


class Router(Protocol):
    """What a session reads and records of the router it serves (`RouterSim`):
    named here so that the session does not import the server that creates it."""

    config: RouterConfig
    monitor_interval: float
    commands: list[list[str]]
    logins: int
    unbounded_commands: int
    peak_concurrent_commands: int

    @property
    def fault(self) -> str | None: ...

    @property
    def latency(self) -> float: ...

    def elapsed(self) -> float: ...


class Session:
    """Serves one accepted (and, for API-SSL, already TLS-wrapped) connection."""

    def __init__(
        self, sim: Router, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.sim = sim
        self.reader = reader
        self.writer = writer
        self.logged_in = False
        self._challenge: bytes | None = None
        # Set once a reply was cut by STALL_MID_REPLY: the connection is dead air.
        self._stalled = False
        self._streams: list[tuple[str | None, asyncio.Task[None]]] = []
        # Set once a hostile fault started talking (it answers one command).
        self._hostile_started = False
        # Tagged commands being answered, each in its own task.
        self._running: set[asyncio.Task[None]] = set()

    # -- main loop ---------------------------------------------------------

    async def run(self) -> None:
        """Read and answer sentences until the client leaves or a reply closes."""
        try:
            while True:
                try:
                    words = await wire.read_sentence(self.reader)
                except (asyncio.IncompleteReadError, ConnectionError, wire.WireError):
                    # Hang-up, reset, or bytes that are not API: the router drops it.
                    return
                if not words:
                    continue  # empty sentences are ignored by RouterOS
                self.sim.commands.append(words)
                if words[0] == "/login":
                    self.sim.logins += 1
                cmd = parse_command(words)
                if cmd.tag is not None and self.logged_in:
                    if len(self._running) >= MAX_RUNNING_COMMANDS:
                        await self._send([_trap(TOO_MANY_MESSAGE), ["!done"]], cmd.tag)
                    else:
                        self._concurrently(cmd)
                elif not await self._handle(cmd):
                    return
        finally:
            for task in self._running:
                task.cancel()
            await self._cancel_streams(None, everything=True)

    def _concurrently(self, cmd: Command) -> None:
        """Answer a tagged command in a task of its own, until its reply is done
        (a stream such as a ping's included, so `peak_concurrent_commands`
        counts it while it runs); one that ends the connection (a `!fatal`, a
        cut reply) closes it, which ends `run`."""

        async def answer() -> None:
            try:
                ended = not await self._handle(cmd)
            except (ConnectionError, OSError):
                ended = True  # the client left mid-reply: as `run` does, drop it
            if ended:
                self.writer.transport.abort()
                return
            streams = {task for tag, task in self._streams if tag == cmd.tag}
            if streams:  # not cancelled with this task: `/cancel` and `run` own them
                await asyncio.wait(streams)

        task = asyncio.create_task(answer())
        self._running.add(task)
        self.sim.peak_concurrent_commands = max(
            self.sim.peak_concurrent_commands, len(self._running)
        )
        task.add_done_callback(self._running.discard)

    def _silent(self) -> bool:
        """True when the router, as configured right now, answers nothing."""
        fault = self.sim.fault
        return (
            self._stalled
            or fault in _SILENT_FAULTS
            or (fault == faults.STALL_LOGIN and self.logged_in)
        )

    async def _send(self, sentences: list[Sentence], tag: str | None) -> None:
        # Whole sentences per write, so a streaming reply on the same connection
        # cannot interleave mid-sentence; a few hundred per write, yielding in
        # between, so one big table does not hold up every other router (they
        # all share this event loop, unlike real routers).
        for start in range(0, len(sentences), SEND_CHUNK_SENTENCES):
            if start:
                await asyncio.sleep(0)
            chunk = sentences[start : start + SEND_CHUNK_SENTENCES]
            data = b"".join(wire.encode_sentence(_tagged(s, tag)) for s in chunk)
            if self.sim.fault == faults.TRICKLE and self.logged_in:
                await self._trickle(data)
            else:
                await wire.send_raw(self.writer, data)

    async def _trickle(self, data: bytes) -> None:
        """TRICKLE: `data` a few bytes at a time, with a pause before each write."""
        cfg = self.sim.config
        step = max(1, cfg.trickle_bytes)
        for start in range(0, len(data), step):
            await asyncio.sleep(cfg.trickle_interval)
            await wire.send_raw(self.writer, data[start : start + step])

    async def _handle(self, cmd: Command) -> bool:
        """Answer one command; False means close the connection."""
        if self._silent():
            return True
        if self.sim.latency > 0:
            await asyncio.sleep(self.sim.latency)
        if self._silent():  # the fault may have changed while we slept
            return True
        if cmd.word == "/quit":
            await wire.send_sentence(self.writer, ["!fatal", QUIT_MESSAGE])
            return False
        if cmd.word == "/login":
            return await self._login(cmd)
        if not self.logged_in:
            await self._send([_trap(NOT_LOGGED_IN_MESSAGE), ["!done"]], cmd.tag)
            return True
        return await self._after_login(cmd)

    # -- login ---------------------------------------------------------------

    async def _login(self, cmd: Command) -> bool:
        name = cmd.attrs.get("name")
        if name is None:
            # Pre-6.43 method, step 1: hand out a challenge.
            self._challenge = secrets.token_bytes(16)
            await self._send([["!done", f"=ret={self._challenge.hex()}"]], cmd.tag)
            return True
        cfg = self.sim.config
        if "password" in cmd.attrs:
            ok = _same(cmd.attrs["password"], cfg.password)
        elif "response" in cmd.attrs and self._challenge is not None:
            ok = _same(
                cmd.attrs["response"].lower(), _token_response(cfg.password, self._challenge)
            )
        else:
            ok = False
        self._challenge = None
        ok = ok and name == cfg.username and self.sim.fault != faults.BAD_CREDENTIALS
        if not ok:
            await self._send([_trap(BAD_LOGIN_MESSAGE), ["!done"]], cmd.tag)
            return False
        self.logged_in = True
        await self._send([["!done"]], cmd.tag)
        return True

    # -- faults that corrupt the first reply after login ----------------------

    async def _reply_fault(self, cmd: Command) -> bool | None:
        """Apply a reply-corrupting fault; None if no such fault is active."""
        fault = self.sim.fault
        if fault == faults.FATAL:
            await wire.send_sentence(self.writer, ["!fatal", faults.FATAL_MESSAGE])
            return False
        if fault == faults.CLOSE_MID_SENTENCE:
            word = wire.encode_word("=name=this-word-is-cut-in-the-middle")
            await wire.send_raw(self.writer, wire.encode_word("!re") + word[: len(word) // 2])
            return False
        if fault == faults.MALFORMED:
            # 0xF8 is a reserved control byte: no length can be decoded from it.
            await wire.send_raw(self.writer, b"\xf8\x00\x00\x00\x00")
            return False
        if fault == faults.MALFORMED_REPLY:
            await self._send([["re", "=message=reply word without !"], ["!done"]], cmd.tag)
            return True
        if fault == faults.ODD_TRAP:
            await self._send([["!trap", "=cause=simulated"], ["!done"]], cmd.tag)
            return True
        if fault in (
            faults.FLOOD_ROWS,
            faults.HUGE_WORD,
            faults.ENDLESS_SENTENCE,
            faults.EMPTY_FLOOD,
        ):
            # Only the first command after login gets it (tagged commands run at
            # once; two floods would interleave mid-sentence): the others wait.
            if self._hostile_started:
                return True
            self._hostile_started = True
            await _hostile(self.writer, fault, cmd.tag)
            return False
        return None

    # -- commands ------------------------------------------------------------

    async def _after_login(self, cmd: Command) -> bool:
        corrupted = await self._reply_fault(cmd)
        if corrupted is not None:
            return corrupted
        if cmd.word == "/cancel":
            await self._cancel(cmd)
            return True
        if cmd.word == "/interface/monitor-traffic":
            sentences = await self._monitor(cmd)
            if sentences is None:
                return True  # streaming in a task
        elif cmd.word in ("/ping", "/tool/torch"):
            sentences = self._ping(cmd) if cmd.word == "/ping" else self._torch(cmd)
            if sentences is None:
                return True  # running in a task
        elif cmd.verb in ("print", "getall") and cmd.path in tables.PRINT_TABLES:
            sentences = self._print(cmd)
        else:
            sentences = [_trap(NO_SUCH_COMMAND_MESSAGE), ["!done"]]
        return await self._reply(sentences, cmd.tag)

    async def _reply(self, sentences: list[Sentence], tag: str | None) -> bool:
        """Send a complete reply, or what a fault leaves of it; False: close the connection.

        STALL_MID_REPLY sends half the first sentence. CLOSE_MID_STREAM and
        STALL_MID_STREAM cut a reply longer than `fault_after_rows` rows after
        that many rows (then close, or go silent).
        """
        fault = self.sim.fault
        if fault == faults.STALL_MID_REPLY:
            first = wire.encode_sentence(_tagged(sentences[0], tag))
            await wire.send_raw(self.writer, first[: max(len(first) // 2, 1)])
            self._stalled = True
            return True
        limit = self.sim.config.fault_after_rows
        if fault in (faults.CLOSE_MID_STREAM, faults.STALL_MID_STREAM):
            rows = sum(1 for sentence in sentences if sentence[0] == "!re")
            if rows > limit:
                await self._send(sentences[:limit], tag)
                if fault == faults.STALL_MID_STREAM:
                    self._stalled = True
                    return True
                return False
        await self._send(sentences, tag)
        return True

    def _print(self, cmd: Command) -> list[Sentence]:
        cfg = self.sim.config
        rows = tables.PRINT_TABLES[cmd.path](cfg, self.sim.elapsed(), _only_name(cmd.queries))
        try:
            rows = [row for row in rows if matches(row, cmd.queries)]
        except QueryError as exc:
            return [_trap(str(exc)), ["!done"]]
        if cmd.flag("count-only"):
            return [["!done", f"=ret={len(rows)}"]]
        sentences = [_row(row) for row in project_all(rows, cmd.attrs.get(".proplist"))]
        if not sentences and version_tuple(cfg.version) >= EMPTY_REPLY_SINCE:
            sentences.append(["!empty"])
        sentences.append(["!done"])
        return sentences

    # -- monitor-traffic -------------------------------------------------------

    def _monitor_rows(self, interfaces: list[str]) -> list[Sentence]:
        rows = tables.monitor_rows(self.sim.config, interfaces, self.sim.elapsed())
        return [_row(row) for row in rows]

    async def _monitor(self, cmd: Command) -> list[Sentence] | None:
        """Reply for `once`; otherwise start a stream and return None."""
        interfaces = [name for name in cmd.attrs.get("interface", "").split(",") if name]
        if not interfaces:
            return [_trap("missing value(s) of argument(s) interface"), ["!done"]]
        duration: float | None = None
        if "duration" in cmd.attrs:
            duration = _parse_duration(cmd.attrs["duration"])
            if duration is None:
                return [_trap("invalid value for argument duration"), ["!done"]]
        try:
            first = self._monitor_rows(interfaces)
        except tables.NoSuchItem:
            return [_trap(NO_SUCH_ITEM_MESSAGE), ["!done"]]
        if cmd.flag("once"):
            return [*first, ["!done"]]
        if duration is None:
            self.sim.unbounded_commands += 1
        if self.sim.fault == faults.STALL_MID_REPLY:
            await self._reply(first, cmd.tag)
            return None
        task = asyncio.create_task(self._stream(interfaces, first, cmd.tag, duration))
        self._track_stream(cmd.tag, task)
        return None

    async def _stream(
        self,
        interfaces: list[str],
        first: list[Sentence],
        tag: str | None,
        duration: float | None,
    ) -> None:
        """Send a reading every interval until cancelled or `duration` is over.

        Without `duration` this never ends by itself: that is the real router's
        behaviour and the trap every client must avoid by sending `once`.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        rows = first
        try:
            while True:
                if not self._silent():
                    await self._send(rows, tag)
                await asyncio.sleep(self.sim.monitor_interval)
                if duration is not None and loop.time() - started >= duration - 1e-6:
                    if not self._silent():
                        await self._send([["!done"]], tag)
                    return
                try:
                    rows = self._monitor_rows(interfaces)
                except tables.NoSuchItem:
                    # The session went away while monitored.
                    if not self._silent():
                        await self._send([_trap(NO_SUCH_ITEM_MESSAGE), ["!done"]], tag)
                    return
        except (ConnectionError, RuntimeError):
            # The client went away; the session's main loop will notice too.
            return

    # -- ping and torch ----------------------------------------------------------

    def _ping(self, cmd: Command) -> list[Sentence] | None:
        """`/ping address=… count=N interval=…`: start it, or the trap refusing it."""
        address = cmd.attrs.get("address", "")
        if not address:
            return [_trap("missing value(s) of argument(s) address"), ["!done"]]
        count: int | None = None
        if "count" in cmd.attrs:
            text = cmd.attrs["count"]
            if not (text.isascii() and text.isdigit() and int(text[:9]) > 0 and len(text) <= 9):
                return [_trap("invalid value for argument count"), ["!done"]]
            count = int(text)
        interval = _parse_duration(cmd.attrs.get("interval", "1s"))
        low, high = PING_INTERVAL_RANGE
        if interval is None or not low <= interval <= high:
            return [_trap("invalid value for argument interval"), ["!done"]]
        probes: Iterator[tables.Row] = diag.ping_probes(self.sim.config, address)
        if count is None:
            self.sim.unbounded_commands += 1  # pings until cancelled, like the router
        else:
            probes = itertools.islice(probes, count)
        path = self.sim.config.ping_path(address)
        stall = path.hangs_after if path is not None else None
        hang = stall is not None and (count is None or stall < count)
        if stall is not None and hang:
            probes = itertools.islice(probes, stall)
        batches = ([_row(row)] for row in probes)
        self._start(self._paced(batches, interval, cmd.tag, hang=hang), cmd.tag)
        return None

    def _torch(self, cmd: Command) -> list[Sentence] | None:
        """`/tool/torch interface=… duration=…`: start it, or the trap refusing it.

        One sample per `monitor_interval` (the router's second); `duration`
        counts samples, so a test with a short interval runs a "3s" torch fast.
        """
        interface = cmd.attrs.get("interface", "")
        config = self.sim.config
        try:
            diag.torch_rows(config, interface)
        except tables.NoSuchItem:
            return [_trap("input does not match any value of interface"), ["!done"]]
        samples: Iterator[int] = itertools.count()
        if "duration" in cmd.attrs:
            duration = _parse_duration(cmd.attrs["duration"])
            if duration is None or duration <= 0:
                return [_trap("invalid value for argument duration"), ["!done"]]
            samples = iter(range(max(1, round(duration))))
        else:
            self.sim.unbounded_commands += 1  # torches until cancelled, like the router
        sections = (
            [["!re", f".section={n}", *_row(row)[1:]] for row in diag.torch_rows(config, interface)]
            for n in samples
        )
        self._start(self._paced(sections, self.sim.monitor_interval, cmd.tag), cmd.tag)
        return None

    def _start(self, coroutine: Coroutine[None, None, None], tag: str | None) -> None:
        """Run a reply that takes time as a task of the session (`/cancel` stops it)."""
        self._track_stream(tag, asyncio.create_task(coroutine))

    def _track_stream(self, tag: str | None, task: asyncio.Task[None]) -> None:
        """Keep `task` for `/cancel`, forgetting the streams that already ended, so
        a long session does not pile them up."""
        self._streams = [entry for entry in self._streams if not entry[1].done()]
        self._streams.append((tag, task))

    async def _paced(
        self,
        batches: Iterator[list[Sentence]],
        pause: float,
        tag: str | None,
        *,
        hang: bool = False,
    ) -> None:
        """Send each batch of rows `pause` seconds after the one before, then ``!done``
        (with `hang`, nothing more: the command stalls until cancelled).

        A batch that cannot be built because the session went away
        (`tables.NoSuchItem`) ends the reply with the router's trap.
        """
        try:
            for number, batch in enumerate(batches):
                if number:
                    await asyncio.sleep(pause)
                if batch and not self._silent():
                    await self._send(batch, tag)
            if hang:
                await asyncio.Event().wait()  # until `/cancel` or the connection ends
            if not self._silent():
                await self._send([["!done"]], tag)
        except tables.NoSuchItem:
            if not self._silent():
                await self._send([_trap(NO_SUCH_ITEM_MESSAGE), ["!done"]], tag)
        except (ConnectionError, RuntimeError):
            return  # the client went away; the session's main loop will notice too

    async def _cancel_streams(self, tag: str | None, *, everything: bool) -> list[str | None]:
        """Stop matching streams; return the tags of those stopped."""
        stopped: list[tuple[str | None, asyncio.Task[None]]] = []
        keep: list[tuple[str | None, asyncio.Task[None]]] = []
        for entry in self._streams:
            running = not entry[1].done()
            (stopped if running and (everything or entry[0] == tag) else keep).append(entry)
        self._streams = keep
        for _, task in stopped:
            task.cancel()
        for _, task in stopped:
            with suppress(asyncio.CancelledError):
                await task
        return [stream_tag for stream_tag, _ in stopped]

    async def _cancel(self, cmd: Command) -> None:
        """`/cancel [=tag=x]`: interrupt streams, in the order the manual shows.

        The interrupted command gets `!trap =category=2 =message=interrupted`,
        then `/cancel` gets its `!done`, then the interrupted command its `!done`.
        """
        target = cmd.attrs.get("tag")
        stopped = await self._cancel_streams(target, everything=target is None)
        if target is not None and not stopped:
            await self._send([_trap("unknown command tag"), ["!done"]], cmd.tag)
            return
        for tag in stopped:
            await self._send([_trap(INTERRUPTED_MESSAGE, category=2)], tag)
        await self._send([["!done"]], cmd.tag)
        for tag in stopped:
            await self._send([["!done"]], tag)
