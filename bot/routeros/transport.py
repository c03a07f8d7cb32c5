"""A buffered RouterOS API protocol for librouteros: whole sentences from large reads.

Stock librouteros (4.2.2) reads the socket word by word: for every word one
``read(1)`` for the length byte, one for the rest of the prefix, one for the
bytes, each an ``await`` on the stream, plus an ``asyncio.wait_for`` per
sentence and a debug log line formatted per word even when nobody logs. On a
``/ppp/secret/print`` of thousands of rows that is most of the CPU a sync spends
(about 70%, some 13,000 rows/s per core).

`BufferedApiProtocol` is a drop-in for librouteros's ``AsyncApiProtocol``: the
``Api`` layer on top (``AsyncApi`` / `bot.routeros.connection.RawApi`), its login and its
error types stay librouteros's. It reads the socket in large chunks and cuts
every complete sentence out of the buffer in one pass (`SentenceParser`), so a
sentence costs one pass over its bytes and one decode per word.

What it keeps from librouteros, on purpose:

* words are decoded with the protocol's encoding and ``errors="ignore"``;
* ``!fatal`` closes the transport and raises ``FatalError`` with its message;
* EOF raises ``ConnectionClosed``; an undecodable length prefix raises
  ``ProtocolError``;
* every word is logged at DEBUG on the ``librouteros`` logger (only when DEBUG
  is on: formatting them is not free).

What it adds:

* it reads every prefix form the protocol defines, the 5-byte one (``0xF0`` +
  4 bytes) too, which librouteros refuses;
* **every reply is bounded** (`ReplyLimit`, set by the caller per command):
  past its rows or bytes the read stops, the connection is aborted and
  `ReplyTooLarge` is raised. One sentence is bounded too (`MAX_SENTENCE_BYTES`,
  `MAX_SENTENCE_WORDS`), and a word announcing more than fits is refused from
  its length prefix, before a byte of it is buffered. A hostile or broken
  router (an endless ``!re`` flood, a 16 MiB word, a sentence never ended)
  cannot make it hold more than the ceiling of the command in flight;
* **each byte is parsed once**: the parser keeps the words it already decoded
  of an incomplete sentence and its place in it across reads, so a sentence
  arriving in thousands of reads costs no more than one arriving whole;
* an optional **idle timeout** (`idle_timeout`): no byte for that long while a
  reply is awaited raises `ReplyStalled`, however long the overall deadline;
* **a table is read without a few awaits per row**: `readSentences` hands
  out the sentences already parsed in one await, each counted and checked as
  `readSentence` does (`bot.routeros.connection.RawApi.readTable` reads
  through it, so any protocol under `RawApi` has it);
* it yields to the event loop by work done, not by sentences: every
  `YIELD_WORDS` words handed out or `YIELD_BYTES` bytes read, and the parser
  stops after `STEP_BYTES` bytes of one feed, so neither a reply of thousands
  of rows nor one chunk of tiny words holds the loop for more than a
  millisecond or so (a read with data already buffered does not suspend);
* **empty sentences are counted**, not skipped for free: RouterOS never sends
  one in a reply, so more than `MAX_EMPTY_SENTENCES` in one reply is a flood
  and is cut like rows (`ReplyTooLarge` of kind "empty"); a run of zero bytes
  is skipped in one scan, not one interpreter iteration per byte.

On the sync benchmark (bench/README.md, py-spy), reading the replies of a full
sync went from 23.6 s of interpreter time with stock librouteros to 5.9 s.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from typing import NoReturn

from librouteros.connections import AsyncSocketTransport
from librouteros.exceptions import ConnectionClosed, FatalError, ProtocolError
from librouteros.protocol import LOGGER, AsyncApiProtocol, log

from bot.routeros.sentences import (
    QUESTION,
    ReplyLimit,
    ReplyTooLarge,
    Sentence,
    SentenceParser,
)

#: Bytes asked of the stream per read (it returns what it has, up to this).
CHUNK_BYTES = 64 * 1024
#: Words handed out before letting the rest of the event loop run. A read
#: with data already buffered does not suspend, so without this a big table
#: would be parsed from start to end while every other task (an operator's
#: question) waits. Counted in words, not sentences: a row of 1,024 one-byte
#: fields costs as much as 100 ordinary rows. 2,000 words take about a
#: millisecond (words parsed, rows converted).
YIELD_WORDS = 2000
#: Bytes read that count as `YIELD_WORDS` words of work, so reads that finish
#: no sentence (a big word arriving, a run of zero bytes) yield too.
YIELD_BYTES = 64 * 1024


class ReplyStalled(TimeoutError):
    """No byte arrived for `seconds` while a reply was awaited."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no data for {seconds:g}s while a reply was due")


class BufferedApiProtocol(AsyncApiProtocol):
    """``AsyncApiProtocol`` that reads large chunks and parses whole sentences.

    There is no per-read timeout by default (librouteros's ``timeout`` is
    None): the caller's ``asyncio.timeout`` is the one deadline, as in
    `bot.routeros.client`. `idle_timeout` adds one for long replies.

    `limit` is the ceiling of the reply to the next command written (default
    `QUESTION`): each `writeSentence` starts a new reply budget. Past it, the
    connection is aborted and `ReplyTooLarge` raised; the bytes read never pass
    the ceiling by more than one.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        encoding: str = "utf-8",
        chunk_bytes: int = CHUNK_BYTES,
        limit: ReplyLimit = QUESTION,
    ) -> None:
        super().__init__(AsyncSocketTransport(reader, writer), encoding=encoding, timeout=None)
        self._reader = reader
        self._writer = writer
        self._chunk = chunk_bytes
        self._parser = SentenceParser(encoding)
        self._ready: deque[list[str]] = deque()
        self._until_yield = YIELD_WORDS
        self.limit = limit
        #: Seconds without a byte, while a reply is awaited, before `ReplyStalled`.
        self.idle_timeout: float | None = None
        #: Bytes read from the socket, in all.
        self.received = 0
        self._rows = 0  # `!re` sentences of the current reply handed out
        self._others = 0  # its other sentences
        self._start_reply()

    def _start_reply(self) -> None:
        # Bytes read but not parsed yet (a router talking past its `!done`)
        # count against the new reply: the budget starts where parsing stands.
        self._rows = self._others = self._parser.empty = 0
        self._parser.max_field = self.limit.field
        self._parser.max_words = self.limit.words
        self._parser.horizon = (self._parser.consumed + self.limit.bytes, self.limit.bytes)

    async def writeSentence(self, cmd: str, *words: str) -> None:
        """Send a command; its reply gets a fresh budget of `limit`."""
        self._start_reply()
        await super().writeSentence(cmd, *words)

    async def readSentence(self) -> Sentence:
        """The next sentence: reply word and the other words, as librouteros returns it."""
        [words] = await self.readSentences(1)
        return words[0], tuple(words[1:])

    async def readSentences(self, most: int = sys.maxsize) -> list[list[str]]:
        """The next sentences as lists of words (the reply word first): at least
        one, up to `most`, and no further than a ``!done`` (what follows it is
        the next command's).

        What a table read takes (`bot.routeros.connection.RawApi.readTable`):
        the sentences already parsed in one call instead of a few awaits per
        row. Each sentence is counted against the reply's ceilings, logged and
        checked for ``!fatal`` as it is handed out, exactly as one by one; the
        batch ends where `YIELD_WORDS` words of work are done, and yields there.
        """
        ready = self._ready
        while not ready:
            if self._parser.backlog:  # the last feed stopped at its step: go on
                ready.extend(self._feed(b""))
            else:
                data = await self._read()
                await self._worked(len(data) * YIELD_WORDS // YIELD_BYTES)
                ready.extend(self._feed(data))
        debug = LOGGER.isEnabledFor(logging.DEBUG)
        limit = self.limit
        taken: list[list[str]] = []
        while ready and len(taken) < most:
            words = ready.popleft()
            reply_word = words[0]
            if reply_word == "!re":
                self._rows += 1
                if self._rows > limit.rows:
                    rows = limit.rows
                    self.cut(ReplyTooLarge("rows", rows, f"a reply of over {rows} rows"))
            else:
                self._others += 1
                if self._others > limit.envelope:
                    self.cut(
                        ReplyTooLarge(
                            "rows",
                            limit.rows,
                            f"over {limit.envelope} sentences besides rows in one reply",
                        )
                    )
            if debug:
                log("--->", *words)
            if reply_word == "!fatal":
                await self.transport.close()
                raise FatalError(words[1] if len(words) > 1 else "")
            taken.append(words)
            self._until_yield -= len(words)
            if self._until_yield <= 0:
                self._until_yield = YIELD_WORDS
                await asyncio.sleep(0)
                break
            if reply_word == "!done":
                break
        return taken

    async def _worked(self, words: int) -> None:
        """Count `words` of work; past `YIELD_WORDS` since the last yield, yield."""
        self._until_yield -= words
        if self._until_yield <= 0:
            self._until_yield = YIELD_WORDS
            await asyncio.sleep(0)

    async def _read(self) -> bytes:
        """One read, never more than one byte past the reply's byte ceiling."""
        horizon = self._parser.horizon
        size = self._chunk
        if horizon is not None:
            size = max(1, min(size, horizon[0] + 1 - self.received))
        if self.idle_timeout is None:
            data = await self._reader.read(size)
        else:
            try:
                async with asyncio.timeout(self.idle_timeout):
                    data = await self._reader.read(size)
            except TimeoutError:
                raise ReplyStalled(self.idle_timeout) from None
        if not data:
            raise ConnectionClosed("Connection unexpectedly closed.")
        self.received += len(data)
        if horizon is not None and self.received > horizon[0]:
            ceiling = horizon[1]
            self.cut(ReplyTooLarge("bytes", ceiling, f"a reply of over {ceiling} bytes"))
        return data

    def _feed(self, data: bytes) -> list[list[str]]:
        try:
            return self._parser.feed(data)
        except ProtocolError as exc:
            self.cut(exc)

    def cut(self, exc: ProtocolError) -> NoReturn:
        """Stop reading for good: abort the connection (the router's command
        dies with it) and raise `exc`."""
        self._writer.transport.abort()
        raise exc

    async def readWord(self) -> str:
        raise NotImplementedError("BufferedApiProtocol reads whole sentences only")
