"""A reading as words: its verdict, figures, notes and warnings, for Slack and a terminal.

The domain decided what the reading means (`Reading.assessment`: the verdict,
the shares of the plan, the warnings as codes); these functions only put that
into the active language's words. A note set apart from the figures is a `Note`:
an icon and its words, kept apart so that Slack shows the icon (`bot.slack.blocks`)
and a terminal (`reading_lines`) shows the words alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from bot.model import Plan, Reading
from bot.present import lang
from bot.present.lang import t
from bot.present.markup import literal, plain
from bot.present.numbers import (
    duration,
    figure,
    local_time,
    meter,
    percent,
    plan_label,
    rate_of_plan,
)
from bot.present.terminal import TERMINAL_LINE_LIMIT, terminal


@dataclass(frozen=True)
class Note:
    """A line set apart from the figures: how the user was found, a warning…"""

    #: Slack's emoji name for it ("mag", "warning", "grey_question").
    icon: str
    #: The words (Slack mrkdwn), which never start with the icon.
    text: str


def consulting(user: str) -> str:
    return t("consulting", user=literal(user, "code"))


def direction_line(reading: Reading, direction: str) -> str:
    """``45,2 Mbps · 90 % de 50 Mbps`` for Bajada or Subida."""
    traffic = reading.traffic
    if traffic is None:
        return t("direction.ended")
    download = direction == "download"
    return rate_of_plan(
        traffic.download_bps if download else traffic.upload_bps,
        reading.plan,
        reading.judged.download_pct if download else reading.judged.upload_pct,
        direction,
    )


def summary(reading: Reading) -> str:
    """One line with the figures: what phone notifications and screen readers get."""
    place = where(reading.user, reading.node)
    if not reading.online:
        when = literal(reading.secret.last_logged_out or t("na"))
        return t("summary.offline", where=place, when=when)
    return t(
        "summary.online" if reading.plan is not None else "summary.online_unknown_plan",
        where=place,
        download=direction_line(reading, "download"),
        upload=direction_line(reading, "upload"),
    )


def where(user: str, node: str) -> str:
    """``juan.perez en bras-norte``: the start of a plain-text summary."""
    return t("summary.where", user=literal(user), node=literal(node))


def verdict_lines(reading: Reading) -> list[str]:
    """What the reading means for the call: the first thing an operator reads."""
    v = reading.judged.verdict
    side = t("side.download" if v.direction == "download" else "side.upload")
    match v.kind:
        case "offline" | "disabled" | "unknown_plan":
            lines = [t(f"verdict.{v.kind}")]
        case "saturated" | "low" | "moderate":
            lines = [t(f"verdict.{v.kind}", share=percent(v.share_pct), side=side)]
        case _:
            lines = [t("verdict.no_data")]
    if "queue_dropping" in v.signs:
        lines.append(t("verdict.queue_dropping", dropped=figure(v.dropped, 0)))
    if "recent_reconnect" in v.signs:
        lines.append(t("verdict.recent_reconnect", uptime=duration(v.uptime_s)))
    return lines


def match_note(reading: Reading) -> Note | None:
    """How the operator's text led to this user, when it was not the exact name."""
    match = reading.match
    if match is None or match.how not in {"ip", "mac", "key", "name", "comment", "pulled"}:
        return None
    text = t(
        f"match.{match.how}",
        detail=literal(match.detail),
        query=literal(match.query),
        user=literal(reading.user, "code"),
    )
    return Note("mag", text)


def customer_line(reading: Reading) -> str | None:
    """The management system's view: who the customer is, or that nobody is linked."""
    if reading.linked is None:
        return None
    customer = reading.customer
    if customer is None:
        return t("customer.unlinked")
    return t(
        "customer.line_status" if customer.status else "customer.line",
        name=literal(customer.customer_name or t("na"), "bold"),
        id=literal(customer.customer_id or t("na")),
        status=literal(customer.status),
    )


def management_warnings(reading: Reading) -> list[Note]:
    """The management system and the router disagree (the domain's warning codes)."""
    customer, codes = reading.customer, reading.judged.warnings
    if customer is None:
        return []
    notes = []
    if "plan_mismatch" in codes:
        sold = Plan(customer.plan_download_bps or 0, customer.plan_upload_bps or 0)
        text = t("warning.plan_mismatch", sold=plan_label(sold), queue=plan_label(reading.plan))
        notes.append(Note("warning", text))
    if "suspended_online" in codes:
        text = t("warning.suspended_online", status=literal(customer.status))
        notes.append(Note("warning", text))
    return notes


def duplicate_note(reading: Reading) -> Note | None:
    if "duplicated" not in reading.judged.warnings:
        return None
    others = ", ".join(literal(n, "bold") for n in reading.also_on)
    user = literal(reading.user, "code")
    if reading.online:
        node = literal(reading.node, "bold")
        return Note("warning", t("duplicate.online", user=user, others=others, node=node))
    return Note("warning", t("duplicate.offline", user=user, others=others))


def unavailable_note(reading: Reading) -> Note | None:
    if not reading.unavailable:
        return None
    names = ", ".join(literal(e.node, "bold") for e in reading.unavailable)
    return Note("grey_question", t("unavailable", nodes=names))


def disconnect_reason(code: str) -> str:
    """What RouterOS's last-disconnect-reason means, with the code itself."""
    if not code:
        return t("na")
    if not lang.has(f"disconnect.{code}"):
        return literal(code)
    return t("disconnect_reason", meaning=t(f"disconnect.{code}"), code=literal(code))


# -- the terminal view (`beholder consumo`, the demo) ----------------------------------------


def reading_lines(reading: Reading, tz: tzinfo) -> list[str]:
    """The reading as terminal lines (``beholder consumo``, the demo), made safe
    by `terminal`: the router's and the CSV's values are in them."""
    head = t(
        "term.head", user=reading.user, node=reading.node, time=local_time(reading.taken_at, tz)
    )
    lines = [head, *("  » " + plain(line) for line in verdict_lines(reading))]
    if reading.secret.comment:
        lines.append("  " + t("term.comment", comment=reading.secret.comment))
    if (found := match_note(reading)) is not None:
        lines.append("  " + plain(found.text))
    if (customer := customer_line(reading)) is not None:
        lines.append("  " + plain(customer))
    if reading.online:
        session = reading.session
        assert session is not None
        na = t("na")
        lines += [
            "  " + line
            for line in (
                t(
                    "term.download",
                    line=direction_line(reading, "download"),
                    meter=meter(reading.judged.download_pct),
                ),
                t(
                    "term.upload",
                    line=direction_line(reading, "upload"),
                    meter=meter(reading.judged.upload_pct),
                ),
                t("term.plan", plan=plan_label(reading.plan), profile=reading.secret.profile or na),
                t("term.ip", ip=session.address or na),
                t("term.mac", mac=session.caller_id or na),
                t("term.uptime", uptime=duration(session.uptime_s)),
            )
        ]
    else:
        lines += offline_lines(reading)
    notes = (*management_warnings(reading), duplicate_note(reading), unavailable_note(reading))
    lines += ["  " + plain(note.text) for note in notes if note is not None]
    return [terminal(line, TERMINAL_LINE_LIMIT) for line in lines]


def offline_lines(reading: Reading) -> list[str]:
    secret, na = reading.secret, t("na")
    lines = [t("term.offline")]
    if secret.disabled:
        lines.append(t("term.disabled"))
    lines += [
        t("term.last_logout", when=secret.last_logged_out or na),
        t("term.reason", reason=plain(disconnect_reason(secret.last_disconnect_reason))),
        t("term.last_mac", mac=secret.last_caller_id or na),
    ]
    return ["  " + line for line in lines]


# -- the machine view (`beholder consumo --json`) ---------------------------------------------


def reading_json(reading: Reading) -> dict[str, Any]:
    """The ``--json`` shape: bits per second, nulls where unknown, the domain's
    verdict and warnings as codes."""
    plan, traffic, session = reading.plan, reading.traffic, reading.session
    secret, customer, judged = reading.secret, reading.customer, reading.judged
    return {
        "user": reading.user,
        "node": reading.node,
        "online": reading.online,
        "taken_at": reading.taken_at.isoformat(timespec="seconds"),
        "download_bps": traffic.download_bps if traffic else None,
        "upload_bps": traffic.upload_bps if traffic else None,
        "plan_download_bps": plan.download_bps if plan else None,
        "plan_upload_bps": plan.upload_bps if plan else None,
        "download_pct": _rounded(judged.download_pct),
        "upload_pct": _rounded(judged.upload_pct),
        "address": session.address if session else None,
        "caller_id": session.caller_id if session else None,
        "uptime_s": session.uptime_s if session else None,
        "profile": secret.profile or None,
        "comment": secret.comment or None,
        "disabled": secret.disabled,
        "last_logged_out": secret.last_logged_out or None,
        "last_disconnect_reason": secret.last_disconnect_reason or None,
        "last_caller_id": secret.last_caller_id or None,
        "also_on": list(reading.also_on),
        "unavailable": [{"node": e.node, "error": type(e).__name__} for e in reading.unavailable],
        "matched_by": reading.match.how if reading.match else "exact",
        "linked": reading.linked,
        "customer_id": customer.customer_id if customer else None,
        "customer_name": customer.customer_name if customer else None,
        "verdict": judged.verdict.kind,
        "warnings": list(judged.warnings),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
