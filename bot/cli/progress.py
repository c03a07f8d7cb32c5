"""Progress of ``beholder sync`` on stderr: a bar on a terminal, plain lines otherwise.

On a terminal one line is redrawn in place with ``\\r`` (nodes done/total, rows,
elapsed), and a ticker keeps the clock moving while a slow node holds everything
up. Anywhere else (cron, a pipe, a log file) each node gets one plain line as it
finishes, which reads well in a log and never fills it with carriage returns.
"""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import suppress
from datetime import UTC, datetime, tzinfo
from typing import TextIO

from bot.domain.sync import NodeSync
from bot.present.terminal import terminal

BAR_WIDTH = 24
#: Seconds between redraws when nothing finished (the clock still moves).
TICK_S = 0.2


class SyncProgress:
    """Receives each node's result (`update`) and shows it on `stream`."""

    def __init__(
        self, stream: TextIO, total: int, zone: tzinfo = UTC, tty: bool | None = None
    ) -> None:
        self.stream = stream
        self.total = total
        self.zone = zone
        self.tty = stream.isatty() if tty is None else tty
        self.done = 0
        self.failed = 0
        self.rows = 0
        self.started = time.monotonic()
        self._width = 0
        self._ticker: asyncio.Task[None] | None = None

    # -- lifecycle (the ticker runs on the sync's event loop) --

    async def __aenter__(self) -> SyncProgress:
        if self.tty:
            self._draw()
            self._ticker = asyncio.create_task(self._tick(), name="sync progress")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with suppress(asyncio.CancelledError):
                await self._ticker
        if self.tty:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self._draw()

    # -- results --

    def update(self, result: NodeSync) -> None:
        self.done += 1
        self.rows += result.rows
        self.failed += not result.ok
        if self.tty:
            self._draw()
            return
        node = terminal(result.node)  # node names and reasons come from outside
        if result.ok:
            line = f"{node}: {result.rows} rows in {result.seconds:.1f}s"
        else:
            kept = (
                f"keeping its rows of {local_stamp(result.last_good, self.zone)}"
                if result.last_good
                else "never synced"
            )
            reason = terminal(result.reason)
            line = f"{node}: FAILED after {result.seconds:.1f}s, {kept}: {reason}"
        self.stream.write(f"[{self.done}/{self.total}] {line}\n")
        self.stream.flush()

    def line(self) -> str:
        """The bar as drawn now (without the carriage return)."""
        filled = round(BAR_WIDTH * self.done / self.total) if self.total else BAR_WIDTH
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        text = (
            f"sync [{bar}] {self.done}/{self.total} nodes  {self.rows:,} rows  "
            f"{time.monotonic() - self.started:.0f}s"
        )
        if self.failed:
            text += f"  {self.failed} failed"
        return text

    def _columns(self) -> int:
        """Width of the terminal the bar is drawn on (stderr's, not stdout's)."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        return columns or 80  # 0: a terminal that does not know its size

    def _draw(self) -> None:
        text = self.line()
        text = text[: max(self._columns() - 1, 10)]
        # Pad over whatever a longer previous line left behind.
        padding = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()


def local_stamp(iso: str, zone: tzinfo) -> str:
    """An inventory timestamp (ISO 8601, UTC) in the operator's time zone."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
