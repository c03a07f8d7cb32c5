"""Live views against the simulator (real TCP, librouteros) and the fake Slack.

What the router sees is counted on the simulator: one ``monitor-traffic … once``
a second, one API session per view, none left open after it ends, however it
ends. Through the fake Slack: the message posted, updated, and the PNG chart
uploaded into its thread. Views here last 3 s (or are stopped early).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from collections.abc import Iterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pytest
from PIL import Image

from bot.config import Settings
from bot.domain.diagnose import DiagnosisService
from bot.domain.live import LiveStats, LiveView, Spread, queue_drops
from bot.domain.live_registry import LiveBusy, LiveClosed, LiveFull, LiveNodeFull, LiveRegistry
from bot.domain.readings import ReadingService
from bot.errors import RouterProtocolError, RouterTimeout
from bot.model import Asker, QueueState, Sample, Traffic
from bot.serve.socket_mode import serve
from bot.slack.app import build_app
from bot.slack.ids import ACTION_LIVE, ACTION_LIVE_STOP
from bot.slack.listeners import live as slack_live
from bot.slack.replies import Deps
from tests.conftest import LoopThread, slack_settings
from tests.support.bolt_runner import BoltRunner
from tests.support.fake_slack import FakeSlack

NODE = "bras-norte"
MBPS = 1_000_000


def vary(world, user: str = "juan.perez", load: float = 0.8) -> None:
    """Generated traffic (it moves every second) instead of the fixture's fixed figures."""

    def change(sim):
        subscriber = sim.config.subscriber(user)
        subscriber.fixed_traffic = None
        subscriber.load = load

    world.network.call(NODE, change)


def monitors(world, user: str = "juan.perez") -> list[tuple[str, ...]]:
    """The monitor-traffic commands the router received for `user`."""
    return [
        c
        for c in world.network.counters(NODE).commands
        if c[0] == "/interface/monitor-traffic" and f"=interface=<pppoe-{user}>" in c
    ]


async def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


class Recorder:
    """on_tick / on_done callbacks that remember what they saw."""

    def __init__(self, world=None) -> None:
        self.world = world
        self.ticks: list[tuple[int, int | None]] = []
        self.done: list[LiveView] = []
        self.cancelled = False

    async def on_tick(self, view: LiveView) -> None:
        sessions = self.world.network.counters(NODE).active_sessions if self.world else None
        self.ticks.append((len(view.samples), sessions))

    async def on_done(self, view: LiveView) -> None:
        self.done.append(view)


# -- the router client's watch -------------------------------------------------------------


def test_watch_takes_one_once_sample_a_second_on_one_session(sim_world):
    vary(sim_world)
    client = sim_world.client()
    seen_by_router_after_two: list[int] = []

    async def take() -> list[Sample]:
        samples = []
        async with aclosing(client.watch(sim_world.nodes[NODE], "juan.perez", 4)) as watch:
            async for sample in watch:
                samples.append(sample)
                if len(samples) == 2:
                    seen_by_router_after_two.append(len(monitors(sim_world)))
        return samples

    samples = asyncio.run(take())
    assert len(samples) == 4
    sent = monitors(sim_world)
    assert len(sent) == 4
    assert all("=once=" in command for command in sent)
    assert seen_by_router_after_two == [2]  # asked one by one, not in a burst
    gaps = [b.offset_s - a.offset_s for a, b in itertools.pairwise(samples)]
    assert all(0.8 < gap < 1.5 for gap in gaps), gaps
    assert len({s.traffic.download_bps for s in samples}) > 1
    counters = sim_world.network.counters(NODE)
    assert counters.total_connections == 1
    sim_world.quiet()


def test_watch_closes_its_session_when_left_early_or_stopped(sim_world):
    client = sim_world.client()
    node = sim_world.nodes[NODE]

    async def leave_after_two() -> int:
        taken = 0
        async with aclosing(client.watch(node, "juan.perez", 30)) as watch:
            async for _ in watch:
                taken += 1
                if taken == 2:
                    break
        return taken

    async def stop_after_one() -> list[Sample]:
        stop = asyncio.Event()
        samples = []
        async with aclosing(client.watch(node, "juan.perez", 30, stop)) as watch:
            async for sample in watch:
                samples.append(sample)
                stop.set()  # wakes the wait for the next second at once
        return samples

    started = time.monotonic()
    assert asyncio.run(leave_after_two()) == 2
    sim_world.quiet()
    assert len(asyncio.run(stop_after_one())) == 1
    assert time.monotonic() - started < 2.5
    sim_world.quiet()
    assert len(monitors(sim_world)) == 3


# -- the domain: a running view ---------------------------------------------------------------


def test_live_view_ticks_then_reports_and_holds_one_session(sim_world):
    """Every tick sees one session open (the view's); a reading meanwhile, on a router
    limited to one session, waits for it and times out: the view counts toward the limit."""
    vary(sim_world)
    client = sim_world.client(max_sessions=1, timeout=0.8)
    registry = LiveRegistry(max_seconds=10, min_tick_s=0.5, updates_per_minute=600)
    recorder = Recorder(sim_world)
    blocked: list[BaseException] = []

    async def on_tick(view: LiveView) -> None:
        await recorder.on_tick(view)
        if not blocked:
            try:
                await client.snapshot(sim_world.nodes[NODE], "20513")
            except RouterTimeout as exc:
                blocked.append(exc)

    async def main() -> LiveView:
        view = registry.claim("juan.perez", NODE, 3, plan=None, started_by="U0001")
        await registry.start(view, client, sim_world.nodes[NODE], on_tick, recorder.on_done)
        return view

    view = asyncio.run(main())
    assert view.outcome == "completed"
    assert recorder.done == [view]
    assert len(view.samples) == 3
    assert len(monitors(sim_world)) == 3
    assert recorder.ticks, "no update while running"
    assert all(sessions == 1 for _, sessions in recorder.ticks)
    assert blocked
    assert isinstance(blocked[0], RouterTimeout)
    assert registry.get("juan.perez") is None
    stats = view.stats
    assert stats is not None
    assert stats.samples == 3
    assert stats.download.min <= stats.download.avg <= stats.download.p95 <= stats.download.max
    sim_world.quiet()


def run_view(world, registry: LiveRegistry, seconds: float, during) -> tuple[LiveView, Recorder]:
    """Run a view of juan.perez; `during(view)` runs alongside it (to stop, break, cancel).
    ``recorder.cancelled``: the view's task ended cancelled."""
    recorder = Recorder()
    client = world.client()

    async def main() -> LiveView:
        view = registry.claim("juan.perez", NODE, seconds)
        task = registry.start(view, client, world.nodes[NODE], recorder.on_tick, recorder.on_done)
        await during(view)
        await asyncio.gather(task, return_exceptions=True)
        recorder.cancelled = task.cancelled()
        return view

    return asyncio.run(main()), recorder


def test_stopping_ends_the_view_early_and_closes_the_session(sim_world):
    registry = LiveRegistry(max_seconds=30)

    async def stop_after_two(view: LiveView) -> None:
        await wait_until(lambda: len(view.samples) >= 2)
        assert view.stop("U0002")
        assert not view.stop("U0003")  # once is enough

    started = time.monotonic()
    view, recorder = run_view(sim_world, registry, 30, stop_after_two)
    assert time.monotonic() - started < 3.5
    assert view.outcome == "stopped"
    assert view.stopped_by == "U0002"
    assert recorder.done == [view]
    assert len(monitors(sim_world)) == len(view.samples) == 2
    assert registry.running() == []
    sim_world.quiet()


def test_subscriber_disconnecting_ends_the_view(sim_world):
    registry = LiveRegistry(max_seconds=30, sample_every=0.25)

    async def disconnect(view: LiveView) -> None:
        await wait_until(lambda: len(view.samples) >= 2)

        def hang_up(sim):
            sim.config.subscriber("juan.perez").online = False

        sim_world.network.call(NODE, hang_up)

    view, _ = run_view(sim_world, registry, 30, disconnect)
    assert view.outcome == "offline"
    assert view.samples[-1].traffic is None
    assert view.stats is not None  # the seconds before the hang-up still count
    sim_world.quiet()


def test_router_failing_mid_view_is_reported_and_the_session_closed(sim_world):
    registry = LiveRegistry(max_seconds=30, sample_every=0.25)

    async def break_router(view: LiveView) -> None:
        await wait_until(lambda: len(view.samples) >= 2)
        sim_world.network.set_fault(NODE, "fatal")

    view, recorder = run_view(sim_world, registry, 30, break_router)
    assert view.outcome == "failed"
    assert isinstance(view.error, RouterProtocolError)
    assert recorder.done == [view]
    assert registry.get("juan.perez") is None
    sim_world.network.set_fault(NODE, None)
    sim_world.quiet()


def test_cancelled_view_still_reports_and_closes_the_session(sim_world):
    """Cancelled while sampling: the session closes, `on_done` reports, and the
    cancellation goes on (the task ends cancelled)."""
    registry = LiveRegistry(max_seconds=30, sample_every=0.25)

    async def cancel(view: LiveView) -> None:
        await wait_until(lambda: len(view.samples) >= 2)
        assert sim_world.network.counters(NODE).active_sessions == 1
        assert view.task is not None
        view.task.cancel()

    view, recorder = run_view(sim_world, registry, 30, cancel)
    assert recorder.cancelled
    assert view.outcome == "cancelled"
    assert recorder.done == [view]
    assert registry.running() == []
    sim_world.quiet()


def test_cancelled_while_its_last_update_lands_the_view_ends_cancelled(sim_world):
    """Regression: `live._finish` swallowed the CancelledError of a view cancelled while
    its last update was still landing (Slack slow to answer chat.update): the task ended
    as if it had not been cancelled. Now it ends cancelled, with `on_done` called once."""
    registry = LiveRegistry(
        max_seconds=30, min_tick_s=0.05, updates_per_minute=6000, sample_every=0.25
    )
    recorder = Recorder()

    async def main() -> tuple[LiveView, asyncio.Task[None]]:
        landing = asyncio.Event()

        async def update_never_answered(view: LiveView) -> None:
            landing.set()
            await asyncio.Event().wait()

        view = registry.claim("juan.perez", NODE, 30)
        task = registry.start(
            view, sim_world.client(), sim_world.nodes[NODE], update_never_answered, recorder.on_done
        )
        await asyncio.wait_for(landing.wait(), 5)
        view.stop("U0001")
        # Released once sampling is over: from then on it waits for the update to land.
        await wait_until(lambda: registry.get("juan.perez") is None)
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return view, task

    view, task = asyncio.run(main())
    assert task.cancelled()
    assert view.outcome == "stopped"  # what the sampling came to; only the report was cut
    assert recorder.done == [view]
    assert registry.running() == []
    sim_world.quiet()


def test_a_claimed_view_not_yet_started_is_released_by_shutdown_and_never_runs(sim_world):
    """Regression: `shutdown` skipped a claimed view without a task, and `start` did
    not check for shutdown: the view ran after `shutdown` returned. Now `shutdown`
    releases it and `start` refuses it (`LiveClosed`), opening no session."""
    registry = LiveRegistry(max_seconds=30)
    recorder = Recorder()

    async def main() -> LiveView:
        view = registry.claim("juan.perez", NODE, 30)
        await registry.shutdown()
        assert registry.running() == []
        with pytest.raises(LiveClosed):
            registry.start(
                view, sim_world.client(), sim_world.nodes[NODE], recorder.on_tick, recorder.on_done
            )
        return view

    view = asyncio.run(main())
    assert (view.task, view.outcome) == (None, "cancelled")
    assert registry.running() == []
    assert monitors(sim_world) == []


def test_shutdown_ends_every_view_closes_their_sessions_and_refuses_new_ones(sim_world):
    """`LiveRegistry.shutdown` (what `serve` runs on its way out): every running view is
    cancelled, reports, and has closed its API session by the time it returns."""
    registry = LiveRegistry(max_seconds=30, sample_every=0.25)
    recorder = Recorder()
    watched = {"juan.perez": "bras-norte", "ana.martinez": "bras-sur"}

    async def main() -> list[asyncio.Task[None]]:
        client = sim_world.client()
        views = [registry.claim(user, node, 30) for user, node in watched.items()]
        tasks = [
            registry.start(v, client, sim_world.nodes[v.node], recorder.on_tick, recorder.on_done)
            for v in views
        ]
        await wait_until(lambda: all(len(v.samples) >= 2 for v in views))
        assert [sim_world.network.counters(n).active_sessions for n in watched.values()] == [1, 1]
        await registry.shutdown()
        assert all(task.done() for task in tasks)
        with pytest.raises(LiveClosed):
            registry.claim("20513", NODE, 30)
        return tasks

    tasks = asyncio.run(main())
    assert all(task.cancelled() for task in tasks)
    assert sorted(v.user for v in recorder.done) == sorted(watched)
    assert {v.outcome for v in recorder.done} == {"cancelled"}
    assert registry.running() == []
    sim_world.quiet()


# -- the registry and the figures (pure) ------------------------------------------------------


def test_one_view_per_subscriber_a_global_cap_and_a_cap_per_router():
    registry = LiveRegistry(max_views=3, max_seconds=120, per_node=2)
    first = registry.claim("juan.perez", "bras-norte", 30)
    with pytest.raises(LiveBusy) as busy:
        registry.claim("juan.perez", "bras-norte", 30)
    assert busy.value.view is first
    registry.claim("20513", "bras-norte", 30)
    with pytest.raises(LiveNodeFull):
        registry.claim("cliente01", "bras-norte", 30)
    registry.claim("ana.martinez", "bras-sur", 30)
    with pytest.raises(LiveFull) as full:
        registry.claim("sofia.acuna", "bras-sur", 30)
    assert full.value.limit == 3
    registry.release(first)
    assert registry.claim("sofia.acuna", "bras-sur", 30).user == "sofia.acuna"
    assert registry.find(first.id) is None


def test_durations_update_pace_and_settings():
    registry = LiveRegistry(max_seconds=120)
    assert (registry.clamp(30), registry.clamp(500), registry.clamp(0)) == (30, 120, 3)
    assert registry.tick_interval() == 5.0
    for user in ("a", "b", "c", "d", "e"):
        registry.claim(user, user, 30)
    # Five views updating together stay within 40 chat.update a minute.
    assert 5 * 60 / registry.tick_interval() <= 40
    settings = Settings.from_env({"BEHOLDER_LIVE_MAX": "60", "BEHOLDER_LIVE_VIEWS": "2"})
    configured = LiveRegistry.from_settings(settings)
    assert (configured.max_seconds, configured.max_views, configured.per_node) == (60, 2, 3)
    defaults = Settings.from_env({})
    assert (defaults.live_max, defaults.live_views) == (120, 5)


def test_stats_min_average_p95_max():
    spread = Spread.of([float(v) for v in range(1, 21)])  # 1..20
    assert (spread.min, spread.avg, spread.p95, spread.max) == (1, 10.5, 19, 20)
    samples = [Sample(float(i), None, Traffic(i * MBPS, MBPS)) for i in range(1, 5)]  # type: ignore[arg-type]
    samples.append(Sample(5.0, None, None))  # type: ignore[arg-type]
    stats = LiveStats.of(samples)
    assert stats is not None
    assert (stats.samples, stats.span_s, stats.download.max, stats.upload.avg) == (4, 3.0, 4e6, 1e6)
    assert LiveStats.of([]) is None


def queued(offset: float, download: int, upload: int = 0) -> Sample:
    """A sample whose queue has dropped `download` / `upload` packets so far this session."""
    queue = QueueState(plan=None, dropped_download=download, dropped_upload=upload)
    return Sample(offset, None, Traffic(MBPS, MBPS), queue)  # type: ignore[arg-type]


def test_the_view_counts_what_the_queue_dropped_during_it():
    """The queue's counters run from the session's start: the view counts how much
    they grew between its first and last sample, in both directions, not the
    session's total; a last sample without a queue (the session gone) adds nothing."""
    view = LiveView("v1", "juan.perez", NODE, 30)
    assert view.dropped == 0  # no sample yet
    view.samples += [queued(0.0, 1_000, 50), queued(1.0, 1_040, 50), queued(2.0, 1_100, 53)]
    assert view.dropped == 100 + 3
    view.samples.append(Sample(3.0, None, None))  # type: ignore[arg-type]
    assert view.dropped == 103
    assert queue_drops([queued(0.0, 9_999, 9_999)]) == 0  # one reading: nothing seen dropped
    assert queue_drops([Sample(0.0, None, Traffic(MBPS, MBPS))] * 3) == 0  # type: ignore[arg-type]


def test_a_queue_counter_that_went_down_was_reset_and_counts_from_zero():
    """The session came back between two samples, its queue with it: the counter
    starts over, so what it shows then was dropped since (not a negative count)."""
    samples = [queued(0.0, 5_000), queued(1.0, 5_200), queued(2.0, 30), queued(3.0, 70)]
    assert queue_drops(samples) == 200 + 30 + 40


# -- through Slack ------------------------------------------------------------------------------


@dataclass
class LiveBot:
    runner: BoltRunner
    deps: Deps
    registry: LiveRegistry


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


@pytest.fixture
def registry_options() -> dict[str, object]:
    return {"max_seconds": 3}


@pytest.fixture
def live_bot(fake, sim_world, registry_options) -> Iterator[LiveBot]:
    """The real app (`build_app`) on the test's live registry."""
    vary(sim_world)
    settings = Settings(
        slack_bot_token=fake.bot_token, slack_app_token=fake.app_token, slack_api_url=fake.api_url
    )
    readings = ReadingService(sim_world.inventory, sim_world.client())
    registry = LiveRegistry(min_tick_s=1.0, **registry_options)  # type: ignore[arg-type]
    deps = Deps(
        readings=readings, tz=UTC, live_views=registry, diagnoses=DiagnosisService(readings)
    )

    def factory():
        return build_app(settings, readings, registry)

    with BoltRunner(factory, fake) as runner:
        yield LiveBot(runner, deps, registry)


def png_of(upload) -> Image.Image:
    image = Image.open(io.BytesIO(upload.data))
    assert image.format == "PNG"
    return image


def test_button_posts_updates_and_uploads_the_chart_in_its_thread(fake, live_bot, sim_world):
    eid = fake.send_block_action(ACTION_LIVE, "juan.perez")
    fake.wait_for_ack(eid)
    [post] = fake.wait_for_calls("chat.postMessage")
    assert post.ok
    assert post.params["channel"] == "C0001"
    assert "Detener" in repr(post.params["blocks"])
    ts = post.response["ts"]

    # Someone else asks for the same subscriber meanwhile: they join, no second sampler.
    other = fake.send_block_action(ACTION_LIVE, "juan.perez", user_id="U0002")
    [note] = fake.wait_for_responses(key=other)
    assert note.body["response_type"] == "ephemeral"
    assert "Ya hay una vista en vivo de `juan.perez`" in note.body["text"]

    [done] = fake.wait_for_calls("files.completeUploadExternal", timeout=8)
    assert done.ok
    [upload] = fake.files
    assert upload.completed
    assert (upload.channel_id, upload.thread_ts) == ("C0001", ts)
    assert upload.filename.startswith("consumo-juan.perez-")
    assert upload.filename.endswith(".png")
    assert png_of(upload).size == (1200, 720)
    assert "juan.perez" in upload.alt_txt
    assert "Bajada" in upload.alt_txt
    comment = upload.initial_comment
    for expected in ("*Bajada*: mín", "p95", "máx", "<@U0001>", "<@U0002>", "Terminó: 3 muestras"):
        assert expected in comment, comment

    updates = [c for c in fake.calls("chat.update") if c.params["ts"] == ts]
    assert len(updates) >= 2  # at least one running update, then the final one
    final = updates[-1].params
    assert "Detener" not in repr(final["blocks"])
    assert "En vivo 30 s" in repr(final["blocks"])
    assert "3 muestras en vivo" in final["text"]
    assert fake.message("C0001", ts)["text"] == final["text"]

    counters = sim_world.network.counters(NODE)
    assert counters.total_connections == 2  # the first reading + the one live session
    assert len(monitors(sim_world)) == 1 + 3  # the reading's own sample, then one a second
    sim_world.quiet()
    assert live_bot.registry.running() == []


@pytest.mark.parametrize("registry_options", [{"max_seconds": 20}])
def test_detener_from_a_thread_stops_it_and_closes_the_session(fake, live_bot, sim_world):
    """`answer` as the command or a mention calls it: in a thread, then Detener."""
    asker = Asker("U0001", "C0001", "command")
    view = live_bot.runner.run(
        slack_live.answer(
            live_bot.deps,
            live_bot.runner.app.client,
            "C0001",
            "1700000000.000100",
            "juan",  # what the operator typed: resolved like /consumo does
            20,
            asker,
        )
    )
    assert view is not None
    assert (view.user, view.seconds) == ("juan.perez", 20)
    [post] = fake.wait_for_calls("chat.postMessage")
    assert post.params["thread_ts"] == "1700000000.000100"
    ts = post.response["ts"]
    deadline = time.monotonic() + 5
    while len(monitors(sim_world)) < 1 + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    eid = fake.send_block_action(ACTION_LIVE_STOP, view.id, message_ts=ts, user_id="U0003")
    fake.wait_for_ack(eid)
    fake.wait_for_calls("files.completeUploadExternal", timeout=5)
    [upload] = fake.files
    assert upload.thread_ts == "1700000000.000100"  # the chart stays in the escalation thread
    assert "Detenida por <@U0003>" in upload.initial_comment
    assert 2 <= len(monitors(sim_world)) - 1 <= 3
    sim_world.quiet()

    # The same button again, once it ended: only the clicker is told.
    again = fake.send_block_action(ACTION_LIVE_STOP, view.id, message_ts=ts)
    [note] = fake.wait_for_responses(key=again)
    assert note.body["text"] == "Esa vista en vivo ya terminó."


@pytest.mark.parametrize("registry_options", [{"max_seconds": 20, "max_views": 1}])
def test_over_the_global_cap_the_operator_is_told(fake, live_bot, sim_world):
    first = fake.send_block_action(ACTION_LIVE, "juan.perez")
    fake.wait_for_ack(first)
    fake.wait_for_calls("chat.postMessage")
    second = fake.send_block_action(ACTION_LIVE, "20513")
    [note] = fake.wait_for_responses(key=second)
    assert note.body["response_type"] == "ephemeral"
    assert "Ya hay 1 vista en vivo en curso, el máximo a la vez" in note.body["text"]
    assert monitors(sim_world, "20513") == []
    [view] = live_bot.registry.running()
    deadline = time.monotonic() + 5
    while not view.samples and time.monotonic() < deadline:
        time.sleep(0.02)  # stopped before its first sample, a view has no chart to post
    view.stop("U0001")
    fake.wait_for_calls("files.completeUploadExternal", timeout=5)
    sim_world.quiet()


def test_not_in_the_channel_asks_to_invite_the_bot(fake, live_bot, sim_world):
    fake.fail_next(
        "chat.postMessage", status=200, headers={}, body={"ok": False, "error": "not_in_channel"}
    )
    eid = fake.send_block_action(ACTION_LIVE, "juan.perez", channel_id="C0999")
    [note] = fake.wait_for_responses(key=eid)
    assert note.body["response_type"] == "ephemeral"
    assert "/invite @Beholder" in note.body["text"]
    assert live_bot.registry.running() == []
    assert len(monitors(sim_world)) == 1  # the reading that found the node; no sampling
    sim_world.quiet()


def test_post_dropped_by_slack_releases_the_view_and_tells_the_asker(fake, live_bot, sim_world):
    """Regression: when chat.postMessage failed with something other than a Slack error
    (the connection dropped: aiohttp's ServerDisconnectedError), the claimed view was never
    released, so the subscriber stayed "busy" until Beholder restarted."""
    fake.drop_next("chat.postMessage", times=2)  # slack_sdk retries a dropped call once
    eid = fake.send_block_action(ACTION_LIVE, "juan.perez")
    [note] = fake.wait_for_responses(key=eid)
    assert note.body["response_type"] == "ephemeral"
    assert "No pude publicar la vista en vivo" in note.body["text"]
    assert "ServerDisconnectedError" in note.body["text"]
    assert live_bot.registry.running() == []

    again = fake.send_block_action(ACTION_LIVE, "juan.perez")
    fake.wait_for_ack(again)
    posts = fake.wait_for_calls("chat.postMessage", count=3)
    assert posts[-1].ok
    assert "Detener" in repr(posts[-1].params["blocks"])
    assert fake.responses(again) == []  # it started: nothing to tell the asker
    [view] = live_bot.registry.running()
    assert view.stop("U0001")
    fake.wait_for_calls("chat.update", predicate=lambda c: "Detener" not in repr(c.params))
    sim_world.quiet()


def test_command_in_a_channel_without_the_bot_answers_through_its_response_url(
    fake, live_bot, sim_world
):
    """Regression: `/consumo USER 30s` in a channel the bot is not in told the asker
    through chat.postEphemeral, which fails there too, so "Consultando…" was never
    followed by anything. The note goes to the command's response_url."""
    fake.fail_next(
        "chat.postMessage", status=200, headers={}, body={"ok": False, "error": "not_in_channel"}
    )
    eid = fake.send_slash_command("juan.perez 30s", channel_id="C0999")
    assert fake.wait_for_ack(eid).payload["text"].startswith("Consultando")
    [note] = fake.wait_for_responses(key=eid)
    assert note.body["response_type"] == "ephemeral"
    assert "/invite @Beholder" in note.body["text"]
    assert fake.calls("chat.postEphemeral") == []
    assert live_bot.registry.running() == []
    sim_world.quiet()


def test_mention_has_no_response_url_so_its_notes_go_ephemeral_in_the_thread(
    fake, live_bot, sim_world
):
    """A mention carries no response_url: the note (an offline subscriber) reaches the
    asker as chat.postEphemeral in the mention's thread, and no view starts."""
    fake.send_app_mention("carlos.lopez 30s", thread_ts="1700000000.000100")
    [note] = fake.wait_for_calls("chat.postEphemeral")
    assert (note.params["user"], note.params["thread_ts"]) == ("U0001", "1700000000.000100")
    assert "no tiene una sesión PPPoE activa" in note.params["text"]
    assert fake.calls("chat.postMessage") == []
    assert live_bot.registry.running() == []
    sim_world.quiet()


def test_after_shutdown_no_view_starts_and_the_asker_is_told(fake, live_bot, sim_world):
    """A request still being answered when Beholder shuts down starts no view (it would
    outlive the shutdown): the asker is told to try again in a minute."""
    live_bot.runner.run(live_bot.registry.shutdown())
    eid = fake.send_block_action(ACTION_LIVE, "juan.perez")
    [note] = fake.wait_for_responses(key=eid)
    assert note.body["response_type"] == "ephemeral"
    assert "Beholder se está deteniendo" in note.body["text"]
    assert fake.calls("chat.postMessage") == []
    assert len(monitors(sim_world)) == 1  # the reading; no sampling
    sim_world.quiet()


def test_the_chart_is_posted_even_when_slack_drops_the_final_update(fake, live_bot, sim_world):
    """Regression: `_finish` caught only Slack's own errors on the final update, so a
    dropped connection (aiohttp) there skipped the chart. Every update is dropped here:
    the chart still reaches the thread."""
    fake.drop_next("chat.update", times=100)
    fake.send_block_action(ACTION_LIVE, "juan.perez")
    [post] = fake.wait_for_calls("chat.postMessage")
    [done] = fake.wait_for_calls("files.completeUploadExternal", timeout=10)
    assert done.ok
    [upload] = fake.files
    assert (upload.channel_id, upload.thread_ts) == ("C0001", post.response["ts"])
    assert fake.calls("chat.update")
    assert all(call.response is None for call in fake.calls("chat.update"))
    sim_world.quiet()


def test_a_view_being_posted_at_shutdown_is_released_and_never_starts(fake, live_bot, sim_world):
    """Regression: `shutdown` skipped a claimed view whose message was still being
    posted (no task yet) and `start` did not check for shutdown, so that view started
    sampling after `shutdown` had returned. Now `shutdown` releases it, no sampling
    starts, its message shows it ended and the asker is told why."""
    fake.fail_next("chat.postMessage", status=429, headers={"Retry-After": "3"})
    eid = fake.send_block_action(ACTION_LIVE, "juan.perez")
    fake.wait_for_calls("chat.postMessage")  # claimed; the post waits out the 429
    live_bot.runner.run(live_bot.registry.shutdown())
    assert live_bot.registry.running() == []
    [note] = fake.wait_for_responses(key=eid, timeout=10)
    assert "Beholder se está deteniendo" in note.body["text"]
    [update] = fake.wait_for_calls("chat.update")
    assert "Detener" not in repr(update.params["blocks"])
    assert live_bot.registry.running() == []
    assert len(monitors(sim_world)) == 1  # the reading; no sampling
    sim_world.quiet()


def test_one_session_per_router_gives_a_one_shot_reading_instead_of_a_view(
    fake, start_bot, sim_world
):
    """Regression: with MIKROTIK_MAX_SESSIONS=1 a live view took the router's only API
    session for its whole length, so every other question to that router timed out.
    Now no view starts: the asker is told why, and the channel gets one reading."""
    settings = Settings.from_env({"MIKROTIK_MAX_SESSIONS": "1"})
    assert not LiveRegistry.from_settings(settings).enabled
    start_bot(mikrotik_max_sessions=1, client_options={"max_sessions": 1})
    eid = fake.send_slash_command("juan.perez 30s")
    note, reading = fake.wait_for_responses(key=eid, count=2)
    assert note.body["response_type"] == "ephemeral"
    assert "`MIKROTIK_MAX_SESSIONS=1`" in note.body["text"]
    assert reading.body["response_type"] == "in_channel"
    assert reading.body["text"].startswith("juan.perez en bras-norte: Bajada 45,2 Mbps")
    assert fake.calls("chat.postMessage") == []
    counters = sim_world.network.counters(NODE)
    assert counters.total_connections == 1
    assert len(monitors(sim_world)) == 1
    sim_world.quiet()


# -- serve's way out ------------------------------------------------------------------------


async def look_on_exit(serving, world, fake: FakeSlack, seen: dict[str, Any]) -> None:
    """Run `serving` until cancelled, then note what its views left behind at that moment:
    the API sessions still open on the router (given a moment to notice the close) and the
    texts of the chat.update calls."""
    try:
        await serving
    finally:
        for _ in range(100):
            if world.network.counters(NODE).active_sessions == 0:
                break
            await asyncio.sleep(0.02)  # a view still running keeps its session meanwhile
        seen["sessions"] = world.network.counters(NODE).active_sessions
        seen["updates"] = [c.params.get("text", "") for c in fake.calls("chat.update")]


def test_serve_ends_running_live_views_on_its_way_out(fake, sim_world, tmp_path):
    """Regression: nothing called `LiveRegistry.shutdown` when `serve` (Socket Mode)
    stopped, so it returned with live views still running: their API sessions open
    and their messages still offering "Detener". Now, by the time `serve` returns, each
    view has closed its session and its message says Beholder stopped."""
    settings = slack_settings(fake, db_path=tmp_path / "beholder.db")
    seen: dict[str, Any] = {}
    thread = LoopThread(look_on_exit(serve(settings, sim_world.client()), sim_world, fake, seen))
    thread.start()
    try:
        fake.wait_for_connection(timeout=10)
        fake.send_slash_command("juan.perez 30s")
        [post] = fake.wait_for_calls("chat.postMessage", timeout=10)
        assert "Detener" in repr(post.params["blocks"])
        deadline = time.monotonic() + 5
        while len(monitors(sim_world)) < 1 + 1 and time.monotonic() < deadline:
            time.sleep(0.02)  # the reading's sample, then the view's first
    finally:
        thread.stop()
    assert seen["sessions"] == 0
    assert any("Interrumpida" in text for text in seen["updates"]), seen["updates"]
