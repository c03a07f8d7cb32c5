"""Tagged commands sent together on one session, their replies gathered.

RouterOS runs the commands of one API session concurrently when they carry a
``.tag``, and marks every sentence of a reply with its command's tag, in
whatever order the replies interleave. So after login the reads a question
needs can go out at once: one round trip to the router instead of one per read
(on a rural link of 100-300 ms that is most of the reply time).

`Batch` writes each `Ask` with the tag of its place, then reads the stream,
hands each sentence to its `Reply`, and ends when every reply has its
``!done``. Each reply keeps its own row ceiling; the stream as a whole has the
sum of the asks' ceilings (`ReplyLimit.__add__`), counted by the transport as
for one command. A ``!trap`` is kept in its reply rather than raised, so an
expected one (``monitor-traffic`` on an interface that is gone) does not lose
the others; `Reply.table` raises it where the caller wants it raised.

The replies fill in place: a caller whose deadline ends the batch (a ping and a
torch that stream for seconds) still holds what arrived (`Batch.replies`). The
connection is closed after that, which ends whatever the router still runs.
A reply too long to hold (a torch's rows, second after second) is handed row by
row to its ask's `Ask.each` instead of kept: the row ceiling still counts them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import add

from librouteros.exceptions import TrapError

from bot.routeros.connection import RawApi, sentence_attributes, trap_error
from bot.routeros.parse import MalformedReply
from bot.routeros.sentences import QUESTION, ReplyLimit, ReplyTooLarge

TAG_PREFIX = ".tag="


#: Takes one row as it arrives: its attributes, and the sentence as read (for
#: words the attributes leave out, such as torch's ``.section``).
RowSink = Callable[[dict[str, str], list[str]], None]


@dataclass(frozen=True)
class Ask:
    """One command of a batch: its path, its words, the ceiling of its reply,
    and `each`, when its rows are handed over as they arrive rather than kept
    in `Reply.rows` (what memory it holds is then the sink's to bound)."""

    command: str
    words: tuple[str, ...] = ()
    limit: ReplyLimit = QUESTION
    each: RowSink | None = None


@dataclass
class Reply:
    """One command's reply as it arrives: rows (a ``!done`` with words, such as
    ``=ret=``, counts as a row, as in `RawApi.readTable`), its first trap, and
    whether its ``!done`` came. `count`: the ``!re`` rows received, kept or
    handed to `Ask.each`."""

    rows: list[dict[str, str]] = field(default_factory=list)
    trap: TrapError | None = None
    done: bool = False
    count: int = 0

    def table(self) -> list[dict[str, str]]:
        """The rows, or the trap raised: for a command that must not fail."""
        if self.trap is not None:
            raise self.trap
        return self.rows


class Batch:
    """Commands sent at once on one session (see the module's docstring)."""

    def __init__(self, asks: Sequence[Ask]) -> None:
        if not asks:
            raise ValueError("a batch needs at least one command")
        self.asks = tuple(asks)
        self.replies = [Reply() for _ in self.asks]

    async def run(self, api: RawApi) -> list[Reply]:
        """Send every ask, then read until every reply is done."""
        protocol = api.protocol
        protocol.limit = reduce(add, (ask.limit for ask in self.asks))
        for tag, ask in enumerate(self.asks):
            await protocol.writeSentence(ask.command, *ask.words, f"{TAG_PREFIX}{tag}")
        pending = len(self.asks)
        while pending:
            for sentence in await protocol.readSentences():
                reply_word, words = sentence_attributes(sentence)
                tag = _tag_of(sentence, len(self.asks))
                reply, ask = self.replies[tag], self.asks[tag]
                if reply.done:
                    raise MalformedReply(f"a sentence for tag {tag} after its !done")
                if reply_word == "!re":
                    ceiling = ask.limit.rows
                    if reply.count >= ceiling:
                        protocol.cut(
                            ReplyTooLarge("rows", ceiling, f"a reply of over {ceiling} rows")
                        )
                    reply.count += 1
                    if ask.each is None:
                        reply.rows.append(words)
                    else:
                        ask.each(words, sentence)
                elif reply_word == "!trap":
                    if reply.trap is None:
                        reply.trap = trap_error(words)
                elif reply_word == "!done":
                    if words and ask.each is not None:
                        ask.each(words, sentence)
                    elif words:
                        reply.rows.append(words)
                    reply.done = True
                    pending -= 1
                # `!empty` (RouterOS 7.18+, an empty print) carries nothing.
        return self.replies


def _tag_of(sentence: list[str], asks: int) -> int:
    """The place of the command `sentence` answers; a sentence without a tag, or
    with one we did not send, is a `MalformedReply` (it would otherwise be
    read as part of the wrong reply)."""
    for word in sentence[1:]:
        if word.startswith(TAG_PREFIX):
            value = word[len(TAG_PREFIX) :]
            if value.isascii() and value.isdigit() and len(value) < 6 and int(value) < asks:
                return int(value)
            break
    raise MalformedReply(f"reply sentence {sentence[0][:20]!r} without one of our tags")
