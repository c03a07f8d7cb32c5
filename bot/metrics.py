"""Beholder's Prometheus metrics: one registry, every metric named ``beholder_…``.

Two kinds, so that no layer needs to know who scrapes:

* **Events are counted where they happen**, through the functions here
  (infrastructure: any layer may call them): each question once, where the audit
  receives it (`question`, from `bot.inventory.store.Inventory.audit_later`); each
  router error once per router operation (`router_error`, from
  `bot.routeros.client`); each audit write the inventory refused and each audit
  row lost (`audit_write_failed`, `audit_rows_lost`, from `bot.inventory.audit`).
* **State is read at scrape time** from whoever owns it: `track` is handed
  callables by the serving wiring (`bot.serve.socket_mode.bot_for`): the router
  client's sessions in use and breaker states, the running live views, the
  inventory's last good syncs. One process serves one app, so a new `track`
  replaces the previous one (tests that build many apps never collide), and
  bound methods are held weakly: an app that is gone stops being reported.

Labels are bounded: node names (from the inventory), sources and outcomes from
fixed sets (anything else is "other"), router error kinds from the classes of
`bot.errors`. Never a subscriber's name, IP or MAC.

`exposition` renders the text for ``GET /metrics``; the route awaits
`exposition_in_thread`, which renders it in a worker thread: a scrape at a few
hundred nodes takes tens of milliseconds of prometheus-client's formatting, which
on the event loop would hold every reply back that long
(``bench/metrics_bench.py``). So the state readers run in that thread: each
copies what the loop changes in one step (``dict(d)``, ``list(d.items())``,
atomic under the GIL), and the counters are prometheus-client's, thread-safe.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import weakref
from collections.abc import Callable, Iterator, Mapping, Sized
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

#: The label value for a source, outcome or error kind outside the fixed sets.
OTHER = "other"
#: Where a question came from (`AuditEntry.source`).
SOURCES = frozenset({"command", "mention", "button", "shortcut", "view", "cli", "api"})
#: How a question ended (`AuditEntry.outcome`, without what follows a colon:
#: ``failed:RouterTimeout`` is "failed", its kind is in `beholder_router_errors_total`).
OUTCOMES = frozenset(
    {
        "ok",
        "offline",
        "not_found",
        "ambiguous",
        "not_pulled",
        "not_confirmed",
        "node_missing",
        "bad_input",
        "failed",
        "error",
        "denied",
        "live",
        "live_joined",
        "live_full",
        "live_closing",
        "live_not_posted",
        "diag",
        "help",
    }
)
#: Outcomes refused or answered before any work was done (no latency is measured
#: for them): their latency says nothing about replies.
UNTIMED_OUTCOMES = frozenset({"denied", "help"})
#: Reply latency buckets, seconds: from an answer out of the inventory (tens of ms)
#: to a router at the end of its deadline (MIKROTIK_TIMEOUT, 5 s by default; at most 15).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0)
#: `beholder_router_breaker_state` values: the circuit lets questions through (closed),
#: lets one probe through (half-open), refuses them (open).
BREAKER_VALUES = {"closed": 0.0, "half_open": 0.5, "open": 1.0}

#: The classic text format, which every Prometheus version (and other scrapers) reads;
#: prometheus-client's own default now names version 1.0.0, which older servers refuse.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Every metric of the process; `exposition` renders this registry only.
REGISTRY = CollectorRegistry(auto_describe=True)
# No ``*_created`` series: a timestamp per label set, which no dashboard of ours reads.
disable_created_metrics()

QUESTIONS = Counter(
    "beholder_questions",
    "Questions answered (or refused), by where they came from and how they ended.",
    ["source", "outcome"],
    registry=REGISTRY,
)
REPLY_LATENCY = Histogram(
    "beholder_reply_latency_seconds",
    "Time from a question to its answer being ready, by source (refusals not included).",
    ["source"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
ROUTER_ERRORS = Counter(
    "beholder_router_errors",
    "Router operations that failed, by node and error kind (a bot.errors class).",
    ["node", "kind"],
    registry=REGISTRY,
)
AUDIT_WRITE_FAILURES = Counter(
    "beholder_audit_write_failures",
    "Audit writes the inventory refused (rows kept and retried).",
    registry=REGISTRY,
)
AUDIT_ROWS_LOST = Counter(
    "beholder_audit_rows_lost",
    "Audit rows never written to the inventory (logged as ERROR instead).",
    registry=REGISTRY,
)


# -- events ---------------------------------------------------------------------------


def question(source: str, outcome: str, latency_s: float) -> None:
    """Count one question as the audit records it; time it unless refused outright."""
    source = source if source in SOURCES else OTHER
    outcome = outcome_label(outcome)
    QUESTIONS.labels(source=source, outcome=outcome).inc()
    if outcome not in UNTIMED_OUTCOMES:
        REPLY_LATENCY.labels(source=source).observe(max(0.0, latency_s))


def outcome_label(outcome: str) -> str:
    """An audit outcome as a bounded label: its part before any colon, if known."""
    head = outcome.partition(":")[0]
    return head if head in OUTCOMES else OTHER


def router_error(node: str, error: BaseException) -> None:
    """Count one failed router operation on `node` by the error's class."""
    ROUTER_ERRORS.labels(node=node, kind=error_kind(error)).inc()


def error_kind(error: BaseException) -> str:
    """The class name of a `bot.errors` error; "other" for anything else."""
    kind = type(error)
    return kind.__name__ if kind.__module__ == "bot.errors" else OTHER


def audit_write_failed() -> None:
    AUDIT_WRITE_FAILURES.inc()


def audit_rows_lost(rows: int) -> None:
    AUDIT_ROWS_LOST.inc(rows)


# -- state, read at scrape time ---------------------------------------------------------


class _Reader:
    """A callable held weakly when it is a bound method (its owner may go away)."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        if inspect.ismethod(fn):
            method = weakref.WeakMethod(fn)
            self._get: Callable[[], Callable[[], Any] | None] = method
        else:
            self._get = lambda: fn

    def read(self, what: str) -> Any:
        """The callable's value; None when its owner is gone or it failed (logged)."""
        fn = self._get()
        if fn is None:
            return None
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - one gauge missing, never a failed scrape
            log.warning("metrics: cannot read %s: %s: %s", what, type(exc).__name__, exc)
            return None


class _State(Collector):
    """The gauges computed at scrape time from the readers `track` installed."""

    def __init__(self) -> None:
        self.readers: dict[str, _Reader] = {}

    def describe(self) -> Iterator[Metric]:
        return iter(_families())

    def collect(self) -> Iterator[Metric]:
        sessions, breakers, views, syncs = _families()
        synced: Mapping[str, str | None] = self._read("syncs") or {}
        in_use: Mapping[str, int] = self._read("sessions") or {}
        states: Mapping[str, str] = self._read("breakers") or {}
        # Every node of the inventory, and any other one holding something right now.
        nodes = sorted({*synced, *in_use, *states})
        for node in nodes:
            sessions.add_metric([node], in_use.get(node, 0))
            state = states.get(node, "closed")
            breakers.add_metric([node], BREAKER_VALUES.get(state, BREAKER_VALUES["open"]))
        running = self._read("live_views")
        if running is not None:
            views.add_metric([], len(running))
        now = datetime.now(UTC)
        for node, at in synced.items():
            syncs.add_metric([node], sync_age_s(at, now))
        yield from (sessions, breakers, views, syncs)

    def _read(self, what: str) -> Any:
        reader = self.readers.get(what)
        return None if reader is None else reader.read(what)


def _families() -> tuple[GaugeMetricFamily, ...]:
    return (
        GaugeMetricFamily(
            "beholder_router_sessions_in_use",
            "API sessions Beholder holds on each router right now.",
            labels=["node"],
        ),
        GaugeMetricFamily(
            "beholder_router_breaker_state",
            "Each router's circuit breaker: 0 closed, 0.5 half-open (one probe), 1 open.",
            labels=["node"],
        ),
        GaugeMetricFamily("beholder_live_views_running", "Live views running right now."),
        GaugeMetricFamily(
            "beholder_node_sync_age_seconds",
            "Seconds since each node's last good sync (+Inf: never synced).",
            labels=["node"],
        ),
    )


def sync_age_s(synced_at: str | None, now: datetime) -> float:
    """Seconds from `synced_at` (ISO 8601, UTC) to `now`; +Inf when never (or unreadable)."""
    if not synced_at:
        return math.inf
    try:
        at = datetime.fromisoformat(synced_at)
    except ValueError:
        return math.inf
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, (now - at).total_seconds())


_STATE = _State()
REGISTRY.register(_STATE)


def track(
    *,
    sessions_in_use: Callable[[], Mapping[str, int]] | None = None,
    breakers: Callable[[], Mapping[str, str]] | None = None,
    live_views: Callable[[], Sized] | None = None,
    last_syncs: Callable[[], Mapping[str, str | None]] | None = None,
) -> None:
    """Read the state gauges from these at each scrape, instead of what was tracked before.

    `sessions_in_use`: API sessions held, by node; `breakers`: the state ("open",
    "half_open"; absent is closed) by node; `live_views`: the running views (their
    count is reported); `last_syncs`: every inventory node's last good sync (ISO 8601
    or None), whose age is counted from the wall clock at the scrape.
    """
    readers = {
        "sessions": sessions_in_use,
        "breakers": breakers,
        "live_views": live_views,
        "syncs": last_syncs,
    }
    _STATE.readers = {what: _Reader(fn) for what, fn in readers.items() if fn is not None}


# -- the route ---------------------------------------------------------------------------


def exposition() -> tuple[bytes, str]:
    """The body and content type of ``GET /metrics`` (`CONTENT_TYPE`)."""
    return generate_latest(REGISTRY), CONTENT_TYPE


async def exposition_in_thread() -> tuple[bytes, str]:
    """`exposition`, rendered off the event loop (what the route awaits)."""
    return await asyncio.to_thread(exposition)
