"""What `/ping` and `/tool/torch` answer: rows, as pure functions of the model.

The session (`bot.sim.session`) paces and sends them; here only their content.
Row fields follow RouterOS 7's API: a ping row per probe (``seq``, ``host``,
``size``, ``ttl``, ``time`` or ``status=timeout``) carrying the running summary
(``sent``, ``received``, ``packet-loss``, ``min-rtt``, ``avg-rtt``,
``max-rtt``); a torch sample per second, one row per flow.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator

from bot.sim import tables
from bot.sim.model import PingPath, RouterConfig

#: ICMP payload RouterOS pings with unless told otherwise.
PING_SIZE = 56


def format_rtt(ms: float) -> str:
    """A round-trip time as RouterOS prints it: ``2ms``, ``2ms345us``, ``345us``, ``1s2ms``."""
    us = max(0, round(ms * 1000))
    seconds, rest = divmod(us, 1_000_000)
    millis, micros = divmod(rest, 1000)
    text = "".join(
        f"{value}{unit}"
        for value, unit in ((seconds, "s"), (millis, "ms"), (micros, "us"))
        if value
    )
    return text or "0ms"


def _lost(path: PingPath, seq: int) -> bool:
    # Evenly spread: over any n probes from 0, exactly floor(n * loss) are lost.
    return math.floor((seq + 1) * path.loss + 1e-9) > math.floor(seq * path.loss + 1e-9)


def _rtt(path: PingPath, address: str, seq: int) -> float:
    if not path.jitter_ms:
        return path.rtt_ms
    offset = random.Random(f"{address}:{seq}").uniform(-path.jitter_ms, path.jitter_ms)
    return max(0.001, path.rtt_ms + offset)


def ping_probes(config: RouterConfig, address: str) -> Iterator[tables.Row]:
    """The probes to `address`, one row each with the summary so far, endlessly
    (the caller stops at ``count``, or at ``/cancel`` as the router does)."""
    path = config.ping_path(address)
    received, total, least, most = 0, 0.0, math.inf, 0.0
    for seq in itertools.count():
        row: tables.Row = {"seq": str(seq), "host": address}
        if path is None or _lost(path, seq):
            row["status"] = "timeout"
        else:
            rtt = _rtt(path, address, seq)
            received, total = received + 1, total + rtt
            least, most = min(least, rtt), max(most, rtt)
            row.update(size=str(PING_SIZE), ttl=str(path.ttl), time=format_rtt(rtt))
        sent = seq + 1
        row.update(
            {
                "sent": str(sent),
                "received": str(received),
                "packet-loss": str(100 * (sent - received) // sent),
            }
        )
        if received:
            row.update(
                {
                    "min-rtt": format_rtt(least),
                    "avg-rtt": format_rtt(total / received),
                    "max-rtt": format_rtt(most),
                }
            )
        yield row


def torch_rows(config: RouterConfig, interface: str) -> list[tables.Row]:
    """One second of `/tool/torch` on `interface`: a row per flow of its session
    (the session marks each second's rows with a ``.section`` word).

    Raises `tables.NoSuchItem` when no online session has that interface.
    """
    subscriber = next(
        (s for s in config.subscribers if s.online and s.interface == interface), None
    )
    if subscriber is None:
        raise tables.NoSuchItem(interface)
    rows: list[tables.Row] = []
    for flow in subscriber.flows:
        ported = flow.protocol in ("tcp", "udp")
        row: tables.Row = {
            "mac-protocol": "ip",
            "ip-protocol": flow.protocol,
            "src-address": subscriber.address,
            "dst-address": flow.remote,
        }
        if ported:
            row.update({"src-port": str(flow.local_port), "dst-port": str(flow.port)})
        row.update(
            {
                "tx": str(flow.tx_bps),
                "rx": str(flow.rx_bps),
                "tx-packets": str(flow.tx_bps // (8 * 1300)),
                "rx-packets": str(flow.rx_bps // (8 * 300)),
            }
        )
        rows.append(row)
    return rows
