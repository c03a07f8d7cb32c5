"""Ping and torch from the router client (`RouterClient.probe`): both at once on one
session, through real TCP against the simulator."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest

from bot.errors import RouterBusy, RouterProtocolError, RouterReplyTooLarge, RouterTimeout
from bot.model import Node
from bot.routeros.client import RouterClient
from bot.routeros.parse import FLOWS_KEPT, MAX_RATE_BPS
from bot.routeros.reads import TORCH_ROWS_PER_SAMPLE
from bot.sim import faults
from bot.sim.model import MBPS, Flow, PingPath, RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from tests.conftest import API_PASSWORD, API_USER

LOSSY = "100.64.9.30"
HEALTHY = "100.64.9.31"
#: A path whose ping stalls after 4 probes (the router stops answering it).
STALLING = "100.64.9.32"


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
        ping_paths={
            LOSSY: PingPath(loss=0.3, rtt_ms=45.0, jitter_ms=4.0),
            STALLING: PingPath(rtt_ms=5.0, hangs_after=4),
        },
    )


@pytest.fixture
def diag_net() -> Iterator[tuple[SimNetwork, Node]]:
    with SimNetwork([_config()]) as net:
        net.call("bras-diag", lambda sim: setattr(sim, "monitor_interval", 0.01))
        yield net, Node("bras-diag", "127.0.0.1", net.ports["bras-diag"])


def _client(timeout: float = 2.0) -> RouterClient:
    return RouterClient(username=API_USER, password=API_PASSWORD, timeout=timeout, max_sessions=2)


def _with_flows(flows: tuple[Flow, ...]) -> RouterConfig:
    """The test router, with "busy" carrying `flows` instead."""
    config = _config()
    return dataclasses.replace(
        config,
        subscribers=[
            dataclasses.replace(s, flows=flows) if s.name == "busy" else s
            for s in config.subscribers
        ],
    )


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


def test_ping_and_torch_share_one_session_at_once(diag_net) -> None:
    """One probe is one API session with one /login, the ping and the torch answered
    concurrently on it, both bounded; the session is closed afterwards."""
    net, node = diag_net
    net.reset_counters("bras-diag")
    probe = asyncio.run(_client().probe(node, "busy", HEALTHY, 5, 0.01, 2))
    counters = net.counters("bras-diag")
    assert (counters.peak_sessions, counters.logins) == (1, 1)
    assert [words[0] for words in counters.commands].count("/login") == 1
    assert counters.peak_concurrent_commands == 2
    assert probe.ping is not None
    assert (probe.ping.sent, probe.ping.received, probe.ping.asked) == (5, 5, 5)
    assert probe.flows is not None
    assert len(probe.flows) == 3
    assert not probe.partial
    _bounded_and_closed(net)


def test_lossy_last_mile_gives_its_loss_and_latency(diag_net) -> None:
    """A 30 % loss / 45 ms path reads as 30 % loss and ~45 ms RTT, with jitter,
    through a bounded /ping; no session is left open."""
    net, node = diag_net
    probe = asyncio.run(_client().probe(node, "lossy", LOSSY, 20, 0.01, 1))
    result = probe.ping
    assert result is not None
    assert (result.sent, result.received, result.asked) == (20, 14, 20)
    assert result.loss_pct == pytest.approx(30, abs=1)
    assert result.rtt_avg_ms == pytest.approx(45, abs=1)
    assert 41 <= result.rtt_min_ms <= result.rtt_avg_ms <= result.rtt_max_ms <= 49
    assert 0 < result.jitter_ms <= 8
    assert probe.flows == ()  # torch ran and saw no traffic
    pings = [c for c in net.counters("bras-diag").commands if c[0] == "/ping"]
    assert pings == [("/ping", f"=address={LOSSY}", "=count=20", "=interval=10ms", ".tag=0")]
    _bounded_and_closed(net)


def test_unanswered_address_is_all_loss(diag_net) -> None:
    """An address nothing answers on: every probe lost, no RTT."""
    net, node = diag_net
    probe = asyncio.run(_client().probe(node, "busy", "100.64.9.99", 3, 0.01, 1))
    result = probe.ping
    assert result is not None
    assert (result.sent, result.received, result.loss_pct) == (3, 0, 100)
    assert result.rtt_avg_ms is None
    _bounded_and_closed(net)


def test_probe_refuses_an_unbounded_or_odd_request(diag_net) -> None:
    """The client never sends a ping past MAX_PING_COUNT, a torch past its seconds,
    or a ping to a non-address: nothing reaches the router."""
    net, node = diag_net
    client = _client()
    for kwargs, match in (
        ({"ping_count": 0}, "ping count must be"),
        ({"ping_count": 51}, "ping count must be"),
        ({"interval": 0}, "ping interval must be"),
        ({"torch_seconds": 0}, "torch seconds must be"),
        ({"torch_seconds": 11}, "torch seconds must be"),
    ):
        with pytest.raises(ValueError, match=match):
            asyncio.run(client.probe(node, "busy", LOSSY, **kwargs))
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        asyncio.run(client.probe(node, "busy", "100.64.9.30 count=", 1))
    assert net.counters("bras-diag").logins == 0


def test_dominant_flow_comes_first(diag_net) -> None:
    """Torch flows are summed per remote/protocol/port, busiest first, tx as download,
    averaged over the samples; the command carries its duration."""
    net, node = diag_net
    probe = asyncio.run(_client().probe(node, "busy", HEALTHY, 1, 0.01, 3))
    flows = probe.flows
    assert flows is not None
    assert [(f.remote, f.protocol, f.port) for f in flows] == [
        ("203.0.113.9", "tcp", 443),
        ("151.101.1.1", "tcp", 443),
        ("8.8.8.8", "udp", 53),
    ]
    assert (flows[0].download_bps, flows[0].upload_bps) == (30 * MBPS, 900_000)
    assert flows[1].download_bps == 3 * MBPS  # two connections, one flow
    assert (probe.torch_seconds, probe.torch_samples) == (3, 3)
    torches = [c for c in net.counters("bras-diag").commands if c[0] == "/tool/torch"]
    assert len(torches) == 1
    assert "=duration=3s" in torches[0]
    _bounded_and_closed(net)


def test_deadline_mid_ping_keeps_what_arrived(diag_net) -> None:
    """A ping the router stops answering after 4 of 10 probes: at the deadline
    (timeout plus the torch's second) the probe gives those 4 probes (asked 10)
    and the whole torch, says it is partial, and closes the session."""
    net, node = diag_net
    probe = asyncio.run(_client(timeout=0.2).probe(node, "busy", STALLING, 10, 0.01, 1))
    assert probe.partial
    ping = probe.ping
    assert ping is not None
    assert (ping.sent, ping.received, ping.asked) == (4, 4, 10)
    assert ping.rtt_avg_ms == pytest.approx(5)
    assert probe.flows is not None
    assert probe.flows[0].remote == "203.0.113.9"
    _bounded_and_closed(net)


def test_deadline_with_nothing_measured_is_a_timeout(diag_net) -> None:
    """A ping that stalls before its first probe and a torch the router refuses
    (the session is gone): nothing measured, so the deadline is RouterTimeout."""
    net, node = diag_net
    silent = PingPath(hangs_after=0)
    net.call("bras-diag", lambda sim: sim.config.ping_paths.update({STALLING: silent}))
    with pytest.raises(RouterTimeout):
        asyncio.run(_client(timeout=0.2).probe(node, "offline", STALLING, 2, 0.01, 1))
    _bounded_and_closed(net)


def test_torch_of_more_flows_than_kept_keeps_the_busiest() -> None:
    """Regression: a torch listing more than 512 flows a second failed as a whole
    (RouterReplyTooLarge); now the busiest flows are kept, exactly, while at most
    2 × FLOWS_KEPT distinct flows are ever held."""
    crowd = tuple(
        Flow(f"198.18.{i // 250}.{i % 250 + 1}", tx_bps=1_000 + i, port=443)
        for i in range(2 * FLOWS_KEPT + 200)
    )
    giants = (Flow("203.0.113.9", tx_bps=30 * MBPS), Flow("203.0.113.10", tx_bps=20 * MBPS))
    with SimNetwork([_with_flows(crowd + giants)]) as net:
        net.call("bras-diag", lambda sim: setattr(sim, "monitor_interval", 0.01))
        node = Node("bras-diag", "127.0.0.1", net.ports["bras-diag"])
        probe = asyncio.run(_client().probe(node, "busy", HEALTHY, 1, 0.01, 2))
        flows = probe.flows
        assert flows is not None
        assert [(f.remote, f.download_bps) for f in flows[:3]] == [
            ("203.0.113.9", 30 * MBPS),
            ("203.0.113.10", 20 * MBPS),
            (crowd[-1].remote, crowd[-1].tx_bps),
        ]
        assert FLOWS_KEPT <= len(flows) <= 2 * FLOWS_KEPT
        _bounded_and_closed(net)


def test_torch_flood_still_ends_at_its_row_ceiling() -> None:
    """A torch past TORCH_ROWS_PER_SAMPLE rows a second is a flood: the reply is
    cut there and the connection closed (RouterReplyTooLarge), not read on."""
    crowd = tuple(
        Flow(f"198.18.{i // 250}.{i % 250 + 1}", tx_bps=1_000, port=443)
        for i in range(TORCH_ROWS_PER_SAMPLE + 1)
    )
    with SimNetwork([_with_flows(crowd)]) as net:
        net.call("bras-diag", lambda sim: setattr(sim, "monitor_interval", 0.01))
        node = Node("bras-diag", "127.0.0.1", net.ports["bras-diag"])
        with pytest.raises(RouterReplyTooLarge):
            asyncio.run(_client().probe(node, "busy", None, torch_seconds=1))
        _bounded_and_closed(net)


def test_torch_rate_out_of_range_is_a_router_protocol_error() -> None:
    """Regression: a torch row whose ``tx`` was past `MAX_RATE_BPS` escaped as a raw
    MalformedReply, which `diagnose` took for a bug and the whole diag failed; now
    the torch is unread (flows None) while the ping stands, and with no ping to
    show it is a RouterProtocolError."""
    flood = Flow("1.1.1.1", tx_bps=MAX_RATE_BPS + 1, port=443)
    with SimNetwork([_with_flows((flood,))]) as net:
        node = Node("bras-diag", "127.0.0.1", net.ports["bras-diag"])
        probe = asyncio.run(_client().probe(node, "busy", HEALTHY, 2, 0.01, 1))
        assert probe.ping is not None
        assert probe.ping.sent == 2
        assert probe.flows is None
        with pytest.raises(RouterProtocolError, match="tx out of range"):
            asyncio.run(_client().probe(node, "busy", None, torch_seconds=1))
        _bounded_and_closed(net)


def test_torch_of_an_offline_user_is_none(diag_net) -> None:
    """No session on the router: nothing to torch, said as flows None, not an error;
    a ping asked at the same time still stands."""
    net, node = diag_net
    probe = asyncio.run(_client().probe(node, "offline", None, torch_seconds=1))
    assert (probe.ping, probe.flows) == (None, None)
    probe = asyncio.run(_client().probe(node, "offline", LOSSY, 3, 0.01, 1))
    assert probe.flows is None
    assert probe.ping is not None
    assert probe.ping.sent == 3
    _bounded_and_closed(net)


def test_probe_of_a_router_gone_silent_ends_at_its_deadline(diag_net) -> None:
    """A router that stops answering after login: nothing measured, so the probe
    ends in RouterTimeout at its deadline, its session closed."""
    net, node = diag_net
    net.call("bras-diag", lambda sim: setattr(sim, "fault", faults.STALL_LOGIN))
    client = RouterClient(username=API_USER, password=API_PASSWORD, timeout=0.2)
    with pytest.raises(RouterTimeout):
        asyncio.run(client.probe(node, "busy", LOSSY, 2, 0.01, 1))
    net.call("bras-diag", lambda sim: setattr(sim, "fault", None))
    _bounded_and_closed(net)


def test_a_burst_of_diagnoses_leaves_a_spare_session_for_a_pull(diag_net) -> None:
    """Regression: every diagnosis took one of the router's spare sessions, so a
    burst of "Diagnosticar" clicks held all of them for seconds and a targeted pull
    (or a live view) asked meanwhile got "busy". Now diagnoses hold at most
    `DIAG_SESSIONS`: with three asked at once, the pull still gets a session and
    finds its secret, and the diagnosis over the turns is refused as busy."""
    net, node = diag_net
    client = RouterClient(username=API_USER, password=API_PASSWORD, timeout=0.5, max_sessions=4)

    async def burst() -> tuple[list[object], object]:
        probes = [
            asyncio.create_task(client.probe(node, "busy", LOSSY, 5, 0.2, 1)) for _ in range(3)
        ]
        await asyncio.sleep(0)  # each probe has taken its slots before its first I/O
        pull = await asyncio.gather(client.find_secret(node, "lossy"), return_exceptions=True)
        return await asyncio.gather(*probes, return_exceptions=True), pull[0]

    probes, pulled = asyncio.run(burst())
    assert getattr(pulled, "name", None) == "lossy", pulled
    assert sum(isinstance(p, RouterBusy) for p in probes) == 1
    assert net.counters("bras-diag").peak_sessions == 3  # two diagnoses and the pull
    _bounded_and_closed(net)


def test_a_ping_the_router_answers_with_a_trap_is_refused_not_unanswered(diag_net) -> None:
    """A router that answers the ping (and the torch) with a trap ran neither: the
    probe says the ping was refused (not that it went unanswered) and has no flows,
    with no error raised and the session closed."""
    net, node = diag_net
    net.call("bras-diag", lambda sim: setattr(sim, "fault", faults.ODD_TRAP))
    try:
        probe = asyncio.run(_client().probe(node, "busy", LOSSY, 2, 0.01, 1))
    finally:
        net.call("bras-diag", lambda sim: setattr(sim, "fault", None))
    assert (probe.ping, probe.ping_refused, probe.flows) == (None, True, None)
    _bounded_and_closed(net)
