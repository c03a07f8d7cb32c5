"""RouterOS API sentences cut out of a byte stream, each reply within its ceiling.

`SentenceParser` is pure (no I/O): fed bytes in any chunks, it hands out
complete sentences, examining each byte once, and refuses what goes past the
command's `ReplyLimit` (rows, bytes, words, one word's bytes, empty sentences)
with `ReplyTooLarge`, from a word's length prefix before its bytes are
buffered. `bot.routeros.transport.BufferedApiProtocol` feeds it from the socket.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from librouteros.exceptions import ProtocolError

#: Bytes one `SentenceParser.feed` parses (and the word it is in) before it
#: stops and leaves the rest buffered (`SentenceParser.backlog`): a 64 KiB
#: chunk of one-byte words is some 30,000 words, over 10 ms of parsing in one
#: go; 8 KiB is at most 4,096 words. Counted in bytes, not words, so the hot
#: loop pays nothing for it.
STEP_BYTES = 8 * 1024
#: Largest sentence (all its words, prefixes included). RouterOS values are
#: short; a ``/ppp/secret`` row is well under 1 KiB and a comment a few KiB at
#: most. A prefix announcing more is refused, not buffered.
MAX_SENTENCE_BYTES = 4 * 1024 * 1024
#: Most words in one sentence (a ``monitor-traffic`` row has about 20).
MAX_SENTENCE_WORDS = 1024
#: Sentences of a reply other than ``!re`` rows: ``!done``, ``!empty``, a
#: ``!trap`` or two; anything else a router sends counts here too.
ENVELOPE_SENTENCES = 4
#: Empty sentences (a lone zero byte) one reply may hold. RouterOS never sends
#: one in a reply (the API only tolerates them in what clients write), so a
#: few are tolerated as noise and a run of them is a hostile flood.
MAX_EMPTY_SENTENCES = 4

Sentence = tuple[str, tuple[str, ...]]

#: What ``sys.getsizeof`` counts for a string besides its characters.
_EMPTY_STR_SIZE = sys.getsizeof("")
#: The first byte that is not zero: where a run of empty sentences ends.
_NONZERO = re.compile(rb"[^\x00]")


@dataclass(frozen=True)
class ReplyLimit:
    """The most one command's reply may bring before it is cut.

    `rows`: ``!re`` sentences (other sentences have their own small ceiling,
    `envelope`, so a flood of them is cut too). `bytes`: bytes on
    the wire, a non-ASCII word counted at what Python holds for it (up to 4
    bytes a character: see `SentenceParser`). `field`: the longest word (a
    key and its value) on the wire, at least 128; None: only the sentence's
    ceiling and `bytes` bound it. `words`: most words in one sentence.
    `envelope`: sentences other than rows (`ENVELOPE_SENTENCES` per reply).
    """

    rows: int
    bytes: int
    field: int | None = None
    words: int = MAX_SENTENCE_WORDS
    envelope: int = ENVELOPE_SENTENCES

    def __add__(self, other: ReplyLimit) -> ReplyLimit:
        """The ceiling of two replies read as one stream (tagged commands sent
        together): their rows, bytes and envelopes add up; a word and a
        sentence may be as long as the larger of the two allows."""
        fields = None if self.field is None or other.field is None else max(self.field, other.field)
        return ReplyLimit(
            rows=self.rows + other.rows,
            bytes=self.bytes + other.bytes,
            field=fields,
            words=max(self.words, other.words),
            envelope=self.envelope + other.envelope,
        )


#: A question (a snapshot's reads, a targeted pull, ``nodes check``, login):
#: a handful of rows. The default of every command that does not say otherwise.
QUESTION = ReplyLimit(rows=16, bytes=1024 * 1024)


class ReplyTooLarge(ProtocolError):
    """A reply or one of its sentences went past its ceiling; the read stopped there.

    `kind`: "rows", "bytes", "words" (words of one sentence), "field" (bytes
    of one word) or "empty" (empty sentences); `ceiling`: the limit.
    """

    def __init__(self, kind: str, ceiling: int, detail: str) -> None:
        self.kind = kind
        self.ceiling = ceiling
        super().__init__(detail)


class SentenceParser:
    """Cuts complete sentences out of a byte stream fed in any chunks.

    Pure (no I/O). Each byte is examined once: the words already decoded of the
    incomplete sentence, and the length of a word whose prefix was read but
    whose bytes have not all arrived, are kept across feeds, and consumed bytes
    leave the buffer. The only byte looked at twice is the first byte of a
    length prefix cut by a chunk boundary (`examined` counts both looks).

    Bounds: a sentence of more than `max_sentence` bytes or `max_words` words,
    and a word that would end past `horizon` (an offset in the stream, set by
    the protocol to the end of the current reply's byte budget), raise
    `ReplyTooLarge` as soon as the length prefix saying so is read; so does a
    word longer than `max_field` bytes. A word whose decoded string is shorter
    than its bytes (non-ASCII) is charged against the horizon at what Python
    holds for it (``sys.getsizeof``): a string with one character outside
    Latin-1 stores every character in 2 or 4 bytes, so one emoji in front of
    1 MB of ASCII would otherwise hold 4 MB for 1 MB counted. Empty
    sentences are not returned but counted (`empty`, reset by the protocol per
    reply); past `max_empty` they raise `ReplyTooLarge` too.

    One feed parses the words that start in its first `step_bytes` bytes (a
    run of empty sentences is skipped whole): the rest stays buffered, `backlog` says so, and
    ``feed(b"")`` goes on, so the caller can let the event loop run between.
    """

    def __init__(
        self,
        encoding: str = "utf-8",
        max_sentence: int = MAX_SENTENCE_BYTES,
        max_words: int = MAX_SENTENCE_WORDS,
        max_empty: int = MAX_EMPTY_SENTENCES,
        step_bytes: int = STEP_BYTES,
    ) -> None:
        self.encoding = encoding
        self.max_sentence = max_sentence
        self.max_words = max_words
        self.max_empty = max_empty
        self.step_bytes = step_bytes
        #: Longest word accepted (bytes), set by the protocol per reply
        #: (`ReplyLimit.field`); None: no ceiling of its own.
        self.max_field: int | None = None
        #: Empty sentences parsed since the protocol last reset it (per reply).
        self.empty = 0
        #: (stream offset no word may end past, the reply's byte ceiling it
        #: comes from), set by the protocol per reply; None: no reply budget.
        self.horizon: tuple[int, int] | None = None
        #: Bytes taken out of the stream so far (the offset of the buffer's start).
        self.consumed = 0
        #: Bytes the parse loop has read, for the parse-once guarantee.
        self.examined = 0
        self._buffer = bytearray()
        self._words: list[str] = []
        self._sentence_bytes = 0  # prefixes and words of the incomplete sentence
        self._pending = -1  # length of a word whose prefix was consumed; -1: none
        self._need = 0  # bytes the buffer needs before the loop can go on

    @property
    def buffered(self) -> int:
        """Bytes held that are not part of a complete sentence yet, decoded words included."""
        return self._sentence_bytes + len(self._buffer)

    @property
    def backlog(self) -> bool:
        """True when a feed stopped at `step_bytes` with bytes it could parse left."""
        return bool(self._buffer) and len(self._buffer) >= self._need

    def feed(self, data: bytes) -> list[list[str]]:
        """Add bytes; return the sentences they complete (up to `step_bytes`
        parsed), as lists of words.

        Empty sentences (lone zero bytes) are counted in `empty`, not returned.
        After it raises (`ProtocolError`, `ReplyTooLarge`) the stream is out of
        step: the parser must not be fed again.
        """
        buffer = self._buffer
        buffer += data
        if len(buffer) < self._need:
            return []
        sentences: list[list[str]] = []
        pos = self._parse(buffer, sentences)
        if pos:
            del buffer[:pos]  # from the front of a bytearray: the rest is not copied
            self.consumed += pos
        return sentences

    def _parse(self, buf: bytearray, sentences: list[list[str]]) -> int:
        """Parse from the buffer's start; return the bytes consumed.

        The hot loop of every reply: nothing but decoding per word. The bounds
        are checked once per sentence, and once for the incomplete sentence a
        feed leaves, its announced word included: a sentence never holds more
        than its ceiling plus one read.
        """
        encoding = self.encoding
        max_sentence, max_words = self.max_sentence, self.max_words
        max_field = self.max_field if self.max_field is not None else max_sentence
        end = len(buf)
        words = self._words
        carried = self._sentence_bytes  # bytes of this sentence consumed by earlier feeds
        pos = start = peeked = need = charged = 0
        sizeof, empty_size = sys.getsizeof, _EMPTY_STR_SIZE
        pending = self._pending
        if pending >= 0:  # a word whose prefix an earlier feed consumed
            if pending <= end:
                word = buf[:pending].decode(encoding, "ignore")
                if len(word) != pending:
                    charged += max(0, sizeof(word) - empty_size - pending)
                words.append(word)
                pos, pending = pending, -1
            else:
                need, end = pending, 0  # still incomplete: skip the loop
        stop = min(end, pos + self.step_bytes)  # where this feed's step ends
        while pos < stop:
            b = buf[pos]
            if b < 0x80:  # most words: a 1-byte prefix, the length itself
                length = b
                pos += 1
            else:
                if b < 0xC0:
                    size = 2
                elif b < 0xE0:
                    size = 3
                elif b < 0xF0:
                    size = 4
                elif b == 0xF0:
                    size = 5
                else:
                    raise ProtocolError(f"Unknown control byte 0x{b:02X} in a length prefix")
                if pos + size > end:
                    peeked = 1  # looked at now, and again once the prefix is whole
                    need = size  # counted from `pos`, the buffer's start next time
                    break
                if size == 2:
                    length = ((b & 0x3F) << 8) | buf[pos + 1]
                elif size == 3:
                    length = ((b & 0x1F) << 16) | (buf[pos + 1] << 8) | buf[pos + 2]
                elif size == 4:
                    length = int.from_bytes(buf[pos : pos + 4], "big") & 0x0FFFFFFF
                else:
                    length = int.from_bytes(buf[pos + 1 : pos + 5], "big")
                if length > max_field and self.max_field is not None:  # not for words < 128 B
                    raise ReplyTooLarge(
                        "field", max_field, f"a word of {length} bytes (limit {max_field})"
                    )
                pos += size
            if length == 0:  # the zero-length word: end of sentence
                if not words:  # an empty sentence: skip the whole run of them at once
                    found = _NONZERO.search(buf, pos)
                    run_end = found.start() if found else end
                    self.empty += run_end - pos + 1
                    if self.empty > self.max_empty:
                        raise ReplyTooLarge(
                            "empty",
                            self.max_empty,
                            f"over {self.max_empty} empty sentences in one reply",
                        )
                    pos = start = run_end
                    continue
                if carried + pos - start > max_sentence or len(words) > max_words:
                    self._bound(carried + pos - start, len(words), 0, 0)
                sentences.append(words)
                words = []
                carried = 0
                start = pos
                continue
            if pos + length > end:  # the word's bytes have not all arrived
                pending = need = length
                break
            word = buf[pos : pos + length].decode(encoding, "ignore")
            # Non-ASCII (or undecodable bytes dropped): charged as Python holds it.
            if len(word) != length:
                extra = sizeof(word) - empty_size - length
                if extra > 0:
                    charged += extra
            words.append(word)
            pos += length
        if charged:
            self._charge(charged, pos)
        self._bound(carried + pos - start, len(words), max(pending, 0), pos)
        self._words = words
        self._pending = pending
        self._sentence_bytes = carried + pos - start
        self._need = need
        self.examined += pos + peeked
        return pos

    def _charge(self, extra: int, pos: int) -> None:
        """Count `extra` bytes that Python holds for this feed's non-ASCII words
        beyond their wire bytes: the horizon comes closer by that much, and the
        reply is cut at once (`pos`: where parsing stands) if it is past."""
        if self.horizon is None:
            return
        offset, ceiling = self.horizon
        self.horizon = (offset - extra, ceiling)
        if self.consumed + pos > offset - extra:
            raise ReplyTooLarge(
                "bytes",
                ceiling,
                f"a reply of over {ceiling} bytes (non-ASCII words counted as held in memory)",
            )

    def _bound(self, sentence_bytes: int, words: int, pending: int, pos: int) -> None:
        """Refuse a sentence past its bounds, counting a word announced but not
        yet arrived (`pending` bytes, after `pos`) as if it were there.

        The reply's budget first: when both are passed, it is the tighter one
        (a question's 1 MiB against a sentence's 4 MiB).
        """
        if pending and self.horizon is not None:
            offset, ceiling = self.horizon
            if self.consumed + pos + pending > offset:
                raise ReplyTooLarge(
                    "bytes",
                    ceiling,
                    f"a word of {pending} bytes would take the reply past {ceiling}",
                )
        if sentence_bytes + pending > self.max_sentence:
            raise ReplyTooLarge(
                "bytes",
                self.max_sentence,
                f"a sentence of at least {sentence_bytes + pending} bytes "
                f"(limit {self.max_sentence})",
            )
        if words > self.max_words:
            raise ReplyTooLarge(
                "words", self.max_words, f"a sentence of over {self.max_words} words"
            )
