"""What the command line gives back: its exit codes and the tables it prints
(a sync's outcome, lists of nodes and audit rows).

Every cell passes through `bot.present.terminal.terminal`: most hold text from outside (node
names, router identities, sync errors, audit rows) that must not drive the
terminal. `beholder sync` and the demo print the same sync table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo

from bot.cli.progress import local_stamp
from bot.domain.sync import NodeSync
from bot.present.terminal import terminal

#: `beholder`'s exit codes: a fault, a usage error, an unknown user or node.
EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3


def sync_report(
    results: Sequence[NodeSync], zone: tzinfo = UTC, elapsed: float | None = None
) -> str:
    """The table printed after a sync: one row per node, then the totals.

    A node that failed shows how many rows it kept and since when they date:
    ``STALE since 2026-11-28 08:15:02 -03: RouterTimeout: no answer within 120s``.
    """
    rows = [("NODE", "ROWS", "TIME", "STATUS")]
    for r in results:
        if r.ok:
            count, status = str(r.rows), "ok"
        elif r.last_good:
            count = f"{r.kept} kept"
            status = f"STALE since {local_stamp(r.last_good, zone)}: {r.reason}"
        else:
            count, status = "-", f"FAILED, never synced: {r.reason}"
        rows.append((r.node, count, f"{r.seconds:.1f}s", status))
    ok = [r for r in results if r.ok]
    total = f"{len(ok)}/{len(results)} nodes synced, {sum(r.rows for r in ok):,} rows"
    if elapsed is not None:
        total += f" in {elapsed:.1f}s"
    if len(ok) < len(results):
        total += f"; {len(results) - len(ok)} stale or failed"
    return f"{table(rows)}\n{total}"


def table(rows: Sequence[Sequence[str]]) -> str:
    """Columns for the terminal; every cell passes through `bot.present.terminal.terminal`, as most
    hold text from outside (node names, router identities, sync errors, audit rows)."""
    rows = [[terminal(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
