"""`SimNetwork`: several simulated routers on one background event loop.

Synchronous tests, subprocess CLI tests and the demo cannot run an event loop
in their own thread next to blocking client calls, so the simulators live on
a private loop in a daemon thread. Every mutation and every counter read is
marshalled onto that loop, which is the only thread touching `RouterSim`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from bot.sim.model import RouterConfig
from bot.sim.server import LOOPBACK, RouterSim, SimCounters
from bot.sim.tls import SimCertificate

T = TypeVar("T")

# Upper bound for any call marshalled onto the loop (start, stop, fault swap).
CALL_TIMEOUT_S = 10.0


class SimNetwork:
    """Runs one `RouterSim` per config (names must be unique) on a background loop."""

    def __init__(self, configs: list[RouterConfig], host: str = LOOPBACK) -> None:
        names = [cfg.name for cfg in configs]
        if len(set(names)) != len(names):
            raise ValueError(f"router names must be unique: {names}")
        self.host = host
        self.sims: dict[str, RouterSim] = {cfg.name: RouterSim(cfg) for cfg in configs}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> dict[str, int]:
        """Start the loop thread and every router; return name → port."""
        if self._thread is not None:
            raise RuntimeError("already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="sim-network", daemon=True)
        self._thread.start()
        ready.wait()
        try:
            self._run(self._start_all())
        except BaseException:
            self.stop()
            raise
        return self.ports

    async def _start_all(self) -> None:
        for sim in self.sims.values():
            await sim.start(self.host, 0)

    def stop(self) -> None:
        """Stop every router, then the loop and its thread. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if loop.is_running():
                self._run(self._stop_all())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CALL_TIMEOUT_S)
            loop.close()
            self._loop = None
            self._thread = None

    async def _stop_all(self) -> None:
        await asyncio.gather(*(sim.stop() for sim in self.sims.values()))
        # Anything else still pending on this loop would be left behind: cancel it.
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    def __enter__(self) -> SimNetwork:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- marshalling -------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("SimNetwork is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT_S)

    def call(self, name: str, func: Callable[[RouterSim], T]) -> T:
        """Run `func(sim)` on the loop thread and return its result."""
        sim = self.sims[name]

        async def invoke() -> T:
            return func(sim)

        return self._run(invoke())

    # -- convenience ---------------------------------------------------------------

    @property
    def ports(self) -> dict[str, int]:
        """Name → listening port."""
        return {name: sim.port for name, sim in self.sims.items()}

    def port(self, name: str) -> int:
        """Listening port of one router."""
        return self.sims[name].port

    def set_fault(self, name: str, fault: str | None) -> None:
        """Change a router's fault; returns once the change is in effect."""
        self._run(self.sims[name].set_fault(fault))

    def set_latency(self, name: str, seconds: float) -> None:
        """Change a router's reply latency."""

        def apply(sim: RouterSim) -> None:
            sim.latency = seconds

        self.call(name, apply)

    def set_certificate(self, name: str, certificate: SimCertificate | None) -> None:
        """Swap a TLS router's certificate (see `RouterSim.set_certificate`)."""
        self.call(name, lambda sim: sim.set_certificate(certificate))

    def counters(self, name: str) -> SimCounters:
        """Snapshot of a router's counters, read on the loop thread."""
        return self.call(name, RouterSim.counters)

    def reset_counters(self, name: str | None = None) -> None:
        """Reset one router's counters, or every router's."""
        for sim_name in [name] if name is not None else list(self.sims):
            self.call(sim_name, RouterSim.reset_counters)
