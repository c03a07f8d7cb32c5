"""A buffered RouterOS API protocol for librouteros: whole sentences from large reads.

Stock librouteros (4.2.2) reads the socket word by word: for every word one
``read(1)`` for the length byte, one for the rest of the prefix, one for the
bytes, each an ``await`` on the stream, plus an ``asyncio.wait_for`` per
sentence and a debug log line formatted per word even when nobody logs. On a
``/ppp/secret/print`` of thousands of rows that is most of the CPU a sync spends
(about 70%, some 13,000 rows/s per core).

`BufferedApiProtocol` is a drop-in for librouteros's ``AsyncApiProtocol``: the
``Api`` layer on top (``AsyncApi`` / `bot.routeros.RawApi`), its login and its
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

What it adds: it reads every prefix form the protocol defines, the 5-byte one
(``0xF0`` + 4 bytes) too, which librouteros refuses; it caps the length a
prefix may announce (`MAX_WORD_BYTES`), so a corrupt prefix cannot make it
buffer gigabytes; and it yields to the event loop every `YIELD_EVERY`
sentences, so a large reply never holds the loop for more than a millisecond
or so (a read with data already buffered does not suspend).

On the sync benchmark (bench/README.md, py-spy), reading the replies of a full
sync went from 23.6 s of interpreter time with stock librouteros to 5.9 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from librouteros.connections import AsyncSocketTransport
from librouteros.exceptions import ConnectionClosed, FatalError, ProtocolError
from librouteros.protocol import LOGGER, AsyncApiProtocol, log

#: Bytes asked of the stream per read (it returns what it has, up to this).
CHUNK_BYTES = 64 * 1024
#: Sentences handed out before letting the rest of the event loop run. A read
#: with data already buffered does not suspend, so without this a big table
#: would be parsed from start to end while every other task (an operator's
#: question) waits. 100 rows take about a millisecond.
YIELD_EVERY = 100
#: Largest word accepted. RouterOS values are short; a comment is a few KiB at
#: most. A prefix announcing more is taken as corruption, not buffered.
MAX_WORD_BYTES = 16 * 1024 * 1024

Sentence = tuple[str, tuple[str, ...]]


class SentenceParser:
    """Cuts complete sentences out of a byte buffer; keeps the incomplete tail.

    Pure (no I/O), so it can be fed any split of a byte stream.
    """

    def __init__(self, encoding: str = "utf-8", max_word: int = MAX_WORD_BYTES) -> None:
        self.encoding = encoding
        self.max_word = max_word
        self._buffer = bytearray()
        # Bytes the incomplete sentence in the buffer needs at least before it
        # is worth scanning again (a big word arriving in many chunks is not
        # rescanned from its start on every chunk).
        self._need = 0

    @property
    def buffered(self) -> int:
        """Bytes held that are not part of a complete sentence yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[list[str]]:
        """Add bytes; return every sentence they complete, as lists of words.

        An empty sentence (a lone zero byte) comes back as ``[]``.
        """
        buffer = self._buffer
        buffer += data
        if len(buffer) < self._need:
            return []
        sentences, consumed, need = self._parse(buffer)
        if consumed:
            del buffer[:consumed]
        self._need = max(need - consumed, 0)
        return sentences

    def _parse(self, buf: bytearray) -> tuple[list[list[str]], int, int]:
        """Sentences, bytes they took, and the least length the buffer needs next."""
        encoding, max_word = self.encoding, self.max_word
        end = len(buf)
        sentences: list[list[str]] = []
        words: list[str] = []
        start = pos = 0
        while pos < end:
            b = buf[pos]
            if b < 0x80:
                if b == 0:  # the zero-length word: end of sentence
                    pos += 1
                    sentences.append(words)
                    words = []
                    start = pos
                    continue
                length = b
                pos += 1
            elif b < 0xC0:
                if pos + 2 > end:
                    break
                length = ((b & 0x3F) << 8) | buf[pos + 1]
                pos += 2
            elif b < 0xE0:
                if pos + 3 > end:
                    break
                length = ((b & 0x1F) << 16) | (buf[pos + 1] << 8) | buf[pos + 2]
                pos += 3
            elif b < 0xF0:
                if pos + 4 > end:
                    break
                length = int.from_bytes(buf[pos : pos + 4], "big") & 0x0FFFFFFF
                pos += 4
            elif b == 0xF0:
                if pos + 5 > end:
                    break
                length = int.from_bytes(buf[pos + 1 : pos + 5], "big")
                pos += 5
            else:
                raise ProtocolError(f"Unknown control byte 0x{b:02X} in a length prefix")
            if length > max_word:
                raise ProtocolError(f"word of {length} bytes announced (limit {max_word})")
            if pos + length > end:
                return sentences, start, pos + length
            words.append(buf[pos : pos + length].decode(encoding, "ignore"))
            pos += length
        return sentences, start, 0


class BufferedApiProtocol(AsyncApiProtocol):
    """``AsyncApiProtocol`` that reads large chunks and parses whole sentences.

    There is no per-read timeout (``timeout`` is None): the caller's
    ``asyncio.timeout`` is the one deadline, as in `bot.routeros`.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        encoding: str = "utf-8",
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        super().__init__(AsyncSocketTransport(reader, writer), encoding=encoding, timeout=None)
        self._reader = reader
        self._chunk = chunk_bytes
        self._parser = SentenceParser(encoding)
        self._ready: deque[list[str]] = deque()
        self._until_yield = YIELD_EVERY

    async def readSentence(self) -> Sentence:
        """The next sentence: reply word and the other words, as librouteros returns it."""
        ready = self._ready
        while True:
            while ready:
                words = ready.popleft()
                if not words:  # empty sentences carry nothing; RouterOS ignores them too
                    continue
                self._until_yield -= 1
                if self._until_yield <= 0:
                    self._until_yield = YIELD_EVERY
                    await asyncio.sleep(0)
                return await self._sentence(words)
            data = await self._reader.read(self._chunk)
            if not data:
                raise ConnectionClosed("Connection unexpectedly closed.")
            ready.extend(self._parser.feed(data))

    async def _sentence(self, words: list[str]) -> Sentence:
        if LOGGER.isEnabledFor(logging.DEBUG):
            log("--->", *words)
        reply_word = words[0]
        if reply_word == "!fatal":
            await self.transport.close()
            raise FatalError(words[1] if len(words) > 1 else "")
        return reply_word, tuple(words[1:])

    async def readWord(self) -> str:
        raise NotImplementedError("BufferedApiProtocol reads whole sentences only")
