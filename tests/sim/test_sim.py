"""Tests of the RouterOS API simulator, driven by the real librouteros client.

The raw-socket helper below encodes and decodes with librouteros' own protocol
functions, never with bot.sim.wire: the simulator and its checks must not share
an encoder, or a bug in it would cancel out.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import librouteros
import pytest
from librouteros.exceptions import (
    ConnectionClosed,
    FatalError,
    LibRouterosError,
    ProtocolError,
    TrapError,
)
from librouteros.login import token
from librouteros.protocol import decode_length, determine_length, encode_sentence

from bot.sim import faults, tables, traffic, wire
from bot.sim.model import MBPS, RouterConfig, Subscriber, demo_network, version_tuple
from bot.sim.network import SimNetwork
from bot.sim.query import matches, project
from bot.sim.server import RouterSim
from bot.sim.tls import client_context

HOST = "127.0.0.1"
USER = "beholder"
PASSWORD = "beholder-pass"
# Socket timeout for the stall tests: short, so the whole file stays fast.
STALL_TIMEOUT = 0.3

JUAN_RX, JUAN_TX = 3_000_000, 45_000_000  # upload, download as the router sees them


def _subscribers() -> list[Subscriber]:
    return [
        Subscriber(
            name="juan.perez",
            password="x",
            profile="plan-50M",
            comment="Pérez, Juan - Av. San Martín 1234",
            plan=(10 * MBPS, 50 * MBPS),
            online=True,
            address="100.64.0.10",
            caller_id="4C:5E:0C:12:34:56",
            uptime_s=90061,
            fixed_traffic=(JUAN_RX, JUAN_TX),
        ),
        Subscriber(
            name="20513",
            password="x",
            plan=(6 * MBPS, 30 * MBPS),
            online=True,
            address="100.64.0.11",
            caller_id="E4:8D:8C:20:51:30",
            fixed_traffic=(1_000_000, 12_000_000),
        ),
        Subscriber(
            name="carlos.lopez",
            password="x",
            online=False,
            last_logged_out="2025-11-20 10:33:12",
            last_caller_id="B8:69:F4:0C:AB:CD",
            last_disconnect_reason="peer-request",
        ),
        Subscriber(name="roberto.diaz", password="x", disabled=True, comment="baja"),
        Subscriber(
            name="sofia.acuna",
            password="x",
            plan=None,
            online=True,
            address="100.64.0.12",
            caller_id="08:55:31:0A:0B:0C",
            load=0.3,
        ),
    ]


@pytest.fixture(scope="module")
def net() -> Iterator[SimNetwork]:
    configs = [
        RouterConfig(name="main", subscribers=_subscribers()),
        RouterConfig(name="new", version="7.18", subscribers=_subscribers()),
        RouterConfig(name="limited", max_sessions=2, subscribers=_subscribers()),
        RouterConfig(name="faulty", subscribers=_subscribers()),
        RouterConfig(name="secure", tls=True, subscribers=_subscribers()),
    ]
    with SimNetwork(configs) as network:
        yield network


@pytest.fixture
def faulty(net: SimNetwork) -> Iterator[int]:
    """Port of the router whose fault each test sets; healed afterwards."""
    yield net.port("faulty")
    net.set_fault("faulty", None)
    net.set_latency("faulty", 0.0)


def connect(port: int, **kwargs: object) -> librouteros.Api:
    options: dict[str, object] = {
        "username": USER,
        "password": PASSWORD,
        "encoding": "utf-8",
        "timeout": 3,
    }
    options.update(kwargs)
    return librouteros.connect(host=HOST, port=port, **options)  # type: ignore[arg-type]


def wait_for(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Raw:
    """Minimal client on a bare socket, to see exactly what is on the wire."""

    def __init__(self, port: int, timeout: float = 3.0) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=timeout)

    def send(self, *words: str) -> None:
        self.sock.sendall(encode_sentence(*words, encoding="utf-8"))

    def _read(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionClosed("closed")
            data += chunk
        return data

    def sentence(self) -> list[str]:
        words: list[str] = []
        while True:
            first = self._read(1)
            prefix = first + self._read(determine_length(first))
            length = decode_length(prefix)
            if length == 0:
                return words
            words.append(self._read(length).decode("utf-8"))

    def until_done(self) -> list[list[str]]:
        sentences: list[list[str]] = []
        while not sentences or sentences[-1][0] != "!done":
            sentences.append(self.sentence())
        return sentences

    def login(self) -> None:
        self.send("/login", f"=name={USER}", f"=password={PASSWORD}")
        assert self.until_done() == [["!done"]]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(net: SimNetwork) -> Iterator[Callable[[str], Raw]]:
    opened: list[Raw] = []

    def open_raw(name: str) -> Raw:
        client = Raw(net.port(name))
        opened.append(client)
        return client

    yield open_raw
    for client in opened:
        client.close()


# -- wire format -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "prefix"),
    [
        (0, b"\x00"),
        (0x7F, b"\x7f"),
        (0x80, b"\x80\x80"),
        (0x3FFF, b"\xbf\xff"),
        (0x4000, b"\xc0\x40\x00"),
        (0x1FFFFF, b"\xdf\xff\xff"),
        (0x200000, b"\xe0\x20\x00\x00"),
        (0xFFFFFFF, b"\xef\xff\xff\xff"),
        (0x10000000, b"\xf0\x10\x00\x00\x00"),
    ],
)
def test_length_prefixes(length: int, prefix: bytes) -> None:
    assert wire.encode_length(length) == prefix
    assert wire.decode_length(prefix) == length
    if length < 0x10000000:  # librouteros cannot do 5-byte prefixes
        assert decode_length(prefix) == length


def test_read_sentence_roundtrip_and_reserved_byte() -> None:
    async def scenario() -> None:
        reader = asyncio.StreamReader()
        long_word = "=comment=" + "ñ" * 200  # needs a 2-byte prefix
        reader.feed_data(encode_sentence("/ppp/active/print", long_word, encoding="utf-8"))
        reader.feed_data(b"\xf8\x00")
        assert await wire.read_sentence(reader) == ["/ppp/active/print", long_word]
        with pytest.raises(wire.WireError):
            await wire.read_sentence(reader)

    asyncio.run(scenario())


# -- login -----------------------------------------------------------------------


def test_login_plain(net: SimNetwork) -> None:
    api = connect(net.port("main"))
    try:
        assert tuple(api.rawCmd("/system/identity/print")) == ({"name": "main"},)
    finally:
        api.close()


def test_login_token_pre_643(net: SimNetwork) -> None:
    api = connect(net.port("main"), login_method=token)
    try:
        assert tuple(api.rawCmd("/system/identity/print")) == ({"name": "main"},)
    finally:
        api.close()


def test_login_token_wrong_password(net: SimNetwork) -> None:
    with pytest.raises(TrapError, match=r"invalid user name or password \(6\)"):
        connect(net.port("main"), login_method=token, password="nope")


def test_bad_credentials_trap_then_close(net: SimNetwork, raw: Callable[[str], Raw]) -> None:
    with pytest.raises(TrapError, match=r"invalid user name or password \(6\)"):
        connect(net.port("main"), password="wrong")
    client = raw("main")
    client.send("/login", "=name=intruder", f"=password={PASSWORD}")
    assert client.until_done() == [
        ["!trap", "=message=invalid user name or password (6)"],
        ["!done"],
    ]
    with pytest.raises(ConnectionClosed):
        client.sentence()
    accented = raw("main")
    accented.send("/login", f"=name={USER}", "=password=contraseña")
    assert accented.until_done()[0] == ["!trap", "=message=invalid user name or password (6)"]


def test_command_before_login(raw: Callable[[str], Raw]) -> None:
    client = raw("main")
    client.send("/ppp/active/print")
    assert client.until_done() == [["!trap", "=message=not logged in"], ["!done"]]


# -- print -----------------------------------------------------------------------


@pytest.fixture
def api(net: SimNetwork) -> Iterator[librouteros.Api]:
    client = connect(net.port("main"))
    yield client
    client.close()


def names(rows: tuple[dict[str, object], ...]) -> set[object]:
    return {row["name"] for row in rows}


def test_ppp_active_by_name(api: librouteros.Api) -> None:
    (row,) = tuple(api.rawCmd("/ppp/active/print", "?name=juan.perez"))
    assert row == {
        ".id": row[".id"],
        "name": "juan.perez",
        "service": "pppoe",
        "caller-id": "4C:5E:0C:12:34:56",
        "address": "100.64.0.10",
        "uptime": row["uptime"],
        "encoding": "",
        "session-id": row["session-id"],
        "limit-bytes-in": 0,
        "limit-bytes-out": 0,
        "radius": False,
    }
    assert str(row[".id"]).startswith("*")
    assert str(row["session-id"]).startswith("0x")
    assert str(row["uptime"]).startswith("1d1h1m")  # 90061 s plus the time running
    assert tuple(api.rawCmd("/ppp/active/print", "?name=carlos.lopez")) == ()


def test_numeric_name_comes_back_as_int(api: librouteros.Api) -> None:
    (row,) = tuple(api.rawCmd("/ppp/active/print", "?name=20513"))
    assert row["name"] == 20513


def test_secret_print(api: librouteros.Api) -> None:
    (carlos,) = tuple(api.rawCmd("/ppp/secret/print", "?name=carlos.lopez"))
    assert carlos["disabled"] is False
    assert "comment" not in carlos  # empty comments are omitted
    assert carlos["last-logged-out"] == "2025-11-20 10:33:12"
    assert carlos["last-caller-id"] == "B8:69:F4:0C:AB:CD"
    assert carlos["last-disconnect-reason"] == "peer-request"
    (juan,) = tuple(api.rawCmd("/ppp/secret/print", "?name=juan.perez"))
    assert juan["comment"] == "Pérez, Juan - Av. San Martín 1234"
    assert juan["profile"] == "plan-50M"
    assert {"password", "service", "routes", "limit-bytes-in", "caller-id"} <= juan.keys()


def test_queries_has_lacks_or_not(api: librouteros.Api) -> None:
    everyone = {"juan.perez", 20513, "carlos.lopez", "roberto.diaz", "sofia.acuna"}
    with_comment = names(tuple(api.rawCmd("/ppp/secret/print", "?comment")))
    assert with_comment == {"juan.perez", "roberto.diaz"}
    without = names(tuple(api.rawCmd("/ppp/secret/print", "?-comment")))
    assert without == everyone - with_comment
    either = tuple(api.rawCmd("/ppp/secret/print", "?name=carlos.lopez", "?name=20513", "?#|"))
    assert names(either) == {"carlos.lopez", 20513}
    neither = tuple(api.rawCmd("/ppp/secret/print", "?name=carlos.lopez", "?name=20513", "?#|!"))
    assert names(neither) == everyone - {"carlos.lopez", 20513}
    # yes/no is accepted for booleans printed as true/false.
    assert names(tuple(api.rawCmd("/ppp/secret/print", "?disabled=yes"))) == {"roberto.diaz"}
    # Every query must hold (implicit AND).
    assert tuple(api.rawCmd("/ppp/secret/print", "?name=juan.perez", "?disabled=true")) == ()


def test_queries_compare(api: librouteros.Api) -> None:
    below = names(tuple(api.rawCmd("/ppp/secret/print", "?<name=d")))
    assert below == {20513, "carlos.lopez"}
    above = names(tuple(api.rawCmd("/ppp/secret/print", "?>name=r")))
    assert above == {"roberto.diaz", "sofia.acuna"}


def test_query_stack_semantics() -> None:
    row = {"name": "a", "type": "ether"}
    assert matches(row, [])
    assert matches(row, ["name=b", "name=a", "#|"])
    assert not matches(row, ["name=b", "name=c", "#|"])
    # "|" on a single pushed value ORs with the endless "true" underneath.
    assert matches(row, ["name=b", "#|"])
    assert matches(row, ["type=ether", "name=a", "#&"])
    assert matches(row, ["name=b", "#!"])
    assert not matches(row, ["-name"])
    # N pushes a copy of the value N below the top; "." alone duplicates the top.
    assert matches(row, ["name=b", "name=a", "#0&|"])  # [F,T,T] -> [F,T] -> [T]
    assert not matches(row, ["name=b", "name=a", "#1&|"])  # [F,T,F] -> [F,F] -> [F]
    assert not matches(row, ["name=b", "name=a", "#1.&|"])  # "." only ends the index
    assert matches(row, ["name=b", "name=a", "#.&|"])
    assert project({".id": "*1", "name": "a", "x": "1"}, "name,x") == {"name": "a", "x": "1"}


def test_proplist(api: librouteros.Api) -> None:
    rows = tuple(api.rawCmd("/ppp/active/print", "=.proplist=name,address"))
    assert rows
    assert all(set(row) == {"name", "address"} for row in rows)
    with_id = tuple(api.rawCmd("/ppp/active/print", "=.proplist=.id,name", "?name=juan.perez"))
    assert set(with_id[0]) == {".id", "name"}


def test_count_only(api: librouteros.Api) -> None:
    assert tuple(api.rawCmd("/ppp/active/print", "=count-only=")) == ({"ret": 3},)


def test_queue_simple(api: librouteros.Api) -> None:
    (queue,) = tuple(api.rawCmd("/queue/simple/print", "?name=<pppoe-juan.perez>"))
    assert queue["max-limit"] == "10000000/50000000"  # upload/download
    assert queue["rate"] == f"{JUAN_RX}/{JUAN_TX}"
    assert queue["target"] == "100.64.0.10/32"
    assert queue["dynamic"] is True
    assert queue["queued-bytes"] == "0/0"
    # Online but shaped elsewhere: no dynamic queue.
    assert tuple(api.rawCmd("/queue/simple/print", "?name=<pppoe-sofia.acuna>")) == ()


def test_system_and_pppoe_server(api: librouteros.Api) -> None:
    (resource,) = tuple(api.rawCmd("/system/resource/print"))
    assert resource["version"] == "7.16 (stable)"
    assert resource["platform"] == "MikroTik"
    assert {"uptime", "board-name", "cpu-load"} <= resource.keys()
    (iface,) = tuple(api.rawCmd("/interface/pppoe-server/print", "?user=juan.perez"))
    assert iface["name"] == "<pppoe-juan.perez>"
    assert iface["remote-address"] == "4C:5E:0C:12:34:56"


def test_replies_are_not_held_back_by_nagle(api: librouteros.Api) -> None:
    # Multi-sentence replies must leave at once (TCP_NODELAY), or every command
    # waits ~40 ms for a delayed ACK and benchmarks measure the kernel.
    started = time.monotonic()
    for _ in range(20):
        tuple(api.rawCmd("/system/identity/print"))
    assert time.monotonic() - started < 0.4


def test_unknown_command(api: librouteros.Api) -> None:
    with pytest.raises(TrapError, match="no such command prefix"):
        tuple(api.rawCmd("/ip/firewall/nat/print"))


def test_quit_is_fatal(api: librouteros.Api) -> None:
    with pytest.raises(FatalError, match="session terminated on request"):
        tuple(api.rawCmd("/quit"))


# -- tags and !empty ---------------------------------------------------------------


def test_tag_echoed_on_every_reply(raw: Callable[[str], Raw]) -> None:
    client = raw("main")
    client.login()
    client.send("/ppp/active/print", "?name=juan.perez", "=.proplist=name", ".tag=7")
    assert client.until_done() == [["!re", "=name=juan.perez", ".tag=7"], ["!done", ".tag=7"]]
    client.send("/no/such", "=.tag=8")  # librouteros-style attribute tag is accepted too
    assert client.until_done() == [
        ["!trap", "=message=no such command prefix", ".tag=8"],
        ["!done", ".tag=8"],
    ]


def test_librouteros_cannot_parse_tagged_replies(api: librouteros.Api) -> None:
    # The router answers with ".tag=x" (no leading "="), which librouteros 4.2.2
    # fails to split: the bot must not use tags through librouteros.
    with pytest.raises(ValueError, match="not enough values to unpack"):
        tuple(api.rawCmd("/system/identity/print", ".tag=1"))


def test_empty_print_since_7_18(net: SimNetwork, raw: Callable[[str], Raw]) -> None:
    new = connect(net.port("new"))
    try:
        assert tuple(new.rawCmd("/ppp/active/print", "?name=nobody")) == ()
    finally:
        new.close()
    client = raw("new")
    client.login()
    client.send("/ppp/active/print", "?name=nobody")
    assert client.until_done() == [["!empty"], ["!done"]]
    old = raw("main")
    old.login()
    old.send("/ppp/active/print", "?name=nobody")
    assert old.until_done() == [["!done"]]


def test_version_compares_numerically() -> None:
    assert version_tuple("7.9") < version_tuple("7.18") <= version_tuple("7.18.1")
    assert version_tuple("7.16 (stable)") == (7, 16)
    assert version_tuple("7.18beta2") == (7, 18)


# -- monitor-traffic -----------------------------------------------------------------


def test_monitor_once_direction(api: librouteros.Api) -> None:
    rows = tuple(
        api(
            "/interface/monitor-traffic",
            interface="<pppoe-juan.perez>,<pppoe-20513>",
            once=True,
        )
    )
    assert [row["name"] for row in rows] == ["<pppoe-juan.perez>", "<pppoe-20513>"]
    juan = rows[0]
    # tx (router → subscriber) is the download, rx is the upload.
    assert juan["tx-bits-per-second"] == JUAN_TX
    assert juan["rx-bits-per-second"] == JUAN_RX
    for side in ("rx", "tx"):
        assert 0 < juan[f"fp-{side}-bits-per-second"] <= juan[f"{side}-bits-per-second"]
        assert 0 < juan[f"fp-{side}-packets-per-second"] <= juan[f"{side}-packets-per-second"]
    for key in ("rx-drops", "rx-errors", "tx-drops", "tx-queue-drops", "tx-errors"):
        assert juan[f"{key}-per-second"] == 0
    # Bare "=once=" (as the manual writes it) works like librouteros' "=once=yes".
    (bare,) = tuple(api.rawCmd("/interface/monitor-traffic", "=interface=<pppoe-20513>", "=once="))
    assert bare["tx-bits-per-second"] == 12_000_000


def test_monitor_unknown_interface(api: librouteros.Api) -> None:
    for iface in ("<pppoe-carlos.lopez>", "<pppoe-nobody>", "<pppoe-juan.perez>,<pppoe-x>"):
        with pytest.raises(TrapError, match="no such item"):
            tuple(api.rawCmd("/interface/monitor-traffic", f"=interface={iface}", "=once="))


def test_generated_traffic_is_live_and_within_plan() -> None:
    sub = Subscriber(name="x", password="x", plan=(10 * MBPS, 50 * MBPS), online=True, load=0.6)
    samples = [traffic.sample(sub, t * 0.7) for t in range(200)]
    tx = [s.tx_bps for s in samples]
    rx = [s.rx_bps for s in samples]
    assert max(tx) <= 50 * MBPS
    assert max(rx) <= 10 * MBPS
    assert len(set(tx)) > 100  # it moves
    assert 0.5 * 30 * MBPS < sum(tx) / len(tx) < 1.5 * 30 * MBPS  # about load x download
    assert 0.5 * 6 * MBPS < sum(rx) / len(rx) < 1.5 * 6 * MBPS  # about load x upload
    assert traffic.sample(sub, 12.3) == traffic.sample(sub, 12.3)  # reproducible
    saturated = Subscriber(name="y", password="y", plan=(10 * MBPS, 50 * MBPS), load=1.0)
    at_limit = [traffic.sample(saturated, t).tx_bps for t in range(100)]
    assert 0.96 * 50 * MBPS <= max(at_limit) <= 50 * MBPS
    assert len(set(at_limit)) > 50  # wobbles under the plan instead of sticking to it
    grown = traffic.queue_totals(saturated, 7200)
    assert grown.dropped[1] > traffic.queue_totals(saturated, 3600).dropped[1] > 0


def test_monitor_stream_until_cancel(raw: Callable[[str], Raw]) -> None:
    client = raw("main")
    client.login()
    started = time.monotonic()
    client.send("/interface/monitor-traffic", "=interface=<pppoe-juan.perez>", ".tag=s")
    first, second = client.sentence(), client.sentence()
    assert time.monotonic() - started >= 0.9  # one reading per second
    for sentence in (first, second):
        assert sentence[0] == "!re"
        assert "=name=<pppoe-juan.perez>" in sentence
        assert sentence[-1] == ".tag=s"
    client.send("/cancel", "=tag=s", ".tag=c")
    replies: list[list[str]] = []
    while not replies or replies[-1] != ["!done", ".tag=s"]:
        replies.append(client.sentence())
    # A reading may have been on its way; after it, the order the manual shows.
    assert [s for s in replies if s[0] != "!re"] == [
        ["!trap", "=category=2", "=message=interrupted", ".tag=s"],
        ["!done", ".tag=c"],
        ["!done", ".tag=s"],
    ]


def test_monitor_stream_then_close(net: SimNetwork, raw: Callable[[str], Raw]) -> None:
    client = raw("limited")
    client.login()
    client.send("/interface/monitor-traffic", "=interface=<pppoe-20513>")
    assert client.sentence()[0] == "!re"
    client.close()
    assert wait_for(lambda: net.counters("limited").active_sessions == 0)


def test_monitor_duration(net: SimNetwork, raw: Callable[[str], Raw]) -> None:
    net.call("new", lambda sim: setattr(sim, "monitor_interval", 0.2))
    try:
        client = raw("new")
        client.login()
        started = time.monotonic()
        client.send("/interface/monitor-traffic", "=interface=<pppoe-juan.perez>", "=duration=1")
        sentences = client.until_done()
        elapsed = time.monotonic() - started
    finally:
        net.call("new", lambda sim: setattr(sim, "monitor_interval", 1.0))
    assert 0.9 <= elapsed < 2.0
    assert [s[0] for s in sentences] == ["!re"] * 5 + ["!done"]


# -- sessions, latency, counters -------------------------------------------------------


def test_session_limit(net: SimNetwork) -> None:
    net.reset_counters("limited")
    first, second = connect(net.port("limited")), connect(net.port("limited"))
    try:
        with pytest.raises((LibRouterosError, ConnectionError)):
            connect(net.port("limited"))
        assert tuple(first.rawCmd("/system/identity/print")) == ({"name": "limited"},)
    finally:
        first.close()
        second.close()
    counters = net.counters("limited")
    assert counters.peak_sessions == 2
    assert counters.rejected_connections == 1
    assert counters.total_connections == 3
    assert wait_for(lambda: net.counters("limited").active_sessions == 0)
    # Room again once the others left.
    again = connect(net.port("limited"))
    again.close()


def test_latency_per_reply_without_blocking_others(net: SimNetwork, faulty: int) -> None:
    net.set_latency("faulty", 0.25)
    durations: list[float] = []

    def one_client() -> None:
        started = time.monotonic()
        client = connect(faulty)  # login: one reply
        try:
            tuple(client.rawCmd("/ppp/active/print"))  # several rows, one wait
        finally:
            client.close()
        durations.append(time.monotonic() - started)

    started = time.monotonic()
    threads = [threading.Thread(target=one_client) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    assert len(durations) == 3
    assert all(0.5 <= d < 0.9 for d in durations)
    assert wall < 0.9  # served in parallel, not 3 x 0.5 s


def test_counters_and_commands(net: SimNetwork) -> None:
    net.reset_counters("new")
    clients = [connect(net.port("new")) for _ in range(3)]
    try:
        for client in clients:
            tuple(client("/interface/monitor-traffic", interface="<pppoe-20513>", once=True))
        assert net.counters("new").active_sessions == 3
    finally:
        for client in clients:
            client.close()
    assert wait_for(lambda: net.counters("new").active_sessions == 0)
    counters = net.counters("new")
    assert counters.peak_sessions == 3
    assert counters.total_connections == 3
    monitors = [c for c in counters.commands if c[0] == "/interface/monitor-traffic"]
    assert len(monitors) == 3
    assert all("=once=yes" in words for words in monitors)
    net.reset_counters("new")
    assert net.counters("new").commands == ()


# -- faults ----------------------------------------------------------------------------


def test_fault_blackhole_and_recovery(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.BLACKHOLE)
    assert net.port("faulty") == faulty
    with pytest.raises(TimeoutError):
        connect(faulty, timeout=STALL_TIMEOUT)
    net.set_fault("faulty", None)
    client = connect(faulty)
    client.close()


def test_fault_stall_connect(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.STALL_CONNECT)
    with pytest.raises(TimeoutError):
        connect(faulty, timeout=STALL_TIMEOUT)


def test_fault_stall_login(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.STALL_LOGIN)
    client = connect(faulty, timeout=STALL_TIMEOUT)
    try:
        with pytest.raises(TimeoutError):
            tuple(client.rawCmd("/ppp/active/print"))
    finally:
        client.close()


def test_fault_stall_mid_reply(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.STALL_MID_REPLY)
    client = Raw(faulty, timeout=STALL_TIMEOUT)
    try:
        client.login()
        client.send("/system/identity/print")
        partial = client.sock.recv(4096)
        assert partial.startswith(b"\x03!re")
        assert len(partial) < len(encode_sentence("!re", "=name=main", encoding="utf-8"))
        with pytest.raises(TimeoutError):
            client.sock.recv(4096)
    finally:
        client.close()


def test_fault_fatal(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.FATAL)
    client = connect(faulty)
    with pytest.raises(FatalError, match=faults.FATAL_MESSAGE):
        tuple(client.rawCmd("/ppp/active/print"))


def test_fault_close_mid_sentence(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.CLOSE_MID_SENTENCE)
    client = connect(faulty)
    try:
        with pytest.raises(ConnectionClosed):
            tuple(client.rawCmd("/ppp/active/print"))
    finally:
        client.close()


def test_fault_malformed(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.MALFORMED)
    client = connect(faulty)
    try:
        with pytest.raises(ProtocolError, match="controll byte"):
            tuple(client.rawCmd("/ppp/active/print"))
    finally:
        client.close()


def test_fault_malformed_reply(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.MALFORMED_REPLY)
    client = connect(faulty)
    try:
        # librouteros silently skips a reply word without "!": the data is lost.
        assert tuple(client.rawCmd("/ppp/active/print")) == ()
    finally:
        client.close()
    raw_client = Raw(faulty)
    try:
        raw_client.login()
        raw_client.send("/ppp/active/print")
        assert raw_client.sentence()[0] == "re"
    finally:
        raw_client.close()


def test_fault_bad_credentials(net: SimNetwork, faulty: int) -> None:
    net.set_fault("faulty", faults.BAD_CREDENTIALS)
    with pytest.raises(TrapError, match="invalid user name or password"):
        connect(faulty)


def test_unknown_fault_rejected(net: SimNetwork) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        net.set_fault("faulty", "slow")


# -- TLS -----------------------------------------------------------------------------------


def test_tls_adh_sync(net: SimNetwork) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers("ADH:@SECLEVEL=0")
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    client = connect(net.port("secure"), ssl_wrapper=ctx.wrap_socket)
    try:
        assert tuple(client.rawCmd("/system/identity/print")) == ({"name": "secure"},)
    finally:
        client.close()


def test_tls_adh_async(net: SimNetwork) -> None:
    async def scenario() -> list[dict[str, object]]:
        client = await librouteros.async_connect(
            HOST,
            USER,
            PASSWORD,
            port=net.port("secure"),
            encoding="utf-8",
            timeout=3,
            ssl_wrapper=client_context(),
        )
        try:
            return [row async for row in client.rawCmd("/ppp/active/print", "?name=20513")]
        finally:
            await client.close()

    (row,) = asyncio.run(scenario())
    assert row["name"] == 20513


def test_tls_without_adh_ciphers_fails(net: SimNetwork) -> None:
    # Default ciphers (no ADH, security level >= 1) share nothing with the router.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with pytest.raises(ssl.SSLError):
        connect(net.port("secure"), ssl_wrapper=ctx.wrap_socket)


def test_fault_tls_fail(net: SimNetwork) -> None:
    net.set_fault("secure", faults.TLS_FAIL)
    try:
        with pytest.raises(ssl.SSLError):
            connect(net.port("secure"), ssl_wrapper=client_context().wrap_socket)
    finally:
        net.set_fault("secure", None)


# -- lifecycle -------------------------------------------------------------------------------


def test_stop_leaves_nothing_running() -> None:
    config = RouterConfig(name="solo", subscribers=_subscribers())

    async def scenario() -> None:
        sim = RouterSim(config)
        await sim.start()
        streaming = await _raw_async_login(sim.port)
        streaming[1].write(
            encode_sentence(
                "/interface/monitor-traffic", "=interface=<pppoe-20513>", encoding="utf-8"
            )
        )
        stalled = await _raw_async_login(sim.port)
        sim.fault = faults.STALL_LOGIN
        stalled[1].write(encode_sentence("/ppp/active/print", encoding="utf-8"))
        sim.fault = faults.STALL_CONNECT
        swallowed = await asyncio.open_connection(HOST, sim.port)
        for _ in range(200):  # the server accepts the last connection a moment later
            if sim.active_sessions == 3:
                break
            await asyncio.sleep(0.01)
        assert sim.active_sessions == 3
        sim.fault = faults.BLACKHOLE
        backlogged = await asyncio.open_connection(HOST, sim.port)
        await sim.stop()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert sim.active_sessions == 0
        for reader, writer in (streaming, stalled, swallowed, backlogged):
            # The server aborted the connection: EOF or reset, never a hang.
            with contextlib.suppress(ConnectionError):
                while await asyncio.wait_for(reader.read(4096), 1.0):
                    pass
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(HOST, sim.port)

    asyncio.run(scenario())


async def _raw_async_login(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(
        encode_sentence("/login", f"=name={USER}", f"=password={PASSWORD}", encoding="utf-8")
    )
    assert await reader.readexactly(6) == b"\x05!done"
    assert await reader.readexactly(1) == b"\x00"
    return reader, writer


def test_network_stop_joins_thread() -> None:
    before = set(threading.enumerate())
    with SimNetwork([RouterConfig(name="a"), RouterConfig(name="b")]) as network:
        ports = network.ports
        assert len(set(ports.values())) == 2
        client = connect(ports["a"])
        client.close()
    assert set(threading.enumerate()) == before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, ports["a"]), timeout=1).close()


def test_only_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        asyncio.run(RouterSim(RouterConfig(name="x")).start(host="0.0.0.0"))


# -- model ------------------------------------------------------------------------------------


def test_uptime_format() -> None:
    assert tables.format_uptime(0) == "0s"
    assert tables.format_uptime(59) == "59s"
    assert tables.format_uptime(3600) == "1h"
    assert tables.format_uptime(694861) == "1w1d1h1m1s"
    assert tables.format_uptime(90061.9) == "1d1h1m1s"


def test_demo_network() -> None:
    routers = demo_network()
    assert len(routers) == 3
    assert len({(r.username, r.password) for r in routers}) == 1
    by_name = {r.name: r for r in routers}
    juan = by_name["bras-centro"].subscriber("juan.perez")
    assert juan is not None
    assert juan.online
    assert juan.plan == (10 * MBPS, 50 * MBPS)
    assert juan.load == pytest.approx(0.9)
    ana = [r.subscriber("ana.martinez") for r in routers if r.subscriber("ana.martinez")]
    assert sorted(s.online for s in ana if s) == [False, True]
    everyone = [s for r in routers for s in r.subscribers]
    assert any(s.online and s.plan is None for s in everyone)
    assert any(s.disabled for s in everyone)
    assert any(s.name.isdigit() and s.online for s in everyone)
    assert 10 <= len({s.name for s in everyone}) <= 14
    with SimNetwork(routers) as network:
        client = connect(network.port("bras-centro"))
        try:
            (row,) = tuple(client.rawCmd("/ppp/secret/print", "?name=juan.perez"))
            assert row["comment"] == "Pérez, Juan - Av. San Martín 1234"
            (mon,) = tuple(
                client("/interface/monitor-traffic", interface="<pppoe-juan.perez>", once=True)
            )
            assert 0.6 * 50 * MBPS <= mon["tx-bits-per-second"] <= 50 * MBPS
            assert mon["rx-bits-per-second"] <= 10 * MBPS
        finally:
            client.close()


def test_cli_runs_demo_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sim"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        nodes = {line.split("\t")[0]: line.split("\t") for line in lines}
        assert set(nodes) == {"bras-centro", "bras-norte", "bras-sur"}
        name, host, port = nodes["bras-sur"][:3]
        assert host == HOST
        client = connect(int(port))
        try:
            assert tuple(client.rawCmd("/system/identity/print")) == ({"name": name},)
        finally:
            client.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
