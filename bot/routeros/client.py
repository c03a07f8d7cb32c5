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
  forever and nothing would ever end the command.
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
(`mapped_errors`), are `bot.routeros.connection`'s; this module decides when a
session may be opened, for how long, and what is asked on it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
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
from bot.model import (
    Node,
    NodeCheck,
    NodeTables,
    Probe,
    QueueState,
    Sample,
    Secret,
    Snapshot,
    Traffic,
)
from bot.routeros.batch import Ask, Batch
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
    FLOWS_KEPT,
    FlowTally,
    MalformedReply,
    interface_name,
    parse_int,
    ping_from_rows,
    queue_from_row,
    secret_from_row,
    session_from_row,
    traffic_from_row,
)
from bot.routeros.pull import SECRET_PROPLIST, node_tables, read_tables
from bot.routeros.sentences import QUESTION, ReplyLimit
from bot.routeros.slots import SessionSlots, new_question, queue_to_blame

log = logging.getLogger(__name__)

ACTIVE_PROPLIST = "name,service,caller-id,address,uptime"
QUEUE_PROPLIST = "name,max-limit,rate,queued-bytes,dropped"

#: One of a snapshot's four reads: a handful of rows, a quarter of a `QUESTION`'s
#: bytes, so the four sent together are held to what one question may bring.
SNAPSHOT_READ = ReplyLimit(rows=QUESTION.rows, bytes=QUESTION.bytes // 4)
#: One ``monitor-traffic once`` of a live view: one row.
SAMPLE = ReplyLimit(rows=1, bytes=64 * 1024)
#: The subscriber's own queue (``?name=<pppoe-USER>``): one row.
SAMPLE_QUEUE = ReplyLimit(rows=1, bytes=64 * 1024)

#: Most probes one ``/ping`` may send (BEHOLDER_PING_COUNT is at most this).
MAX_PING_COUNT = 50
#: The ``interval`` between probes RouterOS accepts, in seconds.
PING_INTERVAL_RANGE = (0.01, 5.0)
#: Longest ``/tool/torch``, in seconds (one sample each).
MAX_TORCH_SECONDS = 10
#: Rows one torch sample may list before the reply is cut: a subscriber's link
#: has dozens of flows, and past `bot.routeros.parse.FLOWS_KEPT` distinct ones
#: only the busiest are kept (`FlowTally`); this many a second is a flood (or a
#: router under attack), and the flood ends there.
TORCH_ROWS_PER_SAMPLE = 8 * FLOWS_KEPT


def ping_limit(count: int) -> ReplyLimit:
    """A ``/ping`` of `count` probes: one row each (a row is some 200 bytes)."""
    return ReplyLimit(rows=count, bytes=64 * 1024 + count * 1024)


def torch_limit(seconds: int) -> ReplyLimit:
    """A ``/tool/torch`` of `seconds` samples, `TORCH_ROWS_PER_SAMPLE` rows each
    (a row is some 250 bytes). Its rows are summed as they arrive, never held."""
    rows = seconds * TORCH_ROWS_PER_SAMPLE
    return ReplyLimit(rows=rows, bytes=64 * 1024 + rows * 512)


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
    _inflight: dict[tuple[str, int, str], asyncio.Task[Snapshot]] = field(
        default_factory=dict, repr=False
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
                rows = await _rows(
                    api, "/ppp/secret/print", f"?name={user}", f"=.proplist={SECRET_PROPLIST}"
                )
        return secret_from_row(rows[0], node.name) if rows else None

    async def check(self, node: Node) -> NodeCheck:
        """Log in and report what `beholder nodes check` shows."""
        started = time.monotonic()
        with self._counted(node), mapped_errors(node, None, self.timeout):
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

        Each sample is its own ``monitor-traffic … once`` and a read of the
        subscriber's queue, sent together (`_read_sample`): one round trip a
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
                        traffic, queue = await _read_sample(api, node, iface)
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
        if not 1 <= ping_count <= MAX_PING_COUNT:
            raise ValueError(f"ping count must be 1..{MAX_PING_COUNT}, not {ping_count}")
        low, high = PING_INTERVAL_RANGE
        if not low <= interval <= high:
            raise ValueError(f"ping interval must be {low:g}..{high:g}s, not {interval:g}")
        if not 1 <= torch_seconds <= MAX_TORCH_SECONDS:
            raise ValueError(f"torch seconds must be 1..{MAX_TORCH_SECONDS}, not {torch_seconds}")
        # ValueError for anything but an IP: the router's text never reaches /ping.
        target = None if address is None else str(ipaddress.ip_address(address))
        tally = FlowTally(target or "", torch_seconds)
        garbage: list[MalformedReply] = []

        def count_flow(row: dict[str, str], sentence: list[str]) -> None:
            if garbage:
                return
            try:
                tally.add(row, sentence)
            except MalformedReply as exc:
                garbage.append(exc)  # torch is unreadable; the ping goes on

        asks = [
            Ask(
                "/tool/torch",
                (
                    f"=interface={interface_name(user)}",
                    f"=duration={torch_seconds}s",
                    "=src-address=0.0.0.0/0",
                    "=dst-address=0.0.0.0/0",
                    "=port=any",
                    "=ip-protocol=any",
                ),
                limit=torch_limit(torch_seconds),
                each=count_flow,
            )
        ]
        if target is not None:
            ping = Ask(
                "/ping",
                (
                    f"=address={target}",
                    f"=count={ping_count}",
                    f"=interval={round(interval * 1000)}ms",
                ),
                limit=ping_limit(ping_count),
            )
            asks.insert(0, ping)
        batch = Batch(asks)
        by_design = max(ping_count * interval if target is not None else 0.0, torch_seconds)
        deadline = self.timeout + by_design
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
            result = _probe_of(batch, target, ping_count, tally, garbage, cut)
            if result.ping is None and result.flows is None:
                if cut:
                    raise TimeoutError  # nothing measured: RouterTimeout, as any deadline
                if garbage:
                    raise garbage[0]
        for ask, reply in zip(asks, batch.replies, strict=True):
            if reply.trap is not None:
                log.info("%s on %s for %s: %s", ask.command, node.name, user, reply.trap)
        if garbage:
            log.info("torch on %s for %s: %s", node.name, user, garbage[0])
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

    def _forget(self, key: tuple[str, int, str], task: asyncio.Task[Snapshot]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an orphaned failure is not logged twice

    async def _snapshot(self, node: Node, user: str) -> Snapshot:
        started = time.monotonic()
        # Counted here, in the query twins share: once per router query, not per asker.
        with (
            self._counted(node),
            self._guarded(node, user),
            mapped_errors(node, user, self.timeout),
        ):
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


async def _rows(
    api: RawApi, command: str, *words: str, limit: ReplyLimit = QUESTION
) -> list[dict[str, str]]:
    """The rows of one command, its reply cut at `limit`."""
    api.protocol.limit = limit
    return [row async for row in api.rawCmd(command, *words)]


async def _read_sample(
    api: RawApi, node: Node, iface: str
) -> tuple[Traffic | None, QueueState | None]:
    """One second of a live view: ``monitor-traffic once`` on `iface` and its
    queue's counters, sent together (`bot.routeros.batch`).

    The monitor's trap ("no such item": the interface is gone, the subscriber
    disconnected) is expected and read as no traffic, which ends the watch; a
    trap on the queue's print is not, and is raised. A row about another
    interface is refused, as in a snapshot (`_named`).
    """
    monitor, queues = await Batch(
        [
            # `once` is what makes the command end: never send it without.
            Ask("/interface/monitor-traffic", (f"=interface={iface}", "=once="), SAMPLE),
            Ask(
                "/queue/simple/print",
                (f"?name={iface}", f"=.proplist={QUEUE_PROPLIST}"),
                SAMPLE_QUEUE,
            ),
        ]
    ).run(api)
    queue_rows = _named(queues.table(), iface)
    queue = queue_from_row(queue_rows[0]) if queue_rows else None
    if monitor.trap is not None:
        log.info("watch %s on %s: %s", iface, node.name, monitor.trap)
        return None, queue
    traffic_rows = _named(monitor.rows, iface)
    return (traffic_from_row(traffic_rows[0]) if traffic_rows else None), queue


async def _read_snapshot(api: RawApi, node: Node, user: str) -> Snapshot:
    """The reads of routeros.md, sent together on one session (`bot.routeros.batch`).

    The session, the traffic, the queue and the secret go out at once: one
    round trip to the router whatever it answers. An offline user's
    ``monitor-traffic`` traps ("no such item": his interface is gone), which is
    expected and read as no figures; the secret is what an offline reading
    shows (last logout, reason, MAC), and is left out of an online one.
    """
    query = f"?name={user}"
    iface = interface_name(user)
    active, monitor, queues, secrets = await Batch(
        [
            Ask("/ppp/active/print", (query, f"=.proplist={ACTIVE_PROPLIST}"), SNAPSHOT_READ),
            # `once` is what makes the command end: never send it without.
            Ask("/interface/monitor-traffic", (f"=interface={iface}", "=once="), SNAPSHOT_READ),
            Ask(
                "/queue/simple/print",
                (f"?name={iface}", f"=.proplist={QUEUE_PROPLIST}"),
                SNAPSHOT_READ,
            ),
            Ask("/ppp/secret/print", (query, f"=.proplist={SECRET_PROPLIST}"), SNAPSHOT_READ),
        ]
    ).run(api)
    taken_at = datetime.now(UTC)
    sessions = _named(active.table(), user)
    if not sessions:
        rows = _named(secrets.table(), user)
        secret = secret_from_row(rows[0], node.name) if rows else None
        return Snapshot(node=node.name, user=user, taken_at=taken_at, secret=secret)
    if monitor.trap is not None:
        # The session ended between the reads: report it without figures.
        log.info("monitor-traffic %s on %s: %s", iface, node.name, monitor.trap)
    traffic_rows = [] if monitor.trap is not None else _named(monitor.rows, iface)
    queue_rows = _named(queues.table(), iface)
    return Snapshot(
        node=node.name,
        user=user,
        taken_at=taken_at,
        session=session_from_row(sessions[0]),
        traffic=traffic_from_row(traffic_rows[0]) if traffic_rows else None,
        queue=queue_from_row(queue_rows[0]) if queue_rows else None,
    )


def _named(rows: list[dict[str, str]], name: str) -> list[dict[str, str]]:
    """`rows`, each checked to be about `name` (what the read asked for): a reply
    read under the wrong tag, or a router answering another question, must not
    become this subscriber's figures. A row without a name is taken as is."""
    for row in rows:
        if row.get("name", name) != name:
            raise MalformedReply(f"a row for {row['name'][:64]!r} in the reply about {name!r}")
    return rows


def _probe_of(
    batch: Batch,
    target: str | None,
    count: int,
    tally: FlowTally,
    garbage: list[MalformedReply],
    cut: bool,
) -> Probe:
    """What a probe's batch brought (`RouterClient.probe`), each part as far as
    it got: a ping with no probe reported, or a torch with no row before the
    deadline (or trapped, or unreadable), is None."""
    *pinged, torched = batch.replies
    ping = None
    if pinged and target is not None:
        result = ping_from_rows(target, pinged[0].rows)
        if result.sent:
            ping = dataclasses.replace(result, asked=count)
    flows = None
    if torched.trap is None and not garbage and (torched.done or tally.rows):
        flows = tuple(tally.flows())
    refused = bool(pinged) and pinged[0].trap is not None and ping is None
    # `cut`: the deadline came before every reply was done (`Batch.run` returns only then).
    return Probe(ping, flows, tally.seconds, tally.samples, partial=cut, ping_refused=refused)
