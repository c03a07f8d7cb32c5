"""The inventory: a SQLite copy of which router holds which PPPoE secret.

Tables, and the module of `bot.inventory` that reads and writes each:

* ``nodes`` (`nodes`): the routers (name, host, API port, TLS mode and pinned
  certificate fingerprint, see `bot.routeros.tls`) and how their last sync went.
  Operators never give a router address; Beholder finds it here.
* ``ppp_secrets`` (`synced`): what each router has configured in ``/ppp/secret``
  (never the password), filled by ``beholder sync``; plus folded copies for searching.
* ``ppp_sessions`` (`synced`): the live sessions seen at the last sync
  (``/ppp/active``), so that an IP or a MAC from a ticket can be resolved to a user.
* ``secret_search`` (`search`): a trigram full-text index over the folded name
  and comment, keyed by ``ppp_secrets.id`` (never reused), for fragments and typos.
* ``connections`` (`management`): the management system's export (ISPCube in ADR-005).
* ``audit`` (`audit`): who asked what, and what came of it.

This module holds what they share: the `Inventory`, its two connections (WAL
mode: readers never wait for a sync's write transaction), its transactions and
the migrations. Each `Inventory` method is a one-line delegation to the
concept's module, which goes through `Inventory._read` and
`Inventory._transaction`: the callers keep one object, the logic stays with its
concept.

The schema is versioned with ``PRAGMA user_version``; `MIGRATIONS` brings any
older file up to date when it is opened. The file and its ``-wal`` and ``-shm``
companions are private (`bot.inventory.files`). Every sqlite3 error becomes an
`InventoryUnavailable` saying which fault it was (`inventory_fault`), so the
edges answer with one clear sentence instead of a traceback. Audit rows are
written by `bot.inventory.audit.AuditTrail`, after the reply (`audit_later`).
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bot import metrics
from bot.errors import ConfigError, InventoryUnavailable
from bot.inventory import audit, management, nodes, search, synced
from bot.inventory.audit import AuditTrail
from bot.inventory.files import create_private, private_companions
from bot.inventory.keys import fold, mac, name_key
from bot.inventory.schema import MIGRATIONS, SCHEMA_VERSION
from bot.model import (
    ActiveSession,
    AuditEntry,
    Connection,
    Hit,
    Location,
    Node,
    NodeStatus,
    Secret,
)

log = logging.getLogger(__name__)

#: How long a statement waits for another process's write transaction to end.
BUSY_TIMEOUT_S = 10.0
#: Page cache of the writing connection during syncs (SQLite's default is 2 MiB).
_WRITER_CACHE_KIB = 64 * 1024
#: WAL pages between automatic checkpoints (SQLite's default is 1000, ~4 MiB).
_WAL_CHECKPOINT_PAGES = 10_000


class Inventory:
    """The SQLite inventory, safe to share between threads.

    `_read` (one statement on the reading connection) and `_transaction` (one
    write transaction) are how the modules of `bot.inventory` reach the file;
    nothing outside the package uses them.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._trail: AuditTrail | None = None
        self._trail_lock = threading.Lock()
        create_private(self.path)
        self._writer = self._connect()
        try:
            with self._write_lock, self._faults():
                self._enter_wal()
                self._writer.execute("PRAGMA synchronous = NORMAL")
                # Syncs touch index pages all over the file: a bigger page cache for
                # the writer, and fewer (larger) checkpoints, halve what SQLite
                # spends per row at hundreds of thousands of secrets.
                self._writer.execute(f"PRAGMA cache_size = -{_WRITER_CACHE_KIB}")
                self._writer.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
                self._migrate()
                private_companions(self.path)
            self._reader = self._connect()
        except BaseException:
            self._writer.close()
            raise
        try:
            with self._faults():
                search.create_vocabulary(self._reader)
        except BaseException:
            self._writer.close()
            self._reader.close()
            raise

    def _enter_wal(self) -> None:
        """Switch the file to WAL, waiting out another process doing the same.

        Changing the journal mode needs the file to itself, and SQLite reports a
        clash there as "locked" at once instead of calling the busy handler (two
        processes opening a new or pre-WAL file together). So the wait is here,
        bounded by the same `BUSY_TIMEOUT_S` every other statement gets.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.005
        while True:
            try:
                self._writer.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def _connect(self) -> sqlite3.Connection:
        with self._faults():
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                db.row_factory = sqlite3.Row
                db.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")
                db.create_function("beholder_fold", 1, fold, deterministic=True)
                db.create_function("beholder_key", 1, name_key, deterministic=True)
                db.create_function("beholder_mac", 1, lambda t: mac(t or ""), deterministic=True)
            except BaseException:
                db.close()
                raise
        return db

    @contextmanager
    def _faults(self) -> Iterator[None]:
        """Every sqlite3 error raised inside becomes an `InventoryUnavailable`."""
        try:
            yield
        except sqlite3.Error as exc:
            raise inventory_fault(self.path, exc) from exc

    def close(self) -> None:
        """Write the audit rows still pending (see `AuditTrail.close`), then close.

        The closed trail stays: a row queued afterwards (a request still in flight
        when `serve` ends) goes to the log as an ERROR line, not to a new trail on
        a closed connection that would retry it forever.
        """
        with self._trail_lock:
            if self._trail is None:
                self._trail = self._new_trail()
            trail = self._trail
        trail.close()
        with self._write_lock, self._read_lock:
            self._writer.close()
            self._reader.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------

    def _migrate(self) -> None:
        """Apply the migrations this file lacks, each in its own transaction.

        The version is read again inside ``BEGIN IMMEDIATE`` before each step:
        two processes opening an old file at once take turns, and the second
        finds the work done instead of applying a migration twice.
        """
        db = self._writer
        while True:
            if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return  # the common case: no write lock taken
            db.execute("BEGIN IMMEDIATE")
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ConfigError(
                        f"{self.path} was written by a newer Beholder (schema {version}, "
                        f"this one knows {SCHEMA_VERSION})"
                    )
                if version < SCHEMA_VERSION:
                    for statement in _statements(MIGRATIONS[version]):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {version + 1}")
                db.execute("COMMIT")
            except BaseException as exc:
                _rollback(db)
                if isinstance(exc, sqlite3.OperationalError) and "no such module" in str(exc):
                    raise ConfigError(
                        f"cannot upgrade {self.path} to schema {version + 1}: {exc} "
                        "(Beholder needs SQLite 3.34 or newer with FTS5)"
                    ) from exc
                raise

    @property
    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0][0]

    @contextmanager
    def _transaction(self, busy_timeout_s: float | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction; `busy_timeout_s` overrides how long it waits for
        another process's (the audit waits little: `AuditTrail` retries later)."""
        with self._write_lock, self._faults():
            db = self._writer
            if busy_timeout_s is not None:
                db.execute(f"PRAGMA busy_timeout = {round(busy_timeout_s * 1000)}")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    _rollback(db)
                    raise
                try:
                    db.execute("COMMIT")
                except BaseException:
                    _rollback(db)
                    raise
            finally:
                if busy_timeout_s is not None:
                    db.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[sqlite3.Row]:
        with self._read_lock, self._faults():
            return self._reader.execute(sql, tuple(params)).fetchall()

    # -- nodes (`bot.inventory.nodes`) ---------------------------------------------

    def upsert_nodes(self, given: Iterable[Node], allow_downgrade: bool = False) -> int:
        """Insert or update nodes by name, all or nothing, keeping pins and TLS modes."""
        return nodes.upsert_nodes(self, given, allow_downgrade)

    def pin_certificate(self, name: str, fingerprint: str) -> Node:
        """Pin a node's certificate (``nodes trust``) and set it to ``tls=yes``."""
        return nodes.pin_certificate(self, name, fingerprint)

    def node(self, name: str) -> Node:
        """One node by name; InventoryError if there is none."""
        return nodes.node(self, name)

    def remove_node(self, name: str) -> int:
        """Forget a node and everything synced from it. Returns its secrets' count."""
        return nodes.remove_node(self, name)

    def nodes(self) -> list[Node]:
        return nodes.nodes(self)

    def node_status(self) -> list[NodeStatus]:
        return nodes.node_status(self)

    def last_syncs(self) -> dict[str, str | None]:
        """Every node's last good sync (ISO 8601, UTC; None if never), by name."""
        return nodes.last_syncs(self)

    # -- what the routers have configured (`bot.inventory.synced`) ------------------

    def replace_node(
        self,
        node: str,
        secrets: Iterable[Secret],
        sessions: Iterable[ActiveSession],
        synced_at: datetime,
    ) -> int:
        """Make one node's secrets and sessions what its pull found, in one transaction."""
        return synced.replace_node(self, node, secrets, sessions, synced_at)

    def mark_sync_failed(self, node: str, error: str, at: datetime) -> None:
        """Remember that a node's rows are stale, and why (its rows stay as they were)."""
        synced.mark_sync_failed(self, node, error, at)

    def upsert_secret(self, secret: Secret, synced_at: datetime) -> None:
        """Add one secret found by a targeted pull, keeping the search index current."""
        synced.upsert_secret(self, secret, synced_at)

    def locate(self, user: str) -> list[Location]:
        """Every router that has exactly `user` configured (two during migrations)."""
        return synced.locate(self, user)

    def count_secrets(self, node: str | None = None) -> int:
        return synced.count_secrets(self, node)

    # -- search (`bot.inventory.search`) --------------------------------------------

    def rebuild_search_index(self) -> None:
        """Rebuild the trigram index from ``ppp_secrets`` (once, at the end of a sync)."""
        search.rebuild_search_index(self)

    @property
    def search_index_dirty(self) -> bool:
        return search.search_index_dirty(self)

    def names_by_key(self, key: str) -> list[str]:
        """Names equal to `key` once case, accents and punctuation are ignored."""
        return search.names_by_key(self, key)

    def by_address(self, address: str) -> list[Hit]:
        """Who has this IP: a live session at last sync, or a static remote-address."""
        return search.by_address(self, address)

    def by_mac(self, address: str) -> list[Hit]:
        """Who has this MAC: a live session at last sync, or the last one seen."""
        return search.by_mac(self, address)

    def by_fragments(self, words: list[str], limit: int = 20) -> list[Hit]:
        """Secrets whose folded name or comment contains every word."""
        return search.by_fragments(self, words, limit)

    def similar_names(self, text: str, limit: int = search.MAX_SUGGESTIONS) -> list[str]:
        """Configured names a typo away from `text`, best first."""
        return search.similar_names(self, text, limit)

    # -- audit (`bot.inventory.audit`) ----------------------------------------------

    def audit_later(self, entry: AuditEntry) -> None:
        """Queue `entry` for the audit and return at once: a thread of its own
        writes it, retrying while another process holds the database; `close`
        writes whatever is still pending. Never raises, never blocks.

        Every question reaches the audit here, with its source, outcome and latency:
        it is counted for ``/metrics`` here too (`bot.metrics.question`), once."""
        metrics.question(entry.source, entry.outcome, entry.latency_ms / 1000)
        with self._trail_lock:
            if self._trail is None:
                self._trail = self._new_trail()
            trail = self._trail
        trail.add(entry)

    def _new_trail(self) -> AuditTrail:
        write = functools.partial(audit.record_audits, self, busy_timeout_s=audit.BUSY_TIMEOUT_S)
        return AuditTrail(write, name=f"audit {self.path}")

    def flush_audit(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued audit row is written; False if `timeout_s` passed."""
        with self._trail_lock:
            trail = self._trail
        return trail is None or trail.flush(timeout_s)

    def record_audit(self, entry: AuditEntry) -> None:
        """Write one audit row now (waiting like any write)."""
        audit.record_audits(self, [entry])

    def record_audits(
        self, entries: Iterable[AuditEntry], busy_timeout_s: float | None = None
    ) -> None:
        """Write audit rows in one transaction."""
        audit.record_audits(self, entries, busy_timeout_s)

    def audit(
        self, since: datetime | None = None, slack_user: str | None = None, limit: int = 1000
    ) -> list[AuditEntry]:
        """Entries, newest first."""
        return audit.entries(self, since, slack_user, limit)

    def purge_audit(self, before: datetime) -> int:
        """Forget entries older than `before` (retention). Returns how many."""
        return audit.purge_audit(self, before)

    # -- management system (`bot.inventory.management`) -----------------------------

    def replace_connections(self, connections: Iterable[Connection], at: datetime) -> int:
        """Load a full export of the management system (replaces the previous one)."""
        return management.replace_connections(self, connections, at)

    def connection(self, user: str) -> Connection | None:
        return management.connection(self, user)

    def count_connections(self) -> int:
        return management.count_connections(self)


#: sqlite3's primary result codes → `InventoryUnavailable.reason`; others are "io".
_FAULTS = {
    sqlite3.SQLITE_BUSY: "locked",
    sqlite3.SQLITE_LOCKED: "locked",
    sqlite3.SQLITE_READONLY: "read_only",
    sqlite3.SQLITE_PERM: "read_only",
    sqlite3.SQLITE_CANTOPEN: "cannot_open",
    sqlite3.SQLITE_CORRUPT: "corrupt",
    sqlite3.SQLITE_NOTADB: "corrupt",
    sqlite3.SQLITE_FULL: "full",
}


def inventory_fault(path: Path, exc: sqlite3.Error) -> InventoryUnavailable:
    """The one place sqlite3 errors are turned into Beholder's: which fault it was."""
    code = getattr(exc, "sqlite_errorcode", None)
    reason = _FAULTS.get(code & 0xFF, "io") if isinstance(code, int) else "io"
    if reason == "io" and "no such table" in str(exc):
        reason = "corrupt"  # an SQLite file, but not (or no longer) an inventory
    if reason == "cannot_open" and path.exists() and not _writable(path):
        reason = "read_only"  # WAL mode cannot create its -shm next to a read-only file
    return InventoryUnavailable(path, reason, str(exc))


def _writable(path: Path) -> bool:
    """Whether Beholder could write the file and create its -wal and -shm beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite ends one itself on some
    errors, a full disk among them: a second ROLLBACK would hide the first error)."""
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            log.warning("rollback failed after an inventory error")


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (they hold no literal semicolons)."""
    return [s.strip() for s in script.split(";") if s.strip()]
