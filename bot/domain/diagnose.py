"""The domain: why a link feels slow, beyond how much it carries.

    online Reading → /ping the session IP and /tool/torch <pppoe-USER>, at once,
                     from the router holding the session → Diagnosis (a code)

An operator on the phone with "internet lento" pings the session IP from the
router (a bad last mile: radio signal, fiber, CPE) and runs Torch on the
subscriber's interface (one device or application eating the link). Both are
bounded commands (``/ping`` always with ``count``, ``/tool/torch`` always with
``duration``), sent together on one router session (`RouterClient.probe`):
nothing stays running on the router, and what arrived by the deadline is used.

`DiagnosisService.ask` is the one way in for every edge (Slack, the HTTP API,
``beholder diag``): the reading, then the diagnosis, timed and audited once
(outcome ``diag``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import time
from dataclasses import dataclass

from bot.config import Settings
from bot.domain.readings import Answer, ReadingService, outcome_of
from bot.errors import BeholderError
from bot.inflight import InFlight
from bot.model import Asker, Diagnosis, Flow, PingResult, Reading

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
        if address is None:
            unmeasured = "no_address"
        else:
            unmeasured = "refused" if probe.ping_refused else "no_answer"
    return dataclasses.replace(
        diagnosis,
        torch_seconds=probe.torch_samples,
        ping_unmeasured=unmeasured,
        partial=probe.partial,
        torch_unmeasured=probe.flows is None,
    )


# -- one question, for every edge ------------------------------------------------------


@dataclass(frozen=True)
class DiagAnswer:
    """A diagnosis asked for, and how it ended: what every edge renders.

    `reading` is set whenever the subscriber was read (online or not);
    `diagnosis` only for an online one whose ping or torch answered; `error`
    when the reading failed (or something we did not expect); `diag_error` when
    the reading stood but the diagnosis failed as a whole (its router busy or
    silent by then): the reading is still worth showing, with why.
    """

    query: str
    reading: Reading | None
    diagnosis: Diagnosis | None
    error: BaseException | None
    #: As the audit records it: ``diag``, or how it ended (`outcome_of`).
    outcome: str
    latency_ms: int
    diag_error: BeholderError | None = None

    @property
    def shown(self) -> Reading | None:
        """The reading an edge shows, with `diagnosis` (None: offline, or `diag_error`
        says why not); None when the answer is `error` instead."""
        return self.reading if self.error is None else None


class DiagnosisService:
    """Answers "why is it slow?": a reading (`ReadingService.ask`), then, when the
    subscriber is online, `diagnose` from the router that holds the session.

    One diagnosis of a subscriber runs at a time: whoever asks while one runs
    (a "Diagnosticar" clicked by three operators on the same ticket) shares it,
    instead of seconds more of ping and torch on his router. Each asker still
    gets his own reading, reply and audit row. Use from one event loop.
    """

    def __init__(
        self,
        readings: ReadingService,
        *,
        ping_count: int = 10,
        thresholds: Thresholds = Thresholds(),
    ) -> None:
        self.readings = readings
        self.ping_count = ping_count
        self.thresholds = thresholds
        self._inflight: InFlight[tuple[str, str], Diagnosis | None] = InFlight()

    @classmethod
    def from_settings(cls, readings: ReadingService, settings: Settings) -> DiagnosisService:
        return cls(
            readings,
            ping_count=settings.ping_count,
            thresholds=Thresholds.from_settings(settings),
        )

    async def ask(self, query: str, asker: Asker, *, exact: bool = False) -> DiagAnswer:
        """Diagnose what `asker` asked about (`exact`: a PPPoE name from a button),
        and queue one audit row for the whole (the reading and the diagnosis).

        Never raises (but cancellation): a fault is the answer's `error`, and one
        we did not expect is logged with its traceback.
        """
        started = time.monotonic()
        answer: Answer = await self.readings.ask(query, asker, exact=exact, audit=False)
        reading, error = answer.reading, answer.error
        diagnosis: Diagnosis | None = None
        diag_error: BeholderError | None = None
        if reading is not None:
            try:
                diagnosis = await self._shared(reading)
            except BeholderError as exc:
                diag_error = exc
            except Exception as exc:
                log.exception("diag of %s: unexpected error", reading.user)
                error = exc
        latency_ms = round((time.monotonic() - started) * 1000)
        # Not diagnosed: offline (the reading says so), or how it failed.
        failed = error or diag_error
        outcome = "diag" if diagnosis else outcome_of(None if failed else reading, failed)
        log.info(
            "diag query=%r by=%s source=%s outcome=%s verdict=%s %dms",
            query,
            asker.user,
            asker.source,
            outcome,
            diagnosis.verdict if diagnosis else "",
            latency_ms,
        )
        self.readings.audit(query, asker, outcome, reading, failed, latency_ms)
        return DiagAnswer(query, reading, diagnosis, error, outcome, latency_ms, diag_error)

    async def _shared(self, reading: Reading) -> Diagnosis | None:
        """The diagnosis of `reading`'s subscriber on its router: the one running, if
        any, else a new one that later askers share (see the class docstring)."""
        return await self._inflight.join(
            (reading.node, reading.user),
            lambda: diagnose(
                self.readings, reading, ping_count=self.ping_count, thresholds=self.thresholds
            ),
            f"diagnose {reading.user}",
        )
