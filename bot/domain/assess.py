"""What a reading means: decided here once, so renderers only put it into words.

`assess` turns the facts of a `Reading` (session, traffic, queue, the management
system's customer) into an `Assessment`: the verdict (saturating its plan,
using little, offline…), the share of the plan per direction and the warnings
an operator should look into. `ReadingService` stores it on every reading it
makes (`assessed`); the Slack blocks, the terminal view and ``--json`` read it.
The thresholds live here, next to the decisions they tune.
"""

from __future__ import annotations

from dataclasses import replace

from bot.inventory.keys import fold
from bot.model import SUSPENDED_STATUSES, Assessment, Plan, Reading, Verdict

#: Share of the plan (the busier direction) from which the subscriber saturates it.
SATURATED_PCT = 85.0
#: Share of the plan below which consumption cannot explain "internet lento".
LOW_PCT = 20.0
#: A session younger than this suggests the link dropped just now.
RECENT_RECONNECT_S = 10 * 60
#: Plans closer than this (relative) are the same plan written differently.
PLAN_TOLERANCE = 0.02


def assessed(reading: Reading) -> Reading:
    """`reading` carrying its assessment: how the domain hands every reading on."""
    return replace(reading, assessment=assess(reading))


def assess(reading: Reading) -> Assessment:
    """Everything a renderer needs to know about `reading` beyond its facts."""
    warnings = (
        code
        for code, flagged in (
            ("plan_mismatch", plan_mismatch(reading)),
            ("suspended_online", suspended_while_online(reading)),
            ("duplicated", bool(reading.also_on)),
        )
        if flagged
    )
    return Assessment(
        verdict=verdict(reading),
        download_pct=plan_share(reading, "download"),
        upload_pct=plan_share(reading, "upload"),
        warnings=tuple(warnings),
    )


def plan_share(reading: Reading, direction: str) -> float | None:
    """The reading's rate in `direction` as a percentage of its plan."""
    traffic = reading.traffic
    if traffic is None:
        return None
    return share(
        traffic.download_bps if direction == "download" else traffic.upload_bps,
        reading.plan,
        direction,
    )


def share(bps: int | None, plan: Plan | None, direction: str) -> float | None:
    """`bps` as a percentage of `plan` in `direction`; None without a rate or a plan."""
    if bps is None or plan is None:
        return None
    limit = plan.download_bps if direction == "download" else plan.upload_bps
    return bps * 100 / limit if limit else None


def verdict(reading: Reading) -> Verdict:
    """Classify a reading: saturating its own plan, using little, offline…"""
    if not reading.online:
        return Verdict("disabled" if reading.secret.disabled else "offline")
    signs = []
    uptime = reading.session.uptime_s if reading.session else None
    if uptime is not None and uptime < RECENT_RECONNECT_S:
        signs.append("recent_reconnect")
    # Only packets actually dropped are a sign. Bytes sitting in the queue with
    # nothing dropped are the plan's shaping doing its job (the share of the
    # plan already says whether the link is full), not a fault to report.
    dropped = reading.queue.dropped_download if reading.queue is not None else 0
    if dropped > 0:
        signs.append("queue_dropping")
    if reading.traffic is None:
        return Verdict("no_data", signs=tuple(signs), uptime_s=uptime)
    if reading.plan is None:
        return Verdict("unknown_plan", signs=tuple(signs), uptime_s=uptime, dropped=dropped)
    down = plan_share(reading, "download") or 0.0
    up = plan_share(reading, "upload") or 0.0
    share_pct, direction = (down, "download") if down >= up else (up, "upload")
    kind = (
        "saturated" if share_pct >= SATURATED_PCT else "low" if share_pct < LOW_PCT else "moderate"
    )
    return Verdict(kind, share_pct, direction, tuple(signs), uptime, dropped)


def plan_mismatch(reading: Reading) -> bool:
    """The management system sells one plan and the router's queue enforces another."""
    customer, plan = reading.customer, reading.plan
    if customer is None or plan is None:
        return False
    pairs = (
        (customer.plan_download_bps, plan.download_bps),
        (customer.plan_upload_bps, plan.upload_bps),
    )
    return any(
        sold is not None and abs(sold - enforced) > PLAN_TOLERANCE * max(sold, enforced)
        for sold, enforced in pairs
    )


def suspended_while_online(reading: Reading) -> bool:
    """The customer is suspended in the management system but the session is up."""
    customer = reading.customer
    return reading.online and customer is not None and fold(customer.status) in SUSPENDED_STATUSES
