"""Live views in Slack: ``/consumo juan.perez 30s`` and the "En vivo 30 s" button.

    answer       `bot.domain.live_service.start_live` finds the subscriber (one
                 reading), takes a place in the registry and starts the view;
                 its outcome becomes a note for the asker, or the live message:
    LiveMessage  chat.postMessage (channel or thread) before the view samples;
                 every few s chat.update with the running figures and a "Detener"
                 button (all views together stay under chat.update's Tier 3 budget);
                 at the end chat.update with min / average / p95 / max, and the PNG
                 chart uploaded into the message's thread (files_upload_v2, files:write)

The sampling itself is `bot.domain.live` (plain asyncio), started by the domain;
this module only hangs messages on its callbacks. A second request for a
subscriber already being watched joins that view (an ephemeral note with a
link; it is mentioned when the chart is posted) instead of opening another API
session. Notes for the asker go through `bot.slack.delivery`: the command's or
button's ``response_url`` first, so they reach the asker even in a channel the
bot is not in. With one API session per router (``MIKROTIK_MAX_SESSIONS=1``) no
view starts: the asker is told why and gets a one-shot reading instead. The
registry of running views is the app's, in `Deps`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.live import LiveView
from bot.domain.live_service import LiveOutcome, LiveStart, start_live
from bot.errors import AmbiguousQuery, BeholderError, RouterError, UnknownUser
from bot.model import Asker
from bot.present import errors as error_texts
from bot.present import live as live_texts
from bot.present.chart import render_chart
from bot.slack import blocks, delivery, parsing
from bot.slack.ids import ACTION_LIVE, ACTION_LIVE_STOP
from bot.slack.replies import Deps, consult

log = logging.getLogger(__name__)

#: Slack errors meaning the bot may not post in that channel (it must be invited).
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})


@dataclass
class LiveRef:
    """Where a live view's message is, and the thread its chart goes to."""

    channel: str
    ts: str
    thread_ts: str
    permalink: str | None = None


class LiveMessage:
    """A live view as one Slack message in `channel` (in `thread_ts` if given), its
    chart in that message's thread: the `bot.domain.live_service.LiveDisplay`."""

    def __init__(
        self, client: AsyncWebClient, channel: str, thread_ts: str | None, tz: tzinfo
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.tz = tz

    async def show(self, view: LiveView) -> None:
        posted = await self.client.chat_postMessage(
            channel=self.channel, thread_ts=self.thread_ts, **blocks.live_message(view)
        )
        ts = str(posted["ts"])
        view.ref = LiveRef(str(posted.get("channel") or self.channel), ts, self.thread_ts or ts)

    async def update(self, view: LiveView) -> None:
        await _update(self.client, view)

    async def finish(self, view: LiveView) -> None:
        await _finish(self.client, view, self.tz)


def register(app: AsyncApp, deps: Deps) -> None:
    """The "En vivo 30 s" and "Detener" buttons, on the app's registry (`Deps.live_views`)."""

    @app.action(ACTION_LIVE)
    async def live(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
        thread_ts = container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
        user = parsing.button_value(body)
        asker = Asker((body.get("user") or {}).get("id"), channel, "button")
        await answer(
            deps,
            client,
            channel,
            thread_ts,
            user,
            blocks.LIVE_BUTTON_SECONDS,
            asker,
            exact=True,
            response_url=body.get("response_url"),
        )

    @app.action(ACTION_LIVE_STOP)
    async def stop(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = deps.live_views.find(parsing.button_value(body))
        who = (body.get("user") or {}).get("id")
        if view is None or not view.stop(who):
            note = blocks.live_note_message(live_texts.live_already_over())
            await delivery.reply(client, delivery.Target.of_action(body), note, public=False)
            return
        log.info("live view of %s stopped by %s", view.user, who)


async def answer(
    deps: Deps,
    client: AsyncWebClient,
    channel: str,
    thread_ts: str | None,
    query: str,
    seconds: float,
    asker: Asker,
    *,
    exact: bool = False,
    response_url: str | None = None,
) -> LiveView | None:
    """Start (or join) a live view of `query` for `seconds`, posted in `channel`
    (in `thread_ts` if given), and tell the asker what became of it. Notes only
    for the asker go to `response_url` (the command's or the button's) first,
    else ``chat.postEphemeral`` (`bot.slack.delivery`).

    `query` is what the operator typed, as `/consumo` takes it; `exact`: a PPPoE
    name from a button. Returns the view (already running), or None when none
    was started or joined. Never raises but cancellation.
    """
    target = delivery.Target(response_url, channel, asker.user, thread_ts)
    message = LiveMessage(client, channel, thread_ts, deps.tz)
    started = await start_live(
        deps.readings, deps.live_views, query, seconds, message, asker=asker.user, exact=exact
    )
    outcome = started.outcome
    if outcome is LiveOutcome.STARTED:
        deps.readings.audit(query, asker, "live", started.reading, latency_ms=started.latency_ms)
        return started.view
    if outcome is LiveOutcome.NO_SPARE_SESSION:
        await _one_shot(deps, client, target, query, asker, exact=exact)
        return None
    if outcome is LiveOutcome.NOT_READ:
        await _refuse(deps, client, target, query, asker, started)
        return None
    note, audited = await _refusal(client, channel, query, started)
    await delivery.reply(client, target, blocks.live_note_message(note), public=False)
    if audited is not None:
        deps.readings.audit(
            query, asker, audited, started.reading, started.error, started.latency_ms
        )
    return started.view if outcome is LiveOutcome.BUSY else None


async def _refusal(
    client: AsyncWebClient, channel: str, query: str, started: LiveStart
) -> tuple[str, str | None]:
    """The note telling the asker why no view of theirs started, and the audit's
    outcome (None: not audited)."""
    view, reading = started.view, started.reading
    if started.outcome is LiveOutcome.NOT_SHOWN:
        return _not_posted(query, channel, started)
    if started.outcome is LiveOutcome.BUSY and view is not None:
        ref: LiveRef | None = view.ref
        link = await _permalink(client, ref) if ref is not None else None
        return live_texts.live_busy(view, link, ref.channel if ref else None), "live_joined"
    if started.outcome is LiveOutcome.FULL:
        return live_texts.live_full(started.limit), "live_full"
    if started.outcome is LiveOutcome.NODE_FULL:
        return live_texts.live_node_full(started.node, started.limit), "live_full"
    if started.outcome is LiveOutcome.OFFLINE and reading is not None:
        return live_texts.live_offline(reading.user, reading.node), "offline"
    if started.outcome is LiveOutcome.CLOSED:
        return live_texts.live_closing(), "live_closing"
    if started.outcome is LiveOutcome.GONE:  # its router left the inventory meanwhile
        return error_texts.unexpected(query), None
    return error_texts.unexpected(query), "error"


async def _one_shot(
    deps: Deps,
    client: AsyncWebClient,
    target: delivery.Target,
    query: str,
    asker: Asker,
    *,
    exact: bool,
) -> None:
    """Live views are off (one API session per router, which a view would hold):
    say why, and answer with a one-shot reading, as ``/consumo`` without seconds."""
    note = blocks.live_note_message(live_texts.live_no_spare_session())
    await delivery.reply(client, target, note, public=False)
    reply = await consult(deps, query, asker, exact=exact)
    await delivery.reply(client, target, reply.message, public=reply.public)


def _not_posted(query: str, channel: str, started: LiveStart) -> tuple[str, str]:
    """The live message could not be posted (the view is already released): the
    note saying why, and the audit's outcome."""
    exc = started.error
    reason = delivery.describe(exc) if exc is not None else "error"
    user = started.reading.user if started.reading else query
    log.warning("live view of %s: could not post in %s: %s", user, channel, reason)
    if isinstance(exc, SlackApiError) and reason in NOT_A_MEMBER:
        note = live_texts.live_not_in_channel()
    elif isinstance(exc, delivery.SLACK_FAILURES):
        note = live_texts.live_not_posted(reason)  # Slack refused it, or could not be reached
    else:
        log.error("live view of %s: unexpected error posting it", query, exc_info=exc)
        note = error_texts.unexpected(user)
    return note, f"live_not_posted:{reason}"


# -- callbacks of a running view -------------------------------------------------------------


async def _update(client: AsyncWebClient, view: LiveView) -> None:
    ref: LiveRef = view.ref
    await client.chat_update(channel=ref.channel, ts=ref.ts, **blocks.live_message(view))


async def _final_update(client: AsyncWebClient, view: LiveView) -> None:
    """The message's last state (no "Detener" any more); a failure to reach Slack
    is logged, never raised: the chart and the figures still go to the thread."""
    try:
        await _update(client, view)
    except delivery.SLACK_FAILURES as exc:
        log.warning(
            "live view of %s: the final update failed: %s", view.user, delivery.describe(exc)
        )


async def _finish(client: AsyncWebClient, view: LiveView, tz: tzinfo) -> None:
    """The final figures in the message; the chart and the stats in its thread."""
    ref: LiveRef = view.ref
    await _final_update(client, view)
    if view.stats is None:
        return  # nothing was measured: the message already says why
    first = view.samples[0].taken_at
    subtitle = live_texts.live_chart_subtitle(view, tz)
    started = time.perf_counter()
    png = await asyncio.to_thread(
        render_chart,
        list(view.samples),
        view.plan,
        user=view.user,
        node=view.node,
        subtitle=subtitle,
    )
    log.info(
        "live chart of %s: %d bytes in %.0fms",
        view.user,
        len(png),
        (time.perf_counter() - started) * 1000,
    )
    stamp = first.strftime("%Y%m%d-%H%M%S")
    try:
        await client.files_upload_v2(
            channel=ref.channel,
            thread_ts=ref.thread_ts,
            file=png,
            filename=live_texts.live_chart_file(_safe(view.user), stamp),
            title=live_texts.live_chart_title(view),
            alt_txt=live_texts.live_chart_alt(view),
            initial_comment=live_texts.live_report(view),
        )
    except delivery.SLACK_FAILURES:
        log.warning("live view of %s: the chart upload failed", view.user, exc_info=True)
        text = f"{live_texts.live_chart_failed()}\n{live_texts.live_report(view)}"
        thread = delivery.Target(None, ref.channel, None, ref.thread_ts)
        await delivery.reply(client, thread, blocks.live_note_message(text), public=True)


# -- notes for the asker ---------------------------------------------------------------------


async def _permalink(client: AsyncWebClient, ref: LiveRef) -> str | None:
    if ref.permalink is None:
        try:
            found = await client.chat_getPermalink(channel=ref.channel, message_ts=ref.ts)
            ref.permalink = found.get("permalink")
        except SlackClientError:
            log.info("no permalink for %s/%s", ref.channel, ref.ts, exc_info=True)
    return ref.permalink


async def _refuse(
    deps: Deps,
    client: AsyncWebClient,
    target: delivery.Target,
    query: str,
    asker: Asker,
    started: LiveStart,
) -> None:
    """No subscriber to watch: say why (a router fault in the channel, like a reading)."""
    exc = started.error
    if isinstance(exc, AmbiguousQuery):
        message = blocks.candidates_message(exc)
    elif isinstance(exc, BeholderError):
        message = blocks.error_message(exc)
    else:  # NOT_READ always carries a BeholderError
        message = blocks.unexpected_message(query)
    await delivery.reply(client, target, message, public=isinstance(exc, RouterError))
    outcome = (
        "ambiguous"
        if isinstance(exc, AmbiguousQuery)
        else "not_found"
        if isinstance(exc, UnknownUser)
        else f"failed:{type(exc).__name__}"
    )
    deps.readings.audit(query, asker, outcome, error=exc, latency_ms=started.latency_ms)


def _safe(name: str) -> str:
    """A PPPoE name as part of a file name ("" when nothing is left of it)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60]
