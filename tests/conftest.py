"""Shared fixtures: a small simulated network, its synced inventory, a router client,
the fake Slack and the real Bolt app running against both.

Everything runs on loopback with port 0. The simulated network runs on its own
thread (`SimNetwork`), so tests stay plain synchronous functions and async code
under test runs with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest
from hypothesis import settings as hypothesis_settings

from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.domain.sync import sync_nodes
from bot.inventory.store import Inventory
from bot.model import AuditEntry, Node
from bot.routeros.client import RouterClient
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from bot.slack.app import build_app
from tests.support.bolt_runner import BoltRunner
from tests.support.fake_slack import FakeSlack, shutdown_loop

# Property tests explore new examples on every local run; CI (`.ci/run` sets
# HYPOTHESIS_PROFILE=ci) replays a fixed set, so a build passes or fails on the
# code, not on the draw. A failure found locally prints the example to pin.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
API_USER = "beholder"
API_PASSWORD = "s3cr3t-router-pass"
MBPS = 1_000_000


def world() -> list[RouterConfig]:
    """Two BRAS with one subscriber per situation the tests check."""
    norte = [
        # Router rx 2.1 Mbps / tx 45.2 Mbps on a 50/10 plan: download 90 %.
        Subscriber(
            "juan.perez",
            "pw-jp",
            profile="plan-50M",
            comment="Pérez, Juan - San Martín 1234",
            plan=(10 * MBPS, 50 * MBPS),
            online=True,
            address="100.64.0.10",
            caller_id="AA:BB:CC:00:00:10",
            uptime_s=3 * 3600,
            fixed_traffic=(2_100_000, 45_200_000),
        ),
        Subscriber(
            "20513",
            "pw-n",
            profile="plan-30M",
            plan=(6 * MBPS, 30 * MBPS),
            online=True,
            address="100.64.0.11",
            caller_id="AA:BB:CC:00:00:11",
            uptime_s=600,
            fixed_traffic=(1_000_000, 12_000_000),
        ),
        Subscriber(
            "carlos.lopez",
            "pw-cl",
            profile="plan-30M",
            plan=(6 * MBPS, 30 * MBPS),
            online=False,
            last_logged_out="2026-11-27 22:10:05",
            last_caller_id="AA:BB:CC:00:00:12",
            last_disconnect_reason="hung-up",
        ),
        Subscriber(
            "ana.martinez",
            "pw-am",
            profile="plan-50M",
            plan=(10 * MBPS, 50 * MBPS),
            online=False,
            last_logged_out="2026-10-01 09:00:00",
            last_disconnect_reason="admin-reset",
        ),
    ]
    norte += [
        Subscriber(
            f"cliente{i:02d}",
            "pw",
            plan=(5 * MBPS, 20 * MBPS),
            online=True,
            address=f"100.64.1.{i}",
            fixed_traffic=(i * 10_000, i * 100_000),
        )
        for i in range(1, 21)
    ]
    sur = [
        Subscriber(
            "ana.martinez",
            "pw-am",
            profile="plan-50M",
            plan=(10 * MBPS, 50 * MBPS),
            online=True,
            address="100.64.2.12",
            caller_id="AA:BB:CC:00:00:20",
            uptime_s=86400,
            fixed_traffic=(3_000_000, 20_000_000),
        ),
        Subscriber(
            "sofia.acuna",
            "pw-sa",
            online=True,
            address="100.64.2.13",
            plan=None,
            fixed_traffic=(500_000, 7_000_000),
        ),
    ]
    return [
        RouterConfig("bras-norte", username=API_USER, password=API_PASSWORD, subscribers=norte),
        RouterConfig("bras-sur", username=API_USER, password=API_PASSWORD, subscribers=sur),
    ]


@dataclass
class World:
    network: SimNetwork
    nodes: dict[str, Node]
    inventory: Inventory

    def client(self, **overrides: object) -> RouterClient:
        options: dict[str, object] = {"timeout": 2.0, "max_sessions": 4}
        options.update(overrides)
        return RouterClient(username=API_USER, password=API_PASSWORD, **options)  # type: ignore[arg-type]

    def quiet(self) -> None:
        """Assert no API session is left open on any router (waits briefly for closes)."""
        for name in self.nodes:
            for _ in range(100):
                if self.network.counters(name).active_sessions == 0:
                    break
                asyncio.run(asyncio.sleep(0.02))
            assert self.network.counters(name).active_sessions == 0, f"session left open on {name}"


@pytest.fixture
def network() -> Iterator[SimNetwork]:
    with SimNetwork(world()) as net:
        yield net


@pytest.fixture
def sim_world(network: SimNetwork, tmp_path) -> Iterator[World]:
    """The world, with its inventory synced through the real sync path."""
    nodes = {name: Node(name, "127.0.0.1", port) for name, port in network.ports.items()}
    with Inventory(tmp_path / "beholder.db") as inventory:
        inventory.upsert_nodes(nodes.values())
        w = World(network, nodes, inventory)
        results = asyncio.run(sync_nodes(inventory, w.client(), list(nodes.values())))
        assert all(r.ok for r in results), results
        network.reset_counters()
        yield w


# -- the Slack app against the fake Slack ---------------------------------------------


@pytest.fixture
def diag_world(tmp_path) -> Iterator[World]:
    """Routers whose paths and flows a diagnosis can tell apart
    (`tests.support.diag_world`, which builds on this module), the inventory synced."""
    from tests.support.diag_world import synced_diag_world

    with synced_diag_world(tmp_path / "beholder.db") as world:
        yield world


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """The fake Slack (a test module may override this fixture, e.g. with a subclass)."""
    with FakeSlack() as f:
        yield f


def audit_rows(
    inventory: Inventory,
    count: int,
    where: Callable[[AuditEntry], bool] = lambda _: True,
    timeout: float = 5.0,
) -> list[AuditEntry]:
    """The audit rows `where` selects, once there are `count` of them. Rows are
    queued after the reply is sent and written by the audit's own thread, so a
    test that has seen a reply waits for its row instead of reading at once."""
    deadline = time.monotonic() + timeout
    while True:
        inventory.flush_audit(timeout_s=max(0.0, deadline - time.monotonic()))
        rows = [e for e in inventory.audit() if where(e)]
        if len(rows) >= count or time.monotonic() >= deadline:
            return rows
        time.sleep(0.02)


@contextlib.contextmanager
def sim_process(*options: str) -> Iterator[TextIO]:
    """``python -m bot.sim OPTIONS --until-stdin-closes`` in a child process, as the
    benchmarks start it; yields its standard output (one line per router first).
    On exit its standard input is closed, and it must then end cleanly."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sim", *options, "--until-stdin-closes"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        yield process.stdout
    finally:
        process.stdin.close()
        assert process.wait(timeout=10) == 0
        process.stdout.close()


def slack_settings(fake: FakeSlack, **overrides: Any) -> Settings:
    """Settings pointing at `fake`, plus `overrides` (access lists, signing secret…)."""
    return Settings(
        slack_bot_token=fake.bot_token,
        slack_app_token=fake.app_token,
        slack_api_url=fake.api_url,
        **overrides,
    )


@pytest.fixture
def start_bot(fake: FakeSlack, sim_world: World) -> Iterator[Callable[..., BoltRunner]]:
    """Start the real Bolt app (`build_app`) over Socket Mode against `fake` and the
    simulator: ``start_bot(allowed_users=frozenset({"U0AAA"}))``. Keyword arguments are
    `Settings` fields; ``client_options`` go to the router client, ``ping_interval``
    to the Socket Mode handler, ``clock`` to `build_app`. Stopped at teardown."""
    runners: list[BoltRunner] = []

    def start(
        *,
        client_options: dict[str, Any] | None = None,
        ping_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        **overrides: Any,
    ) -> BoltRunner:
        settings = slack_settings(fake, **overrides)
        readings = ReadingService(sim_world.inventory, sim_world.client(**(client_options or {})))
        runner = BoltRunner(
            lambda: build_app(settings, readings, clock=clock), fake, ping_interval=ping_interval
        ).start()
        runners.append(runner)
        return runner

    yield start
    for runner in reversed(runners):
        runner.stop()


class LoopThread:
    """One coroutine on its own event loop and thread, until `stop` cancels it (for
    `serve` and `serve_http`, which run until cancelled, as under `beholder serve`)."""

    def __init__(self, coro: Coroutine[Any, Any, None], name: str = "serve") -> None:
        self._coro = coro
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.failures: list[BaseException] = []

    def start(self) -> LoopThread:
        self._thread.start()
        self._started.wait(5)
        return self

    def stop(self) -> None:
        """Cancel the coroutine, wait for the thread, raise what it failed with."""
        if self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)
        assert not self._thread.is_alive(), f"{self._thread.name} did not stop within 10 s"
        assert not self.failures, self.failures

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self._coro)
        self._started.set()
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001 - reported to the test by stop()
            self.failures.append(exc)
        finally:
            shutdown_loop(self._loop)


@pytest.fixture
def start_serve(fake: FakeSlack, sim_world: World, tmp_path) -> Iterator[Callable[..., None]]:
    """Run `bot.serve.socket_mode.serve` (what `beholder serve` runs) on its own thread and loop,
    against `fake` and the simulator, until teardown: ``start_serve(**settings)``
    returns once the Socket Mode connection is open."""
    from bot.serve.socket_mode import serve

    threads: list[LoopThread] = []

    def start(**overrides: Any) -> None:
        settings = slack_settings(fake, db_path=tmp_path / "beholder.db", **overrides)
        threads.append(LoopThread(serve(settings, sim_world.client())).start())
        fake.wait_for_connection(timeout=10)

    yield start
    for thread in threads:
        thread.stop()


# -- the `beholder` command as a subprocess -------------------------------------------


def beholder_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "--env-file", os.devnull, *args]


def beholder(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        beholder_argv(*args), env=env, capture_output=True, text=True, timeout=60, check=False
    )


@dataclass
class Served:
    """A `beholder serve` process: the URL it announced, its log lines so far and,
    once it has ended (SIGINT, as Ctrl-C), its exit code."""

    url: str
    log: list[str]
    returncode: int | None = None

    @property
    def output(self) -> str:
        return "".join(self.log)


@contextlib.contextmanager
def serve_process(env: dict[str, str], *args: str, ready: str) -> Iterator[Served]:
    """``beholder serve ARGS`` in its own process, until the block ends; ready once a
    stderr line matches `ready`, whose first group is the URL it serves at."""
    process = subprocess.Popen(
        beholder_argv("serve", *args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    served = Served("", [])

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            served.log.append(line)
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not served.url:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            match = re.search(ready, line)
            served.url = match.group(1) if match else ""
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=20)
        reader.join(5)
        served.log.append(out)
        served.returncode = process.returncode


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A clean environment for `beholder`: no variable of ours leaks in from the shell."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MIKROTIK_", "BEHOLDER_", "SLACK_"))
    }
    base.update(
        BEHOLDER_DB=str(tmp_path / "cli.db"),
        MIKROTIK_USER=API_USER,
        MIKROTIK_PASSWORD=API_PASSWORD,
        MIKROTIK_TIMEOUT="1",
        PYTHONPATH=str(ROOT),
    )
    return base


@pytest.fixture
def synced(network: SimNetwork, env: dict[str, str], tmp_path) -> dict[str, str]:
    """`env` whose inventory was filled by `beholder nodes import` and `beholder sync`."""
    csv = tmp_path / "nodes.csv"
    csv.write_text(
        "name,host,port\n" + "".join(f"{n},127.0.0.1,{p}\n" for n, p in network.ports.items())
    )
    for args in (("nodes", "import", str(csv)), ("sync",)):
        result = beholder(env, *args)
        assert result.returncode == 0, result.stderr
    network.reset_counters()
    return env
