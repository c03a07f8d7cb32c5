"""Pure functions from a reading (or an error) to a Slack message.

The reading arrives assessed by the domain; its sentences come from
`bot.present` (`reading`, `errors`, `live`); this module lays them out as Block
Kit and adds Slack's own marks (the notes' emoji). Each returns the keyword
arguments of a message: a top-level ``text`` with the figures (mobile
notifications and screen readers read only that) and Block Kit ``blocks`` laid
out to stay readable in the phone app (short fields, two columns). Limits
respected: header ≤150 chars, section text ≤3000, ≤10 fields. Every value from
outside goes in through `literal` (`bot.present.markup`, here or in the
sentences), so no router, CSV or operator text becomes a mention, a link or
formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from bot.errors import AmbiguousQuery, BeholderError
from bot.model import Diagnosis, Reading
from bot.present import diagnosis as diagnosis_texts
from bot.present import errors as error_texts
from bot.present import live as live_texts
from bot.present import numbers
from bot.present import reading as reading_texts
from bot.present.lang import t
from bot.present.live import LiveView
from bot.present.markup import literal
from bot.present.reading import Note
from bot.slack.ids import (
    ACTION_DIAG,
    ACTION_LIVE,
    ACTION_LIVE_STOP,
    ACTION_PICK,
    ACTION_REFRESH,
    BLOCK_ACTIONS,
    BLOCK_LIVE,
)

Message = dict[str, Any]

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000


def reading_message(reading: Reading, tz: tzinfo, requested_by: str | None = None) -> Message:
    """The reading, posted in the channel or thread, with an "Actualizar" button
    (and, online, "En vivo 30 s" and "Diagnosticar")."""
    blocks: list[dict[str, Any]] = [
        _header(_title(reading)),
        _section(
            "\n".join(
                f"*{line}*" if i == 0 else line
                for i, line in enumerate(reading_texts.verdict_lines(reading))
            )
        ),
    ]
    if reading.secret.comment:
        blocks.append(_section(literal(reading.secret.comment, "bold")))
    if (note := reading_texts.match_note(reading)) is not None:
        blocks.append(_context(_marked(note)))
    if (customer := reading_texts.customer_line(reading)) is not None:
        blocks.append(_section(customer))
    blocks += [_section(_marked(w)) for w in reading_texts.management_warnings(reading)]
    blocks.append(_fields(_online_fields(reading) if reading.online else _offline_fields(reading)))
    for note in (reading_texts.duplicate_note(reading), reading_texts.unavailable_note(reading)):
        if note is not None:
            blocks.append(_section(_marked(note)))
    blocks.append(_context(_sample_line(reading, tz, requested_by)))
    blocks.append(
        {
            "type": "actions",
            "block_id": BLOCK_ACTIONS,
            "elements": [
                {
                    "type": "button",
                    "action_id": ACTION_REFRESH,
                    "text": {"type": "plain_text", "text": t("button.refresh"), "emoji": True},
                    "value": reading.user,
                },
                *([live_button(reading.user), diag_button(reading.user)] if reading.online else []),
            ],
        }
    )
    return {"text": reading_texts.summary(reading), "blocks": blocks}


def diagnosis_message(
    reading: Reading,
    diagnosis: Diagnosis | None,
    tz: tzinfo,
    requested_by: str | None = None,
    failed: BeholderError | None = None,
) -> Message:
    """The reading with its diagnosis first, under the title: the verdict sentence,
    then the last mile's figures and the top flows. No diagnosis: the reading,
    with why (`failed`: the diagnosis failed as a whole; else he is offline)."""
    message = reading_message(reading, tz, requested_by)
    head, rest = message["blocks"][:1], message["blocks"][1:]
    if failed is not None:
        note = f":warning: {diagnosis_texts.failed_line(failed)}"
        return {"text": f"{note}\n{message['text']}", "blocks": [*head, _section(note), *rest]}
    if diagnosis is None:
        note = f":information_source: {diagnosis_texts.offline_line(reading.user)}"
        return {"text": message["text"], "blocks": [*head, _section(note), *rest]}
    verdict = diagnosis_texts.verdict_line(diagnosis)
    ping = "\n".join(diagnosis_texts.last_mile_lines(diagnosis))
    title, *flows = diagnosis_texts.top_lines(diagnosis)
    top = "\n".join([title, *(f"• {line}" for line in flows)])
    added = [_section(f":stethoscope: *{verdict}*"), _section(ping), _section(top), _divider()]
    # Phone notifications show only `text`: the verdict and the last mile lead it.
    return {"text": f"{verdict}\n{ping}\n{message['text']}", "blocks": [*head, *added, *rest]}


def error_message(err: BeholderError) -> Message:
    text = error_texts.error(err)  # what the operator typed is escaped in it, by markup.literal
    return {"text": text, "blocks": [_section(":x: " + text)]}


def candidates_message(err: AmbiguousQuery) -> Message:
    """Several subscribers match: one line each, with a button that asks for it."""
    intro = t("error.ambiguous", query=literal(err.query), count=len(err.hits))
    blocks: list[dict[str, Any]] = [_section(intro)]
    for hit in err.hits:
        line = literal(hit.name, "bold") + (f"\n{literal(hit.detail)}" if hit.detail else "")
        block = _section(line)
        block["accessory"] = {
            "type": "button",
            "action_id": ACTION_PICK,
            "text": {"type": "plain_text", "text": t("button.pick")},
            "value": hit.name,
        }
        blocks.append(block)
    return {"text": error_texts.error(err), "blocks": blocks[:50]}


def unexpected_message(user: str | None) -> Message:
    text = error_texts.unexpected(user)
    return {"text": text, "blocks": [_section(":x: " + text)]}


def denied_message(
    reason: str, channels: Sequence[str], usergroups: Sequence[str], users_listed: bool
) -> Message:
    """Access denied (`bot.slack.access`): shown only to the one who asked."""
    text = error_texts.access_denied(reason, channels, usergroups, users_listed)
    return {"text": text, "blocks": [_section(":lock: " + text)]}


def usage_message() -> Message:
    text = error_texts.usage()
    return {"text": text, "blocks": [_section(text)]}


def help_message(low: int, high: int) -> Message:
    """``/consumo ayuda``: every way to ask (live views of `low` to `high` seconds)."""
    text = error_texts.help_text(low, high, LIVE_BUTTON_SECONDS)
    return {"text": text, "blocks": [_section(text)]}


def consulting_message(user: str) -> Message:
    return {"text": reading_texts.consulting(user)}


def diagnosing_message(user: str) -> Message:
    """The state while a diagnosis runs (the router pings and torches for seconds)."""
    return {"text": diagnosis_texts.diagnosing(user)}


# -- pieces -------------------------------------------------------------------------


def _marked(note: Note) -> str:
    """A note as Slack shows it: its emoji, then its words."""
    return f":{note.icon}: {note.text}"


def _title(reading: Reading) -> str:
    state = "🟢" if reading.online else "🔴"
    return f"{state} {literal(reading.user, 'text')} · {literal(reading.node, 'text')}"


def _online_fields(reading: Reading) -> list[str]:
    session = reading.session
    assert session is not None
    judged = reading.judged
    down, up = numbers.meter(judged.download_pct), numbers.meter(judged.upload_pct)
    na = t("na")
    return [
        t("field.download", line=reading_texts.direction_line(reading, "download"), meter=down),
        t("field.upload", line=reading_texts.direction_line(reading, "upload"), meter=up),
        t(
            "field.plan",
            plan=numbers.plan_label(reading.plan),
            profile=literal(reading.secret.profile or na),
        ),
        t("field.uptime", uptime=numbers.duration(session.uptime_s)),
        t("field.ip", ip=literal(session.address or na)),
        t("field.mac", mac=literal(session.caller_id or na)),
    ]


def _offline_fields(reading: Reading) -> list[str]:
    secret, na = reading.secret, t("na")
    fields = [
        t("field.offline"),
        t("field.last_logout", when=literal(secret.last_logged_out or na)),
        t("field.reason", reason=reading_texts.disconnect_reason(secret.last_disconnect_reason)),
        t("field.last_mac", mac=literal(secret.last_caller_id or na)),
    ]
    if secret.disabled:
        fields.insert(1, t("field.disabled"))
    return fields


def _sample_line(reading: Reading, tz: tzinfo, requested_by: str | None) -> str:
    epoch = int(reading.taken_at.timestamp())
    fallback = numbers.local_time(reading.taken_at, tz)
    # Slack renders <!date> in each viewer's own time zone.
    line = t("sample", time=f"<!date^{epoch}^{{time_secs}}|{fallback}>", node=literal(reading.node))
    if requested_by:
        line += t("requested_by", user=requested_by)
    return line


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, HEADER_MAX)}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}}


def _fields(items: list[str]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": _cut(item, FIELD_MAX)} for item in items[:10]],
    }


def _divider() -> dict[str, Any]:
    return {"type": "divider"}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- live views -------------------------------------------------------------------------

#: The "En vivo" button's duration, seconds.
LIVE_BUTTON_SECONDS = 30


def live_button(user: str) -> dict[str, Any]:
    """The "En vivo 30 s" button, for the actions block of a reading."""
    return {
        "type": "button",
        "action_id": ACTION_LIVE,
        "text": {
            "type": "plain_text",
            "text": t("button.live", seconds=LIVE_BUTTON_SECONDS),
            "emoji": True,
        },
        "value": user,
    }


def diag_button(user: str) -> dict[str, Any]:
    """The "Diagnosticar" button, for the actions block of an online reading."""
    return {
        "type": "button",
        "action_id": ACTION_DIAG,
        "text": {"type": "plain_text", "text": t("button.diag"), "emoji": True},
        "value": user,
    }


def live_message(view: LiveView) -> Message:
    """A live view: running figures with a "Detener" button, then its summary."""
    blocks: list[dict[str, Any]] = [_header(live_texts.live_title(view))]
    if view.running:
        blocks.append(_section(f"*{live_texts.live_progress(view)}*"))
        fields = [
            t("field.download_now", value=live_texts.live_now(view, "download")),
            t("field.upload_now", value=live_texts.live_now(view, "upload")),
        ]
    else:
        blocks.append(_section(live_texts.live_ended(view)))
        fields = []
    if view.stats is not None:
        fields += [
            t("field.download_spread", spread=live_texts.live_spread(view, "download")),
            t("field.upload_spread", spread=live_texts.live_spread(view, "upload")),
        ]
    fields.append(t("field.live_plan", plan=numbers.plan_label(view.plan)))
    blocks.append(_fields(fields))
    blocks.append(_context(live_texts.live_requested(view)))
    if view.running:
        button = {
            "type": "button",
            "action_id": ACTION_LIVE_STOP,
            "text": {"type": "plain_text", "text": t("button.stop"), "emoji": True},
            "style": "danger",
            "value": view.id,
        }
    else:
        button = live_button(view.user)
    blocks.append({"type": "actions", "block_id": BLOCK_LIVE, "elements": [button]})
    return {"text": live_texts.live_summary(view), "blocks": blocks}


def live_note_message(text: str) -> Message:
    """A short note about a live view (busy, full, offline, not in the channel)."""
    return {"text": text, "blocks": [_section(text)]}


def nothing_in_message() -> Message:
    text = error_texts.nothing_in_message()
    return {"text": text, "blocks": [_section(text)]}


def invite_needed() -> Message:
    text = error_texts.invite_needed()
    return {"text": text, "blocks": [_section(text)]}
