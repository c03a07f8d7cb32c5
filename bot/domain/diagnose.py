"""The domain: why a link feels slow, beyond how much it carries.

    online Reading → /ping the session IP and /tool/torch <pppoe-USER>, at once,
                     from the router holding the session → Diagnosis (a code)

An operator on the phone with "internet lento" pings the session IP from the
router (a bad last mile: radio signal, fiber, CPE) and runs Torch on the
subscriber's interface (one device or application eating the link). Both are
bounded commands (``/ping`` always with ``count``, ``/tool/torch`` always with
``duration``), sent together on one router session (`RouterClient.probe`):
nothing stays running on the router, and what arrived by the deadline is used.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
from dataclasses import dataclass

from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.model import Diagnosis, Flow, PingResult, Reading

log = logging.getLogger(__name__)

#: Seconds of torch: long enough to average a few samples, short for a phone call.
TORCH_SECONDS = 3
#: Seconds between the ping's probes (RouterOS's ``interval=200ms``).
PING_INTERVAL_S = 0.2
#: Flows a diagnosis keeps, busiest first.
TOP_FLOWS = 5
#: A flow carrying more than this share of the subscriber's traffic dominates it.
DOMINANT_SHARE = 0.5


@dataclass(frozen=True)
class Thresholds:
    """From which figures the last mile is blamed (settings, with these defaults)."""

    loss_pct: float = 2.0
    rtt_ms: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(loss_pct=settings.diag_loss_pct, rtt_ms=settings.diag_rtt_ms)


def judge(
    reading: Reading,
    ping: PingResult | None,
    flows: list[Flow] | None,
    thresholds: Thresholds = Thresholds(),
) -> Diagnosis:
    """The verdict from what was measured (pure: the tests drive every case).

    The last mile comes first: a lossy or slow path explains slowness whatever
    the traffic. Then a saturated link with one flow over half of it names that
    flow. A clean last mile on a link not saturated is healthy: what is left is
    the subscriber's WiFi or devices. Anything else (a part not measured, a
    saturated link shared by many flows) is inconclusive.
    """
    top = tuple((flows or [])[:TOP_FLOWS])
    if ping is not None and ping.sent and _bad_last_mile(ping, thresholds):
        return Diagnosis("last_mile", ping, top, torch_seconds=TORCH_SECONDS)
    kind = reading.judged.verdict.kind
    total = sum(flow.total_bps for flow in flows or [])
    if kind == "saturated" and top and top[0].total_bps > DOMINANT_SHARE * total:
        return Diagnosis("dominant_flow", ping, top, dominant=top[0], torch_seconds=TORCH_SECONDS)
    if ping is not None and ping.sent and kind in {"low", "moderate"}:
        return Diagnosis("healthy", ping, top, torch_seconds=TORCH_SECONDS)
    return Diagnosis("inconclusive", ping, top, torch_seconds=TORCH_SECONDS)


def _bad_last_mile(ping: PingResult, thresholds: Thresholds) -> bool:
    slow = ping.rtt_avg_ms is not None and ping.rtt_avg_ms >= thresholds.rtt_ms
    return ping.loss_pct >= thresholds.loss_pct or slow


async def diagnose(
    service: ReadingService,
    reading: Reading,
    *,
    ping_count: int = 10,
    thresholds: Thresholds = Thresholds(),
) -> Diagnosis | None:
    """Ping the session IP and torch the subscriber at once, on one session of
    the router that holds the session (`reading.node`), through `service`'s
    client (`RouterClient.probe`).

    None when the reading is offline (it already says so). What arrived by the
    deadline is used, said as `Diagnosis.partial`; a part not measured (a
    trap, a torch row of garbage) leaves the other standing. Nothing measured
    at all raises the `RouterError`. A session address that is not an IP is
    not pinged (`Diagnosis.ping_unmeasured` is ``no_address``): the router's
    text never reaches the ping command.
    """
    session = reading.session
    if session is None:
        return None
    node = await asyncio.to_thread(service.inventory.node, reading.node)
    address: str | None = session.address
    try:
        ipaddress.ip_address(session.address)
    except ValueError:
        log.info(
            "diagnosis on %s: session address %r is not an IP, not pinged",
            node.name,
            session.address[:64],
        )
        address = None
    probe = await service.router.probe(
        node,
        reading.user,
        address,
        ping_count=ping_count,
        interval=PING_INTERVAL_S,
        torch_seconds=TORCH_SECONDS,
    )
    flows = list(probe.flows) if probe.flows is not None else None
    diagnosis = judge(reading, probe.ping, flows, thresholds)
    unmeasured = None
    if probe.ping is None:
        unmeasured = "no_address" if address is None else "no_answer"
    return dataclasses.replace(
        diagnosis,
        torch_seconds=probe.torch_samples,
        ping_unmeasured=unmeasured,
        partial=probe.partial,
    )
