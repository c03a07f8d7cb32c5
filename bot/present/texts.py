"""Every user-facing sentence, as pure functions: which sentence, which figures.

Slack blocks (`bot.slack.blocks`), the terminal view and the CLI's error lines
all take their sentences from here; the words themselves are templates in the
active language's catalog (`bot.present.lang`: Spanish, es-AR, unless BEHOLDER_LANG=en).
Markup is Slack's mrkdwn (``*bold*``, ```code```); `plain` strips it for terminals.
Every value from outside (router, CSV, operator, node names) goes into a sentence
through `literal`, the one place Slack text is escaped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.live import LiveView
from bot.domain.readings import Reading, plan_mismatch, suspended_while_online, verdict
from bot.errors import (
    AmbiguousQuery,
    BeholderError,
    ConfigError,
    InputError,
    InventoryError,
    InventoryUnavailable,
    NodeNotInInventory,
    PullDeferred,
    RouterAuthFailed,
    RouterBusy,
    RouterCertificateError,
    RouterCircuitOpen,
    RouterError,
    RouterProtocolError,
    RouterRefused,
    RouterReplyTooLarge,
    RouterTimeout,
    RouterTLSError,
    RouterUnreachable,
    UnknownUser,
    UserNotConfirmed,
)
from bot.model import Hit, Plan
from bot.present import lang
from bot.present.lang import number, t
from bot.routeros.tls import shown_fingerprint


def usage() -> str:
    """How to ask: `/consumo`, and a mention in a thread."""
    return t("usage")


# -- numbers -----------------------------------------------------------------------


def mbps(bps: int | None) -> str:
    """Decimal megabits (1 Mbps = 1,000,000 bps), with the language's decimal mark."""
    if bps is None:
        return t("na")
    return t("mbps", value=_mbps_figure(bps))


def _mbps_figure(bps: float) -> str:
    """Just the number of `mbps`: three significant digits or so (``45,2``, ``2,10``)."""
    value = bps / 1_000_000
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return _number(value, digits)


def plan_rate(bps: int) -> str:
    """A plan figure, without needless decimals: ``50``, ``1,5``."""
    value = bps / 1_000_000
    return _number(value, 0) if value == int(value) else _number(value, 1)


def percent(value: float | None) -> str:
    return t("na") if value is None else t("percent", value=_number(value, 0))


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


def local_time(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M:%S")


def zone(name: str) -> tzinfo:
    """The configured time zone, or UTC if this machine lacks its tz data."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def reason(code: str) -> str:
    """What RouterOS's last-disconnect-reason means, with the code itself."""
    if not code:
        return t("na")
    if not lang.has(f"disconnect.{code}"):
        return literal(code)
    return t("disconnect_reason", meaning=t(f"disconnect.{code}"), code=literal(code))


# -- values from outside, as Slack must show them ------------------------------------------

#: Characters mrkdwn turns into formatting (*bold*, _italic_, ~strike~, `code`).
_MARKERS = frozenset("*_~`")
#: What a backtick inside a code span is shown as: a code span cannot hold one.
BACKTICK_SHOWN = "\u02cb"  # ˋ MODIFIER LETTER GRAVE ACCENT
#: How `literal` marks a value: "text" for places Slack does not format (a header,
#: a file title, alt text), "plain" inside a sentence, "code" and "bold" for
#: values the sentence sets apart (a PPPoE name, a node).
Style = Literal["text", "plain", "code", "bold"]


def literal(value: object, style: Style = "plain") -> str:
    """`value` (a PPPoE name, node, comment, IP, operator text…) shown as-is in Slack.

    ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;`` and ``&gt;``, as Slack asks:
    no ``<!channel>``, ``<@U…>`` or ``<https://…|…>`` can come out of a value. In
    mrkdwn a value holding ``*``, ``_``, ``~`` or a backtick is put in a code span,
    where Slack formats nothing; its characters are copied exactly as the router
    has them (no zero-width or look-alike characters), except a backtick, which no
    code span can hold and is shown as ``ˋ``. Other values keep the sentence's
    look: as they are ("plain"), in a code span ("code") or in bold ("bold").
    Templates therefore never put markup around a placeholder.
    """
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if style == "text":
        return text
    if style == "code" or not _MARKERS.isdisjoint(text):
        return f"`{text.replace('`', BACKTICK_SHOWN)}`"
    return f"*{text}*" if style == "bold" else text


_CODE_SPAN = re.compile(r"(`[^`\n]*`)")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def plain(text: str) -> str:
    """Slack mrkdwn → terminal text: drops the bold markers (not inside code spans)
    and turns `literal`'s entities back into the characters they stand for."""
    parts = _CODE_SPAN.split(text)
    text = "".join(p if i % 2 else p.replace("*", "") for i, p in enumerate(parts))
    return _ENTITY.sub(lambda m: _ENTITIES[m[1]], text)


def _number(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return t("na")
    return lang.number(value, digits)


# -- sentences about a reading ---------------------------------------------------------


def consulting(user: str) -> str:
    return t("consulting", user=literal(user, "code"))


def direction_line(reading: Reading, direction: str) -> str:
    """``45,2 Mbps · 90 % de 50 Mbps`` for Bajada or Subida."""
    traffic, plan = reading.traffic, reading.plan
    if traffic is None:
        return t("direction.ended")
    download = direction == "download"
    value = traffic.download_bps if download else traffic.upload_bps
    if plan is None:
        return mbps(value)
    limit = plan.download_bps if download else plan.upload_bps
    share = reading.download_pct if download else reading.upload_pct
    return t("direction.share", rate=mbps(value), share=percent(share), plan=plan_rate(limit))


def summary(reading: Reading) -> str:
    """One line with the figures: what phone notifications and screen readers get."""
    where = _where(reading.user, reading.node)
    if not reading.online:
        when = literal(reading.secret.last_logged_out or t("na"))
        return t("summary.offline", where=where, when=when)
    return t(
        "summary.online" if reading.plan is not None else "summary.online_unknown_plan",
        where=where,
        download=direction_line(reading, "download"),
        upload=direction_line(reading, "upload"),
    )


def _where(user: str, node: str) -> str:
    """``juan.perez en bras-norte``: the start of a plain-text summary."""
    return t("summary.where", user=literal(user), node=literal(node))


def duplicate_note(reading: Reading) -> str | None:
    if not reading.also_on:
        return None
    others = ", ".join(literal(n, "bold") for n in reading.also_on)
    user = literal(reading.user, "code")
    if reading.online:
        return t("duplicate.online", user=user, others=others, node=literal(reading.node, "bold"))
    return t("duplicate.offline", user=user, others=others)


def verdict_lines(reading: Reading) -> list[str]:
    """What the reading means for the call: the first thing an operator reads."""
    v = verdict(reading)
    side = t("side.download" if v.direction == "download" else "side.upload")
    match v.kind:
        case "offline" | "disabled" | "unknown_plan":
            lines = [t(f"verdict.{v.kind}")]
        case "saturated" | "low" | "moderate":
            lines = [t(f"verdict.{v.kind}", share=percent(v.share_pct), side=side)]
        case _:
            lines = [t("verdict.no_data")]
    if "queue_dropping" in v.signs:
        lines.append(t("verdict.queue_dropping", dropped=_number(v.dropped, 0)))
    if "recent_reconnect" in v.signs:
        lines.append(t("verdict.recent_reconnect", uptime=duration(v.uptime_s)))
    return lines


def match_note(reading: Reading) -> str | None:
    """How the operator's text led to this user, when it was not the exact name."""
    match = reading.match
    if match is None or match.how not in {"ip", "mac", "key", "name", "comment", "pulled"}:
        return None
    return t(
        f"match.{match.how}",
        detail=literal(match.detail),
        query=literal(match.query),
        user=literal(reading.user, "code"),
    )


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


def management_warnings(reading: Reading) -> list[str]:
    customer = reading.customer
    notes = []
    if plan_mismatch(reading) and customer is not None:
        sold = Plan(customer.plan_download_bps or 0, customer.plan_upload_bps or 0)
        notes.append(
            t("warning.plan_mismatch", sold=plan_label(sold), queue=plan_label(reading.plan))
        )
    if suspended_while_online(reading) and customer is not None:
        notes.append(t("warning.suspended_online", status=literal(customer.status)))
    return notes


def unavailable_note(reading: Reading) -> str | None:
    if not reading.unavailable:
        return None
    names = ", ".join(literal(e.node, "bold") for e in reading.unavailable)
    return t("unavailable", nodes=names)


def reading_lines(reading: Reading, tz: tzinfo) -> list[str]:
    """The reading as terminal lines (``beholder consumo``, the demo), made safe
    by `terminal`: the router's and the CSV's values are in them."""
    head = t(
        "term.head", user=reading.user, node=reading.node, time=local_time(reading.taken_at, tz)
    )
    lines = [head, *("  » " + plain(line) for line in verdict_lines(reading))]
    if reading.secret.comment:
        lines.append("  " + t("term.comment", comment=reading.secret.comment))
    for note in (match_note(reading), customer_line(reading)):
        if note:
            lines.append("  " + plain(note.removeprefix(":mag: ")))
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
                    meter=meter(reading.download_pct),
                ),
                t(
                    "term.upload",
                    line=direction_line(reading, "upload"),
                    meter=meter(reading.upload_pct),
                ),
                t("term.plan", plan=plan_label(reading.plan), profile=reading.secret.profile or na),
                t("term.ip", ip=session.address or na),
                t("term.mac", mac=session.caller_id or na),
                t("term.uptime", uptime=duration(session.uptime_s)),
            )
        ]
    else:
        lines += offline_lines(reading)
    for note in (*management_warnings(reading), duplicate_note(reading), unavailable_note(reading)):
        if note:
            lines.append("  " + plain(note.split(" ", 1)[1]))
    return [terminal(line, TERMINAL_LINE_LIMIT) for line in lines]


def offline_lines(reading: Reading) -> list[str]:
    secret, na = reading.secret, t("na")
    lines = [t("term.offline")]
    if secret.disabled:
        lines.append(t("term.disabled"))
    lines += [
        t("term.last_logout", when=secret.last_logged_out or na),
        t("term.reason", reason=plain(reason(secret.last_disconnect_reason))),
        t("term.last_mac", mac=secret.last_caller_id or na),
    ]
    return ["  " + line for line in lines]


# -- errors --------------------------------------------------------------------------------


def error(err: BeholderError) -> str:
    """What happened and what to do, naming the user and the cause."""
    user = _user_of(err)
    who = _who(user)
    node = literal(getattr(err, "node", ""), "bold")
    match err:
        case InputError(reason="empty"):
            return t("error.empty", usage=usage())
        case InputError(reason="too_long"):
            return t("error.too_long", usage=usage())
        case InputError():
            return t("error.invalid", text=literal(shown(err.text), "code"), usage=usage())
        case UnknownUser():
            text = _unknown_user(err)
            if err.suggestions:
                names = ", ".join(literal(s, "code") for s in err.suggestions)
                return text + "\n" + t("error.did_you_mean", names=names)
            return text + "\n" + t("error.how_to_search")
        case AmbiguousQuery():
            intro = t("error.ambiguous", query=literal(err.query), count=len(err.hits))
            return "\n".join([intro, *(candidate(h) for h in err.hits)])
        case NodeNotInInventory():
            return t("error.node_not_in_inventory", user=literal(err.user, "code"), node=node)
        case InventoryUnavailable():
            return t(
                f"error.inventory.{err.reason}",
                path=literal(err.path, "code"),
                detail=literal(err.detail),
            )
        case RouterCircuitOpen():
            why = t("error.circuit_why", cause=_cause(err.cause)) if err.cause else ""
            return t(
                "error.circuit_open",
                node=node,
                why=why,
                since=f"{err.since_s:.0f}",
                who=who,
                retry=max(1, round(err.retry_in_s)),
            )
        case RouterBusy():
            return t(
                "error.busy",
                node=node,
                sessions=err.sessions,
                seconds=_seconds(err.seconds),
                who=who,
            )
        case RouterTimeout():
            return t("error.timeout", node=node, seconds=_seconds(err.seconds), who=who)
        case RouterRefused():
            return t("error.refused", node=node, who=who)
        case RouterAuthFailed():
            return t("error.auth", node=node, who=who)
        case RouterCertificateError(pinned=str(pinned), presented=str(presented)):
            return t(
                "error.certificate_changed",
                node=node,
                who=who,
                pinned=literal(shown_fingerprint(pinned), "code"),
                presented=literal(shown_fingerprint(presented), "code"),
                command=literal(f"beholder nodes trust {err.node} --replace", "code"),
            )
        case RouterCertificateError():
            return t(
                "error.certificate",
                node=node,
                who=who,
                command=literal(f"beholder nodes trust {err.node}", "code"),
            )
        case RouterTLSError():
            return t("error.tls", node=node, who=who)
        case RouterReplyTooLarge():
            return t("error.too_large", node=node, limit=_limit(err), who=who)
        case RouterProtocolError():
            return t("error.protocol", node=node, who=who)
        case RouterUnreachable():
            return t("error.unreachable", node=node, who=who)
        case ConfigError():
            return t("error.config", detail=literal(err))
        case InventoryError():
            return literal(err)  # admin commands (CSV import, nodes): the detail is the message
        case _:
            return t("error.other", who=who, kind=type(err).__name__)


def _unknown_user(err: UnknownUser) -> str:
    """Why the name was not found: every router said so, some could not be
    asked, or fair use kept the routers from being asked (`bot.domain.readings`)."""
    match err:
        case UserNotConfirmed():
            nodes = ", ".join(
                t("error.unchecked_node", node=literal(e.node, "bold"), cause=_cause(e))
                for e in err.unchecked
            )
            return t("error.not_confirmed", user=literal(err.user, "code"), nodes=nodes)
        case PullDeferred(reason="rate"):
            wait = max(1, math.ceil(err.retry_in_s))
            return t(
                "error.pull_rate", user=literal(err.user, "code"), limit=err.limit, seconds=wait
            )
        case PullDeferred():
            return t(
                "error.pull_busy",
                user=literal(err.user, "code"),
                count=err.limit,
                seconds=_seconds(err.retry_in_s),
            )
        case _:
            return t("error.unknown_user", user=literal(err.user, "code"))


def _cause(err: RouterError) -> str:
    """A few words on why a router failed, for the circuit-breaker message."""
    match err:
        case RouterCircuitOpen():
            return _cause(err.cause) if err.cause else t("cause.other")
        case RouterBusy():
            return t("cause.busy")
        case RouterTimeout():
            return t("cause.timeout")
        case RouterRefused():
            return t("cause.refused")
        case RouterUnreachable():
            return t("cause.unreachable")
        case RouterCertificateError():
            return t("cause.certificate")
        case RouterTLSError():
            return t("cause.tls")
        case RouterReplyTooLarge():
            return t("cause.too_large")
        case _:
            return t("cause.other")


def _limit(err: RouterReplyTooLarge) -> str:
    """The ceiling a reply passed, as a few words: ``más de 16 filas``, ``más de 1 MiB``."""
    if err.kind in ("bytes", "field"):
        mib = err.ceiling / (1024 * 1024)
        size = f"{number(mib, 0 if mib == int(mib) else 1)} MiB"
        if mib < 1:
            size = f"{number(err.ceiling / 1024, 0)} KiB"
        return t(f"limit.{err.kind}", size=size)
    key = {"words": "limit.words", "empty": "limit.empty"}.get(err.kind, "limit.rows")
    return t(key, count=number(err.ceiling, 0))


def shown(text: str, limit: int = 60) -> str:
    """Operator text as it may be echoed: control characters made visible, cut short."""
    visible = "".join("�" if unicodedata.category(c)[0] == "C" else c for c in text)
    return visible if len(visible) <= limit else visible[: limit - 1] + "…"


#: The longest a value from outside (a router, a CSV, a certificate) is printed on a
#: terminal; a whole line built around such values gets `TERMINAL_LINE_LIMIT`.
TERMINAL_LIMIT = 200
TERMINAL_LINE_LIMIT = 1000
#: Besides every control and format character (Unicode categories Cc, Cf: C0, DEL,
#: C1, ESC, bidi overrides and isolates, zero-width characters), the line and
#: paragraph separators move the cursor too, and lone surrogates (undecodable bytes
#: kept by ``surrogateescape``) cannot be written at all.
_TERMINAL_UNSAFE = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


def terminal(value: object, limit: int = TERMINAL_LIMIT) -> str:
    """`value` (a router's identity, a CSV field, a certificate's subject…) made safe
    to print on an operator's terminal.

    A terminal obeys what it is sent: ESC sequences move the cursor, erase or hide
    lines, ``\\r`` rewrites the line, a bidi override reverses what follows. Text from
    outside could so draw a forged fingerprint over the real one. Every such
    character is shown as a visible escape instead (``\\x1b``, ``\\u202e``), and the
    result is cut to `limit` characters (``…`` marks the cut).
    """
    text = "".join(
        _escaped(c) if unicodedata.category(c) in _TERMINAL_UNSAFE else c for c in str(value)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def candidate(hit: Hit) -> str:
    """One line of an ambiguous search: the user and what matched."""
    name = literal(hit.name, "code")
    if hit.detail:
        return t("error.candidate_detail", name=name, detail=literal(hit.detail))
    return t("error.candidate", name=name)


def unexpected(user: str | None) -> str:
    return t("unexpected", who=_who(user))


def _who(user: str | None) -> str:
    """`` al consultar `juan.perez` ``, or nothing when no user is known."""
    return t("error.who", user=literal(user, "code")) if user else ""


def _user_of(err: BeholderError) -> str | None:
    if isinstance(err, RouterError | UnknownUser | NodeNotInInventory):
        return err.user
    return None


# -- access control ------------------------------------------------------------------


def access_denied(
    reason: str, channels: Sequence[str], usergroups: Sequence[str], users_listed: bool
) -> str:
    """Why Beholder did not answer, who may use it and whom to ask (`bot.slack.access`).

    `reason`: "channel" (not an allowed channel), "user" (neither listed nor in an
    allowed group), "unverified" (the group membership could not be checked) or
    "kind" (a kind of request Beholder has no access rule for).
    `usergroups`: ids (``S…``) or handles (``@soporte-n2``).
    """
    groups = _either([_group_ref(g) for g in usergroups])
    if reason == "channel":
        return t("access.channel", where=_either([f"<#{c}>" for c in sorted(channels)]))
    if reason == "unverified":
        return t("access.unverified", groups=groups)
    if reason == "kind":
        return t("access.kind")
    who = []
    if usergroups:
        who.append(t("access.members_of", groups=groups))
    if users_listed or not who:
        who.append(t("access.listed_people"))
    ask = t("access.ask_groups", groups=groups) if usergroups else t("access.ask")
    return t("access.user", who=_listed(who, "list.and"), ask=ask)


def _group_ref(group: str) -> str:
    """A user group as Slack shows it: ``<!subteam^S…>`` renders its handle."""
    return group if group.startswith("@") else f"<!subteam^{group}>"


def _either(items: Sequence[str]) -> str:
    """``a``, ``a o b``, ``a, b o c``."""
    return _listed(items, "list.or")


def _listed(items: Sequence[str], key: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return t(key, head=", ".join(items[:-1]), last=items[-1])


# -- live views (`/consumo usuario 30s`, the "En vivo 30 s" button) ------------------------


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
    last = view.last
    if last is None or last.traffic is None:
        return t("na")
    download = direction == "download"
    value = last.traffic.download_bps if download else last.traffic.upload_bps
    if view.plan is None:
        return mbps(value)
    limit = view.plan.download_bps if download else view.plan.upload_bps
    share = value * 100 / limit if limit else None
    return t("direction.share", rate=mbps(value), share=percent(share), plan=plan_rate(limit))


def live_spread(view: LiveView, direction: str) -> str:
    """``mín 40,1 · prom 44,9 · p95 47,2 · máx 48,0 Mbps`` for one direction."""
    stats = view.stats
    if stats is None:
        return t("live.no_samples")
    spread = stats.download if direction == "download" else stats.upload

    def figure(bps: float) -> str:
        return _mbps_figure(round(bps))

    return t(
        "live.spread",
        min=figure(spread.min),
        avg=figure(spread.avg),
        p95=figure(spread.p95),
        max=figure(spread.max),
    )


def live_ended(view: LiveView) -> str:
    """How a live view ended, in one sentence."""
    at = t("live.at", seconds=round(view.last.offset_s) if view.last else 0)
    match view.outcome:
        case "completed":
            return t("live.completed", count=len(view.samples), seconds=view.seconds)
        case "stopped" if view.stopped_by:
            return t("live.stopped_by", user=view.stopped_by, at=at)
        case "stopped":
            return t("live.stopped", at=at)
        case "offline":
            return t("live.offline", user=literal(view.user, "code"), at=at)
        case "cancelled":
            return t("live.cancelled", at=at)
        case "failed" if view.error is not None:
            return error(view.error)
        case "failed":
            return unexpected(view.user)
    return live_progress(view)


def live_summary(view: LiveView) -> str:
    """The live message's plain text (phone notifications read only this)."""
    where = _where(view.user, view.node)
    if view.running:
        return t(
            "live.summary_running",
            where=where,
            count=len(view.samples),
            seconds=view.seconds,
            download=live_now(view, "download"),
            upload=live_now(view, "upload"),
        )
    stats = view.stats
    if stats is None:
        return t("live.summary_empty", where=where, ended=live_ended(view))
    return t(
        "live.summary_done",
        where=where,
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


def nothing_in_message() -> str:
    return t("nothing_in_message")


def invite_needed() -> str:
    return t("invite_needed")


def _seconds(value: float) -> str:
    """A deadline as people write it: ``5``, ``0,5`` (es) or ``0.5`` (en)."""
    return number(value, 0) if value == int(value) else number(value, 1)
