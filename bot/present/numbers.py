"""Figures as an operator reads them: rates, shares, plans, durations, clock times.

Every sentence (`bot.present.reading`, `bot.present.live`, `bot.present.errors`)
writes its numbers through here, so ``45,2 Mbps`` or ``2 d 3 h`` look the same
in Slack and on a terminal, with the active language's separators.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.model import Plan
from bot.present import lang
from bot.present.lang import t


def figure(value: float, digits: int) -> str:
    """`value` with `digits` decimals in the language's style; ``s/d`` if not finite."""
    if not math.isfinite(value):
        return t("na")
    return lang.number(value, digits)


def mbps(bps: int | None) -> str:
    """Decimal megabits (1 Mbps = 1,000,000 bps), with the language's decimal mark."""
    if bps is None:
        return t("na")
    return t("mbps", value=mbps_figure(bps))


def mbps_figure(bps: float) -> str:
    """Just the number of `mbps`: three significant digits or so (``45,2``, ``2,10``)."""
    value = bps / 1_000_000
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return figure(value, digits)


def plan_rate(bps: int) -> str:
    """A plan figure, without needless decimals: ``50``, ``1,5``."""
    value = bps / 1_000_000
    return figure(value, 0) if value == int(value) else figure(value, 1)


def percent(value: float | None) -> str:
    return t("na") if value is None else t("percent", value=figure(value, 0))


def meter(value: float | None, width: int = 10) -> str:
    """A bar readable on a phone: ``▰▰▰▰▰▰▰▰▱▱``."""
    if value is None:
        return ""
    filled = min(width, max(0, round(value / 100 * width)))
    return "▰" * filled + "▱" * (width - filled)


def plan_label(plan: Plan | None) -> str:
    """Download first, as ISPs sell it: ``50/10 Mbps``."""
    if plan is None:
        return t("plan.unknown")
    return t("plan.rate", download=plan_rate(plan.download_bps), upload=plan_rate(plan.upload_bps))


def rate_of_plan(
    bps: int | None, plan: Plan | None, share_pct: float | None, direction: str
) -> str:
    """``45,2 Mbps · 90 % de 50 Mbps``: a rate and the share of the plan the domain
    worked out for it (just ``45,2 Mbps`` when the plan is unknown)."""
    if plan is None:
        return mbps(bps)
    limit = plan.download_bps if direction == "download" else plan.upload_bps
    return t("direction.share", rate=mbps(bps), share=percent(share_pct), plan=plan_rate(limit))


#: Units of `duration`, largest first: catalog key and size in seconds.
_UNITS = (
    ("duration.week", 604_800),
    ("duration.day", 86_400),
    ("duration.hour", 3_600),
    ("duration.minute", 60),
    ("duration.second", 1),
)


def duration(seconds: int | None) -> str:
    """``2 d 3 h``, ``4 h 12 min``, ``35 s``: the two largest units."""
    if seconds is None:
        return t("na")
    parts: list[tuple[int, str]] = []
    rest = seconds
    for key, size in _UNITS:
        count, rest = divmod(rest, size)
        if count or parts:
            parts.append((count, key))
        if len(parts) == 2:
            break
    shown = [t(key, count=count) for count, key in parts if count]
    return " ".join(shown) or t("duration.second", count=0)


def deadline(value: float) -> str:
    """A deadline as people write it: ``5``, ``0,5`` (es) or ``0.5`` (en)."""
    return lang.number(value, 0) if value == int(value) else lang.number(value, 1)


def local_time(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M:%S")


def zone(name: str) -> tzinfo:
    """The configured time zone, or UTC if this machine lacks its tz data."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
