"""Live views in Slack: ``/consumo juan.perez 30s`` and the "En vivo 30 s" button.

    start_live   find the subscriber (one reading), take a place in the registry,
                 post the live message (chat.postMessage, channel or thread)
    every few s  chat.update with the running figures and a "Detener" button
                 (all views together stay under chat.update's Tier 3 budget)
    at the end   chat.update with min / average / p95 / max, and the PNG chart
                 uploaded into the message's thread (files_upload_v2, files:write)

The sampling itself is `bot.domain.live` (plain asyncio); this module only hangs
messages on its callbacks. A second request for a subscriber already being
watched joins that view (an ephemeral note with a link; it is mentioned when
the chart is posted) instead of opening another API session. Notes for the
asker go through `bot.slack.delivery`: the command's or button's
``response_url`` first, so they reach the asker even in a channel the bot is
not in. With one API session per router (``MIKROTIK_MAX_SESSIONS=1``) no view
starts: the asker is told why and gets a one-shot reading instead.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.live import LiveBusy, LiveClosed, LiveFull, LiveNodeFull, LiveRegistry, LiveView
from bot.errors import AmbiguousQuery, BeholderError, RouterError, UnknownUser
from bot.model import Node, Reading
from bot.present import errors as error_texts
from bot.present import live as live_texts
from bot.present.chart import render_chart
from bot.slack import blocks, delivery
from bot.slack.ids import ACTION_LIVE, ACTION_LIVE_STOP
from bot.slack.replies import Asker, Deps, audit, consult

log = logging.getLogger(__name__)

#: Slack errors meaning the bot may not post in that channel (it must be invited).
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})

# Deps (bot.slack.replies) has no slot for the registry, and there is one
# ReadingService per app: it keys the app's registry.
_registries: weakref.WeakKeyDictionary[Any, LiveRegistry] = weakref.WeakKeyDictionary()


@dataclass
class LiveRef:
    """Where a live view's message is, and the thread its chart goes to."""

    channel: str
    ts: str
    thread_ts: str
    permalink: str | None = None


def registry_for(deps: Deps) -> LiveRegistry:
    """The app's live views (defaults until `register` is given configured ones)."""
    registry = _registries.get(deps.readings)
    if registry is None:
        registry = _registries[deps.readings] = LiveRegistry()
    return registry


def register(app: AsyncApp, deps: Deps, registry: LiveRegistry | None = None) -> LiveRegistry:
    """The "En vivo 30 s" and "Detener" buttons. Pass
    ``LiveRegistry.from_settings(settings)`` for BEHOLDER_LIVE_MAX / BEHOLDER_LIVE_VIEWS."""
    if registry is not None:
        _registries[deps.readings] = registry

    @app.action(ACTION_LIVE)
    async def live(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
        thread_ts = container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
        user = body["actions"][0].get("value", "")
        asker = Asker((body.get("user") or {}).get("id"), channel, "button")
        await start_live(
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
        view = registry_for(deps).find(body["actions"][0].get("value", ""))
        who = (body.get("user") or {}).get("id")
        if view is None or not view.stop(who):
            await _tell(client, delivery.Target.of_action(body), live_texts.live_already_over())
            return
        log.info("live view of %s stopped by %s", view.user, who)

    return registry_for(deps)


async def start_live(
    deps: Deps,
    client: AsyncWebClient,
    channel: str,
    thread_ts: str | None,
    user: str,
    seconds: float,
    asker: Asker,
    *,
    exact: bool = False,
    response_url: str | None = None,
) -> LiveView | None:
    """Start (or join) a live view of `user` for `seconds`, posted in `channel`
    (in `thread_ts` if given). Notes only for the asker go to `response_url`
    (the command's or the button's) first, else ``chat.postEphemeral``.

    `user` is what the operator typed, as `/consumo` takes it; `exact`: a PPPoE
    name from a button. Returns the view (already running), or None when none
    was started or joined. Never raises but cancellation; a view that could not
    be posted, whatever the failure, is released at once.
    """
    target = delivery.Target(response_url, channel, asker.user, thread_ts)
    registry = registry_for(deps)
    if not registry.enabled:
        await _one_shot(deps, client, target, user, asker, exact=exact)
        return None
    running = registry.get(user) if exact else None
    if running is not None:
        await _join(client, target, asker, running)
        await audit(deps, user, asker, "live_joined")
        return running

    if registry.full:  # no router question when no view could start anyway
        await _tell(client, target, live_texts.live_full(registry.max_views))
        await audit(deps, user, asker, "live_full")
        return None

    started = time.monotonic()
    try:
        reading = await (
            deps.readings.read_user(user) if exact else deps.readings.read(user, asker=asker.user)
        )
    except BeholderError as exc:
        await _refuse(deps, client, target, user, asker, exc, started)
        return None
    except Exception as exc:
        log.exception("live view of %r: unexpected error", user)
        await _tell(client, target, error_texts.unexpected(user))
        await audit(deps, user, asker, "error", error=exc)
        return None
    elapsed_ms = round((time.monotonic() - started) * 1000)
    if not reading.online:
        await _tell(client, target, live_texts.live_offline(reading.user, reading.node))
        await audit(deps, user, asker, "offline", reading, latency_ms=elapsed_ms)
        return None
    try:
        node = await asyncio.to_thread(_node_of, deps, reading)
    except BeholderError as exc:  # the inventory failed since the reading (damaged, locked)
        await _refuse(deps, client, target, user, asker, exc, started)
        return None
    if node is None:  # the node left the inventory between the reading and now
        await _tell(client, target, error_texts.unexpected(user))
        return None

    try:
        view = registry.claim(
            reading.user, reading.node, seconds, plan=reading.plan, started_by=asker.user
        )
    except LiveBusy as busy:
        await _join(client, target, asker, busy.view)
        await audit(deps, user, asker, "live_joined", reading, latency_ms=elapsed_ms)
        return busy.view
    except LiveFull as full:
        await _tell(client, target, live_texts.live_full(full.limit))
        await audit(deps, user, asker, "live_full", reading, latency_ms=elapsed_ms)
        return None
    except LiveNodeFull as full:
        await _tell(client, target, live_texts.live_node_full(full.node, full.limit))
        await audit(deps, user, asker, "live_full", reading, latency_ms=elapsed_ms)
        return None
    except LiveClosed:
        await _tell(client, target, live_texts.live_closing())
        await audit(deps, user, asker, "live_closing", reading, latency_ms=elapsed_ms)
        return None

    try:
        posted = await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **blocks.live_message(view)
        )
        ts = str(posted["ts"])
    except asyncio.CancelledError:
        registry.release(view)
        raise
    except Exception as exc:
        registry.release(view)  # never started: it holds no session, only its place
        reason = delivery.describe(exc)
        log.warning("live view of %s: could not post in %s: %s", view.user, channel, reason)
        log.debug("live view of %s: the post's failure", view.user, exc_info=True)
        await _not_posted(deps, client, target, user, asker, reading, exc, reason)
        return None
    view.ref = LiveRef(str(posted.get("channel") or channel), ts, thread_ts or ts)
    try:
        registry.start(
            view,
            deps.readings.router,
            node,
            on_tick=lambda v: _update(client, v),
            on_done=lambda v: _finish(client, v, deps.tz),
        )
    except LiveClosed:  # shut down while the message was being posted: it says it ended
        await _final_update(client, view)
        await _tell(client, target, live_texts.live_closing())
        await audit(deps, user, asker, "live_closing", reading, latency_ms=elapsed_ms)
        return None
    await audit(deps, user, asker, "live", reading, latency_ms=elapsed_ms)
    return view


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
    await _tell(client, target, live_texts.live_no_spare_session())
    reply = await consult(deps, query, asker, exact=exact)
    await delivery.reply(client, target, reply.message, public=reply.public)


async def _not_posted(
    deps: Deps,
    client: AsyncWebClient,
    target: delivery.Target,
    query: str,
    asker: Asker,
    reading: Reading,
    exc: Exception,
    reason: str,
) -> None:
    """The live message could not be posted (the view is already released): say why."""
    if isinstance(exc, SlackApiError) and reason in NOT_A_MEMBER:
        note = live_texts.live_not_in_channel()
    elif isinstance(exc, delivery.SLACK_FAILURES):
        note = live_texts.live_not_posted(reason)  # Slack refused it, or could not be reached
    else:
        log.error("live view of %s: unexpected error posting it", query, exc_info=exc)
        note = error_texts.unexpected(reading.user)
    await _tell(client, target, note)
    await audit(deps, query, asker, f"live_not_posted:{reason}", reading)


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
        await client.chat_postMessage(
            channel=ref.channel, thread_ts=ref.thread_ts, **blocks.live_note_message(text)
        )


# -- notes for the asker ---------------------------------------------------------------------


async def _join(
    client: AsyncWebClient, target: delivery.Target, asker: Asker, view: LiveView
) -> None:
    view.join(asker.user)
    ref: LiveRef | None = view.ref
    link = await _permalink(client, ref) if ref is not None else None
    await _tell(client, target, live_texts.live_busy(view, link, ref.channel if ref else None))


async def _permalink(client: AsyncWebClient, ref: LiveRef) -> str | None:
    if ref.permalink is None:
        try:
            answer = await client.chat_getPermalink(channel=ref.channel, message_ts=ref.ts)
            ref.permalink = answer.get("permalink")
        except SlackClientError:
            log.info("no permalink for %s/%s", ref.channel, ref.ts, exc_info=True)
    return ref.permalink


async def _refuse(
    deps: Deps,
    client: AsyncWebClient,
    target: delivery.Target,
    query: str,
    asker: Asker,
    exc: BeholderError,
    started: float,
) -> None:
    """No subscriber to watch: say why (a router fault in the channel, like a reading)."""
    message = (
        blocks.candidates_message(exc)
        if isinstance(exc, AmbiguousQuery)
        else blocks.error_message(exc)
    )
    await delivery.reply(client, target, message, public=isinstance(exc, RouterError))
    outcome = (
        "ambiguous"
        if isinstance(exc, AmbiguousQuery)
        else "not_found"
        if isinstance(exc, UnknownUser)
        else f"failed:{type(exc).__name__}"
    )
    elapsed_ms = round((time.monotonic() - started) * 1000)
    await audit(deps, query, asker, outcome, error=exc, latency_ms=elapsed_ms)


async def _tell(client: AsyncWebClient, target: delivery.Target, text: str) -> None:
    """A note for the asker only: the response_url first, then chat.postEphemeral;
    a failure is logged (by `delivery`), never raised."""
    await delivery.reply(client, target, blocks.live_note_message(text), public=False)


def _node_of(deps: Deps, reading: Reading) -> Node | None:
    """The inventory's node (host, port) where the reading was taken."""
    for location in deps.readings.inventory.locate(reading.user):
        if location.secret.node == reading.node:
            return location.node
    return None


def _safe(name: str) -> str:
    """A PPPoE name as part of a file name ("" when nothing is left of it)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60]
