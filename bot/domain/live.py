"""A live view: one subscriber's traffic, second by second, and its figures.

`LiveView` is what a running view knows (its samples, who asked, when it ends);
`LiveStats`, `Spread`, `Now` and `queue_drops` are the figures the presentation
shows, computed here so that renderers only format them. Starting, capping and ending views is
`bot.domain.live_registry`; the operator's request, `bot.domain.live_service`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.domain.assess import share
from bot.errors import RouterError
from bot.model import Plan, Sample, Traffic

log = logging.getLogger(__name__)


# -- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Minimum, average, 95th percentile and maximum of one direction, in bps."""

    min: float
    avg: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        ordered = sorted(values)
        if not ordered:
            raise ValueError("no values")
        # Nearest rank: the smallest value with at least 95 % of the samples at or below it.
        rank = math.ceil(0.95 * len(ordered))
        return cls(
            min=ordered[0],
            avg=sum(ordered) / len(ordered),
            p95=ordered[rank - 1],
            max=ordered[-1],
        )


@dataclass(frozen=True)
class LiveStats:
    """What the samples of a live view add up to."""

    download: Spread
    upload: Spread
    samples: int
    #: From the first sample to the last, seconds.
    span_s: float

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> LiveStats | None:
        """None when no sample carried traffic."""
        measured = [s for s in samples if s.traffic is not None]
        if not measured:
            return None
        return cls(
            download=Spread.of([s.traffic.download_bps for s in measured if s.traffic]),
            upload=Spread.of([s.traffic.upload_bps for s in measured if s.traffic]),
            samples=len(measured),
            span_s=measured[-1].offset_s - measured[0].offset_s,
        )


def queue_drops(samples: Sequence[Sample]) -> int:
    """Packets the subscriber's queue dropped during the samples, both directions.

    The queue's ``dropped`` counters count from the start of the session, so
    this is how much they grew from the first sample that read the queue to the
    last: on a steady session, the last's minus the first's. A counter that
    went down was reset (the session came back between two samples, and its
    queue with it): what it shows then was dropped since, and counts as such.
    """
    counters = [
        (s.queue.dropped_download, s.queue.dropped_upload) for s in samples if s.queue is not None
    ]
    dropped = 0
    for before, after in itertools.pairwise(counters):
        for was, now in zip(before, after, strict=True):
            dropped += now - was if now >= was else now
    return dropped


@dataclass(frozen=True)
class Now:
    """A live view's last measured second, with its shares of the plan: worked
    out here, like a reading's (`bot.domain.assess.share`), so the live sentences
    (`bot.present.live`) only format them."""

    download_bps: int
    upload_bps: int
    #: Percent of the plan; None when the plan is unknown.
    download_pct: float | None
    upload_pct: float | None

    @classmethod
    def of(cls, traffic: Traffic, plan: Plan | None) -> Now:
        return cls(
            download_bps=traffic.download_bps,
            upload_bps=traffic.upload_bps,
            download_pct=share(traffic.download_bps, plan, "download"),
            upload_pct=share(traffic.upload_bps, plan, "upload"),
        )


# -- one view -------------------------------------------------------------------------------


@dataclass(eq=False)
class LiveView:
    """One running (or just ended) live view of one subscriber."""

    id: str
    user: str
    node: str
    seconds: int
    plan: Plan | None = None
    started_by: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    samples: list[Sample] = field(default_factory=list)
    #: Who asked for the same subscriber while this view ran (they joined it).
    watchers: list[str] = field(default_factory=list)
    #: "running", then "completed", "stopped", "offline", "failed" or "cancelled".
    outcome: str = "running"
    error: RouterError | None = None
    stopped_by: str | None = None
    #: Whatever the presentation needs to find its message again (Slack: channel, ts).
    ref: Any = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    _started_mono: float = field(default_factory=time.monotonic, repr=False)

    @property
    def running(self) -> bool:
        return self.outcome == "running"

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._started_mono

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.seconds - self.elapsed_s)

    @property
    def last(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    @property
    def stats(self) -> LiveStats | None:
        return LiveStats.of(self.samples)

    @property
    def dropped(self) -> int:
        """Packets the plan's queue dropped during the view (`queue_drops`)."""
        return queue_drops(self.samples)

    @property
    def now(self) -> Now | None:
        """The last sample's figures; None before the first or once the session is gone."""
        last = self.last
        if last is None or last.traffic is None:
            return None
        return Now.of(last.traffic, self.plan)

    def stop(self, by: str | None = None) -> bool:
        """Ask the view to end after the sample in progress; False if already ending."""
        if not self.running or self.stop_event.is_set():
            return False
        self.stopped_by = by
        self.stop_event.set()
        return True

    def join(self, who: str | None) -> None:
        """Someone else asked for this subscriber: they get this view's results."""
        if who and who != self.started_by and who not in self.watchers:
            self.watchers.append(who)
