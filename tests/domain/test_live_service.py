"""Starting a live view without Slack: `start_live` against the simulator (real TCP).

The display is a plain recorder: what the domain asks of a presentation (show,
update, finish) and nothing else. What became of each request is a value.
"""

from __future__ import annotations

import asyncio

from bot.domain.live import LiveView
from bot.domain.live_registry import LiveRegistry
from bot.domain.live_service import LiveOutcome, LiveStart, start_live
from bot.domain.readings import ReadingService
from bot.errors import UnknownUser

NODE = "bras-norte"


class Display:
    """Records what it was asked to show; `fail` makes `show` raise."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.shown: list[LiveView] = []
        self.finished: list[LiveView] = []

    async def show(self, view: LiveView) -> None:
        if self.fail is not None:
            raise self.fail
        self.shown.append(view)

    async def update(self, view: LiveView) -> None:
        pass

    async def finish(self, view: LiveView) -> None:
        self.finished.append(view)


def monitors(world) -> int:
    counters = world.network.counters(NODE)
    return sum(1 for c in counters.commands if c[0] == "/interface/monitor-traffic")


def test_a_view_starts_on_any_display_and_a_second_asker_joins_it(sim_world):
    """The operator's text is resolved like `/consumo` ("juan" → juan.perez), the view
    is shown before it samples, and a second request for that subscriber joins it: the
    same view, no second one claimed. Stopped, it is finished on the same display."""
    readings = ReadingService(sim_world.inventory, sim_world.client())
    registry = LiveRegistry(max_seconds=30)
    display = Display()

    async def main() -> tuple[LiveStart, LiveStart]:
        first = await start_live(readings, registry, "juan", 30, display, asker="U0001")
        assert first.view is not None
        joined = await start_live(
            readings, registry, "juan.perez", 30, Display(), asker="U0002", exact=True
        )
        first.view.stop("U0001")
        assert first.view.task is not None
        await first.view.task
        return first, joined

    first, joined = asyncio.run(main())
    assert first.outcome is LiveOutcome.STARTED
    view = first.view
    assert view is not None
    assert (view.user, view.node, view.seconds, view.started_by) == (
        "juan.perez",
        NODE,
        30,
        "U0001",
    )
    assert first.reading is not None
    assert first.reading.user == "juan.perez"
    assert joined.outcome is LiveOutcome.BUSY
    assert joined.view is view
    assert view.watchers == ["U0002"]
    assert display.shown == [view]
    assert display.finished == [view]
    assert view.outcome == "stopped"
    assert registry.running() == []
    sim_world.quiet()


def test_a_view_that_cannot_be_shown_is_released_and_never_samples(sim_world):
    """The display failing (Slack refusing the message) gives the failure back as a
    value: the view's place is free again and the router got no monitor-traffic
    besides the reading's own."""
    readings = ReadingService(sim_world.inventory, sim_world.client())
    registry = LiveRegistry(max_seconds=30)
    failure = RuntimeError("not shown")

    started = asyncio.run(
        start_live(readings, registry, "juan.perez", 30, Display(failure), exact=True)
    )
    assert started.outcome is LiveOutcome.NOT_SHOWN
    assert started.error is failure
    assert registry.running() == []
    assert monitors(sim_world) == 1  # the reading's sample; no sampling
    sim_world.quiet()


def test_refusals_come_back_as_values(sim_world):
    """No spare session and a full registry refuse before any router is asked; an
    offline subscriber, an unknown name and a shut-down registry say so, no view shown."""
    readings = ReadingService(sim_world.inventory, sim_world.client())
    display = Display()

    async def ask(registry: LiveRegistry, query: str) -> LiveStart:
        return await start_live(readings, registry, query, 30, display, asker="U0001")

    no_spare = asyncio.run(ask(LiveRegistry(per_node=0), "juan.perez"))
    assert no_spare.outcome is LiveOutcome.NO_SPARE_SESSION
    full_registry = LiveRegistry(max_views=1)
    full_registry.claim("ana.martinez", "bras-sur", 30)
    full = asyncio.run(ask(full_registry, "juan.perez"))
    assert (full.outcome, full.limit) == (LiveOutcome.FULL, 1)
    assert sim_world.network.counters(NODE).total_connections == 0

    offline = asyncio.run(ask(LiveRegistry(), "carlos.lopez"))
    assert offline.outcome is LiveOutcome.OFFLINE
    assert offline.reading is not None
    assert offline.reading.user == "carlos.lopez"
    unknown = asyncio.run(ask(LiveRegistry(), "nadie.existe"))
    assert unknown.outcome is LiveOutcome.NOT_READ
    assert isinstance(unknown.error, UnknownUser)
    closed_registry = LiveRegistry()
    asyncio.run(closed_registry.shutdown())
    closed = asyncio.run(ask(closed_registry, "juan.perez"))
    assert closed.outcome is LiveOutcome.CLOSED
    assert display.shown == []
    sim_world.quiet()
