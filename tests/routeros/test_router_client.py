"""The router client against the simulator: real TCP, real librouteros."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest

from bot.errors import (
    RouterAuthFailed,
    RouterBusy,
    RouterProtocolError,
    RouterRefused,
    RouterTimeout,
    RouterTLSError,
)
from bot.model import Node
from bot.routeros.client import RouterClient
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from tests.conftest import API_PASSWORD, API_USER
from tests.support.clock import Clock


def snap(world, user, node="bras-norte", client=None):
    client = client or world.client()
    return asyncio.run(client.snapshot(world.nodes[node], user))


def test_snapshot_online_maps_tx_to_download(sim_world):
    s = snap(sim_world, "juan.perez")
    assert s.online
    assert s.traffic.download_bps == 45_200_000  # the router's tx
    assert s.traffic.upload_bps == 2_100_000  # the router's rx
    assert (s.queue.plan.download_bps, s.queue.plan.upload_bps) == (50_000_000, 10_000_000)
    assert s.session.address == "100.64.0.10"
    assert s.session.caller_id == "AA:BB:CC:00:00:10"
    assert s.session.uptime_s >= 3 * 3600
    sim_world.quiet()


def test_every_monitor_traffic_carries_once(sim_world):
    snap(sim_world, "juan.perez")
    commands = sim_world.network.counters("bras-norte").commands
    monitors = [c for c in commands if c[0] == "/interface/monitor-traffic"]
    assert monitors, commands
    assert all(any(w.startswith("=once=") for w in c) for c in monitors)
    assert all("=interface=<pppoe-juan.perez>" in c for c in monitors)


def test_numeric_user_name_stays_a_string(sim_world):
    s = snap(sim_world, "20513")
    assert s.user == "20513"
    assert s.session.user == "20513"
    assert s.traffic.download_bps == 12_000_000


def test_offline_reads_last_logout_from_the_router(sim_world):
    def change(sim):
        sim.config.subscriber("carlos.lopez").last_disconnect_reason = "peer-request"

    sim_world.network.call("bras-norte", change)  # after the sync: only the router knows
    s = snap(sim_world, "carlos.lopez")
    assert not s.online
    assert s.traffic is None
    assert s.secret.last_logged_out == "2026-11-27 22:10:05"
    assert s.secret.last_disconnect_reason == "peer-request"
    assert s.secret.last_caller_id == "AA:BB:CC:00:00:12"


def test_no_dynamic_queue_means_unknown_plan(sim_world):
    s = snap(sim_world, "sofia.acuna", node="bras-sur")
    assert s.online
    assert s.queue is None


def test_pull_never_asks_for_passwords(sim_world):
    tables = asyncio.run(sim_world.client().pull(sim_world.nodes["bras-norte"]))
    assert {s.name for s in tables.secrets} >= {"juan.perez", "20513", "carlos.lopez"}
    assert {s.name for s in tables.sessions} >= {"juan.perez", "20513"}
    [print_cmd] = [
        c for c in sim_world.network.counters("bras-norte").commands if c[0] == "/ppp/secret/print"
    ]
    proplist = next(w for w in print_cmd if w.startswith("=.proplist="))
    assert "password" not in proplist


def test_bad_credentials(sim_world):
    client = sim_world.client()
    client.password = "wrong"
    with pytest.raises(RouterAuthFailed) as caught:
        snap(sim_world, "juan.perez", client=client)
    assert caught.value.node == "bras-norte"
    assert caught.value.user == "juan.perez"
    assert "wrong" not in str(caught.value)
    sim_world.quiet()


@pytest.mark.parametrize("fault", ["stall_connect", "stall_login", "stall_mid_reply", "blackhole"])
def test_stalled_router_times_out_within_the_deadline(sim_world, fault):
    sim_world.network.set_fault("bras-norte", fault)
    started = time.monotonic()
    with pytest.raises(RouterTimeout) as caught:
        snap(sim_world, "juan.perez", client=sim_world.client(timeout=0.5))
    assert time.monotonic() - started < 2.0
    assert caught.value.seconds == 0.5
    sim_world.network.set_fault("bras-norte", None)
    sim_world.quiet()


@pytest.mark.parametrize("fault", ["fatal", "close_mid_sentence", "malformed", "malformed_reply"])
def test_broken_replies_are_protocol_errors(sim_world, fault):
    sim_world.network.set_fault("bras-norte", fault)
    with pytest.raises(RouterProtocolError):
        snap(sim_world, "juan.perez", client=sim_world.client(timeout=1.0))
    sim_world.network.set_fault("bras-norte", None)
    sim_world.quiet()
    assert snap(sim_world, "juan.perez").online  # and the next question works


def test_refused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    client = bare_client()
    with pytest.raises(RouterRefused):
        asyncio.run(client.snapshot(Node("bras-x", "127.0.0.1", port), "juan.perez"))


def bare_client():
    return RouterClient(username=API_USER, password=API_PASSWORD, timeout=1.0)


def test_session_cap_per_router_holds_under_load(sim_world):
    sim_world.network.set_latency("bras-norte", 0.05)
    client = sim_world.client(max_sessions=4)
    users = [f"cliente{i:02d}" for i in range(1, 21)]

    async def burst():
        return await asyncio.gather(
            *(client.snapshot(sim_world.nodes["bras-norte"], u) for u in users)
        )

    snapshots = asyncio.run(burst())
    assert [s.user for s in snapshots] == users
    assert all(s.online for s in snapshots)
    counters = sim_world.network.counters("bras-norte")
    assert counters.peak_sessions == 4
    assert counters.total_connections == 20
    sim_world.quiet()


def test_identical_requests_in_flight_share_one_query(sim_world):
    sim_world.network.set_latency("bras-norte", 0.05)
    client = sim_world.client()

    async def burst():
        return await asyncio.gather(
            *(client.snapshot(sim_world.nodes["bras-norte"], "juan.perez") for _ in range(10))
        )

    snapshots = asyncio.run(burst())
    assert len({id(s) for s in snapshots}) == 1
    assert sim_world.network.counters("bras-norte").total_connections == 1


def test_an_asker_who_leaves_does_not_cancel_the_query_the_others_await(sim_world):
    """Regression guard for the shared snapshot (`bot.inflight.InFlight`): three ask
    at once and one leaves (cancelled) mid-query; the other two still get the one
    shared reading, over the one connection."""
    node = sim_world.nodes["bras-norte"]
    sim_world.network.set_latency("bras-norte", 0.3)
    client = sim_world.client()

    async def ask() -> list[object]:
        askers = [asyncio.ensure_future(client.snapshot(node, "juan.perez")) for _ in range(3)]
        while sim_world.network.counters("bras-norte").total_connections == 0:
            await asyncio.sleep(0.01)
        askers[0].cancel()
        return await asyncio.gather(*askers, return_exceptions=True)

    cancelled, *answers = asyncio.run(ask())
    assert isinstance(cancelled, asyncio.CancelledError)
    assert answers[0] is answers[1]
    assert answers[0].traffic is not None
    assert sim_world.network.counters("bras-norte").total_connections == 1


def test_insecure_mode_reaches_a_router_with_anonymous_dh_only():
    """``tls=insecure`` (an explicit opt-in) still reads a router without a
    certificate, which offers only anonymous DH; its handshake failing is a TLS error."""
    config = RouterConfig(
        "bras-tls",
        username=API_USER,
        password=API_PASSWORD,
        tls=True,
        subscribers=[
            Subscriber(
                "tls.user",
                "x",
                online=True,
                plan=(1_000_000, 5_000_000),
                fixed_traffic=(100_000, 900_000),
            )
        ],
    )
    with SimNetwork([config]) as net:
        node = Node("bras-tls", "127.0.0.1", net.port("bras-tls"), tls="insecure")
        s = asyncio.run(bare_client().snapshot(node, "tls.user"))
        assert s.traffic.download_bps == 900_000
        net.set_fault("bras-tls", "tls_fail")
        with pytest.raises((RouterTLSError, RouterProtocolError)):
            asyncio.run(bare_client().snapshot(node, "tls.user"))


def test_a_failing_router_is_short_circuited_then_retried(sim_world):
    from bot.errors import RouterCircuitOpen
    from bot.routeros.breaker import CircuitBreaker

    clock = Clock()
    client = sim_world.client(timeout=0.3)
    client.breaker = CircuitBreaker(threshold=2, cooldown=30, clock=clock)
    sim_world.network.set_fault("bras-norte", "stall_login")
    for _ in range(2):
        with pytest.raises(RouterTimeout):
            snap(sim_world, "juan.perez", client=client)
    before = sim_world.network.counters("bras-norte").total_connections
    clock.now += 29
    with pytest.raises(RouterCircuitOpen) as caught:
        snap(sim_world, "juan.perez", client=client)
    assert isinstance(caught.value.cause, RouterTimeout)
    assert sim_world.network.counters("bras-norte").total_connections == before  # not asked
    assert snap(
        sim_world, "sofia.acuna", node="bras-sur", client=client
    ).online  # others unaffected
    sim_world.network.set_fault("bras-norte", None)
    clock.now += 1  # the cooldown is over
    assert snap(sim_world, "juan.perez", client=client).online  # the probe closes it again
    assert snap(sim_world, "juan.perez", client=client).online


def test_waiting_for_our_own_session_slot_is_busy_not_a_router_failure(sim_world):
    """Regression: timeouts spent queued behind our own sessions opened the
    circuit breaker on a healthy router (found by the load benchmark)."""
    from bot.errors import RouterBusy

    sim_world.network.set_latency("bras-norte", 0.05)  # one snapshot: ~0.2 s
    client = sim_world.client(timeout=0.5, max_sessions=1)
    users = [f"cliente{i:02d}" for i in range(1, 9)]

    async def burst():
        return await asyncio.gather(
            *(client.snapshot(sim_world.nodes["bras-norte"], u) for u in users),
            return_exceptions=True,
        )

    results = asyncio.run(burst())
    busy = [r for r in results if isinstance(r, RouterBusy)]
    assert len(busy) >= 4
    assert busy[0].sessions == 1
    assert not client.breaker.is_open("bras-norte")
    assert snap(sim_world, "juan.perez", client=client).online


def test_targeted_pulls_take_one_session_and_never_queue_ahead_of_a_reading(sim_world):
    """Regression: a burst of unknown names took every API session of a router
    (each name is asked of every router), and a reading sent meanwhile queued
    behind them until it failed with RouterBusy. Targeted pulls now hold one
    session per router at a time, so the reading gets its own at once."""
    sim_world.network.set_latency("bras-norte", 0.05)  # one pull (login + print): ~0.1 s
    client = sim_world.client(timeout=3.0, max_sessions=4)
    node = sim_world.nodes["bras-norte"]
    names = [f"nadie{i:02d}" for i in range(8)]

    async def burst():
        pulls = [asyncio.create_task(client.find_secret(node, n)) for n in names]
        await asyncio.sleep(0)  # every pull is waiting for a session before the reading
        reading = await client.snapshot(node, "juan.perez")
        pending = sum(1 for p in pulls if not p.done())
        return reading, pending, await asyncio.gather(*pulls)

    reading, pending, found = asyncio.run(burst())
    assert reading.traffic.download_bps == 45_200_000
    assert pending > 0  # answered while pulls were still waiting their turn
    assert found == [None] * len(names)  # every pull was still made
    counters = sim_world.network.counters("bras-norte")
    assert counters.total_connections == len(names) + 1
    assert counters.peak_sessions == 2  # one pull + the reading, never more
    sim_world.quiet()


async def _live_view_started(
    sim_world, client: RouterClient, node: Node, stop: asyncio.Event
) -> asyncio.Task[None]:
    """A live view of cliente01 on `node` (until `stop`), once it holds its session."""

    async def view() -> None:
        async with contextlib.aclosing(client.watch(node, "cliente01", 30, stop)) as samples:
            async for _ in samples:
                pass

    watching = asyncio.create_task(view())
    while sim_world.network.counters(node.name).active_sessions < 1:
        await asyncio.sleep(0.01)
    return watching


def test_live_views_and_targeted_pulls_together_leave_a_session_for_readings(sim_world):
    """Regression: live views (up to ``max_sessions - 1`` per router) and targeted pulls
    (one per router) were each capped as if the other did not exist, so with two
    sessions a view plus a pull took both and a reading timed out. They now share the
    spare sessions: with the only spare one held by a view, a pull is told the router
    is busy (without counting against it) and the reading still gets a session."""
    client = sim_world.client(timeout=0.5, max_sessions=2)
    node = sim_world.nodes["bras-norte"]

    async def scene():
        stop = asyncio.Event()
        watching = await _live_view_started(sim_world, client, node, stop)
        try:
            with pytest.raises(RouterBusy):
                await client.find_secret(node, "nadie.nuevo")
            reading = await client.snapshot(node, "juan.perez")
        finally:
            stop.set()
            await watching
        return reading

    reading = asyncio.run(scene())
    assert reading.traffic.download_bps == 45_200_000
    assert sim_world.network.counters("bras-norte").peak_sessions == 2  # the view + the reading
    assert not client.breaker.is_open("bras-norte")
    sim_world.quiet()


def test_a_sync_pull_waits_for_a_spare_session_and_leaves_the_last_to_readings(sim_world):
    """Regression: a sync pull took a session outside the spare ones live views and
    targeted pulls share, so with two sessions a view plus a slow pull left none for
    a reading. The pull now waits for a spare session: the reading is answered while
    the view runs, and the pull completes once the view ends."""
    client = sim_world.client(timeout=2.0, max_sessions=2)
    node = sim_world.nodes["bras-norte"]

    async def scene():
        stop = asyncio.Event()
        watching = await _live_view_started(sim_world, client, node, stop)
        pulling = asyncio.create_task(client.pull(node))
        reading = await client.snapshot(node, "juan.perez")
        # The pull had every turn of the loop the reading took, and still waits
        # for the view's spare session.
        waiting = not pulling.done()
        stop.set()
        await watching
        return waiting, reading, await pulling

    waiting, reading, tables = asyncio.run(scene())
    assert waiting
    assert reading.traffic.download_bps == 45_200_000
    assert any(s.name == "juan.perez" for s in tables.secrets)
    assert sim_world.network.counters("bras-norte").peak_sessions == 2
    sim_world.quiet()


def test_time_in_our_own_session_queue_is_not_blamed_on_the_router(sim_world):
    """Regression: a question that waited most of its deadline for one of Beholder's
    own session slots, then timed out at the router, counted as the router's failure,
    so a burst of questions to a healthy router opened its circuit. Such a timeout is
    now RouterBusy (Beholder's queue) and the circuit stays closed."""
    # A reading: ~0.2 s (login, then its reads at once); ten of them outrun 1.5 s.
    sim_world.network.set_latency("bras-norte", 0.1)
    client = sim_world.client(timeout=1.5, max_sessions=1)
    node = sim_world.nodes["bras-norte"]
    users = ["juan.perez", *(f"cliente{i:02d}" for i in range(1, 10))]

    async def burst():
        return await asyncio.gather(
            *(client.snapshot(node, user) for user in users), return_exceptions=True
        )

    results = asyncio.run(burst())
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures, "the burst must outrun one session, or this test shows nothing"
    assert len(failures) < len(results)
    assert all(isinstance(f, RouterBusy) for f in failures), failures
    assert not client.breaker.is_open("bras-norte")
    sim_world.network.set_latency("bras-norte", 0.0)
    assert asyncio.run(client.snapshot(node, "juan.perez")).online
    sim_world.quiet()
