"""Ping and torch from the router client, through real TCP against the simulator."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest

from bot.errors import RouterBusy, RouterProtocolError, RouterTimeout
from bot.model import Node
from bot.routeros.client import RouterClient
from bot.routeros.parse import MAX_RATE_BPS
from bot.sim import faults
from bot.sim.model import MBPS, Flow, PingPath, RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from tests.conftest import API_PASSWORD, API_USER

LOSSY = "100.64.9.30"
HEALTHY = "100.64.9.31"


def _config() -> RouterConfig:
    return RouterConfig(
        "bras-diag",
        username=API_USER,
        password=API_PASSWORD,
        subscribers=[
            Subscriber("lossy", "pw", online=True, address=LOSSY),
            Subscriber(
                "busy",
                "pw",
                online=True,
                address=HEALTHY,
                flows=(
                    Flow("151.101.1.1", tx_bps=2 * MBPS, rx_bps=100_000, port=443),
                    Flow("8.8.8.8", tx_bps=20_000, rx_bps=10_000, protocol="udp", port=53),
                    Flow("203.0.113.9", tx_bps=30 * MBPS, rx_bps=900_000, port=443),
                    # A second connection to the same remote port is the same flow.
                    Flow("151.101.1.1", tx_bps=1 * MBPS, port=443, local_port=50001),
                ),
            ),
            Subscriber("offline", "pw"),
        ],
        ping_paths={LOSSY: PingPath(loss=0.3, rtt_ms=45.0, jitter_ms=4.0)},
    )


@pytest.fixture
def diag_net() -> Iterator[tuple[SimNetwork, Node]]:
    with SimNetwork([_config()]) as net:
        net.call("bras-diag", lambda sim: setattr(sim, "monitor_interval", 0.01))
        yield net, Node("bras-diag", "127.0.0.1", net.ports["bras-diag"])


def _client() -> RouterClient:
    return RouterClient(username=API_USER, password=API_PASSWORD, timeout=2.0, max_sessions=2)


def _bounded_and_closed(net: SimNetwork) -> None:
    counters = net.counters("bras-diag")
    assert counters.unbounded_commands == 0
    assert counters.active_sessions == 0 or _wait_closed(net)


def _wait_closed(net: SimNetwork) -> bool:
    for _ in range(100):
        if net.counters("bras-diag").active_sessions == 0:
            return True
        asyncio.run(asyncio.sleep(0.02))
    return False


def test_lossy_last_mile_gives_its_loss_and_latency(diag_net) -> None:
    """A 30 % loss / 45 ms path reads as 30 % loss and ~45 ms RTT, with jitter,
    through a bounded /ping; no session is left open."""
    net, node = diag_net
    result = asyncio.run(_client().ping(node, LOSSY, count=20, interval=0.01))
    assert (result.sent, result.received) == (20, 14)
    assert result.loss_pct == pytest.approx(30, abs=1)
    assert result.rtt_avg_ms == pytest.approx(45, abs=1)
    assert 41 <= result.rtt_min_ms <= result.rtt_avg_ms <= result.rtt_max_ms <= 49
    assert 0 < result.jitter_ms <= 8
    pings = [c for c in net.counters("bras-diag").commands if c[0] == "/ping"]
    assert pings == [("/ping", f"=address={LOSSY}", "=count=20", "=interval=10ms")]
    _bounded_and_closed(net)


def test_unanswered_address_is_all_loss(diag_net) -> None:
    """An address nothing answers on: every probe lost, no RTT."""
    net, node = diag_net
    result = asyncio.run(_client().ping(node, "100.64.9.99", count=3, interval=0.01))
    assert (result.sent, result.received, result.loss_pct) == (3, 0, 100)
    assert result.rtt_avg_ms is None
    _bounded_and_closed(net)


def test_ping_refuses_an_unbounded_or_odd_request(diag_net) -> None:
    """The client never sends a ping past MAX_PING_COUNT or to a non-address."""
    _, node = diag_net
    client = _client()
    for kwargs in ({"count": 0}, {"count": 51}, {"interval": 0}):
        with pytest.raises(ValueError, match=r"ping (count|interval) must be"):
            asyncio.run(client.ping(node, LOSSY, **kwargs))
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        asyncio.run(client.ping(node, "100.64.9.30 count=", count=1))


def test_dominant_flow_comes_first(diag_net) -> None:
    """Torch flows are summed per remote/protocol/port, busiest first, tx as download;
    the command carries its duration."""
    net, node = diag_net
    flows = asyncio.run(_client().torch(node, "busy", seconds=3))
    assert flows is not None
    assert [(f.remote, f.protocol, f.port) for f in flows] == [
        ("203.0.113.9", "tcp", 443),
        ("151.101.1.1", "tcp", 443),
        ("8.8.8.8", "udp", 53),
    ]
    assert (flows[0].download_bps, flows[0].upload_bps) == (30 * MBPS, 900_000)
    assert flows[1].download_bps == 3 * MBPS  # two connections, one flow
    torches = [c for c in net.counters("bras-diag").commands if c[0] == "/tool/torch"]
    assert len(torches) == 1
    assert "=duration=3s" in torches[0]
    _bounded_and_closed(net)


def test_torch_rate_out_of_range_is_a_router_protocol_error() -> None:
    """Regression: a torch row whose ``tx`` was past `MAX_RATE_BPS` escaped as a raw
    MalformedReply (parsed after the mapped session ended), which `diagnose` took
    for a bug and the whole diag failed; now it is a RouterProtocolError."""
    config = _config()
    flood = Flow("1.1.1.1", tx_bps=MAX_RATE_BPS + 1, port=443)
    config = dataclasses.replace(
        config,
        subscribers=[
            dataclasses.replace(s, flows=(flood,)) if s.name == "busy" else s
            for s in config.subscribers
        ],
    )
    with SimNetwork([config]) as net:
        node = Node("bras-diag", "127.0.0.1", net.ports["bras-diag"])
        with pytest.raises(RouterProtocolError, match="tx out of range"):
            asyncio.run(_client().torch(node, "busy", seconds=1, address=HEALTHY))
        _bounded_and_closed(net)


def test_torch_of_an_offline_user_is_none(diag_net) -> None:
    """No session on the router: nothing to torch, said as None, not an error."""
    net, node = diag_net
    assert asyncio.run(_client().torch(node, "offline", seconds=1)) is None
    assert asyncio.run(_client().torch(node, "offline", seconds=1, address=LOSSY)) is None
    _bounded_and_closed(net)


def test_ping_of_a_router_gone_silent_ends_at_its_deadline(diag_net) -> None:
    """A router that stops answering after login: the ping ends in RouterTimeout
    (the deadline is `timeout` plus the probes' time), its session closed."""
    net, node = diag_net
    net.call("bras-diag", lambda sim: setattr(sim, "fault", faults.STALL_LOGIN))
    client = RouterClient(username=API_USER, password=API_PASSWORD, timeout=0.3)
    with pytest.raises(RouterTimeout):
        asyncio.run(client.ping(node, LOSSY, count=2, interval=0.01))
    net.call("bras-diag", lambda sim: setattr(sim, "fault", None))
    _bounded_and_closed(net)


def test_a_burst_of_diagnoses_leaves_a_spare_session_for_a_pull(diag_net) -> None:
    """Regression: every diagnosis's ping and torch took one of the router's spare
    sessions, so a burst of "Diagnosticar" clicks held all of them for seconds and a
    targeted pull (or a live view) asked meanwhile got "busy". Now diagnoses hold at
    most `DIAG_SESSIONS`: with three pings running, the pull still gets a session and
    finds its secret, and the ping over the turns is refused as busy."""
    net, node = diag_net
    client = RouterClient(username=API_USER, password=API_PASSWORD, timeout=0.5, max_sessions=4)

    async def burst() -> tuple[list[object], object]:
        pings = [
            asyncio.create_task(client.ping(node, LOSSY, count=5, interval=0.2)) for _ in range(3)
        ]
        await asyncio.sleep(0)  # each ping has taken its slots before its first I/O
        pull = await asyncio.gather(client.find_secret(node, "lossy"), return_exceptions=True)
        return await asyncio.gather(*pings, return_exceptions=True), pull[0]

    pings, pulled = asyncio.run(burst())
    assert getattr(pulled, "name", None) == "lossy", pulled
    assert sum(isinstance(p, RouterBusy) for p in pings) == 1
    assert net.counters("bras-diag").peak_sessions == 3  # two pings and the pull
    _bounded_and_closed(net)
