"""The simulator's `/ping` and `/tool/torch`, on the wire, as RouterOS answers them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sim.diag import format_rtt
from bot.sim.model import MBPS, Flow, PingPath, RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from tests.sim.test_sim import PASSWORD, USER, Raw, wait_for

LOSSY = "100.64.9.30"
STALLING = "100.64.9.32"


@pytest.fixture
def net() -> Iterator[SimNetwork]:
    config = RouterConfig(
        "diag",
        username=USER,
        password=PASSWORD,
        subscribers=[
            Subscriber(
                "busy",
                "pw",
                online=True,
                address="100.64.9.31",
                flows=(Flow("203.0.113.9", tx_bps=30 * MBPS, rx_bps=900_000, port=443),),
            ),
        ],
        ping_paths={
            LOSSY: PingPath(loss=0.5, rtt_ms=2.345),
            STALLING: PingPath(hangs_after=2),
        },
    )
    with SimNetwork([config]) as network:
        network.call("diag", lambda sim: setattr(sim, "monitor_interval", 0.01))
        yield network


@pytest.fixture
def client(net: SimNetwork) -> Iterator[Raw]:
    raw = Raw(net.port("diag"))
    raw.login()
    yield raw
    raw.close()


def _fields(sentence: list[str]) -> dict[str, str]:
    return dict(w[1:].split("=", 1) for w in sentence if w.startswith("="))


def test_rtt_printed_like_routeros() -> None:
    """Times read ``2ms``, ``2ms345us``, ``345us`` and ``1s2ms``."""
    assert [format_rtt(ms) for ms in (2, 2.345, 0.345, 1002)] == [
        "2ms",
        "2ms345us",
        "345us",
        "1s2ms",
    ]


def test_ping_rows_then_summary(client: Raw) -> None:
    """A probe per row, a lost one as ``status=timeout``, each with the summary so far."""
    client.send("/ping", f"=address={LOSSY}", "=count=4", "=interval=10ms")
    replies = client.until_done()
    assert replies[-1] == ["!done"]
    rows = [_fields(s) for s in replies[:-1]]
    assert [r["seq"] for r in rows] == ["0", "1", "2", "3"]
    assert [r.get("status") for r in rows] == [None, "timeout", None, "timeout"]
    assert rows[0]["time"] == "2ms345us"
    assert rows[0]["ttl"] == "64"
    assert rows[0]["size"] == "56"
    last = rows[-1]
    assert (last["sent"], last["received"], last["packet-loss"]) == ("4", "2", "50")
    assert last["min-rtt"] == last["avg-rtt"] == last["max-rtt"] == "2ms345us"


def test_ping_and_torch_run_at_once_on_one_connection(net: SimNetwork, client: Raw) -> None:
    """Tagged ping and torch answer concurrently, each ending with its own ``!done``;
    both bounded, so the unbounded counter stays at zero."""
    client.send("/ping", f"=address={LOSSY}", "=count=3", "=interval=50ms", ".tag=p")
    client.send("/tool/torch", "=interface=<pppoe-busy>", "=duration=3s", ".tag=t")
    replies: list[list[str]] = []
    while sum(1 for s in replies if s[0] == "!done") < 2:
        replies.append(client.sentence())
    tags = [s[-1] for s in replies]
    assert tags.count(".tag=p") == 4
    assert tags.count(".tag=t") == 4
    assert tags.index(".tag=t") < len(tags) - tags[::-1].index(".tag=p") - 1  # interleaved
    torch = [s for s in replies if s[-1] == ".tag=t" and s[0] == "!re"]
    assert [s[1] for s in torch] == [".section=0", ".section=1", ".section=2"]
    row = _fields(torch[0])
    assert (row["dst-address"], row["dst-port"], row["tx"], row["rx"]) == (
        "203.0.113.9",
        "443",
        str(30 * MBPS),
        "900000",
    )
    assert net.counters("diag").unbounded_commands == 0


def test_a_stalling_ping_path_reports_its_probes_then_nothing(client: Raw) -> None:
    """A path that hangs after 2 probes: 2 rows of a 5-probe ping, then no ``!done``;
    the next thing on the wire is what a ``/cancel`` of it brings."""
    client.send("/ping", f"=address={STALLING}", "=count=5", "=interval=10ms", ".tag=p")
    rows = [client.sentence() for _ in range(2)]
    assert [_fields(s)["seq"] for s in rows] == ["0", "1"]
    client.send("/cancel", "=tag=p", ".tag=c")
    assert client.sentence()[:1] == ["!trap"]


@pytest.mark.parametrize(
    "command",
    [
        ("/ping", f"=address={LOSSY}", "=interval=10ms"),
        ("/tool/torch", "=interface=<pppoe-busy>"),
    ],
)
def test_unbounded_streams_until_cancel_and_is_counted(
    net: SimNetwork, client: Raw, command: tuple[str, ...]
) -> None:
    """Without count/duration the router keeps answering until /cancel, and the
    simulator counts the command as one that never ends by itself."""
    client.send(*command, ".tag=s")
    assert all(client.sentence()[0] == "!re" for _ in range(12))
    client.send("/cancel", "=tag=s", ".tag=c")
    replies: list[list[str]] = []
    while not replies or replies[-1] != ["!done", ".tag=s"]:
        replies.append(client.sentence())
    assert ["!done", ".tag=c"] in replies
    assert net.counters("diag").unbounded_commands == 1


def test_bad_arguments_are_trapped(client: Raw) -> None:
    """Ping without address, a zero count or interval out of range, torch on an
    interface that does not exist: a trap each, as RouterOS refuses them."""
    for command in (
        ("/ping", "=count=1"),
        ("/ping", f"=address={LOSSY}", "=count=0"),
        ("/ping", f"=address={LOSSY}", "=count=1", "=interval=1ms"),
        ("/tool/torch", "=interface=<pppoe-nobody>", "=duration=1s"),
        ("/tool/torch", "=interface=<pppoe-busy>", "=duration=soon"),
    ):
        client.send(*command)
        replies = client.until_done()
        assert replies[0][0] == "!trap", command


def test_stream_stops_when_client_leaves(net: SimNetwork) -> None:
    """A client that hangs up mid-torch leaves no session behind."""
    raw = Raw(net.port("diag"))
    raw.login()
    raw.send("/tool/torch", "=interface=<pppoe-busy>", "=duration=100s")
    assert raw.sentence()[0] == "!re"
    raw.close()
    assert wait_for(lambda: net.counters("diag").active_sessions == 0)
