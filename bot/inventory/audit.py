"""The audit trail: rows written after the reply, off its path, and never lost.

A question's reply must not wait for its audit row: another process writing
the inventory (a ``beholder sync`` from cron, an import) holds SQLite's write
lock, and waiting for it used to delay the reply by up to 10 s and then drop
the row. Here rows go into a queue that one thread drains, a batch per
transaction; while the database is busy (or full, or read-only for a moment)
the batch stays queued and is tried again, waiting a little longer each time.
`AuditTrail.close` (the inventory's, at the end of `serve` and of every
command) writes what is still queued; whatever cannot be written by then is
logged as an ERROR, row by row, rather than silently dropped.

The ``audit`` table's own queries are here too (`record_audits`, `entries`,
`purge_audit`): functions of the `Inventory`, which delegates to them and
owns the trail.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime

from bot import metrics
from bot.inventory.db import Database
from bot.inventory.schema import stamp
from bot.model import AuditEntry

log = logging.getLogger(__name__)

#: Rows written per transaction.
BATCH = 500
#: Rows kept waiting at most: past that the oldest are logged and dropped (bounded memory).
MAX_PENDING = 10_000
#: Waits between attempts while the database refuses the write, seconds.
FIRST_RETRY_S = 0.05
LAST_RETRY_S = 2.0
#: How long `close` keeps trying to write what is pending.
CLOSE_TIMEOUT_S = 15.0
#: How long the trail's write waits for another process's before it tries again later.
BUSY_TIMEOUT_S = 0.2
#: Longest query kept in the audit (what an operator types is short; this bounds junk).
QUERY_MAX = 200


class AuditTrail:
    """A queue of audit rows and the thread that writes them with `write`."""

    def __init__(
        self,
        write: Callable[[list[AuditEntry]], None],
        *,
        name: str = "audit",
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._write = write
        self._name = name
        self._max_pending = max_pending
        self._pending: deque[AuditEntry] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None

    def add(self, entry: AuditEntry) -> None:
        """Queue one row; the writer thread starts on the first. Never blocks."""
        with self._cond:
            if self._closing:
                _lost([entry], "the audit was already closed")
                return
            self._pending.append(entry)
            if len(self._pending) > self._max_pending:
                _lost([self._pending.popleft()], f"more than {self._max_pending} rows waiting")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued row is written; False if `timeout_s` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending, timeout_s)

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Write what is pending (for up to `timeout_s`), then stop the thread."""
        written = self.flush(timeout_s)
        with self._cond:
            self._closing = True
            left = list(self._pending)
            self._pending.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(LAST_RETRY_S + 1)
        if not written and left:
            _lost(left, f"the inventory still refused them after {timeout_s:g} s")

    def _run(self) -> None:
        retry_s = FIRST_RETRY_S
        failing = False
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closing)
                if self._closing:
                    return
                batch = [self._pending[i] for i in range(min(BATCH, len(self._pending)))]
            try:
                self._write(batch)
            except Exception as exc:  # noqa: BLE001 - kept and retried; said once per streak
                metrics.audit_write_failed()
                if not failing:
                    log.warning(
                        "audit: %d row(s) waiting, the inventory refused them (%s); retrying",
                        len(batch),
                        exc,
                    )
                failing = True
                with self._cond:
                    self._cond.wait_for(lambda: self._closing, retry_s)
                retry_s = min(retry_s * 2, LAST_RETRY_S)
                continue
            if failing:
                log.info("audit: the inventory took the waiting rows again")
            failing, retry_s = False, FIRST_RETRY_S
            with self._cond:
                for _ in range(min(len(batch), len(self._pending))):  # close may have cleared it
                    self._pending.popleft()
                self._cond.notify_all()


def _lost(entries: list[AuditEntry], why: str) -> None:
    """The last resort: the rows go to the log, where they can still be found."""
    metrics.audit_rows_lost(len(entries))
    for entry in entries:
        log.error(
            "audit row not written (%s): at=%s user=%s channel=%s source=%s query=%r "
            "outcome=%s pppoe_user=%s node=%s latency_ms=%d",
            why,
            entry.at.isoformat(timespec="seconds"),
            entry.slack_user,
            entry.channel,
            entry.source,
            entry.query,
            entry.outcome,
            entry.pppoe_user,
            entry.node,
            entry.latency_ms,
        )


# -- the audit table ------------------------------------------------------------------


def record_audits(
    inventory: Database, entries: Iterable[AuditEntry], busy_timeout_s: float | None = None
) -> None:
    """Write audit rows in one transaction."""
    with inventory._transaction(busy_timeout_s) as db:
        db.executemany(
            "INSERT INTO audit (at, slack_user, channel, source, query, pppoe_user, node, "
            "outcome, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    stamp(entry.at),
                    entry.slack_user,
                    entry.channel,
                    entry.source,
                    entry.query[:QUERY_MAX],
                    entry.pppoe_user,
                    entry.node,
                    entry.outcome,
                    entry.latency_ms,
                )
                for entry in entries
            ],
        )


def entries(
    inventory: Database, since: datetime | None, slack_user: str | None, limit: int
) -> list[AuditEntry]:
    """Entries, newest first."""
    clauses, params = [], []
    if since is not None:
        clauses.append("at >= ?")
        params.append(stamp(since))
    if slack_user:
        clauses.append("slack_user = ?")
        params.append(slack_user)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = inventory._read(
        f"SELECT * FROM audit {where} ORDER BY at DESC, id DESC LIMIT ?", [*params, limit]
    )
    return [
        AuditEntry(
            at=datetime.fromisoformat(r["at"]),
            query=r["query"],
            outcome=r["outcome"],
            slack_user=r["slack_user"],
            channel=r["channel"],
            source=r["source"],
            pppoe_user=r["pppoe_user"],
            node=r["node"],
            latency_ms=r["latency_ms"],
        )
        for r in rows
    ]


def purge_audit(inventory: Database, before: datetime) -> int:
    """Forget entries older than `before` (retention). Returns how many."""
    with inventory._transaction() as db:
        return db.execute("DELETE FROM audit WHERE at < ?", (stamp(before),)).rowcount
