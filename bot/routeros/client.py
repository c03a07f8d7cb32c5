"""The router client: one short RouterOS API session per question.

What it guarantees, whatever the load:

* **One overall deadline per operation** (`MIKROTIK_TIMEOUT`), covering the wait
  for a free session, connect, TLS, login and every read. librouteros's own
  ``timeout`` is only a per-read socket timeout, so the deadline is ours
  (``asyncio.timeout``).
* **Every connection is closed** on every path, including cancellation
  (`bot.routeros.connection.connect`).
* **At most `max_sessions` concurrent API sessions per router**, a reading
  always finding one (`bot.routeros.slots`), so an outage in which every
  operator asks at once cannot exhaust the router's ``/ip/service max-sessions``.
* **Identical snapshots in flight share one router query.**
* ``monitor-traffic`` is always sent **with ``once``**, ``/ping`` with ``count``
  and ``/tool/torch`` with ``duration``: without them the router streams
  forever and nothing would ever end the command (the commands themselves,
  sent together where a question needs several: `bot.routeros.reads`).
* **No password to an unauthenticated router** (`bot.routeros.connection.login`).
* **Every reply has a ceiling** of rows and bytes for its command
  (`bot.routeros.sentences.ReplyLimit`): a question expects a handful of rows, a live
  view's sample one, a sync pull at most `sync_max_rows`. Past it the
  connection is closed and `RouterReplyTooLarge` raised: a hostile or broken
  router cannot make Beholder hold more than that.
* **A sync pull fails fast on silence**: connect and login within `timeout`,
  then no more than `timeout` without a byte; only a pull that keeps flowing
  may take up to `sync_timeout` (what it reads: `bot.routeros.pull`).

Opening a session (TCP or TLS, the pin check, login) and turning every library,
socket and TLS error into a `bot.errors.RouterError`, in one place
(`mapped_errors`), are `bot.routeros.connection`'s; what is asked on a session
and how its replies are read, `bot.routeros.reads`'s. This module decides
when a session may be opened, for how long, and which question it carries.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot import metrics
from bot.config import Settings, env_suffix
from bot.errors import (
    RouterBusy,
    RouterCertificateError,
    RouterError,
    RouterTimeout,
    RouterTLSError,
)
from bot.inflight import InFlight
from bot.model import (
    Node,
    NodeCheck,
    NodeTables,
    Probe,
    Sample,
    Secret,
    Snapshot,
)
from bot.routeros.breaker import CircuitBreaker
from bot.routeros.connection import (
    Connection,
    RawApi,
    TlsContexts,
    connect,
    login,
    mapped_errors,
    peer_der,
)
from bot.routeros.parse import (
    interface_name,
    parse_int,
    secret_from_row,
)
from bot.routeros.pull import SECRET_PROPLIST, node_tables, read_tables
from bot.routeros.reads import ProbeReads, read_sample, read_snapshot, rows_of
from bot.routeros.slots import SessionSlots, new_question, queue_to_blame

log = logging.getLogger(__name__)

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
    #: Our own queue to each router (`bot.routeros.slots`).
    _slots: SessionSlots = field(init=False, repr=False)
    _inflight: InFlight[tuple[str, int, str], Snapshot] = field(
        default_factory=InFlight, repr=False
    )
    #: Client TLS contexts by kind ("verified", "pinned", "insecure"), made once.
    _tls: TlsContexts = field(init=False, repr=False)
    #: Routers that failed repeatedly just now are not asked for a while.
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker, repr=False)

    def __post_init__(self) -> None:
        self._slots = SessionSlots(self.max_sessions)
        self._tls = TlsContexts(self.tls_ca_file)

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
        return await self._inflight.join(
            (node.host, node.port, user), lambda: self._snapshot(node, user), f"snapshot {user}"
        )

    async def pull(self, node: Node) -> NodeTables:
        """The node's whole ``/ppp/secret`` table (without passwords) and its
        ``/ppp/active`` sessions, on one API session, for `sync`.

        Connect and login get the deadline of any question (`timeout`); then a
        read may wait `timeout` for a byte, so a router that goes silent fails
        as fast as for a question, while a slow but flowing pull may take
        `sync_timeout` in all. Each table is cut at `pull_limit`.

        The rows are read as tuples (`bot.routeros.pull.read_tables`) and
        converted once the session is closed, a slice at a time, each slice of
        tuples freed once converted, so the two forms of a table are never held
        whole at once.
        """
        with self._counted(node), mapped_errors(node, None, self.sync_timeout):
            async with asyncio.timeout(self.sync_timeout), AsyncExitStack() as stack:
                # Background work: never the session a reading needs (`spare`).
                await stack.enter_async_context(self._slots.spare(node, self.sync_timeout))
                with mapped_errors(node, None, self.timeout):
                    async with asyncio.timeout(self.timeout):
                        api = await stack.enter_async_context(self.session(node))
                api.protocol.idle_timeout = self.timeout
                secrets, active = await read_tables(api, self.sync_max_rows)
        return await node_tables(secrets, active, node.name)

    async def find_secret(self, node: Node, user: str) -> Secret | None:
        """One secret by exact name (a targeted pull), within the usual deadline.

        Targeted pulls are for names nobody may have typed right, so they never
        take the sessions readings need: at most `PULL_SESSIONS` of a router's
        `max_sessions` at a time, and only a spare one (`SessionSlots.spare`, shared with
        live views). Pulls wait for that turn among themselves,
        so at most one stands in the session queue ahead of a reading however
        many unknown names are asked at once. The turn is waited for up to the
        deadline (then `RouterBusy`); the pull itself then has a deadline of its
        own, so time spent behind other pulls is never blamed on the router.
        """
        with (
            self._counted(node),
            self._guarded(node, user),
            mapped_errors(node, user, self.timeout),
        ):
            # Entered in order: the deadline starts once the turn is ours.
            async with (
                self._slots.pull_turn(node, self.timeout),
                self._slots.spare(node, self.timeout),
                asyncio.timeout(self.timeout),
                self.session(node) as api,
            ):
                rows = await rows_of(
                    api, "/ppp/secret/print", f"?name={user}", f"=.proplist={SECRET_PROPLIST}"
                )
        return secret_from_row(rows[0], node.name) if rows else None

    async def check(self, node: Node) -> NodeCheck:
        """Log in and report what `beholder nodes check` shows."""
        started = time.monotonic()
        with self._counted(node), mapped_errors(node, None, self.timeout):
            async with asyncio.timeout(self.timeout), self.session(node) as api:
                logged_in = time.monotonic()
                identity = await rows_of(api, "/system/identity/print")
                resource = await rows_of(api, "/system/resource/print", "=.proplist=version")
                sessions = await rows_of(api, "/ppp/active/print", "=count-only=")
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

        Each sample is its own ``monitor-traffic … once`` and a read of the
        subscriber's queue, sent together (`bot.routeros.reads.read_sample`): one round trip a
        second, and nothing keeps running on the router if Beholder dies
        mid-way. The session is held (and counts toward this router's
        session limit) until the watch ends: after `seconds`, when `stop` is
        set, on an error, or when the caller closes the iterator; iterate it
        inside ``contextlib.aclosing`` so that leaving early closes the session
        at once. Connecting and each sample have their
        own deadline (`timeout`); a slow sample skips the seconds it missed, so
        the watch never outlasts `seconds` by more than one deadline. A sample
        whose interface is gone (the subscriber disconnected) is yielded with
        ``traffic=None`` and ends the watch. Errors are `RouterError`.
        """
        stop = stop or asyncio.Event()
        iface = interface_name(user)
        slots = max(1, round(seconds / every))
        loop = asyncio.get_running_loop()
        with self._counted(node), mapped_errors(node, user, self.timeout):
            async with AsyncExitStack() as stack:
                await stack.enter_async_context(self._slots.spare(node, self.timeout))
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
                        traffic, queue = await read_sample(api, node, iface)
                    yield Sample(asked - started, datetime.now(UTC), traffic, queue)
                    if traffic is None:
                        break
                    # The next whole second not yet begun: a late sample skips, never bursts.
                    slot = max(slot + 1, int((loop.time() - started) / every) + 1)
                log.info("watch node=%s user=%s: ended", node.name, user)

    async def probe(
        self,
        node: Node,
        user: str,
        address: str | None,
        ping_count: int = 10,
        interval: float = 0.2,
        torch_seconds: int = 3,
    ) -> Probe:
        """Ping `address` (the session IP; None: no ping) from `node`, `ping_count`
        probes `interval` apart, and torch `user`'s interface for `torch_seconds`,
        at once on one spare session (`SessionSlots.spare`, like a live view's:
        held for seconds, it is never the one a reading needs), logged in once.

        Both are sent bounded (``count``, ``duration``) and tagged together
        (`bot.routeros.batch`). The deadline is `timeout` plus the longer of the
        two by design (``count × interval``, the torch's seconds). When it ends,
        or the router stops answering one of the two, what arrived is used: the
        probes reported so far (`PingResult.asked` says how many were asked),
        the torch averaged over the samples seen, `Probe.partial` set. Only
        when nothing at all arrived is the deadline an error (`RouterTimeout`).
        The connection is closed at the end, which ends whatever the router
        still runs.

        A torch trap (the session ended meanwhile) or a garbage rate in a torch
        row leaves the ping standing (`Probe.flows` None, logged); a garbage rate
        is a `RouterProtocolError` only when there is no ping to show.
        """
        reads = ProbeReads(user, address, ping_count, interval, torch_seconds)
        batch = reads.batch
        deadline = self.timeout + reads.by_design
        loop = asyncio.get_running_loop()
        with (
            self._counted(node),
            self._guarded(node, user),
            mapped_errors(node, user, deadline),
        ):
            async with AsyncExitStack() as stack:
                # One of the router's `DIAG_SESSIONS` turns first: however many
                # diagnoses are asked at once, live views and pulls keep a spare.
                await stack.enter_async_context(self._slots.diag_turn(node, self.timeout))
                await stack.enter_async_context(self._slots.spare(node, self.timeout))
                ends = loop.time() + deadline
                async with asyncio.timeout_at(ends):
                    api = await stack.enter_async_context(self.session(node))
                try:
                    async with asyncio.timeout_at(ends):
                        await batch.run(api)
                    cut = False
                except TimeoutError:
                    cut = True
            # Closed: whatever the router still ran ended with the connection.
            result = reads.result(cut)
            if result.ping is None and result.flows is None:
                if cut:
                    raise TimeoutError  # nothing measured: RouterTimeout, as any deadline
                if reads.garbage:
                    raise reads.garbage[0]
        for ask, reply in zip(batch.asks, batch.replies, strict=True):
            if reply.trap is not None:
                log.info("%s on %s for %s: %s", ask.command, node.name, user, reply.trap)
        if reads.garbage:
            log.info("torch on %s for %s: %s", node.name, user, reads.garbage[0])
        log.info(
            "probe node=%s user=%s ping=%s flows=%s partial=%s",
            node.name,
            user,
            f"{result.ping.received}/{result.ping.sent}" if result.ping else "-",
            len(result.flows) if result.flows is not None else "-",
            result.partial,
        )
        return result

    # -- internals --

    async def _snapshot(self, node: Node, user: str) -> Snapshot:
        started = time.monotonic()
        # Counted here, in the query twins share: once per router query, not per asker.
        with (
            self._counted(node),
            self._guarded(node, user),
            mapped_errors(node, user, self.timeout),
        ):
            async with asyncio.timeout(self.timeout), self.session(node) as api:
                snapshot = await read_snapshot(api, node, user)
        latency = time.monotonic() - started
        log.info(
            "snapshot node=%s user=%s online=%s %.0fms",
            node.name,
            user,
            snapshot.online,
            latency * 1000,
        )
        return Snapshot(**{**snapshot.__dict__, "latency_s": latency})

    def sessions_in_use(self) -> dict[str, int]:
        """API sessions held right now, by node name (for ``/metrics``)."""
        return self._slots.in_use()

    @staticmethod
    @contextmanager
    def _counted(node: Node) -> Iterator[None]:
        """Count the `RouterError` this operation on `node` ends with, by its class,
        for ``/metrics``; the outermost wrapper of each operation, so once."""
        try:
            yield
        except RouterError as exc:
            metrics.router_error(node.name, exc)
            raise

    @contextmanager
    def _guarded(self, node: Node, user: str | None) -> Iterator[None]:
        """Skip a router whose circuit is open; count this call's outcome."""
        self.breaker.before(node.name, user)
        new_question()
        try:
            yield
        except RouterTimeout as exc:
            # Still waiting for a slot, or the router got only what our own queue
            # left of the deadline: busy here, not counted against the router.
            if queue_to_blame(exc.seconds):
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

    async def peer_certificate(self, node: Node) -> bytes:
        """The certificate (DER) `node`'s API-SSL presents, for ``nodes trust``.

        Handshake only, without verifying (that is the point: the operator
        compares what is shown) and without ever logging in; anonymous DH is not
        offered, so a router without a certificate fails with `RouterTLSError`.
        Within the usual deadline and this router's session limit.
        """
        if not node.tls:  # the operator's mistake, not the router's: not counted
            raise RouterTLSError(node.name, f"{node.host}:{node.port} is the plain API (tls=no)")
        with self._counted(node), mapped_errors(node, None, self.timeout):
            async with (
                asyncio.timeout(self.timeout),
                self._connection(node, self._tls.get("pinned")) as conn,
            ):
                der = peer_der(conn)
        if der is None:
            raise RouterCertificateError(node.name, "no certificate presented")
        return der

    @asynccontextmanager
    async def session(self, node: Node) -> AsyncIterator[RawApi]:
        """A logged-in API session, within this router's session limit.

        The caller provides the deadline. On a ``tls=yes`` node the router is
        authenticated before the ``/login`` sentence and its password are
        written (`bot.routeros.connection.login`).
        """
        async with self._connection(node, self._tls.for_node(node)) as conn:
            username, password = self.node_credentials.get(
                env_suffix(node.name), (self.username, self.password)
            )
            yield await login(conn, node, username, password)

    @asynccontextmanager
    async def _connection(
        self, node: Node, tls: ssl.SSLContext | None
    ) -> AsyncIterator[Connection]:
        """A TCP (or TLS) connection to `node` (`bot.routeros.connection.connect`),
        within this router's session limit."""
        async with self._slots.session(node), connect(node, tls, self.timeout) as conn:
            yield conn
