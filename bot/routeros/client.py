"""The router client: one short RouterOS API session per question.

What it guarantees, whatever the load:

* **One overall deadline per operation** (`MIKROTIK_TIMEOUT`), covering the wait
  for a free session, connect, TLS, login and every read. librouteros's own
  ``timeout`` is only a per-read socket timeout, so the deadline is ours
  (``asyncio.timeout``).
* **Every connection is closed** on every path, including cancellation.
* **At most `max_sessions` concurrent API sessions per router** (a semaphore per
  host and port), so an outage in which every operator asks at once cannot
  exhaust the router's ``/ip/service max-sessions``.
* **Identical snapshots in flight share one router query.**
* ``monitor-traffic`` is always sent **with ``once``**: without it the router
  streams forever and nothing would ever end the command.
* **No password to an unauthenticated router**: on a ``tls=yes`` node the
  certificate is verified (CA and address, or the pinned fingerprint, see
  `bot.routeros.tls`) before ``/login`` is written.
* **Every reply has a ceiling** of rows and bytes for its command
  (`bot.routeros.transport.ReplyLimit`): a question expects a handful of rows, a live
  view's sample one, a sync pull at most `sync_max_rows`. Past it the
  connection is closed and `RouterReplyTooLarge` raised: a hostile or broken
  router cannot make Beholder hold more than that.
* **A sync pull fails fast on silence**: connect and login within `timeout`,
  then no more than `timeout` without a byte; only a pull that keeps flowing
  may take up to `sync_timeout`.

Replies are read as raw strings (`RawApi`): librouteros would turn a PPPoE user
named ``20513`` into an int and ``yes`` into True.

Every library, socket and TLS error is mapped to `bot.errors.RouterError` in one
place, `_mapped_errors`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
    contextmanager,
)
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

from bot.config import Settings, env_suffix
from bot.errors import (
    RouterAuthFailed,
    RouterBusy,
    RouterCertificateError,
    RouterError,
    RouterProtocolError,
    RouterRefused,
    RouterReplyTooLarge,
    RouterTimeout,
    RouterTLSError,
    RouterUnreachable,
)
from bot.model import ActiveSession, Node, NodeCheck, NodeTables, Sample, Secret, Snapshot, TlsMode
from bot.routeros.breaker import CircuitBreaker
from bot.routeros.parse import (
    MalformedReply,
    interface_name,
    parse_int,
    queue_from_row,
    secret_from_row,
    secret_from_values,
    secret_values,
    session_from_row,
    traffic_from_row,
)
from bot.routeros.tls import fingerprint as sha256_fingerprint
from bot.routeros.tls import insecure_context, pinned_context, shown_fingerprint, verified_context
from bot.routeros.transport import (
    QUESTION,
    BufferedApiProtocol,
    ReplyLimit,
    ReplyStalled,
    ReplyTooLarge,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")

#: True while this task waits for one of our own session slots to a router.
_queued: ContextVar[bool] = ContextVar("beholder_queued_for_session", default=False)
#: Seconds this task's question has spent waiting for our own slots (`_wait_for_slot`).
_waited: ContextVar[float] = ContextVar("beholder_waited_for_session", default=0.0)
#: A timeout after the question spent at least this share of its deadline waiting
#: for our own slots is Beholder's queue (`RouterBusy`), not the router's fault.
BUSY_SHARE = 0.1

#: Properties asked of ``/ppp/secret``: everything we keep, never ``password``.
SECRET_PROPLIST = ",".join(
    (
        "name",
        "profile",
        "service",
        "disabled",
        "comment",
        "remote-address",
        "last-logged-out",
        "last-caller-id",
        "last-disconnect-reason",
    )
)
ACTIVE_PROPLIST = "name,service,caller-id,address,uptime"
#: Rows `RouterClient.pull` converts between two yields to the event loop.
_CONVERT_SLICE = 250
#: Rows a big list loses between two yields to the event loop (`_drop`).
_DROP_SLICE = 10_000
#: Distinct values a sync pull shares one string object for, in the columns
#: that repeat (profile, service, disabled, disconnect reason): saves memory on
#: big tables; past it (a hostile router's unique values) they are kept as sent.
_SHARED_VALUES = 4096
#: What `RouterClient.pull` keeps of each ``/ppp/active`` row (see `ActiveSession`).
PULL_ACTIVE_PROPLIST = "name,caller-id,address,uptime"
QUEUE_PROPLIST = "name,max-limit,rate,queued-bytes,dropped"
#: API sessions to one router that targeted pulls (`RouterClient.find_secret`) may hold.
PULL_SESSIONS = 1

#: One ``monitor-traffic once`` of a live view: one row.
SAMPLE = ReplyLimit(rows=1, bytes=64 * 1024)
#: Bytes a sync pull allows per ``/ppp/secret`` row on average (non-ASCII words
#: counted as Python holds them, `bot.routeros.transport.SentenceParser`). A row with
#: `SECRET_PROPLIST` is about 250 bytes on the wire (the keys alone are 100;
#: name, profile, a MAC, a date, a 40-character comment), 500 with a long
#: comment: 384 lets a table have half its rows that long. What the bot holds
#: for a table is a few times its bytes (a string object per value, a tuple,
#: then a `Secret`), so this is what keeps a pull of 200,000 rows in memory
#: well under 250 MB.
PULL_SECRET_BYTES_PER_ROW = 384
#: The same for ``/ppp/active`` with `PULL_ACTIVE_PROPLIST`: name, a MAC, an
#: address and an uptime make about 100 bytes; twice that for long names.
PULL_ACTIVE_BYTES_PER_ROW = 192
#: Longest word of a sync pull (key and value): RouterOS names, profiles,
#: addresses and dates are tens of bytes, and comments an operator types a
#: few hundred at most; a word of 4 KiB is no subscriber's. Without this one
#: row could hold its 4 MiB sentence ceiling, and a table its whole byte
#: budget, in a handful of rows.
PULL_FIELD_BYTES = 4096
#: Most words in one row of a sync pull: the reply word, a `.id` and the
#: properties asked (9 of `SECRET_PROPLIST`). A router sending rows of a
#: thousand tiny words would otherwise spend minutes of our CPU within the
#: byte ceiling.
PULL_ROW_WORDS = 32


def pull_limit(max_rows: int, bytes_per_row: int = PULL_SECRET_BYTES_PER_ROW) -> ReplyLimit:
    """Ceiling of one table of a sync pull: `max_rows` rows (BEHOLDER_SYNC_MAX_ROWS),
    `bytes_per_row` bytes per row on average, `PULL_FIELD_BYTES` per word and
    `PULL_ROW_WORDS` words per row."""
    return ReplyLimit(
        rows=max_rows,
        bytes=max_rows * bytes_per_row,
        field=PULL_FIELD_BYTES,
        words=PULL_ROW_WORDS,
    )


# -- librouteros with raw values ---------------------------------------------------


class RawApi(AsyncApi):
    """librouteros's AsyncApi, but every value stays the string the router sent.

    librouteros casts ``"20513"`` to ``20513`` and ``"yes"`` to True on parse,
    which corrupts PPPoE user names; Beholder parses what it needs itself.
    """

    protocol: BufferedApiProtocol

    async def readSentence(self) -> tuple[str, dict[str, str]]:
        reply_word, words = await self.protocol.readSentence()
        if not reply_word.startswith("!"):
            raise MalformedReply(f"reply does not start with '!': {reply_word[:40]!r}")
        attributes: dict[str, str] = {}
        for word in words:
            if not word.startswith("="):
                if word.startswith("."):  # .tag=…
                    continue
                raise MalformedReply(f"malformed attribute word {word[:40]!r}")
            key, _, value = word[1:].partition("=")
            attributes[key] = value
        return reply_word, attributes

    async def readTable(self, convert: Callable[[dict[str, str]], T | None]) -> list[T]:
        """The rows of one reply, each passed through `convert` as it arrives.

        Rows are ``!re`` sentences and a ``!done`` that carries words (``=ret=``),
        as in librouteros's ``readResponse``; None from `convert` drops a row.
        Unlike it, no list of every row's dict is built first (a sync pull keeps
        a compact tuple per row, made as the row arrives), and a ``!trap`` is a
        TrapError whatever its words (librouteros raises TypeError on a word it
        does not expect, which would escape `_mapped_errors`).
        """
        rows: list[T] = []
        traps: list[TrapError] = []
        try:
            while True:
                reply_word, words = await self.readSentence()
                if reply_word == "!trap":
                    category = words.get("category", "")
                    traps.append(
                        TrapError(
                            words.get("message", ""), int(category) if category.isdigit() else None
                        )
                    )
                elif reply_word in ("!re", "!done") and words:
                    row = convert(words)
                    if row is not None:
                        rows.append(row)
                if reply_word == "!done":
                    break
        except BaseException:
            # The error's traceback keeps this frame alive, and a sync keeps
            # the error in its results: without this, the rows read before a
            # reply was cut (up to BEHOLDER_SYNC_MAX_ROWS) would stay in memory.
            await _drop(rows)
            raise
        if len(traps) > 1:
            raise MultiTrapError(*traps)
        if traps:
            raise traps[0]
        return rows

    async def readResponse(self) -> list[dict[str, str]]:  # type: ignore[override]
        return await self.readTable(_as_is)


async def _drop(rows: list[T]) -> None:
    """Empty a big list a slice at a time, letting the event loop run in between
    (200,000 rows freed at once hold it for some 20 ms)."""
    try:
        while len(rows) > _DROP_SLICE:
            del rows[-_DROP_SLICE:]
            await asyncio.sleep(0)
    finally:
        rows.clear()


async def _converted(rows: list[T], convert: Callable[[T], U]) -> list[U]:
    """`rows` converted a slice at a time, in order, letting the event loop (an
    operator's question) run in between; each slice leaves `rows` as it is
    converted, so a table is not held twice. `rows` ends empty.

    Freeing as it goes also spares the event loop: each tuple freed takes one
    off the allocation count that starts a collection, so the new objects are
    walked by the collector in one young-generation pass (about 40 ms for
    200,000 `Secret`s) instead of full collections repeated as they pile up
    (10, 25, 45, 75, 97 ms when the tuples were kept until the end)."""
    rows.reverse()  # slices leave from the end: no list shifted per slice
    done: list[U] = []
    while rows:
        piece = rows[-_CONVERT_SLICE:]
        del rows[-_CONVERT_SLICE:]
        piece.reverse()
        done.extend(map(convert, piece))
        del piece
        if rows:
            await asyncio.sleep(0)
    return done


def _as_is(row: dict[str, str]) -> dict[str, str]:
    return row


# -- the client ------------------------------------------------------------------------


@dataclass
class RouterClient:
    """Talks to routers on behalf of every Slack command and CLI call.

    One instance per process: it owns the per-router session limits and the
    table of snapshots in flight, and must be used from one event loop.
    """

    username: str
    password: str = field(repr=False)
    timeout: float = 5.0
    max_sessions: int = 4
    sync_timeout: float = 120.0
    #: Most rows one table of a sync pull may have (BEHOLDER_SYNC_MAX_ROWS).
    sync_max_rows: int = 200_000
    tls_ca_file: Path | None = None
    #: Per-node (user, password) by `bot.config.env_suffix` of the node name.
    node_credentials: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _limits: dict[tuple[str, int], asyncio.Semaphore] = field(default_factory=dict, repr=False)
    _pull_turns: dict[tuple[str, int], asyncio.Semaphore] = field(default_factory=dict, repr=False)
    _spares: dict[tuple[str, int], asyncio.Semaphore] = field(default_factory=dict, repr=False)
    _inflight: dict[tuple[str, int, str], asyncio.Task[Snapshot]] = field(
        default_factory=dict, repr=False
    )
    #: Client TLS contexts by kind ("verified", "pinned", "insecure"), made once.
    _tls: dict[str, ssl.SSLContext] = field(default_factory=dict, repr=False)
    #: Routers that failed repeatedly just now are not asked for a while.
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RouterClient:
        return cls(
            username=settings.mikrotik_user,
            password=settings.mikrotik_password,
            timeout=settings.mikrotik_timeout,
            max_sessions=settings.mikrotik_max_sessions,
            sync_timeout=settings.sync_timeout,
            sync_max_rows=settings.sync_max_rows,
            tls_ca_file=settings.tls_ca_file,
            node_credentials=settings.node_credentials,
        )

    # -- public operations --

    async def snapshot(self, node: Node, user: str) -> Snapshot:
        """One instant reading of `user` on `node`; concurrent twins share it."""
        key = (node.host, node.port, user)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._snapshot(node, user), name=f"snapshot {user}")
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._forget(key, t))
        # shield: one impatient caller must not cancel the query the others await.
        return await asyncio.shield(task)

    async def pull(self, node: Node) -> NodeTables:
        """The node's whole ``/ppp/secret`` table (without passwords) and its
        ``/ppp/active`` sessions, on one API session, for `sync`.

        Connect and login get the deadline of any question (`timeout`); then a
        read may wait `timeout` for a byte, so a router that goes silent fails
        as fast as for a question, while a slow but flowing pull may take
        `sync_timeout` in all. Each table is cut at `pull_limit`.

        The rows are read as tuples (see `_secret_values`) and converted a
        slice at a time, each slice of tuples freed once converted, so the two
        forms of a table are never held whole at once.
        """
        with _mapped_errors(node, None, self.sync_timeout):
            async with asyncio.timeout(self.sync_timeout), AsyncExitStack() as stack:
                # Background work: never the session a reading needs (`_spare`).
                await stack.enter_async_context(self._spare(node, wait=self.sync_timeout))
                with _mapped_errors(node, None, self.timeout):
                    async with asyncio.timeout(self.timeout):
                        api = await stack.enter_async_context(self.session(node))
                api.protocol.idle_timeout = self.timeout
                secrets = await _response(
                    api,
                    pull_limit(self.sync_max_rows, PULL_SECRET_BYTES_PER_ROW),
                    _secret_values(),
                    "/ppp/secret/print",
                    f"=.proplist={SECRET_PROPLIST}",
                )
                try:
                    active = await _response(
                        api,
                        pull_limit(self.sync_max_rows, PULL_ACTIVE_BYTES_PER_ROW),
                        _session_values,
                        "/ppp/active/print",
                        f"=.proplist={PULL_ACTIVE_PROPLIST}",
                    )
                except BaseException:
                    await _drop(secrets)  # see `RawApi.readTable`: not kept by the traceback
                    raise
        name = node.name
        try:
            return NodeTables(
                secrets=await _converted(secrets, lambda v: secret_from_values(v, name)),
                sessions=await _converted(active, lambda v: ActiveSession(*v)),
            )
        finally:  # cancelled midway: what is left goes too, not kept by the traceback
            await _drop(secrets)
            await _drop(active)

    async def find_secret(self, node: Node, user: str) -> Secret | None:
        """One secret by exact name (a targeted pull), within the usual deadline.

        Targeted pulls are for names nobody may have typed right, so they never
        take the sessions readings need: at most `PULL_SESSIONS` of a router's
        `max_sessions` at a time, and only a spare one (`_spare`, shared with
        live views). Pulls wait for that turn among themselves,
        so at most one stands in the session queue ahead of a reading however
        many unknown names are asked at once. The turn is waited for up to the
        deadline (then `RouterBusy`); the pull itself then has a deadline of its
        own, so time spent behind other pulls is never blamed on the router.
        """
        with self._guarded(node, user), _mapped_errors(node, user, self.timeout):
            # Entered in order: the deadline starts once the turn is ours.
            async with (
                self._pull_turn(node),
                self._spare(node),
                asyncio.timeout(self.timeout),
                self.session(node) as api,
            ):
                rows = await _rows(
                    api, "/ppp/secret/print", f"?name={user}", f"=.proplist={SECRET_PROPLIST}"
                )
        return secret_from_row(rows[0], node.name) if rows else None

    async def check(self, node: Node) -> NodeCheck:
        """Log in and report what `beholder nodes check` shows."""
        started = time.monotonic()
        with _mapped_errors(node, None, self.timeout):
            async with asyncio.timeout(self.timeout), self.session(node) as api:
                logged_in = time.monotonic()
                identity = await _rows(api, "/system/identity/print")
                resource = await _rows(api, "/system/resource/print", "=.proplist=version")
                sessions = await _rows(api, "/ppp/active/print", "=count-only=")
        count = None
        if sessions and "ret" in sessions[-1]:
            count = parse_int(sessions[-1]["ret"], default=-1)
        return NodeCheck(
            node=node.name,
            identity=identity[0].get("name", "") if identity else "",
            version=resource[0].get("version", "") if resource else "",
            login_s=logged_in - started,
            pppoe_sessions=count if count is not None and count >= 0 else None,
        )

    async def watch(
        self,
        node: Node,
        user: str,
        seconds: float,
        stop: asyncio.Event | None = None,
        *,
        every: float = 1.0,
    ) -> AsyncIterator[Sample]:
        """`user`'s traffic once per `every` seconds for `seconds`, on one API session.

        Each sample is its own ``monitor-traffic … once``: nothing keeps running
        on the router if Beholder dies mid-way. The session is held (and counts
        toward this router's session limit) until the watch ends: after
        `seconds`, when `stop` is set, on an error, or when the caller closes
        the iterator; iterate it inside ``contextlib.aclosing`` so that leaving
        early closes the session at once. Connecting and each sample have their
        own deadline (`timeout`); a slow sample skips the seconds it missed, so
        the watch never outlasts `seconds` by more than one deadline. A sample
        whose interface is gone (the subscriber disconnected) is yielded with
        ``traffic=None`` and ends the watch. Errors are `RouterError`.
        """
        stop = stop or asyncio.Event()
        iface = interface_name(user)
        slots = max(1, round(seconds / every))
        loop = asyncio.get_running_loop()
        with _mapped_errors(node, user, self.timeout):
            async with AsyncExitStack() as stack:
                await stack.enter_async_context(self._spare(node))  # never a reading's
                async with asyncio.timeout(self.timeout):
                    api = await stack.enter_async_context(self.session(node))
                log.info("watch node=%s user=%s %gs: started", node.name, user, seconds)
                started = loop.time()
                slot = 0
                while slot < slots and not stop.is_set():
                    wait = started + slot * every - loop.time()
                    if wait > 0:
                        try:
                            await asyncio.wait_for(stop.wait(), wait)
                            break  # stopped while waiting for the next second
                        except TimeoutError:
                            pass
                    asked = loop.time()
                    async with asyncio.timeout(self.timeout):
                        try:
                            rows = await _rows(
                                api,
                                "/interface/monitor-traffic",
                                f"=interface={iface}",
                                "=once=",
                                limit=SAMPLE,
                            )
                        except TrapError as exc:
                            log.info("watch %s on %s: %s", iface, node.name, exc)
                            rows = None
                    traffic = traffic_from_row(rows[0]) if rows else None
                    yield Sample(asked - started, datetime.now(UTC), traffic)
                    if traffic is None:
                        break
                    # The next whole second not yet begun: a late sample skips, never bursts.
                    slot = max(slot + 1, int((loop.time() - started) / every) + 1)
                log.info("watch node=%s user=%s: ended", node.name, user)

    # -- internals --

    def _forget(self, key: tuple[str, int, str], task: asyncio.Task[Snapshot]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an orphaned failure is not logged twice

    async def _snapshot(self, node: Node, user: str) -> Snapshot:
        started = time.monotonic()
        with self._guarded(node, user), _mapped_errors(node, user, self.timeout):
            async with asyncio.timeout(self.timeout), self.session(node) as api:
                snapshot = await _read_snapshot(api, node, user)
        latency = time.monotonic() - started
        log.info(
            "snapshot node=%s user=%s online=%s %.0fms",
            node.name,
            user,
            snapshot.online,
            latency * 1000,
        )
        return Snapshot(**{**snapshot.__dict__, "latency_s": latency})

    @contextmanager
    def _guarded(self, node: Node, user: str | None) -> Iterator[None]:
        """Skip a router whose circuit is open; count this call's outcome."""
        self.breaker.before(node.name, user)
        _queued.set(False)
        _waited.set(0.0)
        try:
            yield
        except RouterTimeout as exc:
            # Still waiting for a slot, or the router got only what our own queue
            # left of the deadline: busy here, not counted against the router.
            if _queued.get() or _waited.get() >= BUSY_SHARE * exc.seconds:
                self.breaker.release(node.name)
                raise RouterBusy(
                    node.name,
                    f"no free API session within {exc.seconds:g}s ({self.max_sessions} in use)",
                    user=user,
                    seconds=exc.seconds,
                    sessions=self.max_sessions,
                ) from exc
            self.breaker.failure(node.name, exc)
            raise
        except RouterError as exc:
            self.breaker.failure(node.name, exc)
            raise
        except BaseException:
            self.breaker.release(node.name)  # cancelled: neither success nor failure
            raise
        self.breaker.success(node.name)

    def _limit(self, node: Node) -> asyncio.Semaphore:
        key = (node.host, node.port)
        if key not in self._limits:
            self._limits[key] = asyncio.Semaphore(self.max_sessions)
        return self._limits[key]

    def _pull_turn(self, node: Node) -> AbstractAsyncContextManager[None]:
        """One of this router's `PULL_SESSIONS` turns for targeted pulls."""
        return self._reserved(self._pull_turns, node, PULL_SESSIONS)

    def _spare(self, node: Node, wait: float | None = None) -> AbstractAsyncContextManager[None]:
        """One of the sessions work other than a reading may hold on `node`: live
        views and targeted pulls together take at most ``max_sessions - 1`` (but
        at least one), so however many views run and names are pulled at once, a
        reading still finds a session (with one session per router, no view runs
        and a pull may take it)."""
        return self._reserved(self._spares, node, max(1, self.max_sessions - 1), wait)

    @asynccontextmanager
    async def _reserved(
        self,
        slots: dict[tuple[str, int], asyncio.Semaphore],
        node: Node,
        size: int,
        wait: float | None = None,
    ) -> AsyncIterator[None]:
        """One of `size` slots per router in `slots`, waited for up to `wait` (the
        deadline by default), then `RouterBusy`: our own queue, not the router's fault."""
        key = (node.host, node.port)
        if key not in slots:
            slots[key] = asyncio.Semaphore(size)
        semaphore = slots[key]
        seconds = wait if wait is not None else self.timeout
        try:
            async with asyncio.timeout(seconds):
                await _wait_for_slot(semaphore)
        except TimeoutError:
            raise RouterBusy(
                node.name,
                f"no free API session within {seconds:g}s",
                seconds=seconds,
                sessions=self.max_sessions,
            ) from None
        try:
            yield
        finally:
            semaphore.release()

    def _tls_context(self, kind: str) -> ssl.SSLContext:
        if kind not in self._tls:
            if kind == "verified":
                self._tls[kind] = verified_context(self.tls_ca_file)
            elif kind == "pinned":
                self._tls[kind] = pinned_context()
            else:
                self._tls[kind] = insecure_context()
        return self._tls[kind]

    def _tls_for(self, node: Node) -> ssl.SSLContext | None:
        """The context `node`'s mode asks for (`bot.routeros.tls`); None: plain API."""
        match node.tls:
            case TlsMode.NO:
                return None
            case TlsMode.INSECURE:
                return self._tls_context("insecure")
            case _:
                return self._tls_context("pinned" if node.tls_fingerprint else "verified")

    async def peer_certificate(self, node: Node) -> bytes:
        """The certificate (DER) `node`'s API-SSL presents, for ``nodes trust``.

        Handshake only, without verifying (that is the point: the operator
        compares what is shown) and without ever logging in; anonymous DH is not
        offered, so a router without a certificate fails with `RouterTLSError`.
        Within the usual deadline and this router's session limit.
        """
        if not node.tls:
            raise RouterTLSError(node.name, f"{node.host}:{node.port} is the plain API (tls=no)")
        with _mapped_errors(node, None, self.timeout):
            async with (
                asyncio.timeout(self.timeout),
                self._connection(node, self._tls_context("pinned")) as conn,
            ):
                der = _peer_der(conn)
        if der is None:
            raise RouterCertificateError(node.name, "no certificate presented")
        return der

    @asynccontextmanager
    async def session(self, node: Node) -> AsyncIterator[RawApi]:
        """A logged-in API session, within this router's session limit.

        The caller provides the deadline. On a ``tls=yes`` node the router is
        authenticated first: by the handshake itself (CA and address), or by
        comparing its certificate with the pinned fingerprint here, before the
        ``/login`` sentence and its password are written.
        """
        async with self._connection(node, self._tls_for(node)) as conn:
            if node.tls is TlsMode.YES and node.tls_fingerprint:
                _check_pin(node, _peer_der(conn))
            api = RawApi(BufferedApiProtocol(conn.reader, conn.writer, encoding="utf-8"))
            username, password = self.node_credentials.get(
                env_suffix(node.name), (self.username, self.password)
            )
            try:
                await async_plain(api, username, password)
            except TrapError as exc:
                raise RouterAuthFailed(node.name, str(exc)) from exc
            yield api

    @asynccontextmanager
    async def _connection(
        self, node: Node, tls: ssl.SSLContext | None
    ) -> AsyncIterator[_Connection]:
        """A TCP (or TLS) connection to `node`, within this router's session limit.

        The socket is aborted on exit, on every path: after an error the
        protocol may be out of step, and a graceful TLS close could wait on a
        stalled router long after the deadline.
        """
        limit = self._limit(node)
        await _wait_for_slot(limit)
        try:
            try:
                reader, writer = await asyncio.open_connection(
                    node.host,
                    node.port,
                    ssl=tls,
                    # The name the certificate must carry (an IP matches IP SANs only).
                    server_hostname=node.host if tls is not None else None,
                    ssl_handshake_timeout=self.timeout if tls is not None else None,
                )
            except (ConnectionResetError, EOFError) as exc:
                if tls is None:
                    raise
                # Hung up mid-handshake, without an alert: no suite in common
                # (a router offering only anonymous DH) or not an API-SSL port.
                raise RouterTLSError(node.name, "closed during the TLS handshake") from exc
            try:
                yield _Connection(reader, writer)
            finally:
                writer.close()
                writer.transport.abort()
        finally:
            limit.release()


@dataclass(frozen=True)
class _Connection:
    """One open connection's two streams."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


def _peer_der(connection: _Connection) -> bytes | None:
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


async def _wait_for_slot(semaphore: asyncio.Semaphore) -> None:
    """Acquire one of our own slots, noting for `RouterClient._guarded` that this
    task is waiting (`_queued`) and for how long in all (`_waited`): time spent
    in Beholder's own queue is never the router's fault."""
    if not semaphore.locked():
        await semaphore.acquire()  # free: no wait
        return
    started = time.monotonic()
    _queued.set(True)
    try:
        await semaphore.acquire()
    finally:
        _waited.set(_waited.get() + time.monotonic() - started)
    _queued.set(False)


async def _rows(
    api: RawApi, command: str, *words: str, limit: ReplyLimit = QUESTION
) -> list[dict[str, str]]:
    """The rows of one command, its reply cut at `limit`."""
    api.protocol.limit = limit
    return [row async for row in api.rawCmd(command, *words)]


async def _response(
    api: RawApi,
    limit: ReplyLimit,
    convert: Callable[[dict[str, str]], T | None],
    command: str,
    *words: str,
) -> list[T]:
    """`_rows` for big tables: each row converted as it arrives (`RawApi.readTable`),
    without an async generator step per row."""
    api.protocol.limit = limit
    await api.protocol.writeSentence(command, *words)
    return await api.readTable(convert)


def _secret_values() -> Callable[[dict[str, str]], tuple[str, ...] | None]:
    """A sync pull's ``/ppp/secret`` row as a tuple (`secret_values`).

    Plain tuples of strings, not `Secret` objects, while the table is read:
    Python's garbage collector stops tracking such tuples, so its full
    collections do not walk 200,000 rows in the middle of a pull (over 100 ms
    of event loop each). Nameless rows are dropped; the columns that repeat
    share one string object per distinct value (up to `_SHARED_VALUES`).
    """
    shared: dict[str, str] = {}

    def share(value: str) -> str:
        kept = shared.get(value)
        if kept is None:
            if len(shared) >= _SHARED_VALUES:
                return value
            shared[value] = kept = value
        return kept

    def convert(row: dict[str, str]) -> tuple[str, ...] | None:
        return secret_values(row, share) if row.get("name") else None

    return convert


def _session_values(row: dict[str, str]) -> tuple[str, ...] | None:
    """A sync pull's ``/ppp/active`` row as a tuple of `ActiveSession`'s fields."""
    if not row.get("name"):
        return None
    return row["name"], row.get("address", ""), row.get("caller-id", ""), row.get("uptime", "")


async def _read_snapshot(api: RawApi, node: Node, user: str) -> Snapshot:
    """The three reads of routeros.md, on one session."""
    taken_at = datetime.now(UTC)
    query = f"?name={user}"
    active = await _rows(api, "/ppp/active/print", query, f"=.proplist={ACTIVE_PROPLIST}")
    if not active:
        rows = await _rows(api, "/ppp/secret/print", query, f"=.proplist={SECRET_PROPLIST}")
        secret = secret_from_row(rows[0], node.name) if rows else None
        return Snapshot(node=node.name, user=user, taken_at=taken_at, secret=secret)
    session = session_from_row(active[0])
    iface = interface_name(user)
    try:
        # `once` is what makes the command end: never send it without.
        monitor = await _rows(api, "/interface/monitor-traffic", f"=interface={iface}", "=once=")
    except TrapError as exc:
        # The session ended between the two reads: report it without figures.
        log.info("monitor-traffic %s on %s: %s", iface, node.name, exc)
        monitor = []
    taken_at = datetime.now(UTC)
    queues = await _rows(
        api, "/queue/simple/print", f"?name={iface}", f"=.proplist={QUEUE_PROPLIST}"
    )
    return Snapshot(
        node=node.name,
        user=user,
        taken_at=taken_at,
        session=session,
        traffic=traffic_from_row(monitor[0]) if monitor else None,
        queue=queue_from_row(queues[0]) if queues else None,
    )


@contextmanager
def _mapped_errors(node: Node, user: str | None, seconds: float) -> Iterator[None]:
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
