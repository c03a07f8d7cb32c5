"""`RouterSim`: one simulated RouterOS device listening on loopback.

It owns the listening socket, the per-connection tasks, the counters tests
assert on, and the switch between a normal listener and a blackhole one.
All methods run on the event loop that called `start()`; from another thread
use `SimNetwork`, which marshals calls onto that loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from contextlib import suppress
from dataclasses import dataclass

from bot.sim import faults, wire
from bot.sim.model import RouterConfig
from bot.sim.session import Session
from bot.sim.tls import SimCertificate, server_context

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# Listen backlog while serving; the blackhole listener uses 1 so that a burst
# of connects fills it and further SYNs go unanswered, like a dead host.
SERVING_BACKLOG = 128
BLACKHOLE_BACKLOG = 1
# An API-SSL client that connects and never completes the handshake is dropped
# after this long, as the real router would eventually do.
TLS_HANDSHAKE_TIMEOUT_S = 10.0
# What a misconfigured port answers to a TLS ClientHello under TLS_FAIL.
TLS_FAIL_GARBAGE = b"!this is not TLS\r\n"


@dataclass(frozen=True)
class SimCounters:
    """A consistent copy of a simulator's counters (safe to read from any thread)."""

    active_sessions: int
    peak_sessions: int
    total_connections: int
    rejected_connections: int
    commands: tuple[tuple[str, ...], ...]
    #: ``/login`` sentences received: whether a client sent its password.
    logins: int = 0
    #: `/ping` without `count`, `/tool/torch` or `monitor-traffic` without
    #: `duration` (or `once`): commands that never end by themselves.
    unbounded_commands: int = 0
    #: Most tagged commands answered at once on one connection.
    peak_concurrent_commands: int = 0


def _check_loopback(host: str) -> None:
    # The simulator must never be reachable from outside this machine.
    try:
        loopback = ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"RouterSim only listens on an IPv4 loopback address, not {host!r}")


class RouterSim:
    """A RouterOS API server for one `RouterConfig`.

    Counters (mutated only on the loop thread):
    - `active_sessions`: connections being served right now.
    - `peak_sessions`: highest `active_sessions` since start/reset.
    - `total_connections`: every accepted TCP connection, including those
      rejected for exceeding `max_sessions`.
    - `rejected_connections`: connections closed right after accept because
      `max_sessions` were already being served. They never count as active, so
      `peak_sessions` never exceeds `max_sessions`.
    - `commands`: every sentence received, in order, across connections
      (including logins and sentences left unanswered by a stall; not the raw
      bytes swallowed under "stall_connect" or "blackhole", never parsed).
    - `logins`: ``/login`` sentences received (a password reached this router).
    - `unbounded_commands`: commands sent so that they never end by themselves
      (`/ping` without `count`, `/tool/torch` or `monitor-traffic` without
      `duration` or `once`); a client must keep this at zero.
    - `peak_concurrent_commands`: most tagged commands being answered at once on
      one connection (a client that pipelines its reads makes it over 1).
    """

    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.host = LOOPBACK
        self.port = 0
        # Seconds between readings of a streaming monitor-traffic (router: 1 s).
        self.monitor_interval = 1.0
        self.active_sessions = 0
        self.peak_sessions = 0
        self.total_connections = 0
        self.rejected_connections = 0
        self.commands: list[list[str]] = []
        self.logins = 0
        self.unbounded_commands = 0
        self.peak_concurrent_commands = 0
        self.peak_concurrent_commands = 0
        self._fault: str | None = faults.check_fault(config.fault)
        self._t0 = time.monotonic()
        self._ssl = server_context(config.certificate) if config.tls else None
        self._server: asyncio.Server | None = None
        self._blackhole: socket.socket | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._started = False

    # -- configuration that can change while running -------------------------

    @property
    def fault(self) -> str | None:
        """Current fault (see `bot.sim.faults`); None = behave."""
        return self._fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        # Call on the loop thread. Switching to or from "blackhole" swaps the
        # listening socket right away, so the next connect sees the new state.
        self._fault = faults.check_fault(value)
        self.config.fault = value
        if self._started:
            self._apply_listener()

    @property
    def latency(self) -> float:
        """Seconds slept before each reply."""
        return self.config.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.config.latency = seconds

    def set_certificate(self, certificate: SimCertificate | None) -> None:
        """Serve another API-SSL certificate (None: anonymous DH) from the next
        connection on, as after ``/ip service set api-ssl certificate=…``, or an
        impostor taking over the router's address. Call on the loop thread."""
        if not self.config.tls:
            raise ValueError(f"{self.config.name} does not serve API-SSL")
        self.config.certificate = certificate
        self._ssl = server_context(certificate)

    def elapsed(self) -> float:
        """Seconds since this simulator was created (drives uptimes and traffic)."""
        return time.monotonic() - self._t0

    # -- counters ------------------------------------------------------------

    def counters(self) -> SimCounters:
        """Snapshot of the counters."""
        return SimCounters(
            active_sessions=self.active_sessions,
            peak_sessions=self.peak_sessions,
            total_connections=self.total_connections,
            rejected_connections=self.rejected_connections,
            commands=tuple(tuple(words) for words in self.commands),
            logins=self.logins,
            unbounded_commands=self.unbounded_commands,
            peak_concurrent_commands=self.peak_concurrent_commands,
        )

    def reset_counters(self) -> None:
        """Forget history; the peak restarts from the sessions open now."""
        self.peak_sessions = self.active_sessions
        self.total_connections = 0
        self.rejected_connections = 0
        self.commands.clear()
        self.logins = 0
        self.unbounded_commands = 0
        self.peak_concurrent_commands = 0

    # -- lifecycle -----------------------------------------------------------

    async def start(self, host: str = LOOPBACK, port: int = 0) -> None:
        """Listen on host:port (port 0 = pick a free one, see `.port`)."""
        if self._started:
            raise RuntimeError("already started")
        _check_loopback(host)
        self.host, self.port = host, port
        if self._fault == faults.BLACKHOLE:
            self._blackhole = self._listen_socket(BLACKHOLE_BACKLOG)
        else:
            self._server = await asyncio.start_server(
                self._on_connect, sock=self._listen_socket(SERVING_BACKLOG)
            )
        self._started = True

    async def stop(self) -> None:
        """Stop listening and close every connection; no task is left behind."""
        self._started = False
        if self._serve_task is not None:
            with suppress(Exception):
                await self._serve_task
            self._serve_task = None
        self._close_listeners()
        tasks = list(self._connections)
        for task, writer in self._connections.items():
            # abort(), not close(): a stalled client may never drain our buffer.
            writer.transport.abort()
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._connections.clear()

    async def set_fault(self, value: str | None) -> None:
        """Set the fault and wait until a restored listener is serving again."""
        self.fault = value
        if self._serve_task is not None:
            await self._serve_task
            self._serve_task = None

    # -- listeners -----------------------------------------------------------

    def _listen_socket(self, backlog: int) -> socket.socket:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted
        # sockets whose proto says TCP, and with proto 0 every multi-sentence
        # reply would wait ~40 ms for the client's delayed ACK (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            # Rebinding the same port after a blackhole swap must not fail
            # because of connections still in TIME_WAIT.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        return sock

    def _close_listeners(self) -> None:
        if self._server is not None:
            self._server.close()  # closes the listening socket synchronously
            self._server = None
        if self._blackhole is not None:
            self._blackhole.close()
            self._blackhole = None

    def _apply_listener(self) -> None:
        """Swap between the serving listener and the blackhole one, same port."""
        want_blackhole = self._fault == faults.BLACKHOLE
        if want_blackhole and self._blackhole is None:
            self._close_listeners()
            self._blackhole = self._listen_socket(BLACKHOLE_BACKLOG)
        elif not want_blackhole and self._blackhole is not None:
            self._close_listeners()
            # Bind now (connects queue in the backlog), start accepting soon.
            sock = self._listen_socket(SERVING_BACKLOG)
            self._serve_task = asyncio.get_running_loop().create_task(self._serve(sock))

    async def _serve(self, sock: socket.socket) -> None:
        try:
            server = await asyncio.start_server(self._on_connect, sock=sock)
        except BaseException:
            sock.close()
            raise
        if self._started and self._server is None and self._blackhole is None:
            self._server = server
        else:  # stopped or swapped again meanwhile
            server.close()

    # -- connections -----------------------------------------------------------

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback that spawns our own task: asyncio's wrapper around a
        # coroutine callback logs an error when that task ends cancelled,
        # which stop() does on purpose.
        task = asyncio.get_running_loop().create_task(self._connection(reader, writer))
        self._connections[task] = writer
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._connections.pop(task, None)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:  # a bug in the simulator, not a client misbehaving
            log.error("%s: connection handler failed", self.config.name, exc_info=exc)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.total_connections += 1
        try:
            if self.active_sessions >= self.config.max_sessions:
                # Past max-sessions: close right after accept (what the router
                # does there is unverified; a close is what clients must survive).
                self.rejected_connections += 1
                return
            self.active_sessions += 1
            self.peak_sessions = max(self.peak_sessions, self.active_sessions)
            try:
                await self._serve_connection(reader, writer)
            finally:
                self.active_sessions -= 1
        except OSError:
            pass  # the client vanished, or the TLS handshake failed or timed out
        finally:
            writer.close()
            with suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self._fault in (faults.STALL_CONNECT, faults.BLACKHOLE):
            await _swallow(reader)
            return
        if self._ssl is not None:
            if self._fault == faults.TLS_FAIL:
                await reader.read(4096)  # the ClientHello; closing unread would RST
                await wire.send_raw(writer, TLS_FAIL_GARBAGE)
                return
            await writer.start_tls(self._ssl, ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT_S)
        await Session(self, reader, writer).run()


async def _swallow(reader: asyncio.StreamReader) -> None:
    """Read and discard until the client gives up."""
    while await reader.read(4096):
        pass
