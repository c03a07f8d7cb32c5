"""A live view as words (`/consumo usuario 30s`, the "En vivo 30 s" button).

Formats the figures the domain's live view (`bot.domain.live.LiveView`) holds:
the last second and its share of the plan (`now`), the spread of the samples
(`stats`); computes none of them. `LiveView` is read through the `LiveView`
protocol below, the fields these sentences use, so the presentation does not
import the domain.
"""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from typing import Protocol

from bot.errors import RouterError
from bot.model import Plan, Sample
from bot.present.errors import error, unexpected
from bot.present.lang import t
from bot.present.markup import literal
from bot.present.numbers import figure, mbps_figure, plan_label, rate_of_plan
from bot.present.reading import where


class Spread(Protocol):
    """One direction's spread over the samples, bps (`bot.domain.live.Spread`)."""

    @property
    def min(self) -> float: ...
    @property
    def avg(self) -> float: ...
    @property
    def p95(self) -> float: ...
    @property
    def max(self) -> float: ...


class Stats(Protocol):
    """What the samples add up to (`bot.domain.live.LiveStats`)."""

    @property
    def download(self) -> Spread: ...
    @property
    def upload(self) -> Spread: ...
    @property
    def samples(self) -> int: ...
    @property
    def span_s(self) -> float: ...


class Now(Protocol):
    """The last measured second and its shares of the plan (`bot.domain.live.Now`)."""

    @property
    def download_bps(self) -> int: ...
    @property
    def upload_bps(self) -> int: ...
    @property
    def download_pct(self) -> float | None: ...
    @property
    def upload_pct(self) -> float | None: ...


class LiveView(Protocol):
    """What these sentences read of a running or ended live view."""

    id: str
    user: str
    node: str
    seconds: int
    plan: Plan | None
    started_by: str | None
    started_at: datetime
    samples: list[Sample]
    watchers: list[str]
    outcome: str
    error: RouterError | None
    stopped_by: str | None

    @property
    def running(self) -> bool: ...
    @property
    def remaining_s(self) -> float: ...
    @property
    def last(self) -> Sample | None: ...
    @property
    def stats(self) -> Stats | None: ...
    @property
    def now(self) -> Now | None: ...
    @property
    def dropped(self) -> int: ...


def live_title(view: LiveView) -> str:
    """The live message's header: who, where, and whether it is still running."""
    state = t("live.running") if view.running else t("live.length", seconds=view.seconds)
    return t(
        "live.title", user=literal(view.user, "text"), node=literal(view.node, "text"), state=state
    )


def live_progress(view: LiveView) -> str:
    """``Muestra 12 de 30 · quedan 18 s``: how far a running view is."""
    return t(
        "live.progress",
        count=len(view.samples),
        seconds=view.seconds,
        remaining=math.ceil(view.remaining_s),
    )


def live_now(view: LiveView, direction: str) -> str:
    """The last sample of one direction, with its share of the plan."""
    now = view.now
    if now is None:
        return t("na")
    download = direction == "download"
    return rate_of_plan(
        now.download_bps if download else now.upload_bps,
        view.plan,
        now.download_pct if download else now.upload_pct,
        direction,
    )


def live_spread(view: LiveView, direction: str) -> str:
    """``mín 40,1 · prom 44,9 · p95 47,2 · máx 48,0 Mbps`` for one direction."""
    stats = view.stats
    if stats is None:
        return t("live.no_samples")
    spread = stats.download if direction == "download" else stats.upload

    def rate(bps: float) -> str:
        return mbps_figure(round(bps))

    return t(
        "live.spread",
        min=rate(spread.min),
        avg=rate(spread.avg),
        p95=rate(spread.p95),
        max=rate(spread.max),
    )


def live_ended(view: LiveView) -> str:
    """How a live view ended, in one sentence; then, when the plan's queue
    dropped packets meanwhile, how many (`live_dropped`)."""
    at = t("live.at", seconds=round(view.last.offset_s) if view.last else 0)
    match view.outcome:
        case "completed":
            ended = t("live.completed", count=len(view.samples), seconds=view.seconds)
        case "stopped" if view.stopped_by:
            ended = t("live.stopped_by", user=view.stopped_by, at=at)
        case "stopped":
            ended = t("live.stopped", at=at)
        case "offline":
            ended = t("live.offline", user=literal(view.user, "code"), at=at)
        case "cancelled":
            ended = t("live.cancelled", at=at)
        case "failed" if view.error is not None:
            return error(view.error)
        case "failed":
            return unexpected(view.user)
        case _:
            return live_progress(view)
    dropped = live_dropped(view)
    return f"{ended} {dropped}" if dropped else ended


def live_dropped(view: LiveView) -> str:
    """``La cola del plan descartó 1.234 paquetes durante la vista.``; empty when
    it dropped none."""
    dropped = view.dropped  # summed over the samples: once
    if dropped <= 0:
        return ""
    if dropped == 1:
        return t("live.dropped_one")
    return t("live.dropped_many", count=figure(dropped, 0))


def live_summary(view: LiveView) -> str:
    """The live message's plain text (phone notifications read only this)."""
    place = where(view.user, view.node)
    if view.running:
        return t(
            "live.summary_running",
            where=place,
            count=len(view.samples),
            seconds=view.seconds,
            download=live_now(view, "download"),
            upload=live_now(view, "upload"),
        )
    stats = view.stats
    if stats is None:
        return t("live.summary_empty", where=place, ended=live_ended(view))
    return t(
        "live.summary_done",
        where=place,
        samples=stats.samples,
        download=live_spread(view, "download"),
        upload=live_spread(view, "upload"),
        ended=live_ended(view),
    )


def live_requested(view: LiveView) -> str:
    """Who asked for the view and who joined it: a context line."""
    line = t("live.requested", seconds=view.seconds, node=literal(view.node))
    if view.started_by:
        line += t("requested_by", user=view.started_by)
    if view.watchers:
        line += t("live.watchers", users=", ".join(f"<@{w}>" for w in view.watchers))
    return line


def live_report(view: LiveView) -> str:
    """The chart's comment in the thread: the figures, and who wanted them."""
    stats = view.stats
    lines = [
        t(
            "live.report_head",
            user=literal(view.user, "bold"),
            node=literal(view.node, "bold"),
            plan=plan_label(view.plan),
        )
    ]
    if stats is not None:
        lines += [
            t("live.report_samples", samples=stats.samples, seconds=round(stats.span_s) + 1),
            t("live.report_download", spread=live_spread(view, "download")),
            t("live.report_upload", spread=live_spread(view, "upload")),
        ]
    lines.append(live_ended(view))
    people = [p for p in (view.started_by, *view.watchers) if p]
    if people:
        lines.append(t("live.report_for", users=", ".join(f"<@{p}>" for p in people)))
    return "\n".join(lines)


def live_chart_alt(view: LiveView) -> str:
    """The chart's alt text, for screen readers and where images do not load."""
    text = t("live.alt", user=literal(view.user, "text"), node=literal(view.node, "text"))
    if view.plan is not None:
        text += t("live.alt_plan", plan=plan_label(view.plan))
    if view.stats is not None:
        text += t(
            "live.alt_stats",
            download=live_spread(view, "download"),
            upload=live_spread(view, "upload"),
        )
    return text + "."


def live_chart_subtitle(view: LiveView, tz: tzinfo) -> str:
    """Under the chart's title: when the view started (local time), and how long it ran."""
    start = view.samples[0].taken_at.astimezone(tz) if view.samples else view.started_at
    return t("live.chart_subtitle", start=start, count=len(view.samples))


def live_chart_title(view: LiveView) -> str:
    return t(
        "live.chart_title",
        user=literal(view.user, "text"),
        node=literal(view.node, "text"),
        count=len(view.samples),
    )


def live_chart_file(safe_user: str, stamp: str) -> str:
    """The chart's file name, from a PPPoE name already made safe for one."""
    return t("live.chart_file", user=safe_user or t("live.chart_file_user"), stamp=stamp)


def live_busy(view: LiveView, link: str | None, channel: str | None = None) -> str:
    """A second request for the same subscriber joins the running view."""
    where = (
        t("live.busy_link", link=link)
        if link
        else t("live.busy_channel", channel=channel)
        if channel
        else t("live.busy_elsewhere")
    )
    user = literal(view.user, "code")
    return t("live.busy", user=user, where=where, remaining=math.ceil(view.remaining_s))


def _views(limit: int) -> str:
    return t("live.views_one") if limit == 1 else t("live.views_many", count=limit)


def live_full(limit: int) -> str:
    return t("live.full", views=_views(limit))


def live_node_full(node: str, limit: int) -> str:
    return t("live.node_full", node=literal(node, "bold"), views=_views(limit))


def live_offline(user: str, node: str) -> str:
    return t("live.not_online", user=literal(user, "code"), node=literal(node, "bold"))


def live_not_in_channel() -> str:
    return t("live.not_in_channel")


def live_not_posted(reason: str) -> str:
    return t("live.not_posted", reason=reason)


def live_no_spare_session() -> str:
    return t("live.no_spare_session")


def live_closing() -> str:
    return t("live.closing")


def live_already_over() -> str:
    return t("live.already_over")


def live_chart_failed() -> str:
    return t("live.chart_failed")


def live_usage(max_seconds: int) -> str:
    return t("live.usage", max=max_seconds)
