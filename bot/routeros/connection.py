"""Opening a RouterOS API session, and what any failure of one means.

* **TCP or TLS** as the node's mode asks (`TlsContexts`, see `bot.routeros.tls`),
  each kind of client context made once.
* **No password to an unauthenticated router**: on a ``tls=yes`` node the
  certificate is verified (CA and address by the handshake, or the pinned
  fingerprint here) before ``/login`` is written.
* **Every connection is aborted on exit**, on every path (`connect`): after an
  error the protocol may be out of step, and a graceful TLS close could wait on
  a stalled router long after the deadline.
* Replies are read as **raw strings** (`RawApi`): librouteros would turn a PPPoE
  user named ``20513`` into an int and ``yes`` into True.

Every library, socket and TLS error is mapped to `bot.errors.RouterError` in one
place, `mapped_errors`. How many sessions a router gets, and the deadline, are
the client's (`bot.routeros.client`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from librouteros.api import AsyncApi
from librouteros.exceptions import (
    ConnectionClosed,
    FatalError,
    LibRouterosError,
    MultiTrapError,
    TrapError,
)
from librouteros.login import async_plain

from bot.errors import (
    RouterAuthFailed,
    RouterCertificateError,
    RouterError,
    RouterProtocolError,
    RouterRefused,
    RouterReplyTooLarge,
    RouterTimeout,
    RouterTLSError,
    RouterUnreachable,
)
from bot.model import Node, TlsMode, shown_fingerprint
from bot.routeros.parse import MalformedReply
from bot.routeros.sentences import ReplyTooLarge
from bot.routeros.tls import fingerprint as sha256_fingerprint
from bot.routeros.tls import insecure_context, pinned_context, verified_context
from bot.routeros.transport import BufferedApiProtocol, ReplyStalled

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Rows a big list loses between two yields to the event loop (`drop`).
_DROP_SLICE = 10_000


class RawApi(AsyncApi):
    """librouteros's AsyncApi, but every value stays the string the router sent.

    librouteros casts ``"20513"`` to ``20513`` and ``"yes"`` to True on parse,
    which corrupts PPPoE user names; Beholder parses what it needs itself.
    """

    protocol: BufferedApiProtocol

    async def readSentence(self) -> tuple[str, dict[str, str]]:
        [words] = await self.protocol.readSentences(1)
        return sentence_attributes(words)

    async def readTable(self, convert: Callable[[dict[str, str]], T | None]) -> list[T]:
        """The rows of one reply, each passed through `convert` as it arrives.

        Rows are ``!re`` sentences and a ``!done`` that carries words (``=ret=``),
        as in librouteros's ``readResponse``; None from `convert` drops a row.
        Unlike it, no list of every row's dict is built first (a sync pull keeps
        a compact tuple per row, made as the row arrives), the sentences already
        parsed are taken in one await (`BufferedApiProtocol.readSentences`, not
        a few per row: a pull reads hundreds of thousands), and a ``!trap`` is a
        TrapError whatever its words (librouteros raises TypeError on a word it
        does not expect, which would escape `mapped_errors`).
        """
        rows: list[T] = []
        traps: list[TrapError] = []
        read = self.protocol.readSentences
        try:
            done = False
            while not done:
                for sentence in await read():
                    reply_word, words = sentence_attributes(sentence)
                    if reply_word == "!trap":
                        traps.append(trap_error(words))
                    elif reply_word in ("!re", "!done") and words:
                        row = convert(words)
                        if row is not None:
                            rows.append(row)
                    done = reply_word == "!done"  # the last of its batch
        except BaseException:
            # The error's traceback keeps this frame alive, and a sync keeps
            # the error in its results: without this, the rows read before a
            # reply was cut (up to BEHOLDER_SYNC_MAX_ROWS) would stay in memory.
            await drop(rows)
            raise
        if len(traps) > 1:
            raise MultiTrapError(*traps)
        if traps:
            raise traps[0]
        return rows

    async def readResponse(self) -> list[dict[str, str]]:  # type: ignore[override]
        return await self.readTable(_as_is)


def sentence_attributes(sentence: list[str]) -> tuple[str, dict[str, str]]:
    """A sentence's reply word and its ``=key=value`` words as a dict of strings.

    ``.tag`` words are skipped; any other word is a `MalformedReply`. This
    runs for every word of every row of a pull, so the common word takes one
    ``split`` that both checks the leading ``=`` and cuts key from value.
    """
    reply_word = sentence[0]
    if not reply_word.startswith("!"):
        raise MalformedReply(f"reply does not start with '!': {reply_word[:40]!r}")
    attributes: dict[str, str] = {}
    for word in sentence[1:]:
        try:
            head, key, value = word.split("=", 2)  # "=key=value": nearly every word
            attribute = not head
        except ValueError:  # at most one "=": "=key" is a key with an empty value
            attribute = word.startswith("=")
            key, value = word[1:], ""
        if not attribute:
            if word.startswith("."):  # .tag=…
                continue
            raise MalformedReply(f"malformed attribute word {word[:40]!r}")
        attributes[key] = value
    return reply_word, attributes


async def drop(rows: list[T]) -> None:
    """Empty a big list a slice at a time, letting the event loop run in between
    (200,000 rows freed at once hold it for some 20 ms)."""
    try:
        while len(rows) > _DROP_SLICE:
            del rows[-_DROP_SLICE:]
            await asyncio.sleep(0)
    finally:
        rows.clear()


def trap_error(words: dict[str, str]) -> TrapError:
    """A ``!trap``'s words as the `TrapError` it raises: its message, and its
    category when that is a short ASCII number (``isdigit`` alone takes "²",
    which `int` refuses, and a router's 5,000 digits, which `int` refuses too)."""
    category = words.get("category", "")
    numbered = category.isascii() and category.isdigit() and len(category) < 6
    return TrapError(words.get("message", ""), int(category) if numbered else None)


def _as_is(row: dict[str, str]) -> dict[str, str]:
    return row


# -- opening a session -------------------------------------------------------------------


class TlsContexts:
    """The client TLS contexts by kind ("verified", "pinned", "insecure"), each made
    once: building one reads the CA file and costs more than a handshake."""

    def __init__(self, ca_file: Path | None) -> None:
        self._ca_file = ca_file
        self._made: dict[str, ssl.SSLContext] = {}

    def get(self, kind: str) -> ssl.SSLContext:
        if kind not in self._made:
            if kind == "verified":
                self._made[kind] = verified_context(self._ca_file)
            elif kind == "pinned":
                self._made[kind] = pinned_context()
            else:
                self._made[kind] = insecure_context()
        return self._made[kind]

    def for_node(self, node: Node) -> ssl.SSLContext | None:
        """The context `node`'s mode asks for (`bot.routeros.tls`); None: plain API."""
        match node.tls:
            case TlsMode.NO:
                return None
            case TlsMode.INSECURE:
                return self.get("insecure")
            case _:
                return self.get("pinned" if node.tls_fingerprint else "verified")


@dataclass(frozen=True)
class Connection:
    """One open connection's two streams."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@asynccontextmanager
async def connect(
    node: Node, tls: ssl.SSLContext | None, handshake_timeout: float
) -> AsyncIterator[Connection]:
    """A TCP (or TLS) connection to `node`; the caller provides the deadline.

    The socket is aborted on exit, on every path: after an error the
    protocol may be out of step, and a graceful TLS close could wait on a
    stalled router long after the deadline.
    """
    try:
        reader, writer = await asyncio.open_connection(
            node.host,
            node.port,
            ssl=tls,
            # The name the certificate must carry (an IP matches IP SANs only).
            server_hostname=node.host if tls is not None else None,
            ssl_handshake_timeout=handshake_timeout if tls is not None else None,
        )
    except (ConnectionResetError, EOFError) as exc:
        if tls is None:
            raise
        # Hung up mid-handshake, without an alert: no suite in common
        # (a router offering only anonymous DH) or not an API-SSL port.
        raise RouterTLSError(node.name, "closed during the TLS handshake") from exc
    try:
        yield Connection(reader, writer)
    finally:
        writer.close()
        writer.transport.abort()


async def login(connection: Connection, node: Node, username: str, password: str) -> RawApi:
    """The API on `connection`, logged in as `username`.

    On a ``tls=yes`` node with a pinned fingerprint the router's certificate is
    compared with it first, before the ``/login`` sentence and its password are
    written (without a pin, the handshake itself verified CA and address).
    """
    if node.tls is TlsMode.YES and node.tls_fingerprint:
        _check_pin(node, peer_der(connection))
    api = RawApi(BufferedApiProtocol(connection.reader, connection.writer, encoding="utf-8"))
    try:
        await async_plain(api, username, password)
    except TrapError as exc:
        raise RouterAuthFailed(node.name, str(exc)) from exc
    return api


def peer_der(connection: Connection) -> bytes | None:
    """The router's certificate (DER) on a TLS connection; None if it sent none."""
    ssl_object = connection.writer.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        return None
    return ssl_object.getpeercert(binary_form=True)


def _check_pin(node: Node, der: bytes | None) -> None:
    """Refuse a router whose certificate is not the one pinned for it."""
    assert node.tls_fingerprint is not None
    presented = sha256_fingerprint(der) if der is not None else None
    if presented == node.tls_fingerprint:
        return
    log.warning(
        "node %s presented certificate SHA-256 %s, but %s is pinned: not logging in",
        node.name,
        shown_fingerprint(presented) if presented else "(none)",
        shown_fingerprint(node.tls_fingerprint),
    )
    raise RouterCertificateError(
        node.name,
        "certificate is not the pinned one",
        pinned=node.tls_fingerprint,
        presented=presented,
    )


# -- what a failure means ----------------------------------------------------------------


@contextmanager
def mapped_errors(node: Node, user: str | None, seconds: float) -> Iterator[None]:
    """Translate library, socket and TLS errors into `RouterError`, once."""
    try:
        yield
    except RouterError as exc:
        exc.user = exc.user or user
        raise
    except ReplyStalled as exc:
        raise RouterTimeout(node.name, str(exc), user=user, seconds=exc.seconds) from exc
    except ReplyTooLarge as exc:
        raise RouterReplyTooLarge(
            node.name, f"reply cut: {exc}", user=user, kind=exc.kind, ceiling=exc.ceiling
        ) from exc
    except TimeoutError as exc:
        raise RouterTimeout(
            node.name, f"no answer within {seconds:g}s", user=user, seconds=seconds
        ) from exc
    except ConnectionRefusedError as exc:
        raise RouterRefused(node.name, f"{node.host}:{node.port} refused", user=user) from exc
    except ssl.SSLCertVerificationError as exc:
        # The handshake refused the router (CA or address): nothing was sent.
        log.warning("node %s: certificate not verified: %s", node.name, exc.verify_message)
        raise RouterCertificateError(
            node.name, f"certificate not verified: {exc.verify_message}", user=user
        ) from exc
    except ssl.SSLError as exc:
        raise RouterTLSError(node.name, f"TLS: {exc.reason or exc}", user=user) from exc
    except (ConnectionClosed, ConnectionResetError, BrokenPipeError, EOFError) as exc:
        raise RouterProtocolError(node.name, f"connection closed: {exc}", user=user) from exc
    except (FatalError, TrapError) as exc:
        raise RouterProtocolError(node.name, f"{type(exc).__name__}: {exc}", user=user) from exc
    except (LibRouterosError, UnicodeError, IndexError, ValueError) as exc:
        raise RouterProtocolError(node.name, f"malformed reply: {exc!r}", user=user) from exc
    except OSError as exc:
        raise RouterUnreachable(
            node.name, f"{node.host}:{node.port}: {exc.strerror or exc}", user=user
        ) from exc
